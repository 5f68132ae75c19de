import { randomUUID } from 'node:crypto';
import type { AppProfilesFeature } from '../app-profiles/index';
import { ProfileExpiredError } from '../app-profiles/health';
import type { AppProfileRow } from '../app-profiles/store';
import { isUniqueViolation, type Db } from '../db/database';
import { GraphError, isResyncRequired, type GraphClient } from '../microsoft/graph';
import type { CoreServices } from '../services';
import { createGraphBudget, type GraphBudget } from './budget';
import { createTenantGraph, type TenantGraphOptions } from './graph';


const USERS_DELTA = '/users/delta?$select=id,displayName,mail,userPrincipalName,accountEnabled';
const GROUPS_DELTA = '/groups/delta?$select=id,displayName,members';
const LEASE_MS = 15 * 60_000;
const CHUNK = 400;

export interface SyncCounts {
  profileId: string;
  /** Why nothing was synced: the profile is expired, has no entries, or another run holds it. */
  skipped?: 'inactive' | 'unused' | 'busy';
  /** Set when the run stopped early. */
  error?: string;
  /** Resources that started over because Graph answered resyncRequired (410). */
  resynced: ('users' | 'groups')[];
  users: { received: number; updated: number; disabled: number; enabled: number };
  groups: { received: number; changed: number; recomputed: number; membersAdded: number; membersRemoved: number };
}

interface DeltaUser {
  id: string;
  displayName?: string | null;
  mail?: string | null;
  userPrincipalName?: string | null;
  accountEnabled?: boolean;
  '@removed'?: { reason?: string };
}

interface DeltaGroup {
  id: string;
  displayName?: string | null;
  'members@delta'?: { id: string; '@removed'?: unknown }[];
  '@removed'?: { reason?: string };
}

export type DirectorySync = ReturnType<typeof createDirectorySync>;

/**
 * Keeps added Microsoft 365 users' details and added groups' transitive memberships current with Graph
 * delta queries, resuming from the stored delta links (one per profile and resource).
 *
 * Users: every changed user of the tenant arrives; matching entries and member records of that profile
 * get name, email and status (status mirrors the tenant's accountEnabled; a deleted user becomes
 * 'disabled') and disabled ones lose their sessions.
 * Groups: a group whose membership changed, or that is itself (transitively) a member of an added group,
 * marks the added group entries that contain it; each marked entry's transitive members are paged from
 * `/groups/{id}/transitiveMembers` and its group_members rows are brought to exactly that set in one
 * transaction (nested group ids are kept too, which is how a change deep in the nesting is recognised).
 * A delta link is stored only after its changes are applied, so a run that fails half-way is repeated,
 * never skipped; every write is idempotent.
 */
