import { randomUUID } from 'node:crypto';
import type { AuditLog } from '../audit/store';
import type { AppProfileRow } from '../app-profiles/store';
import type { TenantGraphs } from '../app-profiles/tenant-graph';
import type { JobQueue } from '../jobs/queue';
import { LeaseLostError, PermanentJobError, type JobContext, type JobOutcome, type QueueWorker } from '../jobs/worker';
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
  jobs: { queue: Pick<JobQueue, 'enqueue' | 'get'>; worker: Pick<QueueWorker, 'handle' | 'runJob' | 'wake'> };
  log?: (message: string, error: unknown) => void;
  notify?: Notify;
}

export type GroupMemberDownloads = ReturnType<typeof createGroupMemberDownloads>;

/** The queue's job kind of a group member download (one job per group entry). */
export const GROUP_MEMBERS_JOB = 'group-members';

interface DownloadPayload {
  groupUserId: string;
}

/**
 * How far a download got: the Graph link of the first page not yet stored (null once every page is stored),
 * the members counted so far, and the run that stamps the members it stores.
 */
interface DownloadCheckpoint {
  run: string;
  nextLink: string | null;
  done: number;
  total: number;
}

/** The queue key of a group's member download (one job per group entry). */
export const groupMembersJobKey = (groupUserId: string) => `${GROUP_MEMBERS_JOB}:${groupUserId}`;
const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
/** How often download() looks at a job another worker runs. */
const JOIN_POLL_MS = 100;

/** The ids a page names that are users (nested groups are counted for progress but not stored). */
function userIdsOf(page: MemberPage): string[] {
  const ids: string[] = [];
  for (const member of page.value ?? []) {
    const type = member['@odata.type'];
    if (type && type !== '#microsoft.graph.user') continue;
    ids.push(member.id.toLowerCase());
  }
  return ids;
}

/**
 * Downloads the transitive members (object ids) of added groups into group_members as jobs of the durable
 * queue, one per group, page by page (999 ids per Graph page, one batched INSERT per page), showing progress on
 * the group's row. After each stored page the job checkpoints the page's `@odata.nextLink`: a download
 * interrupted by a crash or a shutdown goes on from there, on whichever instance claims it. Storing a page is
 * idempotent, and each stored member is stamped with the download's run, so the members no page named are
 * removed at the end, however many times the download was resumed. A failed attempt is recorded on the group
 * and retried with backoff by the queue.
 */
