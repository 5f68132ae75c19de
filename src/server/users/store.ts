import { randomUUID } from 'node:crypto';
import { sql, type Expression, type ExpressionBuilder, type SqlBool } from 'kysely';
import { isUniqueViolation, type Db, type Engine } from '../db/database';
import type { UsersTable } from '../db/tables';
import { containing } from '../db/like';

export type UserRow = UsersTable;
/** The columns a list page shows (and pages by): no password hash or activation token read per row. */
const LIST_COLUMNS = ['id', 'email', 'email_key', 'display_name', 'role', 'is_owner', 'sign_in_type', 'kind', 'status', 'app_profile_id', 'created_at', 'sync_done', 'sync_total', 'last_synced_at', 'member_count', 'via_group_id', 'download_failed_at', 'download_failure'] as const;
export type UserListRow = Pick<UserRow, (typeof LIST_COLUMNS)[number]> & { app_profile_name: string | null };
const listColumns = LIST_COLUMNS.map((c) => `u.${c}` as const);

/** The columns a users list may be sorted by (API names); each pages by a keyset cursor (value, email). */
export const USER_SORT_KEYS = ['email', 'name', 'role', 'signInType', 'status'] as const;
export type UserSortKey = (typeof USER_SORT_KEYS)[number];
const sortColumn = { email: 'u.email_key', name: 'u.display_name', role: 'u.role', signInType: 'u.sign_in_type', status: 'u.status' } as const satisfies Record<UserSortKey, string>;

/** Which users and groups a list shows (the total counts the same ones). */
export interface UserListFilter {
  search?: string;
  role?: 'administrator' | 'member';
  /** Only the users and groups added through this app profile. */
  appProfileId?: string;
  signInType?: 'local' | 'microsoft365';
  status?: 'invited' | 'active' | 'disabled';
}

export interface UserListQuery extends UserListFilter {
  sort?: UserSortKey;
  order?: 'asc' | 'desc';
  limit: number;
  cursor?: string;
}

/** The opaque cursor of a sorted list: the last row's sort value and email, for that sort and order only. */
export function encodeUserCursor(sort: UserSortKey, order: 'asc' | 'desc', value: string, emailKey: string): string {
  return Buffer.from(JSON.stringify([sort, order, value, emailKey])).toString('base64url');
}

/** The last row's (value, email) of a cursor made for this sort and order; undefined when it was made for another or is not one. */
export function decodeUserCursor(cursor: string, sort: UserSortKey, order: 'asc' | 'desc'): { value: string; emailKey: string } | undefined {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (!Array.isArray(parsed) || parsed.length !== 4 || !parsed.every((part) => typeof part === 'string')) return undefined;
    const [s, o, value, emailKey] = parsed as string[];
    return s === sort && o === order ? { value: value!, emailKey: emailKey! } : undefined;
  } catch {
    return undefined;
  }
}

/** Member ids per INSERT of group members (one Graph page). */
export const MEMBER_INSERT_BATCH = 999;

export type UserStore = ReturnType<typeof createUserStore>;

/** The lower-cased domain of an email address. */
export const emailDomainOf = (email: string): string => email.slice(email.lastIndexOf('@') + 1).toLowerCase();

export type NewUser = Pick<UserRow, 'partner_id' | 'email' | 'role'> & Partial<Omit<UserRow, 'partner_id' | 'email' | 'role' | 'email_key' | 'email_domain'>>;

/** The one place a users row is composed (sign-up, invitations, adding, first sign-in through a group): defaults for every column not given. */
export function newUserRow(input: NewUser, now: string = new Date().toISOString()): UserRow {
  const emailKey = input.email.toLowerCase();
  return {
    id: randomUUID(),
    // No name known (a local user): the address, as given, rather than a name made from it ("pat").
    display_name: input.email,
    password_hash: null,
    is_owner: 0,
    sign_in_type: 'local',
    kind: 'user',
    status: 'active',
    app_profile_id: null,
    created_at: now,
    updated_at: now,
    ...input,
    email_key: emailKey,
    email_domain: emailDomainOf(emailKey),
  };
}

