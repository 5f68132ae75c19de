import { randomUUID } from 'node:crypto';
import type { Db } from '../db/database';
import { TooManyRequestsError } from '../http/errors';

/**
 * Failed sign-ins counted in the database (so every instance sees them), per account and per client
 * address, over a sliding window.
 */
export interface SignInLimits {
  windowMs: number;
  perAccount: number;
  perAddress: number;
}

export const DEFAULT_SIGN_IN_LIMITS: SignInLimits = { windowMs: 15 * 60_000, perAccount: 5, perAddress: 30 };

export type SignInLimiter = ReturnType<typeof createSignInLimiter>;

export function createSignInLimiter(db: Db, limits: SignInLimits = DEFAULT_SIGN_IN_LIMITS) {
  const keys = (email: string, address: string) => ({ account: `account:${email}`, address: `address:${address}` });

  async function failuresSince(key: string, since: string): Promise<{ count: number; oldest: string | null }> {
    const row = await db
      .selectFrom('sign_in_attempts')
      .select((eb) => [eb.fn.countAll<number>().as('count'), eb.fn.min('at').as('oldest')])
      .where('key', '=', key)
      .where('at', '>', since)
      .executeTakeFirst();
    return { count: Number(row?.count ?? 0), oldest: (row?.oldest as string | null) ?? null };
  }

  return {
    async assertAllowed(email: string, address: string): Promise<void> {
      const since = new Date(Date.now() - limits.windowMs).toISOString();
      const k = keys(email, address);
      for (const [key, max] of [[k.account, limits.perAccount], [k.address, limits.perAddress]] as const) {
        const { count, oldest } = await failuresSince(key, since);
        if (count >= max) {
          const retryMs = oldest ? Date.parse(oldest) + limits.windowMs - Date.now() : limits.windowMs;
          const minutes = Math.max(1, Math.ceil(retryMs / 60_000));
          throw new TooManyRequestsError(
            `Too many failed sign-in attempts. Wait ${minutes} minute${minutes === 1 ? '' : 's'} and try again, or reset your password with your administrator.`,
            Math.max(1, Math.ceil(retryMs / 1000)),
            'TOO_MANY_SIGN_IN_ATTEMPTS',
          );
        }
      }
    },

    async recordFailure(email: string, address: string): Promise<void> {
      const at = new Date().toISOString();
      const k = keys(email, address);
      await db
        .insertInto('sign_in_attempts')
        .values([
          { id: randomUUID(), key: k.account, at },
          { id: randomUUID(), key: k.address, at },
        ])
        .execute();
    },

    async clearAccount(email: string): Promise<void> {
      await db.deleteFrom('sign_in_attempts').where('key', '=', keys(email, '').account).execute();
    },

    async purgeOld(): Promise<void> {
      await db.deleteFrom('sign_in_attempts').where('at', '<', new Date(Date.now() - limits.windowMs).toISOString()).execute();
    },
  };
}
