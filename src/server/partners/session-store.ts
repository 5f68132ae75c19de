import { sql } from 'kysely';
import type { Db } from '../db/database';
import { randomToken, sha256 } from '../security/random';
import type { AuthContext, Role } from '../http/context';

/** Writes of last-seen are skipped when the previous one is this recent, to keep reads cheap. */
const TOUCH_INTERVAL_MS = 60_000;
const SESSION_TOKEN = /^[A-Za-z0-9_-]{20,100}$/;

export type SessionStore = ReturnType<typeof createSessionStore>;

export interface SessionLifetimes {
  /** A session unused this long ends. */
  idleTimeoutMs: number;
  /** A session ends this long after sign-in, however busy. */
  absoluteLifetimeMs: number;
}

/** A signed-in context, and when the session's expiry moved (the cookie follows it). */
export interface ResolvedSession extends AuthContext {
  renewedUntil?: Date;
}

/**
 * Server-side sessions in the database, so several portal instances share them. The cookie holds a
 * random token; the table holds only its SHA-256.
 */
export function createSessionStore(db: Db, lifetimes: SessionLifetimes) {
  /** A session ends at its idle deadline or at its absolute one, whichever comes first. */
  const deadline = (createdAt: number, now: number) => Math.min(now + lifetimes.idleTimeoutMs, createdAt + lifetimes.absoluteLifetimeMs);

  const lookup = compileSessionLookup(db);

  return {
    lifetimes,

    /**
     * `groupRole` is kept for the record only: the role a session acts with is worked out from the
     * current entries at every request (see resolve), never from what was true at sign-in.
     */
    async create(input: { partnerId: string; userId: string; clientAddress: string | null; groupRole?: Role | null }): Promise<{ token: string; csrfToken: string; sessionId: string }> {
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
          expires_at: new Date(deadline(now, now)).toISOString(),
          client_address: input.clientAddress,
          group_role: input.groupRole ?? null,
        })
        .execute();
      return { token, csrfToken, sessionId };
    },

    /**
     * The signed-in context for a cookie token, or null when unknown, signed out, expired or the user is
     * disabled. One query reads session, user, partner and the effective role: the user's own role, raised
     * by every active group entry of the partner the person is a current member of (group_members, kept by
     * sign-in and the directory sync). A member record created through a group has only its groups' role,
     * and no access once it is in none of them.
     */
    async resolve(token: string): Promise<ResolvedSession | null> {
      if (!SESSION_TOKEN.test(token)) return null;
      const id = sha256(token);
      const row = (await db.executeQuery(lookup.withId(id))).rows[0];
      const now = Date.now();
      const createdAt = row ? Date.parse(row.createdAt) : 0;
      const groupRole: Role | null = row?.groupRank == null ? null : Number(row.groupRank) >= 2 ? 'administrator' : 'member';
      const role: Role | null = !row ? null : row.viaGroupId ? groupRole : row.role === 'administrator' || groupRole === 'administrator' ? 'administrator' : 'member';
      const ended = !row || Date.parse(row.expiresAt) <= now || createdAt + lifetimes.absoluteLifetimeMs <= now;
      if (!row || ended || row.status !== 'active' || role === null) {
        if (row) await db.deleteFrom('sessions').where('id', '=', id).execute();
        return null;
      }
      let renewedUntil: Date | undefined;
      if (now - Date.parse(row.lastSeenAt) > TOUCH_INTERVAL_MS) {
        renewedUntil = new Date(deadline(createdAt, now));
        await db
          .updateTable('sessions')
          .set({ last_seen_at: new Date(now).toISOString(), expires_at: renewedUntil.toISOString() })
          .where('id', '=', id)
          .execute();
      }
      return {
        sessionId: row.sessionId,
        csrfToken: row.csrfToken,
        user: { id: row.userId, email: row.email, displayName: row.displayName, role, isOwner: row.isOwner === 1, signInType: row.signInType },
        partner: { id: row.partnerId, name: row.partnerName },
        renewedUntil,
      };
    },

    async destroy(sessionId: string): Promise<void> {
      await db.deleteFrom('sessions').where('id', '=', sessionId).execute();
    },

    /** Ends the session a cookie token names, if any (the one a browser had before signing in again). */
    async destroyToken(token: string): Promise<void> {
      if (SESSION_TOKEN.test(token)) await db.deleteFrom('sessions').where('id', '=', sha256(token)).execute();
    },

    /** Ends every session of these users (removed from the portal, disabled). */
    async destroyForUsers(partnerId: string, userIds: string[], executor: Db = db): Promise<void> {
      if (userIds.length === 0) return;
      await executor.deleteFrom('sessions').where('partner_id', '=', partnerId).where('user_id', 'in', userIds).execute();
    },

    /** Ends a person's sessions except the one given (sign out everywhere else, a password change); answers how many. */
    async destroyOthers(partnerId: string, userId: string, keepSessionId: string | null, executor: Db = db): Promise<number> {
      let q = executor.deleteFrom('sessions').where('partner_id', '=', partnerId).where('user_id', '=', userId);
      if (keepSessionId) q = q.where('id', '!=', keepSessionId);
      const result = await q.executeTakeFirst();
      return Number(result.numDeletedRows);
    },

    async purgeExpired(): Promise<void> {
      const now = Date.now();
      await db
        .deleteFrom('sessions')
        .where((eb) => eb.or([eb('expires_at', '<=', new Date(now).toISOString()), eb('created_at', '<=', new Date(now - lifetimes.absoluteLifetimeMs).toISOString())]))
        .execute();
    },
  };
}