export function createDirectorySync(core: CoreServices, deps: { appProfiles: AppProfilesFeature; budget?: GraphBudget; graph?: TenantGraphOptions }) {
  const { db } = core;
  const budget = deps.budget ?? createGraphBudget(db);
  const holder = randomUUID();
  const running = new Map<string, Promise<SyncCounts>>();

  const graphFor = (row: AppProfileRow): GraphClient => createTenantGraph({ microsoft: core.microsoft, health: deps.appProfiles.health, budget }, row, deps.graph);

  async function claim(profileId: string): Promise<boolean> {
    const name = `directory-sync:${profileId}`;
    const now = new Date();
    await db.insertInto('job_leases').values({ name, holder: null, lease_until: new Date(0).toISOString(), last_run_at: null }).onConflict((oc) => oc.column('name').doNothing()).execute();
    const res = await db
      .updateTable('job_leases')
      .set({ holder, lease_until: new Date(now.getTime() + LEASE_MS).toISOString(), last_run_at: now.toISOString() })
      .where('name', '=', name)
      .where('lease_until', '<', now.toISOString())
      .executeTakeFirst();
    return Number(res.numUpdatedRows) === 1;
  }

  async function release(profileId: string): Promise<void> {
    await db.updateTable('job_leases').set({ holder: null, lease_until: new Date(0).toISOString() }).where('name', '=', `directory-sync:${profileId}`).where('holder', '=', holder).execute();
  }

  async function loadDeltaLink(row: AppProfileRow, resource: 'users' | 'groups'): Promise<string | null> {
    const state = await db.selectFrom('directory_sync_state').select('delta_link').where('app_profile_id', '=', row.id).where('resource', '=', resource).executeTakeFirst();
    return state?.delta_link ?? null;
  }

  async function storeDeltaLink(row: AppProfileRow, resource: 'users' | 'groups', link: string): Promise<void> {
    const now = new Date().toISOString();
    const updated = await db.updateTable('directory_sync_state').set({ delta_link: link, updated_at: now }).where('app_profile_id', '=', row.id).where('resource', '=', resource).executeTakeFirst();
    if (Number(updated.numUpdatedRows) === 1) return;
    await db
      .insertInto('directory_sync_state')
      .values({ id: randomUUID(), partner_id: row.partner_id, app_profile_id: row.id, resource, delta_link: link, updated_at: now })
      .onConflict((oc) => oc.columns(['app_profile_id', 'resource']).doUpdateSet({ delta_link: link, updated_at: now }))
      .execute();
  }

  /** Reads a whole delta round (from the stored link, or from scratch after a 410), page by page. */
  async function runDelta<T>(graph: GraphClient, row: AppProfileRow, resource: 'users' | 'groups', initial: string, counts: SyncCounts, onPage: (items: T[], full: boolean) => Promise<void>): Promise<{ link: string; full: boolean }> {
    const stored = await loadDeltaLink(row, resource);
    let from = stored ?? initial;
    let full = stored === null;
    for (;;) {
      try {
        const run = graph.delta<T>(from);
        for await (const page of run) await onPage(page, full);
        return { link: run.deltaLink, full };
      } catch (error) {
        if (!full && isResyncRequired(error)) {
          counts.resynced.push(resource);
          from = initial;
          full = true;
          continue;
        }
        throw error;
      }
    }
  }

  async function endSessions(partnerId: string, userIds: string[], executor: Db = db): Promise<void> {
    for (let i = 0; i < userIds.length; i += CHUNK) await core.sessions.destroyForUsers(partnerId, userIds.slice(i, i + CHUNK), executor);
  }

  async function applyUsers(row: AppProfileRow, items: DeltaUser[], counts: SyncCounts): Promise<void> {
    counts.users.received += items.length;
    const byId = new Map(items.filter((u) => typeof u.id === 'string').map((u) => [u.id.toLowerCase(), u]));
    if (byId.size === 0) return;
    const ids = [...byId.keys()];
    const now = new Date().toISOString();
    for (let i = 0; i < ids.length; i += CHUNK) {
      const rows = await db
        .selectFrom('users')
        .select(['id', 'ms_object_id', 'display_name', 'email', 'email_key', 'status'])
        .where('partner_id', '=', row.partner_id)
        .where('app_profile_id', '=', row.id)
        .where('kind', '=', 'user')
        .where('sign_in_type', '=', 'microsoft365')
        .where('ms_object_id', 'in', ids.slice(i, i + CHUNK))
        .execute();
      const ended: string[] = [];
      for (const entry of rows) {
        const user = byId.get(String(entry.ms_object_id).toLowerCase())!;
        const removed = user['@removed'] !== undefined;
        const changes: Record<string, string> = { last_synced_at: now };
        if (removed || user.accountEnabled === false) {
          if (entry.status !== 'disabled') {
            changes.status = 'disabled';
            counts.users.disabled++;
          }
          ended.push(entry.id);
        } else if (user.accountEnabled === true && entry.status === 'disabled') {
          changes.status = 'active';
          counts.users.enabled++;
        }
        if (!removed) {
          if (typeof user.displayName === 'string' && user.displayName !== entry.display_name) changes.display_name = user.displayName;
          const known = [user.mail, user.userPrincipalName].filter((v): v is string => typeof v === 'string').map((v) => v.toLowerCase());
          if (known.length > 0 && !known.includes(entry.email_key)) {
            changes.email = known[0];
            changes.email_key = known[0];
          }
        }
        if (Object.keys(changes).length > 1) {
          changes.updated_at = now;
          counts.users.updated++;
        }
        try {
          await db.updateTable('users').set(changes).where('id', '=', entry.id).execute();
        } catch (error) {
          // Another entry of the partner already uses the new address: keep the old one, apply the rest.
          if (!isUniqueViolation(error)) throw error;
          delete changes.email;
          delete changes.email_key;
          await db.updateTable('users').set(changes).where('id', '=', entry.id).execute();
        }
      }
      await endSessions(row.partner_id, ended);
    }
  }

  async function groupEntries(row: AppProfileRow) {
    return db
      .selectFrom('users')
      .select(['id', 'ms_object_id', 'display_name'])
      .where('partner_id', '=', row.partner_id)
      .where('app_profile_id', '=', row.id)
      .where('kind', '=', 'group')
      .execute();
  }

  /** Brings one group entry's group_members rows to exactly the group's current transitive members. */
  async function recompute(graph: GraphClient, row: AppProfileRow, entry: { id: string; ms_object_id?: string | null }, counts: SyncCounts): Promise<void> {
    const members = new Set<string>();
    try {
      for await (const page of graph.transitiveMembers(String(entry.ms_object_id))) for (const m of page) if (typeof m.id === 'string') members.add(m.id.toLowerCase());
    } catch (error) {
      // The group was deleted in the tenant: it has no members any more.
      if (!(error instanceof GraphError && error.status === 404)) throw error;
    }
    const now = new Date().toISOString();
    await db.transaction().execute(async (trx) => {
      const existing = new Set((await trx.selectFrom('group_members').select('member_object_id').where('group_user_id', '=', entry.id).execute()).map((r) => r.member_object_id));
      const gone = [...existing].filter((id) => !members.has(id));
      const added = [...members].filter((id) => !existing.has(id));
      for (let i = 0; i < gone.length; i += CHUNK) {
        await trx.deleteFrom('group_members').where('group_user_id', '=', entry.id).where('member_object_id', 'in', gone.slice(i, i + CHUNK)).execute();
      }
      for (let i = 0; i < added.length; i += CHUNK) {
        await trx
          .insertInto('group_members')
          .values(added.slice(i, i + CHUNK).map((member_object_id) => ({ partner_id: row.partner_id, group_user_id: entry.id, member_object_id })))
          .onConflict((oc) => oc.columns(['group_user_id', 'member_object_id']).doNothing())
          .execute();
      }
      await trx.updateTable('users').set({ last_synced_at: now }).where('id', '=', entry.id).execute();
      counts.groups.membersAdded += added.length;
      counts.groups.membersRemoved += gone.length;
    });
    counts.groups.recomputed++;
  }

  async function syncGroups(graph: GraphClient, row: AppProfileRow, counts: SyncCounts): Promise<void> {
    const entries = await groupEntries(row);
    if (entries.length === 0) return;
    const changed = new Set<string>();
    const names = new Map<string, string>();
    let fullRound = false;
    const { link } = await runDelta<DeltaGroup>(graph, row, 'groups', GROUPS_DELTA, counts, async (items, full) => {
      fullRound ||= full;
      counts.groups.received += items.length;
      for (const group of items) {
        if (typeof group.id !== 'string') continue;
        const id = group.id.toLowerCase();
        if (group['@removed'] !== undefined || (group['members@delta']?.length ?? 0) > 0) changed.add(id);
        if (typeof group.displayName === 'string') names.set(id, group.displayName);
      }
    });
    counts.groups.changed = changed.size;
    let affected = entries;
    if (!fullRound) {
      const marked = new Set(entries.filter((e) => changed.has(String(e.ms_object_id).toLowerCase())).map((e) => e.id));
      const ids = [...changed];
      for (let i = 0; i < ids.length; i += CHUNK) {
        const nested = await db
          .selectFrom('group_members')
          .select('group_user_id')
          .distinct()
          .where('partner_id', '=', row.partner_id)
          .where('group_user_id', 'in', entries.map((e) => e.id))
          .where('member_object_id', 'in', ids.slice(i, i + CHUNK))
          .execute();
        for (const n of nested) marked.add(n.group_user_id);
      }
      affected = entries.filter((e) => marked.has(e.id));
    }
    for (const entry of affected) await recompute(graph, row, entry, counts);
    for (const entry of entries) {
      const name = names.get(String(entry.ms_object_id).toLowerCase());
      if (name && name !== entry.display_name) await db.updateTable('users').set({ display_name: name, updated_at: new Date().toISOString() }).where('id', '=', entry.id).execute();
    }
    if (affected.length > 0) {
      // Member records whose person is in none of the partner's groups any more lose their sessions now.
      const orphans = await db
        .selectFrom('users as u')
        .select('u.id')
        .where('u.partner_id', '=', row.partner_id)
        .where('u.app_profile_id', '=', row.id)
        .where('u.via_group_id', 'is not', null)
        .where(({ not, exists, selectFrom }) =>
          not(exists(selectFrom('group_members as gm').select('gm.member_object_id').whereRef('gm.partner_id', '=', 'u.partner_id').whereRef('gm.member_object_id', '=', 'u.ms_object_id'))),
        )
        .execute();
      await endSessions(row.partner_id, orphans.map((o) => o.id));
    }
    await storeDeltaLink(row, 'groups', link);
  }

  async function syncUsers(graph: GraphClient, row: AppProfileRow, counts: SyncCounts): Promise<void> {
    const any = await db.selectFrom('users').select('id').where('partner_id', '=', row.partner_id).where('app_profile_id', '=', row.id).where('kind', '=', 'user').where('sign_in_type', '=', 'microsoft365').limit(1).executeTakeFirst();
    const hasGroups = await db.selectFrom('users').select('id').where('partner_id', '=', row.partner_id).where('app_profile_id', '=', row.id).where('kind', '=', 'group').limit(1).executeTakeFirst();
    // Without entries yet, a group still makes first sign-ins create records: keep the link warm only when someone is there.
    if (!any && !hasGroups) return;
    const { link } = await runDelta<DeltaUser>(graph, row, 'users', USERS_DELTA, counts, (items) => applyUsers(row, items, counts));
    await storeDeltaLink(row, 'users', link);
  }

  async function runProfile(profileId: string): Promise<SyncCounts> {
    const counts: SyncCounts = {
      profileId,
      resynced: [],
      users: { received: 0, updated: 0, disabled: 0, enabled: 0 },
      groups: { received: 0, changed: 0, recomputed: 0, membersAdded: 0, membersRemoved: 0 },
    };
    const row = await db.selectFrom('app_profiles').selectAll().where('id', '=', profileId).executeTakeFirst();
    if (!row || row.status !== 'active') return { ...counts, skipped: 'inactive' };
    const used = await db.selectFrom('users').select('id').where('partner_id', '=', row.partner_id).where('app_profile_id', '=', row.id).where('sign_in_type', '=', 'microsoft365').limit(1).executeTakeFirst();
    if (!used) return { ...counts, skipped: 'unused' };
    if (!(await claim(profileId))) return { ...counts, skipped: 'busy' };
    try {
      const graph = graphFor(row);
      await syncUsers(graph, row, counts);
      await syncGroups(graph, row, counts);
    } catch (error) {
      if (error instanceof ProfileExpiredError) return { ...counts, error: 'PROFILE_EXPIRED' };
      if (error instanceof GraphError) return { ...counts, error: error.status === 401 || error.status === 403 ? 'PROFILE_EXPIRED' : `GRAPH_${error.status || error.code}` };
      throw error;
    } finally {
      await release(profileId).catch(() => undefined);
    }
    return counts;
  }

  /** One run per profile at a time: concurrent callers in this instance share it, other instances skip. */
  function syncProfile(profileId: string): Promise<SyncCounts> {
    const current = running.get(profileId);
    if (current) return current;
    const run = runProfile(profileId).finally(() => running.delete(profileId));
    running.set(profileId, run);
    return run;
  }

  return {
    syncProfile,
    /** The scheduled job: every active profile that has Microsoft 365 entries, a few at a time. */
    async syncAll(options: { concurrency?: number } = {}): Promise<SyncCounts[]> {
      const rows = await db
        .selectFrom('app_profiles as p')
        .select('p.id')
        .where('p.status', '=', 'active')
        .where(({ exists, selectFrom }) => exists(selectFrom('users as u').select('u.id').whereRef('u.app_profile_id', '=', 'p.id').where('u.sign_in_type', '=', 'microsoft365')))
        .orderBy('p.id')
        .execute();
      const results: SyncCounts[] = [];
      let next = 0;
      const worker = async () => {
        while (next < rows.length) {
          const id = rows[next++].id;
          try {
            results.push(await syncProfile(id));
          } catch (error) {
            results.push({ profileId: id, error: error instanceof Error ? error.name : 'ERROR', resynced: [], users: { received: 0, updated: 0, disabled: 0, enabled: 0 }, groups: { received: 0, changed: 0, recomputed: 0, membersAdded: 0, membersRemoved: 0 } });
          }
        }
      };
      await Promise.all(Array.from({ length: Math.min(options.concurrency ?? 4, rows.length) }, worker));
      return results;
    },
    /** A Graph client through a profile, sharing the tenant budget and the retry policy (used by sign-in). */
    graphFor,
    budget,
  };
}
