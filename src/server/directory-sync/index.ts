import { GraphRefusedError, MicrosoftUnreachableError, ProfileExpiredError } from '../app-profiles/errors';
import type { AppProfileRow, AppProfileStore } from '../app-profiles/store';
import type { TenantGraphs } from '../app-profiles/tenant-graph';
import type { CoreServices } from '../core-types';
import { createLeases } from '../jobs/lease';
import { mapPool } from '../jobs/pool';
import { GraphError, isResyncRequired, type GraphClient } from '../microsoft/graph';
import { directorySyncFailing, directorySyncRestored, type Notify } from '../notifications/events';
import type { UserStore } from '../users/store';
import { createSyncStateStore, type SyncResource } from './state-store';
import { changedGroups, diffSyncedUser, type DeltaGroup, type DeltaUser } from './user-diff';

type SyncStateStore = ReturnType<typeof createSyncStateStore>;

const USERS_DELTA = '/users/delta?$select=id,displayName,mail,userPrincipalName,accountEnabled';
const GROUPS_DELTA = '/groups/delta?$select=id,displayName,members';
/** A profile's sync lease when none is configured: renewed while the run lasts, it lapses this soon after a crash. */
const DEFAULT_LEASE_MS = 60_000;
const CHUNK = 400;
/** How often a round looks again at a profile another run holds. */
const BUSY_POLL_MS = 250;

export interface SyncCounts {
  profileId: string;
  /** Why nothing was synced: the profile is expired, has no entries, or another run holds it. */
  skipped?: 'inactive' | 'unused' | 'busy';
  /** Set when the run stopped early. */
  error?: string;
  /** Resources that started over because Graph answered resyncRequired (410). */
  resynced: SyncResource[];
  users: { received: number; updated: number; disabled: number; enabled: number };
  groups: { received: number; changed: number; recomputed: number; membersAdded: number; membersRemoved: number };
}

const emptyCounts = (profileId: string): SyncCounts => ({
  profileId,
  resynced: [],
  users: { received: 0, updated: 0, disabled: 0, enabled: 0 },
  groups: { received: 0, changed: 0, recomputed: 0, membersAdded: 0, membersRemoved: 0 },
});

/** The reason a run stopped, for its counts. */
function stopReason(error: unknown): string | null {
  if (error instanceof ProfileExpiredError) return 'PROFILE_EXPIRED';
  if (error instanceof GraphRefusedError) return 'GRAPH_REFUSED';
  if (error instanceof MicrosoftUnreachableError) return 'MICROSOFT_UNAVAILABLE';
  if (error instanceof GraphError) return `GRAPH_${error.status || error.code}`;
  return null;
}

const profileRef = (row: AppProfileRow) => ({ partnerId: row.partner_id, id: row.id, name: row.name, tenantId: row.tenant_id });

/**
 * A sync failing for a day since its last completed run is alerted once (an expired profile has its own
 * alert); a completed run resolves it.
 */
function syncAlerts(state: Pick<ReturnType<typeof createSyncStateStore>, 'lastCompletedAt'>, deps: Pick<DirectorySyncDeps, 'notify' | 'now'>) {
  const notify: Notify = deps.notify ?? (async () => undefined);
  const now = deps.now ?? (() => new Date());
  return {
    async failing(row: AppProfileRow, reason: string): Promise<void> {
      const lastSyncedAt = reason === 'PROFILE_EXPIRED' ? null : await state.lastCompletedAt(row.id);
      const event = lastSyncedAt ? directorySyncFailing(profileRef(row), lastSyncedAt, reason, now()) : null;
      if (event) await notify(event);
    },
    restored: (row: AppProfileRow) => notify(directorySyncRestored(profileRef(row))),
  };
}

