import type { AuditLog } from '../audit/store';
import type { AppProfileRow } from '../app-profiles/store';
import type { TenantGraphs } from '../app-profiles/tenant-graph';
import type { GraphClient } from '../microsoft/graph';
import { groupDownloadFailed, groupDownloadRestored, type Notify } from '../notifications/events';
import type { UserStore } from './store';

/** Members per Graph page: the largest page Graph serves for transitiveMembers. */
export const MEMBER_PAGE_SIZE = 999;

interface MemberPage {
  '@odata.count'?: number;
  '@odata.nextLink'?: string;
  value?: { '@odata.type'?: string; id: string }[];
}

export interface GroupMemberDownloadDeps {
  store: UserStore;
  audit: AuditLog;
  profileOf: (partnerId: string, profileId: string) => Promise<AppProfileRow | undefined>;
  graphs: Pick<TenantGraphs, 'run'>;
  log?: (message: string, error: unknown) => void;
  notify?: Notify;
}

export type GroupMemberDownloads = ReturnType<typeof createGroupMemberDownloads>;

/**
 * Downloads the transitive members (object ids) of an added group into group_members, page by page
 * (999 ids per Graph page, one batched INSERT per page), showing progress on the group's row. A rerun
 * is safe: inserts ignore members already stored, and members no longer in the group are removed at
 * the end. One download per group runs at a time in this process; a second call joins it.
 */
export function createGroupMemberDownloads(deps: GroupMemberDownloadDeps) {
  const { store, audit } = deps;
  const running = new Map<string, Promise<{ members: number }>>();

  /** Pages the group's transitive members into group_members; the next page is asked for while this one is stored. */
  async function downloadPages(graph: GraphClient, partnerId: string, groupUserId: string, groupObjectId: string, seen: Set<string>, progress: (done: number, total: number) => void): Promise<void> {
    let done = 0;
    let total = 0;
    let page = await graph.get<MemberPage>(`/groups/${encodeURIComponent(groupObjectId)}/transitiveMembers`, {
      eventual: true,
      query: { $select: 'id', $top: MEMBER_PAGE_SIZE, $count: 'true' },
    });
    total = page['@odata.count'] ?? 0;
    for (;;) {
      // The next page is asked for while this one is stored, so Graph and the database work at once.
      const nextLink = page['@odata.nextLink'];
      const nextPage = nextLink ? graph.get<MemberPage>(nextLink, { eventual: true }) : undefined;
      nextPage?.catch(() => undefined);
      const ids: string[] = [];
      for (const member of page.value ?? []) {
        const type = member['@odata.type'];
        // Only users sign in; nested groups are counted for progress but not stored.
        if (type && type !== '#microsoft.graph.user') continue;
        const id = member.id.toLowerCase();
        if (!seen.has(id)) {
          seen.add(id);
          ids.push(id);
        }
      }
      await store.insertMembers(partnerId, groupUserId, ids);
      done += page.value?.length ?? 0;
      total = Math.max(total, done);
      await store.setProgress(partnerId, groupUserId, { done, total });
      progress(done, total);
      if (!nextPage) break;
      page = await nextPage;
    }
  }

  async function run(partnerId: string, groupUserId: string): Promise<{ members: number }> {
    const group = await store.get(partnerId, groupUserId);
    if (!group || group.kind !== 'group' || !group.app_profile_id || !group.ms_object_id) {
      throw new Error('The group was not found among the partner’s Microsoft 365 groups.');
    }
    const target = { type: 'user', id: group.id, name: group.email };
    const groupRef = { partnerId, id: group.id, email: group.email, appProfileId: group.app_profile_id };
    let done = 0;
    let total = 0;
    try {
      const profile = await deps.profileOf(partnerId, group.app_profile_id);
      if (!profile) throw new Error('The group’s app profile no longer exists.');
      await store.setProgress(partnerId, group.id, { done: 0, total: 0 });
      const seen = new Set<string>();
      const progress = (d: number, t: number) => {
        done = d;
        total = t;
      };
      await deps.graphs.run(profile, 'background', (graph) => downloadPages(graph, partnerId, group.id, group.ms_object_id!, seen, progress));
      // Pages were added as they came; the reconciler now removes who is no longer a member.
      const syncedAt = new Date().toISOString();
      const { removed } = await store.reconcileMembers(partnerId, group.id, seen, syncedAt);
      await store.setProgress(partnerId, group.id, { done: null, total: null, syncedAt });
      await audit.record({
        partnerId,
        actor: { email: null },
        action: 'user.group_members.download',
        target,
        outcome: 'success',
        details: { members: seen.size, removed, tenantId: group.ms_tenant_id, groupObjectId: group.ms_object_id },
      });
      await deps.notify?.(groupDownloadRestored(groupRef, seen.size));
      return { members: seen.size };
    } catch (error) {
      const message = `The membership download stopped after ${done} of ${total} members: ${error instanceof Error ? error.message : 'unknown error'}`;
      await store.recordDownloadFailure(partnerId, group.id, message).catch((storeError: unknown) => deps.log?.('could not record a failed membership download', storeError));
      await audit
        .record({
          partnerId,
          actor: { email: null },
          action: 'user.group_members.download',
          target,
          outcome: 'failure',
          details: { message, done, total, tenantId: group.ms_tenant_id, groupObjectId: group.ms_object_id },
        })
        .catch((auditError: unknown) => deps.log?.('could not audit a failed membership download', auditError));
      await deps.notify?.(groupDownloadFailed(groupRef, message));
      throw error;
    }
  }

  return {
    /** Downloads (or joins the running download of) one group's members; resolves when every member is stored. */
    download(partnerId: string, groupUserId: string): Promise<{ members: number }> {
      const key = `${partnerId}:${groupUserId}`;
      const current = running.get(key);
      if (current) return current;
      const promise = run(partnerId, groupUserId).finally(() => running.delete(key));
      running.set(key, promise);
      return promise;
    },

    /** Starts downloads without waiting; failures are recorded on the group and in the audit log. */
    startInBackground(partnerId: string, groupUserIds: string[]): void {
      for (const id of groupUserIds) {
        const key = `${partnerId}:${id}`;
        if (running.has(key)) continue;
        // Registered now, so a caller awaiting download() right after the answer joins this run.
        const promise = new Promise<void>((resolve) => setImmediate(resolve)).then(() => run(partnerId, id)).finally(() => running.delete(key));
        running.set(key, promise);
        promise.catch((error: unknown) => deps.log?.('group membership download failed', error));
      }
    },

    isRunning: (partnerId: string, groupUserId: string) => running.has(`${partnerId}:${groupUserId}`),
  };
}
