import { randomBytes, scrypt as scryptCallback, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { FieldError } from '../http/errors';
import { COMMON_PASSWORDS } from './common-passwords';

const scrypt = (password: string, salt: Buffer, keylen: number, options: ScryptOptions) =>
  new Promise<Buffer>((resolve, reject) =>
    scryptCallback(password, salt, keylen, options, (err, key) => (err ? reject(err) : resolve(key))),
  );

/** scrypt with N=2^15, r=8 (32 MiB per hash); the parameters travel with each hash so they can be raised. */
const PARAMS = { N: 2 ** 15, r: 8, p: 1 };
const KEY_LENGTH = 32;
const MAX_MEMORY = 64 * 1024 * 1024;

export const PASSWORD_MIN_LENGTH = 10;
export const PASSWORD_MAX_LENGTH = 256;

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scrypt(password, salt, KEY_LENGTH, { ...PARAMS, maxmem: MAX_MEMORY });
  return `scrypt$${PARAMS.N}$${PARAMS.r}$${PARAMS.p}$${salt.toString('base64url')}$${key.toString('base64url')}`;
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, n, r, p, salt, key] = stored.split('$');
  if (scheme !== 'scrypt' || !key) return false;
  const expected = Buffer.from(key, 'base64url');
  const actual = await scrypt(password, Buffer.from(salt, 'base64url'), expected.length, {
    N: Number(n),
    r: Number(r),
    p: Number(p),
    maxmem: MAX_MEMORY,
  });
  return timingSafeEqual(actual, expected);
}

/** A hash to compare against when the account does not exist, so timing does not reveal which emails exist. */
let decoyHash: Promise<string> | undefined;
export const decoyPasswordHash = (): Promise<string> => (decoyHash ??= hashPassword(randomBytes(16).toString('hex')));

/**
 * Refuses passwords that are too short or trivially guessable: common ones, one repeated character,
 * keyboard or alphabet runs, and ones built from the person's own email or organization.
 */
export function checkPasswordStrength(password: string, context: { email?: string; organizationName?: string } = {}, field = 'password'): void {
  if (password.length < PASSWORD_MIN_LENGTH) {
    throw new FieldError(field, `The password must have at least ${PASSWORD_MIN_LENGTH} characters.`, 'PASSWORD_TOO_SHORT');
  }
  if (password.length > PASSWORD_MAX_LENGTH) {
    throw new FieldError(field, `The password must have at most ${PASSWORD_MAX_LENGTH} characters.`, 'PASSWORD_TOO_LONG');
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
  if (weak) {
    throw new FieldError(field, 'This password is too easy to guess. Use a longer phrase that is not your name, email or a common password.', 'PASSWORD_TOO_WEAK');
  }
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
