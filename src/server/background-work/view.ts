import { z } from 'zod';
import type { JobsTable, UsersTable } from '../db/tables';

/** A group member download as the administrator sees it. */
export const downloadWorkSchema = z.object({
  jobId: z.string().nullable().describe('The queue job; null for a group whose download predates the queue'),
  groupId: z.string(),
  group: z.string().describe("The group's email"),
  displayName: z.string(),
  state: z.enum(['queued', 'running', 'waiting', 'failed', 'done']).describe('waiting: an attempt failed and the queue tries again at retryAt'),
  progress: z.object({ done: z.number(), total: z.number() }).nullable(),
  attempts: z.number(),
  maxAttempts: z.number(),
  retryAt: z.string().nullable(),
  reason: z.string().nullable().describe('Why the last attempt failed (waiting, failed)'),
  completedAt: z.string().nullable().describe('When a download of the group last completed'),
  memberCount: z.number().nullable().describe('Members (direct and nested) the last completed download stored; null before the first'),
  retryable: z.boolean(),
});
export type DownloadWork = z.infer<typeof downloadWorkSchema>;

const recurringSchema = z.object({
  running: z.boolean(),
  nextDueAt: z.string().nullable().describe('When the next scheduled run takes this profile up; null while it is paused'),
  attempts: z.number().describe("Attempts of the latest run's queue job (0 when none ran yet); a failed attempt is retried with backoff"),
  retryAt: z.string().nullable().describe('When the queue tries this profile again, after an attempt that failed for it'),
});

export const backgroundWorkSchema = z.object({
  downloads: z.array(downloadWorkSchema),
  healthCheck: recurringSchema.extend({
    outcome: z.enum(['never', 'succeeded', 'failed', 'expired']),
    lastCheckedAt: z.string().nullable(),
    lastError: z.object({ at: z.string(), message: z.string() }).nullable(),
  }),
  directorySync: recurringSchema.extend({
    outcome: z
      .enum(['never', 'completed', 'waiting', 'failed', 'paused', 'not_needed'])
      .describe('waiting: the last run stopped for this profile and the queue tries it again at retryAt; failed: the last run for this profile stopped before the end and is not retried before the next interval'),
    lastCompletedAt: z.string().nullable(),
    lastStartedAt: z.string().nullable(),
    reason: z.string().nullable(),
  }),
});
export type BackgroundWork = z.infer<typeof backgroundWorkSchema>;

type GroupRow = Pick<UsersTable, 'id' | 'email' | 'display_name' | 'sync_done' | 'sync_total' | 'last_synced_at' | 'member_count' | 'download_failed_at' | 'download_failure'>;

/**
 * A group's download from its queue job and its row: a queued job with an error and a later run time is waiting
 * to retry; the group's own failure message (it says how far the download got) is preferred to the job's.
 */
export function downloadWork(group: GroupRow, job: JobsTable | undefined, now: string): DownloadWork {
  const progress = group.sync_done !== null && group.sync_done !== undefined ? { done: group.sync_done, total: group.sync_total ?? 0 } : null;
  const failure = group.download_failure ?? null;
  const base = { groupId: group.id, group: group.email, displayName: group.display_name, completedAt: group.last_synced_at ?? null, memberCount: group.member_count ?? null };
  if (!job) {
    const state = group.download_failed_at ? 'failed' : progress ? 'running' : 'done';
    return { ...base, jobId: null, state, progress, attempts: 0, maxAttempts: 0, retryAt: null, reason: state === 'failed' ? failure : null, retryable: false };
  }
  let state: DownloadWork['state'];
  if (job.state === 'queued') state = job.last_error && job.run_after > now ? 'waiting' : 'queued';
  else state = job.state;
  const reason = state === 'waiting' || state === 'failed' ? (failure ?? job.last_error) : null;
  return {
    ...base,
    jobId: job.id,
    state,
    progress: state === 'running' || state === 'waiting' || state === 'failed' ? progress : null,
    attempts: job.attempts,
    maxAttempts: job.max_attempts,
    retryAt: state === 'waiting' ? job.run_after : null,
    reason,
    retryable: state === 'waiting' || state === 'failed',
  };
}