/** Inserts a row made by newUserRow; `executor` lets sign-up insert the owner in its own transaction. */
export async function insertUserRow(executor: Db, row: UserRow): Promise<void> {
  await executor.insertInto('users').values(row).execute();
}

/** Invitations whose activation link expired unused (never accounts), across partners; for the clean-up job. */
export async function expiredInvitations(db: Db, at: string): Promise<Pick<UserRow, 'id' | 'partner_id' | 'email'>[]> {
  return db.selectFrom('users').select(['id', 'partner_id', 'email']).where('status', '=', 'invited').where('activation_expires_at', '<=', at).execute();
}

/** Removes one expired invitation, unless it was activated meanwhile; true when it was removed. */
export async function deleteExpiredInvitation(db: Db, id: string, at: string): Promise<boolean> {
  const removed = await db.deleteFrom('users').where('id', '=', id).where('status', '=', 'invited').where('activation_expires_at', '<=', at).executeTakeFirst();
  return Number(removed.numDeletedRows) === 1;
}

/** A local user's email and password hash, for checking the current password. */
export async function passwordOf(db: Db, partnerId: string, userId: string): Promise<Pick<UserRow, 'email' | 'password_hash'> | undefined> {
  return db.selectFrom('users').select(['email', 'password_hash']).where('partner_id', '=', partnerId).where('id', '=', userId).executeTakeFirst();
}

/**
 * Stores a new password hash. With `unlessChangedFrom`, only while the stored hash is still that one (a rehash at
 * sign-in never overwrites a password changed meanwhile).
 */
export async function setPasswordHash(executor: Db, userId: string, passwordHash: string, options: { partnerId?: string; unlessChangedFrom?: string } = {}): Promise<void> {
  let q = executor.updateTable('users').set({ password_hash: passwordHash, updated_at: new Date().toISOString() }).where('id', '=', userId);
  if (options.partnerId) q = q.where('partner_id', '=', options.partnerId);
  if (options.unlessChangedFrom) q = q.where('password_hash', '=', options.unlessChangedFrom);
  await q.execute();
}

/** What the directory sync may change on an entry. */
export interface SyncedChanges {
  status?: 'active' | 'disabled';
  display_name?: string;
  email?: string;
}

/** The entry fields the directory sync compares with Graph. */
export interface SyncedEntry {
  id: string;
  ms_object_id?: string | null;
  display_name: string;
  email_key: string;
  status: 'invited' | 'active' | 'disabled';
}

/**
 * The SQL of the `users` and `group_members` tables: the only module that writes them. Every query is
 * scoped to one partner, except the activation look-up by token and the sync's list of profiles in use.
 */
export function createUserStore(db: Db, engine: Engine) {
  return { ...listQueries(db), ...entryQueries(db), ...syncQueries(db), ...memberQueries(db, engine) };
}

/** The list's filters on `users as u`, shared by a page and its total so both count the same rows. */
function listFilter(filter: UserListFilter, partnerId: string) {
  return (eb: ExpressionBuilder<{ u: UsersTable }, 'u'>) => {
    const conditions: Expression<SqlBool>[] = [eb('u.partner_id', '=', partnerId)];
    if (filter.role) conditions.push(eb('u.role', '=', filter.role));
    if (filter.appProfileId) conditions.push(eb('u.app_profile_id', '=', filter.appProfileId));
    if (filter.signInType) conditions.push(eb('u.sign_in_type', '=', filter.signInType));
    if (filter.status) conditions.push(eb('u.status', '=', filter.status));
    if (filter.search) {
      // By email or by name, as people remember them ("Vance" finds Adele Vance).
      const like = containing(filter.search);
      conditions.push(eb.or([eb('u.email_key', 'like', like), eb(eb.fn('lower', ['u.display_name']), 'like', like)]));
    }
    return eb.and(conditions);
  };
}

