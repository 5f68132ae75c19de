import type { Db } from '../db/database';
import { randomToken, sha256 } from '../security/random';
import type { AuthContext } from '../http/context';

/** Writes of last-seen are skipped when the previous one is this recent, to keep reads cheap. */
const TOUCH_INTERVAL_MS = 60_000;

export type SessionStore = ReturnType<typeof createSessionStore>;

/**
 * Server-side sessions in the database, so several portal instances share them. The cookie holds a
 * random token; the table holds only its SHA-256.
 */
export function createSessionStore(db: Db, idleTimeoutMs: number) {
  return {
    async create(input: { partnerId: string; userId: string; clientAddress: string | null; groupRole?: 'administrator' | 'member' | null }): Promise<{ token: string; csrfToken: string; sessionId: string }> {
      const token = randomToken();
      const csrfToken = randomToken();
      const now = Date.now();
      const sessionId = sha256(token);
      await db
        .insertInto('sessions')
        .values({
          id: sessionId,
          partner_id: input.partnerId,
          user_id: input.userId,
          csrf_token: csrfToken,
          created_at: new Date(now).toISOString(),
          last_seen_at: new Date(now).toISOString(),
          expires_at: new Date(now + idleTimeoutMs).toISOString(),
          client_address: input.clientAddress,
          group_role: input.groupRole ?? null,
        })
        .execute();
      return { token, csrfToken, sessionId };
    },

    /** The signed-in context for a cookie token, or null when unknown, signed out, expired or the user is disabled. */
    async resolve(token: string): Promise<AuthContext | null> {
      if (!/^[A-Za-z0-9_-]{20,100}$/.test(token)) return null;
      const id = sha256(token);
      const row = await db
        .selectFrom('sessions as s')
        .innerJoin('users as u', (j) => j.onRef('u.id', '=', 's.user_id').onRef('u.partner_id', '=', 's.partner_id'))
        .innerJoin('partners as p', 'p.id', 's.partner_id')
        .select([
          's.id as sessionId',
          's.csrf_token as csrfToken',
          's.expires_at as expiresAt',
          's.last_seen_at as lastSeenAt',
          's.group_role as groupRole',
          'u.id as userId',
          'u.email',
          'u.display_name as displayName',
          'u.role',
          'u.is_owner as isOwner',
          'u.status',
          'u.sign_in_type as signInType',
          'p.id as partnerId',
          'p.name as partnerName',
        ])
        .where('s.id', '=', id)
        .executeTakeFirst();
      const now = Date.now();
      if (!row || Date.parse(row.expiresAt) <= now || row.status !== 'active') {
        if (row) await db.deleteFrom('sessions').where('id', '=', id).execute();
        return null;
      }
      if (now - Date.parse(row.lastSeenAt) > TOUCH_INTERVAL_MS) {
        await db
          .updateTable('sessions')
          .set({ last_seen_at: new Date(now).toISOString(), expires_at: new Date(now + idleTimeoutMs).toISOString() })
          .where('id', '=', id)
          .execute();
      }
      return {
        sessionId: row.sessionId,
        csrfToken: row.csrfToken,
        user: {
          id: row.userId,
          email: row.email,
          displayName: row.displayName,
          role: row.groupRole === 'administrator' ? 'administrator' : row.role,
          isOwner: row.isOwner === 1,
          signInType: row.signInType,
        },
        partner: { id: row.partnerId, name: row.partnerName },
      };
    },

    async destroy(sessionId: string): Promise<void> {
      await db.deleteFrom('sessions').where('id', '=', sessionId).execute();
    },

    /** Ends every session of these users (removed from the portal, disabled). */
    async destroyForUsers(partnerId: string, userIds: string[], executor: Db = db): Promise<void> {
      if (userIds.length === 0) return;
      await executor.deleteFrom('sessions').where('partner_id', '=', partnerId).where('user_id', 'in', userIds).execute();
    },

    async purgeExpired(): Promise<void> {
      await db.deleteFrom('sessions').where('expires_at', '<=', new Date().toISOString()).execute();
    },
  };
}
