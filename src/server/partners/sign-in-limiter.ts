import { randomUUID } from 'node:crypto';
import type { Db } from '../db/database';
import { TooManyRequestsError } from '../http/errors';
import { addressKey } from '../security/address-key';

/**
 * Sign-in attempts counted in the database (so every instance sees them). An attempt is recorded
 * *before* the password is checked and the count is read after that insert, so a parallel burst cannot
 * slip more guesses through than the limits allow (the k-th attempt to be stored always counts at
 * least k).
 *
 * Two limits, neither of which can lock the owner out from their own address:
 * - per (account, address): a few free attempts, then each further one must wait a delay that doubles;
 * - per address, across accounts: a hard ceiling over a window (password spraying).
 * There is deliberately no per-account lock: anyone could use it to keep a partner's owner out.
 */
export interface SignInLimits {
  /** Attempts of one account from one address before delays start. */
  freeAttemptsPerPair: number;
  /** The first delay; each further attempt doubles it, up to `maxDelayMs`. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** How long failures of one (account, address) are remembered. */
  pairWindowMs: number;
  /** Attempts from one address, across accounts, within `addressWindowMs`. */
  perAddress: number;
  addressWindowMs: number;
}

export const DEFAULT_SIGN_IN_LIMITS: SignInLimits = {
  freeAttemptsPerPair: 5,
  baseDelayMs: 30_000,
  maxDelayMs: 15 * 60_000,
  pairWindowMs: 60 * 60_000,
  perAddress: 30,
  addressWindowMs: 15 * 60_000,
};

/** The delay the n-th attempt of a pair must keep after the previous one (0 while attempts are free). */
export function pairDelayMs(attempt: number, limits: SignInLimits = DEFAULT_SIGN_IN_LIMITS): number {
  const over = attempt - limits.freeAttemptsPerPair;
  if (over <= 0) return 0;
  return Math.min(limits.maxDelayMs, limits.baseDelayMs * 2 ** Math.min(over - 1, 30));
}

/** A stored attempt: its outcome decides whether it keeps counting. */
export interface SignInAttempt {
  /** The password was right: the pair starts afresh and this attempt stops counting. */
  succeeded(): Promise<void>;
  /** The password was never checked (the server was too busy to hash it): this attempt stops counting. */
  withdrawn(): Promise<void>;
}

export type SignInLimiter = ReturnType<typeof createSignInLimiter>;