/** The users list page: a sorted, filtered page and its total. */
function listQueries(db: Db) {
  return {
    /**
     * One page of the list, sorted by `sort` then email (unique per partner), after the cursor's row: a keyset
     * read that an index (partner, sort column, email) serves, however deep the page. Undefined for a cursor that
     * is not one of this sort and order.
     */
    async list(partnerId: string, query: UserListQuery): Promise<{ rows: UserListRow[]; nextCursor: string | null } | undefined> {
      const sort = query.sort ?? 'email';
      const order = query.order ?? 'asc';
      const column = sortColumn[sort];
      let q = db
        .selectFrom('users as u')
        .leftJoin('app_profiles as p', (j) => j.onRef('p.id', '=', 'u.app_profile_id').onRef('p.partner_id', '=', 'u.partner_id'))
        .select(listColumns)
        .select('p.name as app_profile_name')
        .where(listFilter(query, partnerId));
      if (query.cursor) {
        const after = decodeUserCursor(query.cursor, sort, order);
        if (!after) return undefined;
        const op = order === 'asc' ? '>' : '<';
        q =
          sort === 'email'
            ? q.where('u.email_key', op, after.emailKey)
            : q.where((eb) => eb(eb.refTuple(column, 'u.email_key'), op, eb.tuple(after.value, after.emailKey)));
      }
      if (sort !== 'email') q = q.orderBy(column, order);
      const rows = (await q.orderBy('u.email_key', order).limit(query.limit + 1).execute()) as UserListRow[];
      const page = rows.slice(0, query.limit);
      const last = page.at(-1);
      const value = (row: UserListRow) => ({ email: row.email_key, name: row.display_name, role: row.role, signInType: row.sign_in_type, status: row.status })[sort];
      return { rows: page, nextCursor: rows.length > query.limit && last ? encodeUserCursor(sort, order, value(last), last.email_key) : null };
    },

    /** How many users and groups the list with these filters shows in all (its total). */
    async count(partnerId: string, filter: UserListFilter): Promise<number> {
      const { total } = await db
        .selectFrom('users as u')
        .where(listFilter(filter, partnerId))
        .select((eb) => eb.fn.countAll<number | string>().as('total'))
        .executeTakeFirstOrThrow();
      return Number(total);
    },
  };
}

/** Users rows: adding, roles, activation, removal, download progress. */
function entryQueries(db: Db) {
  return {
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

    /** The partner's active Administrators (people, not groups): who is emailed alerts. */
    administrators: (partnerId: string) =>
      db.selectFrom('users').select(['id', 'email']).where('partner_id', '=', partnerId).where('role', '=', 'administrator').where('status', '=', 'active').where('kind', '=', 'user').orderBy('email').limit(500).execute(),

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
      const rows = await db.selectFrom('users').select('email_key').where('sign_in_type', '=', 'local').where('status', '!=', 'invited').where('email_key', 'in', emailKeys).execute();
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

    insert: (row: UserRow) => insertUserRow(db, row),

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

    /** A new activation link for a pending invitation: the old link stops working. False when no longer invited. */
    async renewActivation(partnerId: string, id: string, hash: string, expiresAt: string, now: string): Promise<boolean> {
      const result = await db
        .updateTable('users')
        .set({ activation_token_hash: hash, activation_expires_at: expiresAt, updated_at: now })
        .where('partner_id', '=', partnerId)
        .where('id', '=', id)
        .where('sign_in_type', '=', 'local')
        .where('status', '=', 'invited')
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },

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
        .set({ sync_done: progress.done, sync_total: progress.total, ...(progress.syncedAt ? { last_synced_at: progress.syncedAt, download_failed_at: null, download_failure: null } : {}) })
        .where('partner_id', '=', partnerId)
        .where('id', '=', groupUserId)
        .execute();
    },

  };
}

