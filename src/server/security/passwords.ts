import { randomBytes, timingSafeEqual } from 'node:crypto';
import { COMMON_PASSWORDS } from './common-passwords';
import { createHashGate, type HashGateLimits } from './hash-gate';
import { scryptLowPriority as scrypt } from './hashing-threads';

/**
 * scrypt with N=2^17, r=8, p=1 (128 MiB per hash). The parameters travel with each hash, so older
 * hashes still verify and are replaced at the next successful sign-in (`needsRehash`).
 */
export const PASSWORD_HASH_PARAMS = { N: 2 ** 17, r: 8, p: 1 } as const;
const KEY_LENGTH = 32;
const MAX_MEMORY = 256 * 1024 * 1024;
/** Hashes with parameters below this are refused rather than verified (a tampered row). */
const MIN_N = 2 ** 14;
const MAX_N = 2 ** 20;

export const PASSWORD_MIN_LENGTH = 10;
export const PASSWORD_MAX_LENGTH = 256;

/**
 * Each hash takes 128 MiB and a low-priority thread (hashing-threads.ts) for a few hundred milliseconds, so the
 * process runs only a few at a time; past a short queue a request is refused at once (HashingBusyError) instead of piling
 * up memory and starving every other request.
 */
const gate = createHashGate({ concurrency: 2, queue: 8 });
export const setPasswordHashingLimits = (limits: HashGateLimits): void => gate.configure(limits);
export const passwordHashingLoad = () => gate.load();

export async function hashPassword(password: string): Promise<string> {
  const { N, r, p } = PASSWORD_HASH_PARAMS;
  const salt = randomBytes(16);
  const key = await gate.run(() => scrypt(password, salt, KEY_LENGTH, { N, r, p, maxmem: MAX_MEMORY }));
  return `scrypt$${N}$${r}$${p}$${salt.toString('base64url')}$${key.toString('base64url')}`;
}

export function verifyPassword(password: string, stored: string): Promise<boolean> {
  return verifyHash(password, stored, (hash) => gate.run(hash));
}

/**
 * A password check whose hashing slot is taken first: when the server cannot hash now, HashingBusyError is
 * thrown before `work` runs, so a caller that counts attempts (the sign-in limiter) counts only checks that
 * will happen; `check` then verifies in that slot without queueing again. (Counting first let a crowd of honest
 * sign-ins from one address, most of them about to be refused as busy, read as a crowd of failures.)
 */
export async function withPasswordCheck<T>(work: (check: (password: string, stored: string) => Promise<boolean>) => Promise<T>): Promise<T> {
  const release = await gate.reserve();
  try {
    return await work((password, stored) => verifyHash(password, stored, (hash) => hash()));
  } finally {
    release();
  }
}

async function verifyHash(password: string, stored: string, inSlot: (hash: () => Promise<Buffer>) => Promise<Buffer>): Promise<boolean> {
  const [scheme, n, r, p, salt, key] = stored.split('$');
  const params = { N: Number(n), r: Number(r), p: Number(p) };
  if (scheme !== 'scrypt' || !key || !salt) return false;
  if (!Number.isInteger(params.N) || params.N < MIN_N || params.N > MAX_N || params.r < 1 || params.r > 32 || params.p < 1 || params.p > 4) return false;
  const expected = Buffer.from(key, 'base64url');
  const actual = await inSlot(() => scrypt(password, Buffer.from(salt, 'base64url'), expected.length, { ...params, maxmem: MAX_MEMORY }));
  return timingSafeEqual(actual, expected);
}

/** True when a stored hash was made with other parameters than today's: hash the password again. */
export function needsRehash(stored: string): boolean {
  const { N, r, p } = PASSWORD_HASH_PARAMS;
  return !stored.startsWith(`scrypt$${N}$${r}$${p}$`);
}

/**
 * A hash to compare against when the account does not exist, so timing does not reveal which emails exist.
 * Made once and shared; a failure (say, the hashing gate was full) is not kept, so the next sign-in tries again
 * instead of every unknown email failing for the life of the process.
 */
let decoyHash: Promise<string> | undefined;
export function decoyPasswordHash(): Promise<string> {
  decoyHash ??= hashPassword(randomBytes(16).toString('hex')).catch((error: unknown) => {
    decoyHash = undefined;
    throw error;
  });
  return decoyHash;
}

export interface PasswordWeakness {
  code: 'PASSWORD_TOO_SHORT' | 'PASSWORD_TOO_LONG' | 'PASSWORD_TOO_WEAK';
  message: string;
}

/**
 * Why a password is refused, or null: too short or long, or trivially guessable (common ones, one
 * repeated character, keyboard or alphabet runs, ones built from the person's own email or organization).
 */
export function passwordWeakness(password: string, context: { email?: string; organizationName?: string } = {}): PasswordWeakness | null {
  if (password.length < PASSWORD_MIN_LENGTH) {
    return { code: 'PASSWORD_TOO_SHORT', message: `The password must have at least ${PASSWORD_MIN_LENGTH} characters.` };
  }
  if (password.length > PASSWORD_MAX_LENGTH) {
    return { code: 'PASSWORD_TOO_LONG', message: `The password must have at most ${PASSWORD_MAX_LENGTH} characters.` };
  }
  const lower = password.toLowerCase();
  const stripped = lower.replace(/[^a-z0-9]/g, '');
  const weak =
    COMMON_PASSWORDS.has(lower) ||
    COMMON_PASSWORDS.has(stripped) ||
    COMMON_PASSWORDS.has(lower.replace(/\d+$/, '')) ||
    new Set(lower).size <= 3 ||
    /^(.{1,6})\1+$/.test(lower) ||
    isRun(stripped) ||
    containsOwn(lower, context.email?.split('@')[0]) ||
    containsOwn(lower, context.organizationName);
  return weak ? { code: 'PASSWORD_TOO_WEAK', message: 'This password is too easy to guess. Use a longer phrase that is not your name, email or a common password.' } : null;
}

function isRun(value: string): boolean {
  const runs = ['abcdefghijklmnopqrstuvwxyz', '0123456789012345678901234567890', 'qwertyuiopasdfghjklzxcvbnm', '1qaz2wsx3edc4rfv5tgb'];
  return value.length > 0 && runs.some((run) => run.includes(value) || `${run}${run}`.split('').reverse().join('').includes(value));
}

function containsOwn(password: string, own: string | undefined): boolean {
  const key = own?.toLowerCase().replace(/[^a-z0-9]/g, '');
  if (!key || key.length < 4) return false;
  const stripped = password.replace(/[^a-z0-9]/g, '');
  // Mostly the person's own name with a few extra characters.
  return stripped.includes(key) && stripped.length - key.length < 6;
}