export function createSignInLimiter(db: Db, limits: SignInLimits = DEFAULT_SIGN_IN_LIMITS) {
  // An IPv6 client is counted by its /64 (addressKey): it could take a fresh address in it for every attempt.
  const keys = (email: string, address: string) => ({ pair: `pair:${email.toLowerCase()}|${addressKey(address)}`, address: `address:${addressKey(address)}` });
  const iso = (ms: number) => new Date(ms).toISOString();

  async function stats(key: string, since: string, excludeId: string) {
    const row = await db
      .selectFrom('sign_in_attempts')
      .select((eb) => [eb.fn.countAll<number>().as('count'), eb.fn.min('at').as('oldest'), eb.fn.max('at').as('latest')])
      .where('key', '=', key)
      .where('at', '>', since)
      .where('id', '!=', excludeId)
      .executeTakeFirst();
    return { others: Number(row?.count ?? 0), oldest: (row?.oldest as string | null) ?? null, latest: (row?.latest as string | null) ?? null };
  }

  /** Milliseconds to wait before this attempt would be allowed, or 0. */
  async function waitFor(k: { pair: string; address: string }, ids: { pair: string; address: string }, now: number): Promise<number> {
    const address = await stats(k.address, iso(now - limits.addressWindowMs), ids.address);
    if (address.others + 1 > limits.perAddress) {
      return Math.max(1000, (address.oldest ? Date.parse(address.oldest) : now) + limits.addressWindowMs - now);
    }
    const pair = await stats(k.pair, iso(now - limits.pairWindowMs), ids.pair);
    const delay = pairDelayMs(pair.others + 1, limits);
    if (delay === 0) return 0;
    const since = pair.latest ? now - Date.parse(pair.latest) : Infinity;
    return since >= delay ? 0 : delay - since;
  }

  return {
    /**
     * Records an attempt before the password is checked. Throws TooManyRequestsError (and keeps no row)
     * when this address must wait; the caller audits the refusal.
     */
    async begin(email: string, address: string): Promise<SignInAttempt> {
      const now = Date.now();
      const k = keys(email, address);
      const ids = { pair: randomUUID(), address: randomUUID() };
      await db
        .insertInto('sign_in_attempts')
        .values([
          { id: ids.pair, key: k.pair, at: iso(now) },
          { id: ids.address, key: k.address, at: iso(now) },
        ])
        .execute();
      const waitMs = await waitFor(k, ids, now);
      if (waitMs > 0) {
        // A refused attempt does not count: waiting is enough, retrying early does not prolong it.
        await db.deleteFrom('sign_in_attempts').where('id', 'in', [ids.pair, ids.address]).execute();
        throw tooManyAttempts(waitMs);
      }
      return {
        async succeeded() {
          await db.deleteFrom('sign_in_attempts').where((eb) => eb.or([eb('key', '=', k.pair), eb('id', '=', ids.address)])).execute();
        },
        async withdrawn() {
          await db.deleteFrom('sign_in_attempts').where('id', 'in', [ids.pair, ids.address]).execute();
        },
      };
    },

    async purgeOld(): Promise<void> {
      const oldest = Date.now() - Math.max(limits.pairWindowMs, limits.addressWindowMs);
      await db.deleteFrom('sign_in_attempts').where('at', '<', iso(oldest)).execute();
    },
  };
}

/** A stored attempt that keeps counting unless it is withdrawn (it turned out right, or was never checked). */
export interface CountedAttempt {
  withdrawn(): Promise<void>;
}

/**
 * One attempt of `key` (say, a current password typed on a password change), stored before it is checked
 * and counted after the insert, the way `begin` counts sign-ins: of a parallel burst the k-th stored attempt
 * counts at least k, so no more than `limit` attempts are ever checked within `windowMs`. Past the limit it
 * keeps no row and throws TooManyRequestsError with the wait until the oldest counted attempt leaves the window.
 */
export async function countAttempt(db: Db, key: string, limit: number, windowMs: number, refusal: (waitSeconds: number) => TooManyRequestsError): Promise<CountedAttempt> {
  const now = Date.now();
  const id = randomUUID();
  await db.insertInto('sign_in_attempts').values({ id, key, at: new Date(now).toISOString() }).execute();
  const row = await db
    .selectFrom('sign_in_attempts')
    .select((eb) => [eb.fn.countAll<number>().as('count'), eb.fn.min('at').as('oldest')])
    .where('key', '=', key)
    .where('at', '>', new Date(now - windowMs).toISOString())
    .executeTakeFirst();
  const withdrawn = async () => {
    await db.deleteFrom('sign_in_attempts').where('id', '=', id).execute();
  };
  if (Number(row?.count ?? 0) > limit) {
    await withdrawn();
    const oldest = row?.oldest ? Date.parse(row.oldest as string) : now;
    throw refusal(Math.max(1, Math.ceil((oldest + windowMs - now) / 1000)));
  }
  return { withdrawn };
}

function tooManyAttempts(waitMs: number): TooManyRequestsError {
  const seconds = Math.max(1, Math.ceil(waitMs / 1000));
  const minutes = Math.ceil(seconds / 60);
  const wait = seconds < 60 ? `${seconds} second${seconds === 1 ? '' : 's'}` : `${minutes} minute${minutes === 1 ? '' : 's'}`;
  return new TooManyRequestsError(
    `Too many failed sign-in attempts. Wait ${wait} and try again, or reset your password with your administrator.`,
    seconds,
    'TOO_MANY_SIGN_IN_ATTEMPTS',
  );
}