/** Reads a whole delta round (from the stored link, or from scratch after a 410), page by page. */
async function runDelta<T>(
  state: Pick<SyncStateStore, 'deltaLink'>,
  graph: GraphClient,
  row: AppProfileRow,
  resource: SyncResource,
  initial: string,
  counts: SyncCounts,
  onPage: (items: T[], full: boolean) => Promise<void>,
): Promise<{ link: string; full: boolean }> {
  const stored = await state.deltaLink(row.id, resource);
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

export interface DirectorySyncDeps {
  graphs: Pick<TenantGraphs, 'run'>;
  users: UserStore;
  profiles: Pick<AppProfileStore, 'byId'>;
  notify?: Notify;
  /** The portal's clock, for how long a sync has been failing. */
  now?: () => Date;
  /** How long a profile's sync lease outlives an instance that died during the run (the job lease). */
  leaseMs?: number;
}

export type DirectorySync = ReturnType<typeof createDirectorySync>;

/**
 * Keeps added Microsoft 365 users' details and added groups' transitive memberships current with Graph
 * delta queries, resuming from the stored delta links (one per profile and resource).
 *
 * Users: every changed user of the tenant arrives; matching entries and member records of that profile
 * get name, email and status (diffSyncedUser) and disabled ones lose their sessions.
 * Groups: a group whose membership changed, or that is itself (transitively) a member of an added group,
 * marks the added group entries that contain it; each marked entry's transitive members are paged from
 * `/groups/{id}/transitiveMembers` and reconciled into group_members (nested group ids are kept too,
 * which is how a change deep in the nesting is recognised).
 * A delta link is stored only after its changes are applied, so a run that fails half-way is repeated,
 * never skipped; every write is idempotent. All writes go through the tables' stores.
 */
export function createDirectorySync(core: Pick<CoreServices, 'db' | 'sessions'>, deps: DirectorySyncDeps) {
  const { users } = deps;
  const state = createSyncStateStore(core.db);
  const leases = createLeases(core.db);
  const running = new Map<string, Promise<SyncCounts>>();
  const alerts = syncAlerts(state, deps);

  async function endSessions(partnerId: string, userIds: string[]): Promise<void> {
    for (let i = 0; i < userIds.length; i += CHUNK) await core.sessions.destroyForUsers(partnerId, userIds.slice(i, i + CHUNK));
  }

  async function applyUsers(row: AppProfileRow, items: DeltaUser[], counts: SyncCounts): Promise<void> {
    counts.users.received += items.length;
    const byId = new Map(items.filter((u) => typeof u.id === 'string').map((u) => [u.id.toLowerCase(), u]));
    const ids = [...byId.keys()];
    const now = new Date().toISOString();
    for (let i = 0; i < ids.length; i += CHUNK) {
      const ended: string[] = [];
      for (const entry of await users.syncedUsers(row.partner_id, row.id, ids.slice(i, i + CHUNK))) {
        const diff = diffSyncedUser(entry, byId.get(String(entry.ms_object_id).toLowerCase())!);
        if (diff.endSessions) ended.push(entry.id);
        if (diff.disabled) counts.users.disabled++;
        if (diff.enabled) counts.users.enabled++;
        if (Object.keys(diff.changes).length > 0) counts.users.updated++;
        await users.applySynced(row.partner_id, entry.id, diff.changes, now);
      }
      await endSessions(row.partner_id, ended);
    }
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
    const { added, removed } = await users.reconcileMembers(row.partner_id, entry.id, members, new Date().toISOString());
    counts.groups.membersAdded += added;
    counts.groups.membersRemoved += removed;
    counts.groups.recomputed++;
  }

  async function syncGroups(graph: GraphClient, row: AppProfileRow, counts: SyncCounts): Promise<void> {
    const entries = await users.groupEntries(row.partner_id, row.id);
    if (entries.length === 0) return;
    const seen = { changed: new Set<string>(), names: new Map<string, string>() };
    let fullRound = false;
    const { link } = await runDelta<DeltaGroup>(state, graph, row, 'groups', GROUPS_DELTA, counts, async (items, full) => {
      fullRound ||= full;
      counts.groups.received += items.length;
      changedGroups(items, seen);
    });
    counts.groups.changed = seen.changed.size;
    let affected = entries;
    if (!fullRound) {
      const marked = await users.groupsContaining(row.partner_id, entries.map((e) => e.id), [...seen.changed]);
      for (const e of entries) if (seen.changed.has(String(e.ms_object_id).toLowerCase())) marked.add(e.id);
      affected = entries.filter((e) => marked.has(e.id));
    }
    for (const entry of affected) await recompute(graph, row, entry, counts);
    for (const entry of entries) {
      const name = seen.names.get(String(entry.ms_object_id).toLowerCase());
      if (name && name !== entry.display_name) await users.renameEntry(row.partner_id, entry.id, name);
    }
    // Member records whose person is in none of the partner's groups any more lose their sessions now.
    if (affected.length > 0) await endSessions(row.partner_id, await users.orphanMemberRecords(row.partner_id, row.id));
    await state.storeDeltaLink(row.partner_id, row.id, 'groups', link);
  }

  async function syncUsers(graph: GraphClient, row: AppProfileRow, counts: SyncCounts): Promise<void> {
    // Without entries yet, a group still makes first sign-ins create records: keep the link warm only when someone is there.
    if (!(await users.hasEntries(row.partner_id, row.id))) return;
    const { link } = await runDelta<DeltaUser>(state, graph, row, 'users', USERS_DELTA, counts, (items) => applyUsers(row, items, counts));
    await state.storeDeltaLink(row.partner_id, row.id, 'users', link);
  }

  async function runProfile(profileId: string): Promise<SyncCounts> {
    const counts = emptyCounts(profileId);
    const row = await deps.profiles.byId(profileId);
    if (!row || row.status !== 'active') return { ...counts, skipped: 'inactive' };
    if (!(await users.hasEntries(row.partner_id, row.id))) return { ...counts, skipped: 'unused' };
    const lease = `directory-sync:${profileId}`;
    const leaseMs = deps.leaseMs ?? DEFAULT_LEASE_MS;
    if (!(await leases.claim(lease, { leaseMs }))) return { ...counts, skipped: 'busy' };
    // Renewed while the round lasts: a round killed with its instance is taken up again once the lease lapses.
    const stopRenewing = leases.keep(lease, leaseMs);
    try {
      // Jobs ride out throttling (background policy); a refusal only expires the profile on the token endpoint's verdict.
      await deps.graphs.run(row, 'background', async (graph) => {
        await syncUsers(graph, row, counts);
        await syncGroups(graph, row, counts);
      });
    } catch (error) {
      const reason = stopReason(error);
      if (reason === null) throw error;
      await alerts.failing(row, reason);
      return { ...counts, error: reason };
    } finally {
      stopRenewing();
      await leases.release(lease).catch(() => undefined);
    }
    await alerts.restored(row);
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
    /**
     * A round: every active profile that has Microsoft 365 entries (but those in `except`), a few at a time;
     * a profile another run holds is looked at again for up to `busyWaitMs`; `onProfile` hears of each
     * profile's outcome as it ends.
     */
    async syncAll(options: { concurrency?: number; except?: ReadonlySet<string>; busyWaitMs?: number; onProfile?: (counts: SyncCounts) => Promise<void> } = {}): Promise<SyncCounts[]> {
      const ids = (await users.profilesInUse()).filter((id) => !options.except?.has(id));
      const syncOrCount = (id: string) => syncProfile(id).catch((error: unknown) => ({ ...emptyCounts(id), error: error instanceof Error ? error.name : 'ERROR' }));
      return mapPool(ids, options.concurrency ?? 4, async (id) => {
        let counts = await syncOrCount(id);
        // A profile another run holds (or a killed instance held, until its lease lapses) is waited for a while.
        for (const until = Date.now() + (options.busyWaitMs ?? 0); counts.skipped === 'busy' && Date.now() < until; ) {
          await new Promise((resolve) => setTimeout(resolve, BUSY_POLL_MS));
          counts = await syncOrCount(id);
        }
        await options.onProfile?.(counts);
        return counts;
      });
    },
  };
}