/** The first run of a recurring job at or after `now`: an interval after its last start, or now when it never ran or is overdue. */
export function nextRunAt(lastRunAt: string | null, intervalMs: number, now: Date): Date {
  if (!lastRunAt) return now;
  const next = Date.parse(lastRunAt) + intervalMs;
  return new Date(Math.max(next, now.getTime()));
}

/** The health sweep refreshes profiles not checked within half its interval: a profile checked since is taken up one sweep later. */
export function nextHealthCheckAt(lastRunAt: string | null, lastCheckedAt: string | null, intervalMs: number, now: Date): Date {
  const sweep = nextRunAt(lastRunAt, intervalMs, now);
  if (lastCheckedAt && sweep.getTime() - Date.parse(lastCheckedAt) < intervalMs / 2) return new Date(sweep.getTime() + intervalMs);
  return sweep;
}

/** A recurring job's attempt that failed for this profile: the queue tries again at `at`, or, when `final`, not before the next interval. */
export interface ProfileRetry {
  at: string | null;
  reason: string;
}

/**
 * Where the directory sync stands for a profile: a round whose last attempt stopped for it is waiting to retry
 * (or failed, out of attempts). Otherwise a run for it starts by taking the profile's lease (stamping when) and
 * completes by storing its delta links, so a run that started after the last completed one and holds no lease
 * any more stopped before the end (Graph refused or was unreachable); the next run tries again.
 */
export function syncOutcome(input: { active: boolean; inUse: boolean; running: boolean; lastStartedAt: string | null; lastCompletedAt: string | null; retry?: ProfileRetry | null }): { outcome: BackgroundWork['directorySync']['outcome']; reason: string | null } {
  if (!input.active) return { outcome: 'paused', reason: 'The authorization expired: re-authorize the app profile to sync again.' };
  if (!input.inUse) return { outcome: 'not_needed', reason: 'No Microsoft 365 users or groups were added through this app profile.' };
  if (!input.running && input.retry) return { outcome: input.retry.at ? 'waiting' : 'failed', reason: input.retry.reason };
  if (!input.running && input.lastStartedAt && (!input.lastCompletedAt || input.lastCompletedAt < input.lastStartedAt)) {
    return { outcome: 'failed', reason: 'The last run stopped before it completed (Microsoft Graph refused or could not be reached); the next run tries again.' };
  }
  return { outcome: input.lastCompletedAt ? 'completed' : 'never', reason: null };
}

/** Words for why a sync round stopped for a profile (the codes of its checkpoint). */
export function syncStopWords(code: string, retryAt: string | null): string {
  const why =
    code === 'ANOTHER_RUN'
      ? 'another run still held this profile'
      : code === 'MICROSOFT_UNAVAILABLE'
        ? 'Microsoft could not be reached'
        : code === 'GRAPH_REFUSED'
          ? 'Microsoft Graph refused the request'
          : code.startsWith('GRAPH_')
            ? `Microsoft Graph answered ${code.slice('GRAPH_'.length)}`
            : 'an unexpected error';
  return `The last run stopped: ${why}. ${retryAt ? 'It is tried again automatically.' : 'It ran out of attempts; the next scheduled run tries again.'}`;
}

/**
 * Whether a recurring job's latest run waits to retry (queued after a failed attempt, due later) or failed for
 * good, and when it runs again (null when failed for good); undefined when neither.
 */
export function retryOf(job: Pick<JobsTable, 'state' | 'last_error' | 'run_after'> | undefined, now: string): { at: string | null } | undefined {
  if (!job) return undefined;
  if (job.state === 'failed') return { at: null };
  if (job.state === 'queued' && job.last_error && job.run_after > now) return { at: job.run_after };
  return undefined;
}
