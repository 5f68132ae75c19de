import { sql } from 'kysely';
import type { Db } from '../db/database';
import type { AppProfilesTable } from '../db/tables';
import type { Cloud } from '../microsoft/clouds';
import { containing } from '../db/like';

export type AppProfileRow = AppProfilesTable;
/** What a list page shows: every column but the sealed refresh token, which a list never needs to read. */
export type AppProfileListRow = Omit<AppProfileRow, 'refresh_token_sealed' | 'refresh_token_key_id'>;
const LIST_COLUMNS = [
  'id', 'partner_id', 'name', 'name_key', 'cloud', 'tenant_id', 'graph_host', 'tenant_name', 'tenant_domain', 'authorized_by_upn', 'authorized_by_oid',
  'granted_scopes', 'status', 'status_code', 'status_message', 'status_fix', 'authorized_at', 'token_used_at', 'last_checked_at',
  'last_check_error_at', 'last_check_error_message', 'created_at', 'updated_at',
] as const satisfies readonly (keyof AppProfileListRow)[];
export interface InUse {
  users: number;
  groups: number;
}

export interface RefreshUpdate {
  partnerId: string;
  id: string;
  /** The sealed refresh token the refresh was made with. */
  usedSealed: string;
  changes: Partial<AppProfileRow>;
}

/** The columns every refresh writes, and those it writes only when Microsoft answered them. */
const ALWAYS_REFRESHED = ['token_used_at', 'last_checked_at', 'last_check_error_at', 'last_check_error_message'] as const;
const SOMETIMES_REFRESHED = ['refresh_token_sealed', 'refresh_token_key_id', 'granted_scopes'] as const;
const REFRESHED = new Set<string>([...ALWAYS_REFRESHED, ...SOMETIMES_REFRESHED]);
/** 11 parameters a row: well under SQLite's 32,766 per statement. */
const REFRESH_ROWS_PER_STATEMENT = 1_000;

const isUsualRefresh = (update: RefreshUpdate): boolean =>
  ALWAYS_REFRESHED.every((column) => column in update.changes) && Object.keys(update.changes).every((column) => REFRESHED.has(column));

/**
 * One UPDATE … FROM (VALUES …) for many refreshes (SQLite and PostgreSQL both name the VALUES columns column1…);
 * each row is written only while it still holds the refresh token the refresh used, as recordRefresh does.
 */
async function updateRefreshed(executor: Db, updates: RefreshUpdate[], now: string): Promise<void> {
  const rows = updates.map(({ partnerId, id, usedSealed, changes }) => {
    const values = [partnerId, id, usedSealed, ...ALWAYS_REFRESHED.map((c) => changes[c] ?? null), ...SOMETIMES_REFRESHED.map((c) => changes[c] ?? null), now];
    return sql`(${sql.join(values)})`;
  });
  await sql`
    update app_profiles set
      token_used_at = v.column4, last_checked_at = v.column5, last_check_error_at = v.column6, last_check_error_message = v.column7,
      refresh_token_sealed = coalesce(v.column8, app_profiles.refresh_token_sealed),
      refresh_token_key_id = coalesce(v.column9, app_profiles.refresh_token_key_id),
      granted_scopes = coalesce(v.column10, app_profiles.granted_scopes),
      updated_at = v.column11
    from (values ${sql.join(rows)}) as v
    where app_profiles.partner_id = v.column1 and app_profiles.id = v.column2 and app_profiles.refresh_token_sealed = v.column3`.execute(executor);
}

export interface ListQuery {
  status?: AppProfileRow['status'];
  search?: string;
  limit: number;
  cursor?: string;
}

export type AppProfileStore = ReturnType<typeof createAppProfileStore>;