export function createGroupMemberDownloads(deps: GroupMemberDownloadDeps) {
  const { store, audit, jobs } = deps;
  /** Groups whose download runs on this instance. */
  const running = new Set<string>();

  /** Pages the group's members into group_members from `from` (or the start); the next page is asked for while this one is stored. */
  async function downloadPages(graph: GraphClient, partnerId: string, groupUserId: string, groupObjectId: string, from: DownloadCheckpoint, save: (checkpoint: DownloadCheckpoint) => Promise<void>, signal: AbortSignal): Promise<DownloadCheckpoint> {
    let { done, total } = from;
    let page = await (from.nextLink
      ? graph.get<MemberPage>(from.nextLink, { eventual: true })
      : graph.get<MemberPage>(`/groups/${encodeURIComponent(groupObjectId)}/transitiveMembers`, { eventual: true, query: { $select: 'id', $top: MEMBER_PAGE_SIZE, $count: 'true' } }));
    if (!from.nextLink) total = page['@odata.count'] ?? 0;
    for (;;) {
      signal.throwIfAborted();
      // The next page is asked for while this one is stored, so Graph and the database work at once.
      const nextLink = page['@odata.nextLink'] ?? null;
      const nextPage = nextLink ? graph.get<MemberPage>(nextLink, { eventual: true }) : undefined;
      nextPage?.catch(() => undefined);
      await store.storeDownloadedMembers(partnerId, groupUserId, userIdsOf(page), from.run);
      done += page.value?.length ?? 0;
      total = Math.max(total, done);
      await store.setProgress(partnerId, groupUserId, { done, total });
      const checkpoint = { run: from.run, nextLink, done, total };
      await save(checkpoint);
      if (!nextPage) return checkpoint;
      page = await nextPage;
    }
  }

  const groupRefOf = (partnerId: string, group: { id: string; email: string; app_profile_id: string | null }) => ({ partnerId, id: group.id, email: group.email, appProfileId: group.app_profile_id });

  async function recordFailure(partnerId: string, group: NonNullable<Awaited<ReturnType<UserStore['get']>>>, progress: { done: number; total: number }, error: unknown): Promise<void> {
    const message = `The membership download stopped after ${progress.done} of ${progress.total} members: ${error instanceof Error ? error.message : 'unknown error'}`;
    await store.recordDownloadFailure(partnerId, group.id, message).catch((storeError: unknown) => deps.log?.('could not record a failed membership download', storeError));
    await audit
      .record({
        partnerId,
        actor: { email: null },
        action: 'user.group_members.download',
        target: { type: 'user', id: group.id, name: group.email },
        outcome: 'failure',
        details: { message, ...progress, tenantId: group.ms_tenant_id, groupObjectId: group.ms_object_id },
      })
      .catch((auditError: unknown) => deps.log?.('could not audit a failed membership download', auditError));
    await deps.notify?.(groupDownloadFailed(groupRefOf(partnerId, group), message));
  }

  /** The job: one attempt at a group's download, from its checkpoint when an earlier attempt got that far. */
  async function run(partnerId: string, groupUserId: string, resume: DownloadCheckpoint | null, context: JobContext<DownloadCheckpoint>): Promise<void> {
    const group = await store.get(partnerId, groupUserId);
    if (!group || group.kind !== 'group' || !group.app_profile_id || !group.ms_object_id) {
      throw new PermanentJobError('The group was not found among the partner’s Microsoft 365 groups.');
    }
    let progress = { done: resume?.done ?? 0, total: resume?.total ?? 0 };
    running.add(group.id);
    try {
      const profile = await deps.profileOf(partnerId, group.app_profile_id);
      if (!profile) throw new PermanentJobError('The group’s app profile no longer exists.');
      let at: DownloadCheckpoint = resume ?? { run: randomUUID(), nextLink: null, done: 0, total: 0 };
      if (!resume) await store.setProgress(partnerId, group.id, { done: 0, total: 0 });
      const save = async (checkpoint: DownloadCheckpoint) => {
        progress = { done: checkpoint.done, total: checkpoint.total };
        await context.checkpoint(checkpoint);
      };
      // A checkpoint without a link: every page was stored before the interruption, only the clean-up is left.
      if (!resume || resume.nextLink) at = await deps.graphs.run(profile, 'background', (graph) => downloadPages(graph, partnerId, group.id, group.ms_object_id!, at, save, context.signal));
      const syncedAt = new Date().toISOString();
      const { removed, members } = await store.finishDownload(partnerId, group.id, at.run, syncedAt);
      await store.setProgress(partnerId, group.id, { done: null, total: null, syncedAt });
      await audit.record({
        partnerId,
        actor: { email: null },
        action: 'user.group_members.download',
        target: { type: 'user', id: group.id, name: group.email },
        outcome: 'success',
        details: { members, removed, resumed: resume !== null, tenantId: group.ms_tenant_id, groupObjectId: group.ms_object_id },
      });
      await deps.notify?.(groupDownloadRestored(groupRefOf(partnerId, group), members));
    } catch (error) {
      // Stopped (shutdown, lost lease): not a failure of the download, which goes on from its checkpoint.
      if (error instanceof LeaseLostError || context.signal.aborted) throw error;
      if (!(await store.get(partnerId, group.id))) throw new PermanentJobError('The group was removed during its membership download.');
      await recordFailure(partnerId, group, progress, error);
      throw error;
    } finally {
      running.delete(group.id);
    }
  }

  jobs.worker.handle<DownloadPayload, DownloadCheckpoint>(GROUP_MEMBERS_JOB, (job, context) => run(job.partnerId!, job.payload.groupUserId, job.checkpoint, context));

  const failureOf = (outcome: JobOutcome): Error | undefined =>
    outcome.state === 'queued' || outcome.state === 'failed' ? (outcome.error instanceof Error ? outcome.error : new Error(String(outcome.error))) : undefined;

  return {
    /**
     * Waits for the group's download (starting one when the group has none): runs it here when it is due,
     * otherwise follows the worker running it. Resolves with the members stored once it is done; rejects
     * when its attempt failed (the queue retries it later) or it failed for good.
     */
    async download(partnerId: string, groupUserId: string): Promise<{ members: number }> {
      const { id } = await jobs.queue.enqueue({ kind: GROUP_MEMBERS_JOB, key: groupMembersJobKey(groupUserId), partnerId, payload: { groupUserId } });
      for (;;) {
        const outcome = await jobs.worker.runJob(id);
        const failure = outcome && failureOf(outcome);
        if (failure) throw failure;
        const job = await jobs.queue.get(id);
        if (!job) throw new Error('The membership download was removed.');
        if (job.state === 'done') return { members: (await store.memberIds(partnerId, groupUserId)).length };
        if (job.state === 'failed' || (job.state === 'queued' && job.last_error && job.run_after > new Date().toISOString())) {
          throw new Error(job.last_error ?? 'The membership download failed.');
        }
        if (outcome?.state === 'released') throw new Error('The membership download was interrupted; it goes on from its checkpoint.');
        await delay(JOIN_POLL_MS);
      }
    },

    /** Queues the downloads of these groups (a finished one starts afresh) and has the worker look at once. */
    async startInBackground(partnerId: string, groupUserIds: string[]): Promise<void> {
      for (const id of groupUserIds) {
        await jobs.queue.enqueue({ kind: GROUP_MEMBERS_JOB, key: groupMembersJobKey(id), partnerId, payload: { groupUserId: id }, restart: true });
      }
      if (groupUserIds.length > 0) jobs.worker.wake();
    },

    isRunning: (_partnerId: string, groupUserId: string) => running.has(groupUserId),
  };
}
