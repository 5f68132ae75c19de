import { sql } from 'kysely';
import type { Db, Engine } from '../db/database';
import type { UsersTable } from '../db/tables';

export type UserRow = UsersTable;
/** The columns a list page shows (and pages by): no password hash or activation token read per row. */
const LIST_COLUMNS = ['id', 'email', 'email_key', 'display_name', 'role', 'is_owner', 'sign_in_type', 'kind', 'status', 'app_profile_id', 'created_at', 'sync_done', 'sync_total', 'last_synced_at', 'via_group_id'] as const;
export type UserListRow = Pick<UserRow, (typeof LIST_COLUMNS)[number]> & { app_profile_name: string | null };
const listColumns = LIST_COLUMNS.map((c) => `u.${c}` as const);

export interface UserListQuery {
  search?: string;
  role?: 'administrator' | 'member';
  limit: number;
  cursor?: string;
}

/** Member ids per INSERT of group members (one Graph page). */
export const MEMBER_INSERT_BATCH = 999;

export type UserStore = ReturnType<typeof createUserStore>;

const likeEscaped = (term: string) => `%${term.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

/** The SQL of user management. Every query is scoped to one partner, except the activation look-up by token. */
export function createUserStore(db: Db, engine: Engine) {
  return {
    async list(partnerId: string, query: UserListQuery): Promise<{ rows: UserListRow[]; nextCursor: string | null }> {
      let q = db
        .selectFrom('users as u')
        .leftJoin('app_profiles as p', (j) => j.onRef('p.id', '=', 'u.app_profile_id').onRef('p.partner_id', '=', 'u.partner_id'))
        .select(listColumns)
        .select('p.name as app_profile_name')
        .where('u.partner_id', '=', partnerId);
      if (query.role) q = q.where('u.role', '=', query.role);
      if (query.search) q = q.where('u.email_key', 'like', sql<string>`${likeEscaped(query.search)} escape '\\'`);
      if (query.cursor) q = q.where('u.email_key', '>', query.cursor);
      const rows = (await q.orderBy('u.email_key').limit(query.limit + 1).execute()) as UserListRow[];
      const page = rows.slice(0, query.limit);
      return { rows: page, nextCursor: rows.length > query.limit ? page.at(-1)!.email_key : null };
    },

    async getWithProfile(partnerId: string, ids: string[]): Promise<UserListRow[]> {
      if (ids.length === 0) return [];
      return (await db
        .selectFrom('users as u')
        .leftJoin('app_profiles as p', (j) => j.onRef('p.id', '=', 'u.app_profile_id').onRef('p.partner_id', '=', 'u.partner_id'))
        .select(listColumns)
        .select('p.name as app_profile_name')
        .where('u.partner_id', '=', partnerId)
        .where('u.id', 'in', ids)
        .execute()) as UserListRow[];
    },

    get: (partnerId: string, id: string) => db.selectFrom('users').selectAll().where('partner_id', '=', partnerId).where('id', '=', id).executeTakeFirst(),

    setRole: (partnerId: string, id: string, role: 'administrator' | 'member') =>
      db.updateTable('users').set({ role, updated_at: new Date().toISOString() }).where('partner_id', '=', partnerId).where('id', '=', id).execute(),

    getMany: (partnerId: string, ids: string[]) =>
      ids.length === 0 ? Promise.resolve([]) : db.selectFrom('users').selectAll().where('partner_id', '=', partnerId).where('id', 'in', ids).execute(),

    /** The partner's entries among these lower-cased emails. */
    async existingEmails(partnerId: string, emailKeys: string[]): Promise<Set<string>> {
      if (emailKeys.length === 0) return new Set();
      const rows = await db.selectFrom('users').select('email_key').where('partner_id', '=', partnerId).where('email_key', 'in', emailKeys).execute();
      return new Set(rows.map((r) => r.email_key));
    },

    /** Lower-cased emails among these that name a local account of any partner (local emails are global). */
    async localEmailsAnywhere(emailKeys: string[]): Promise<Set<string>> {
      if (emailKeys.length === 0) return new Set();
      const rows = await db.selectFrom('users').select('email_key').where('sign_in_type', '=', 'local').where('email_key', 'in', emailKeys).execute();
      return new Set(rows.map((r) => r.email_key));
    },

    /** Object ids of this tenant already added by the partner. */
    async existingObjects(partnerId: string, tenantId: string, objectIds: string[]): Promise<Set<string>> {
      if (objectIds.length === 0) return new Set();
      const rows = await db
        .selectFrom('users')
        .select('ms_object_id')
        .where('partner_id', '=', partnerId)
        .where('ms_tenant_id', '=', tenantId)
        .where('ms_object_id', 'in', objectIds)
        .execute();
      return new Set(rows.map((r) => r.ms_object_id!));
    },

    insert: (row: UserRow) => db.insertInto('users').values(row).execute(),

    /** Deletes these users; member records created through a deleted group go with it (foreign key cascade). */
    async deleteMany(partnerId: string, ids: string[], beforeDelete: (trx: Db, ids: string[]) => Promise<void>): Promise<void> {
      await db.transaction().execute(async (trx) => {
        const viaGroups = await trx.selectFrom('users').select('id').where('partner_id', '=', partnerId).where('via_group_id', 'in', ids).execute();
        await beforeDelete(trx, [...ids, ...viaGroups.map((r) => r.id)]);
        await trx.deleteFrom('users').where('partner_id', '=', partnerId).where('id', 'in', ids).execute();
      });
    },

    findByActivationHash: (hash: string) =>
      db
        .selectFrom('users')
        .selectAll()
        .where('activation_token_hash', '=', hash)
        .where('sign_in_type', '=', 'local')
        .where('status', '=', 'invited')
        .executeTakeFirst(),

    /** Sets the password and spends the token in one conditional update: a second use changes nothing. */
    async activate(id: string, hash: string, passwordHash: string, now: string): Promise<boolean> {
      const result = await db
        .updateTable('users')
        .set({ password_hash: passwordHash, status: 'active', activation_token_hash: null, activation_expires_at: null, updated_at: now })
        .where('id', '=', id)
        .where('activation_token_hash', '=', hash)
        .where('status', '=', 'invited')
        .where('activation_expires_at', '>', now)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },

    async setProgress(partnerId: string, groupUserId: string, progress: { done: number | null; total: number | null; syncedAt?: string }): Promise<void> {
      await db
        .updateTable('users')
        .set({ sync_done: progress.done, sync_total: progress.total, ...(progress.syncedAt ? { last_synced_at: progress.syncedAt } : {}) })
        .where('partner_id', '=', partnerId)
        .where('id', '=', groupUserId)
        .execute();
    },

    /**
     * Stores member ids in batches, ignoring those already stored. Each batch is one statement with the
     * ids as a single array parameter (json_each on SQLite, unnest on PostgreSQL): no per-row binding.
     */
    async insertMembers(partnerId: string, groupUserId: string, objectIds: string[]): Promise<void> {
      for (let i = 0; i < objectIds.length; i += MEMBER_INSERT_BATCH) {
        const batch = objectIds.slice(i, i + MEMBER_INSERT_BATCH);
        const source =
          engine === 'postgres'
            ? sql`select ${partnerId}, ${groupUserId}, m from unnest(${batch}::text[]) as m`
            : sql`select ${partnerId}, ${groupUserId}, value from json_each(${JSON.stringify(batch)}) where true`;
        await sql`insert into group_members (partner_id, group_user_id, member_object_id) ${source} on conflict (group_user_id, member_object_id) do nothing`.execute(db);
      }
    },

    async memberIds(partnerId: string, groupUserId: string): Promise<string[]> {
      const rows = await db.selectFrom('group_members').select('member_object_id').where('partner_id', '=', partnerId).where('group_user_id', '=', groupUserId).execute();
      return rows.map((r) => r.member_object_id);
    },

    async deleteMembers(partnerId: string, groupUserId: string, objectIds: string[]): Promise<void> {
      for (let i = 0; i < objectIds.length; i += MEMBER_INSERT_BATCH) {
        await db
          .deleteFrom('group_members')
          .where('partner_id', '=', partnerId)
          .where('group_user_id', '=', groupUserId)
          .where('member_object_id', 'in', objectIds.slice(i, i + MEMBER_INSERT_BATCH))
          .execute();
      }
    },

    /** The latest membership-download outcome of each of these groups, from the audit log. */
    async lastDownloadFailures(partnerId: string, groupIds: string[]): Promise<Map<string, { at: string; message: string }>> {
      const failures = new Map<string, { at: string; message: string }>();
      if (groupIds.length === 0) return failures;
      const rows = await db
        .selectFrom('audit_events')
        .select(['target_id', 'at', 'outcome', 'details'])
        .where('partner_id', '=', partnerId)
        .where('action', '=', 'user.group_members.download')
        .where('target_id', 'in', groupIds)
        .orderBy('at', 'desc')
        .execute();
      const seen = new Set<string>();
      for (const row of rows) {
        if (!row.target_id || seen.has(row.target_id)) continue;
        seen.add(row.target_id);
        if (row.outcome === 'failure') {
          const details = row.details ? (JSON.parse(row.details) as { message?: string }) : {};
          failures.set(row.target_id, { at: row.at, message: details.message ?? 'The membership download failed.' });
        }
      }
      return failures;
    },
  };
}