/** group_members rows: the membership index of added groups (one reconciler for downloads and the sync). */
function memberQueries(db: Db, engine: Engine) {
  async function memberIds(partnerId: string, groupUserId: string, executor: Db = db): Promise<string[]> {
    const rows = await executor.selectFrom('group_members').select('member_object_id').where('partner_id', '=', partnerId).where('group_user_id', '=', groupUserId).execute();
    return rows.map((r) => r.member_object_id);
  }

  /**
   * Stores member ids in batches, ignoring those already stored. Each batch is one statement with the
   * ids as a single array parameter (json_each on SQLite, unnest on PostgreSQL): no per-row binding.
   */
  async function insertMembers(partnerId: string, groupUserId: string, objectIds: string[], executor: Db = db): Promise<void> {
    for (let i = 0; i < objectIds.length; i += MEMBER_INSERT_BATCH) {
      const batch = objectIds.slice(i, i + MEMBER_INSERT_BATCH);
      const source =
        engine === 'postgres'
          ? sql`select ${partnerId}, ${groupUserId}, m from unnest(${batch}::text[]) as m`
          : sql`select ${partnerId}, ${groupUserId}, value from json_each(${JSON.stringify(batch)}) where true`;
      await sql`insert into group_members (partner_id, group_user_id, member_object_id) ${source} on conflict (group_user_id, member_object_id) do nothing`.execute(executor);
    }
  }

  async function deleteMembers(partnerId: string, groupUserId: string, objectIds: string[], executor: Db = db): Promise<void> {
    for (let i = 0; i < objectIds.length; i += MEMBER_INSERT_BATCH) {
      await executor
        .deleteFrom('group_members')
        .where('partner_id', '=', partnerId)
        .where('group_user_id', '=', groupUserId)
        .where('member_object_id', 'in', objectIds.slice(i, i + MEMBER_INSERT_BATCH))
        .execute();
    }
  }


  return {
    memberIds,

    /**
     * Stores one downloaded page of a group's members, stamped with the download's run: a page stored twice
     * (a resumed download) adds no row, and the stamp marks members the run has seen however it was interrupted.
     */
    async storeDownloadedMembers(partnerId: string, groupUserId: string, objectIds: string[], run: string): Promise<void> {
      const ids = [...new Set(objectIds)];
      for (let i = 0; i < ids.length; i += MEMBER_INSERT_BATCH) {
        const batch = ids.slice(i, i + MEMBER_INSERT_BATCH);
        const source =
          engine === 'postgres'
            ? sql`select ${partnerId}, ${groupUserId}, m, ${run} from unnest(${batch}::text[]) as m`
            : sql`select ${partnerId}, ${groupUserId}, value, ${run} from json_each(${JSON.stringify(batch)}) where true`;
        await sql`insert into group_members (partner_id, group_user_id, member_object_id, download_run) ${source} on conflict (group_user_id, member_object_id) do update set download_run = excluded.download_run`.execute(db);
      }
    },

    /**
     * A download run finished: the group's members it did not store are no longer members and are removed, and
     * the entry is stamped as synced, in one transaction. Answers how many were removed and how many remain.
     */
    async finishDownload(partnerId: string, groupUserId: string, run: string, syncedAt: string): Promise<{ removed: number; members: number }> {
      return db.transaction().execute(async (trx) => {
        const removed = await trx
          .deleteFrom('group_members')
          .where('partner_id', '=', partnerId)
          .where('group_user_id', '=', groupUserId)
          .where((eb) => eb.or([eb('download_run', 'is', null), eb('download_run', '!=', run)]))
          .executeTakeFirst();
        const { members } = await trx
          .selectFrom('group_members')
          .select((eb) => eb.fn.countAll<number | string>().as('members'))
          .where('partner_id', '=', partnerId)
          .where('group_user_id', '=', groupUserId)
          .executeTakeFirstOrThrow();
        await trx.updateTable('users').set({ last_synced_at: syncedAt, member_count: Number(members) }).where('partner_id', '=', partnerId).where('id', '=', groupUserId).execute();
        return { removed: Number(removed.numDeletedRows), members: Number(members) };
      });
    },

    /**
     * The one membership reconciler: brings a group entry's group_members rows to exactly `members`
     * (lower-cased object ids) in one transaction, and stamps the entry as synced.
     */
    async reconcileMembers(partnerId: string, groupUserId: string, members: ReadonlySet<string>, syncedAt: string): Promise<{ added: number; removed: number }> {
      return db.transaction().execute(async (trx) => {
        const existing = new Set(await memberIds(partnerId, groupUserId, trx));
        const gone = [...existing].filter((id) => !members.has(id));
        const added = [...members].filter((id) => !existing.has(id));
        await deleteMembers(partnerId, groupUserId, gone, trx);
        await insertMembers(partnerId, groupUserId, added, trx);
        await trx.updateTable('users').set({ last_synced_at: syncedAt, member_count: members.size }).where('partner_id', '=', partnerId).where('id', '=', groupUserId).execute();
        return { added: added.length, removed: gone.length };
      });
    },

    /**
     * One person's rows of the membership index after a live check at sign-in: in these groups, not in those.
     * The groups whose rows changed have their member count moved by one, in the same transaction.
     */
    async setPersonMemberships(partnerId: string, objectId: string, inGroups: string[], notInGroups: string[]): Promise<void> {
      if (notInGroups.length === 0 && inGroups.length === 0) return;
      await db.transaction().execute(async (trx) => {
        const left =
          notInGroups.length === 0
            ? []
            : await trx.deleteFrom('group_members').where('partner_id', '=', partnerId).where('group_user_id', 'in', notInGroups).where('member_object_id', '=', objectId).returning('group_user_id').execute();
        const joined =
          inGroups.length === 0
            ? []
            : await trx
                .insertInto('group_members')
                .values(inGroups.map((group_user_id) => ({ partner_id: partnerId, group_user_id, member_object_id: objectId })))
                .onConflict((oc) => oc.columns(['group_user_id', 'member_object_id']).doNothing())
                .returning('group_user_id')
                .execute();
        for (const [rows, change] of [[left, -1], [joined, 1]] as const) {
          if (rows.length === 0) continue;
          await trx
            .updateTable('users')
            .set((eb) => ({ member_count: eb(eb.fn.coalesce('member_count', eb.lit(0)), '+', change) }))
            .where('partner_id', '=', partnerId)
            .where('id', 'in', rows.map((r) => r.group_user_id))
            .execute();
        }
      });
    },

  };
}