/** The SQL of app profiles. Every query is scoped to one partner, except the health sweep's. */
export function createAppProfileStore(db: Db) {
  async function inUseCounts(partnerId: string, ids: string[], executor: Db = db): Promise<Map<string, InUse>> {
    const counts = new Map<string, InUse>(ids.map((id) => [id, { users: 0, groups: 0 }]));
    if (ids.length === 0) return counts;
    const rows = await executor
      .selectFrom('users')
      .select(['app_profile_id', 'kind', (eb) => eb.fn.countAll<number>().as('n')])
      .where('partner_id', '=', partnerId)
      .where('app_profile_id', 'in', ids)
      .groupBy(['app_profile_id', 'kind'])
      .execute();
    for (const row of rows) {
      const entry = counts.get(row.app_profile_id!);
      if (entry) entry[row.kind === 'group' ? 'groups' : 'users'] = Number(row.n);
    }
    return counts;
  }

  return {
    inUseCounts,

    async list(partnerId: string, query: ListQuery): Promise<{ rows: AppProfileListRow[]; nextCursor: string | null }> {
      let q = db.selectFrom('app_profiles').select(LIST_COLUMNS).where('partner_id', '=', partnerId);
      if (query.status) q = q.where('status', '=', query.status);
      if (query.search) {
        const like = containing(query.search);
        q = q.where((eb) =>
          eb.or([
            eb('name_key', 'like', like),
            eb(eb.fn('lower', ['tenant_name']), 'like', like),
            eb(eb.fn('lower', ['tenant_domain']), 'like', like),
          ]),
        );
      }
      if (query.cursor) q = q.where('name_key', '>', query.cursor);
      const rows = await q.orderBy('name_key').limit(query.limit + 1).execute();
      const page = rows.slice(0, query.limit);
      return { rows: page, nextCursor: rows.length > query.limit ? page.at(-1)!.name_key : null };
    },

    get: (partnerId: string, id: string, executor: Db = db) =>
      executor.selectFrom('app_profiles').selectAll().where('partner_id', '=', partnerId).where('id', '=', id).executeTakeFirst(),

    /** All of a partner's profiles among these ids (the rest are unknown or foreign). */
    getMany: (partnerId: string, ids: string[]) =>
      ids.length === 0 ? Promise.resolve([]) : db.selectFrom('app_profiles').selectAll().where('partner_id', '=', partnerId).where('id', 'in', ids).execute(),

    findByName: (partnerId: string, nameKey: string, executor: Db = db) =>
      executor.selectFrom('app_profiles').select(['id', 'name']).where('partner_id', '=', partnerId).where('name_key', '=', nameKey).executeTakeFirst(),

    findByTenant: (partnerId: string, cloud: Cloud, tenantId: string, executor: Db = db) =>
      executor
        .selectFrom('app_profiles')
        .select(['id', 'name'])
        .where('partner_id', '=', partnerId)
        .where('cloud', '=', cloud)
        .where('tenant_id', '=', tenantId.toLowerCase())
        .executeTakeFirst(),

    /** The email of a user of this partner (the actor of an audit entry). */
    actorEmail: async (partnerId: string, userId: string) =>
      (await db.selectFrom('users').select('email').where('partner_id', '=', partnerId).where('id', '=', userId).executeTakeFirst())?.email,

    insert: (row: AppProfileRow, executor: Db = db) => executor.insertInto('app_profiles').values(row).execute(),

    async update(partnerId: string, id: string, changes: Partial<AppProfileRow>, executor: Db = db): Promise<boolean> {
      const result = await executor
        .updateTable('app_profiles')
        .set({ ...changes, updated_at: new Date().toISOString() })
        .where('partner_id', '=', partnerId)
        .where('id', '=', id)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },

    /**
     * Stores the outcome of a refresh only if the profile still holds the refresh token that was used:
     * a re-authorization that landed meanwhile is never overwritten by the old grant's rotation.
     */
    async recordRefresh(update: RefreshUpdate, executor: Db = db): Promise<void> {
      await executor
        .updateTable('app_profiles')
        .set({ ...update.changes, updated_at: new Date().toISOString() })
        .where('partner_id', '=', update.partnerId)
        .where('id', '=', update.id)
        .where('refresh_token_sealed', '=', update.usedSealed)
        .execute();
    },

    /**
     * Several refreshes in one transaction (the health sweep): one commit instead of hundreds, and one UPDATE
     * statement for the usual refresh instead of a round trip each (a sweep of 50,000 spent a fifth of its
     * time on those). Any other change is written on its own, in the same transaction.
     */
    async recordRefreshes(updates: RefreshUpdate[]): Promise<void> {
      if (updates.length === 0) return;
      const usual = updates.filter(isUsualRefresh);
      const others = updates.filter((update) => !isUsualRefresh(update));
      await db.transaction().execute(async (trx) => {
        for (let start = 0; start < usual.length; start += REFRESH_ROWS_PER_STATEMENT) {
          await updateRefreshed(trx, usual.slice(start, start + REFRESH_ROWS_PER_STATEMENT), new Date().toISOString());
        }
        for (const update of others) await this.recordRefresh(update, trx);
      });
    },

    /** Deletes the profile only while nothing uses it; the foreign key backs this up under races. */
    async deleteIfUnused(partnerId: string, id: string): Promise<{ deleted: true } | { deleted: false; inUse: InUse }> {
      return db.transaction().execute(async (trx) => {
        const inUse = (await inUseCounts(partnerId, [id], trx)).get(id)!;
        if (inUse.users + inUse.groups > 0) return { deleted: false as const, inUse };
        await trx.deleteFrom('app_profiles').where('partner_id', '=', partnerId).where('id', '=', id).execute();
        return { deleted: true as const };
      });
    },

    /** A profile by id alone: for jobs that hold only the id (the directory sync). */
    byId: (id: string) => db.selectFrom('app_profiles').selectAll().where('id', '=', id).executeTakeFirst(),

    /** Active profiles due for a health check, oldest check first, across partners (the sweep). */
    dueForCheck: (checkedBefore: string, limit: number, afterId: string | null) => {
      let q = db
        .selectFrom('app_profiles')
        .selectAll()
        .where('status', '=', 'active')
        .where((eb) => eb.or([eb('last_checked_at', 'is', null), eb('last_checked_at', '<', checkedBefore)]));
      if (afterId) q = q.where('id', '>', afterId);
      return q.orderBy('id').limit(limit).execute();
    },
  };
}