/** Stands for the session id in the look-up compiled once; replaced by the real id at each run. */
const SESSION_ID = '\u0000session-id';

/**
 * The per-request look-up, built and compiled by Kysely once (building it cost more than running it):
 * session, user, partner, and the highest role among the active group entries the person is a current
 * member of (2 Administrator, 1 Member, null none).
 */
export function compileSessionLookup(db: Db) {
  const compiled = db
    .selectFrom('sessions as s')
    .innerJoin('users as u', (j) => j.onRef('u.id', '=', 's.user_id').onRef('u.partner_id', '=', 's.partner_id'))
    .innerJoin('partners as p', 'p.id', 's.partner_id')
    .select((eb) => [
      's.id as sessionId',
      's.csrf_token as csrfToken',
      's.created_at as createdAt',
      's.expires_at as expiresAt',
      's.last_seen_at as lastSeenAt',
      'u.id as userId',
      'u.email',
      'u.display_name as displayName',
      'u.role',
      'u.is_owner as isOwner',
      'u.status',
      'u.sign_in_type as signInType',
      'u.via_group_id as viaGroupId',
      'p.id as partnerId',
      'p.name as partnerName',
      eb
        // CROSS JOIN makes SQLite start from the person's memberships (index group_members_member), not from
        // every active user of the partner: with an inner join it scanned them all on every request.
        .selectFrom('group_members as gm')
        .crossJoin('users as g')
        .select(sql<number | null>`max(case when g.role = 'administrator' then 2 else 1 end)`.as('rank'))
        .whereRef('g.id', '=', 'gm.group_user_id')
        .whereRef('g.partner_id', '=', 'gm.partner_id')
        .whereRef('gm.partner_id', '=', 's.partner_id')
        .whereRef('gm.member_object_id', '=', 'u.ms_object_id')
        .whereRef('g.ms_tenant_id', '=', 'u.ms_tenant_id')
        .where('g.kind', '=', 'group')
        .where('g.status', '=', 'active')
        .as('groupRank'),
    ])
    .where('s.id', '=', SESSION_ID)
    .compile();
  return {
    withId: (id: string): typeof compiled => ({ ...compiled, parameters: compiled.parameters.map((p) => (p === SESSION_ID ? id : p)) }),
  };
}