/** What the directory sync and single sign-on read and write on users rows. */
function syncQueries(db: Db) {
  return {
    /** A failed membership download, shown on the group until a download completes. */
    async recordDownloadFailure(partnerId: string, groupUserId: string, message: string): Promise<void> {
      await db
        .updateTable('users')
        .set({ download_failed_at: new Date().toISOString(), download_failure: message.slice(0, 500) })
        .where('partner_id', '=', partnerId)
        .where('id', '=', groupUserId)
        .execute();
    },

    /** A member's record created at a sign-in through a group, kept in step with the group at later sign-ins. */
    async updateMemberRecord(partnerId: string, id: string, changes: { role: UserRow['role']; via_group_id: string; display_name: string }): Promise<void> {
      await db.updateTable('users').set({ ...changes, updated_at: new Date().toISOString() }).where('partner_id', '=', partnerId).where('id', '=', id).execute();
    },

    findByObject: (partnerId: string, tenantId: string, objectId: string) =>
      db.selectFrom('users').select('id').where('partner_id', '=', partnerId).where('ms_tenant_id', '=', tenantId).where('ms_object_id', '=', objectId).executeTakeFirst(),

    /**
     * Applies what the directory sync found; `last_synced_at` always. When the new address is taken by
     * another entry of the partner, the old one stays and the rest applies.
     */
    async applySynced(partnerId: string, id: string, changes: SyncedChanges, syncedAt: string): Promise<void> {
      const base = { last_synced_at: syncedAt, ...(Object.keys(changes).length > 0 ? { updated_at: syncedAt } : {}) };
      const { email, ...rest } = changes;
      const update = (set: Partial<UserRow>) => db.updateTable('users').set(set).where('partner_id', '=', partnerId).where('id', '=', id).execute();
      try {
        await update({ ...base, ...rest, ...(email ? { email, email_key: email, email_domain: emailDomainOf(email) } : {}) });
      } catch (error) {
        if (!email || !isUniqueViolation(error)) throw error;
        await update({ ...base, ...rest });
      }
    },

    /** The sync's read of a profile's Microsoft 365 user entries (and member records) among these object ids. */
    syncedUsers: (partnerId: string, profileId: string, objectIds: string[]): Promise<SyncedEntry[]> =>
      db
        .selectFrom('users')
        .select(['id', 'ms_object_id', 'display_name', 'email_key', 'status'])
        .where('partner_id', '=', partnerId)
        .where('app_profile_id', '=', profileId)
        .where('kind', '=', 'user')
        .where('sign_in_type', '=', 'microsoft365')
        .where('ms_object_id', 'in', objectIds)
        .execute(),

    groupEntries: (partnerId: string, profileId: string) =>
      db.selectFrom('users').select(['id', 'ms_object_id', 'display_name']).where('partner_id', '=', partnerId).where('app_profile_id', '=', profileId).where('kind', '=', 'group').execute(),

    /** Whether the profile has Microsoft 365 entries of this kind (any kind when not given). */
    async hasEntries(partnerId: string, profileId: string, kind?: 'user' | 'group'): Promise<boolean> {
      let q = db.selectFrom('users').select('id').where('partner_id', '=', partnerId).where('app_profile_id', '=', profileId).where('sign_in_type', '=', 'microsoft365');
      if (kind) q = q.where('kind', '=', kind);
      return (await q.limit(1).executeTakeFirst()) !== undefined;
    },

    renameEntry: (partnerId: string, id: string, name: string) =>
      db.updateTable('users').set({ display_name: name, updated_at: new Date().toISOString() }).where('partner_id', '=', partnerId).where('id', '=', id).execute(),

    /** Group entries among `groupUserIds` whose stored members include any of `memberIds` (nested groups too). */
    async groupsContaining(partnerId: string, groupUserIds: string[], memberObjectIds: string[]): Promise<Set<string>> {
      const found = new Set<string>();
      if (groupUserIds.length === 0) return found;
      for (let i = 0; i < memberObjectIds.length; i += MEMBER_INSERT_BATCH) {
        const rows = await db
          .selectFrom('group_members')
          .select('group_user_id')
          .distinct()
          .where('partner_id', '=', partnerId)
          .where('group_user_id', 'in', groupUserIds)
          .where('member_object_id', 'in', memberObjectIds.slice(i, i + MEMBER_INSERT_BATCH))
          .execute();
        for (const row of rows) found.add(row.group_user_id);
      }
      return found;
    },

    /** Member records of the profile whose person is in none of the partner's groups any more. */
    async orphanMemberRecords(partnerId: string, profileId: string): Promise<string[]> {
      const rows = await db
        .selectFrom('users as u')
        .select('u.id')
        .where('u.partner_id', '=', partnerId)
        .where('u.app_profile_id', '=', profileId)
        .where('u.via_group_id', 'is not', null)
        .where(({ not, exists, selectFrom }) =>
          not(exists(selectFrom('group_members as gm').select('gm.member_object_id').whereRef('gm.partner_id', '=', 'u.partner_id').whereRef('gm.member_object_id', '=', 'u.ms_object_id'))),
        )
        .execute();
      return rows.map((r) => r.id);
    },

    /** The groups added through a profile, with their membership download's progress and last outcome (the background work page). */
    groupsOfProfile(partnerId: string, profileId: string) {
      return db
        .selectFrom('users')
        .select(['id', 'email', 'display_name', 'sync_done', 'sync_total', 'last_synced_at', 'member_count', 'download_failed_at', 'download_failure'])
        .where('partner_id', '=', partnerId)
        .where('app_profile_id', '=', profileId)
        .where('kind', '=', 'group')
        .orderBy('email_key')
        .execute();
    },

    /** Active profiles with Microsoft 365 entries: what the scheduled sync visits. */
    async profilesInUse(): Promise<string[]> {
      const rows = await db
        .selectFrom('app_profiles as p')
        .select('p.id')
        .where('p.status', '=', 'active')
        .where(({ exists, selectFrom }) => exists(selectFrom('users as u').select('u.id').whereRef('u.app_profile_id', '=', 'p.id').where('u.sign_in_type', '=', 'microsoft365')))
        .orderBy('p.id')
        .execute();
      return rows.map((r) => r.id);
    },
  };
}
