import type { ProfileHealth, SweepProgress } from '../app-profiles/health';
import type { DirectorySync, SyncCounts } from '../directory-sync/index';
import type { JobQueue } from './queue';
import type { QueueWorker } from './worker';

/** The queue's job kinds of the recurring work (also the names of their schedules in the runner). */
export const HEALTH_SWEEP_JOB = 'app-profile-health';
export const DIRECTORY_SYNC_JOB = 'directory-sync';
export const RECURRING_JOB_KINDS = [HEALTH_SWEEP_JOB, DIRECTORY_SYNC_JOB] as const;
type RecurringJobKind = (typeof RECURRING_JOB_KINDS)[number];

/** A directory sync round's checkpoint: the profiles it finished, and why each of the others stopped (they are retried). */
export interface SyncRoundProgress {
  done: string[];
  stopped: Record<string, string>;
}

export interface RecurringWorkDeps {
  health: Pick<ProfileHealth, 'sweep'>;
  directorySync: Pick<DirectorySync, 'syncAll'>;
  healthCheckIntervalMs: number;
  /** The job lease: how long a profile's sync lease held by a killed instance can still stand in the way. */
  jobLeaseMs: number;
}

/** Why a profile's sync round stopped in a way the next attempt may mend; null when it ended (synced, expired, unused). */
function retryReason(counts: SyncCounts): string | null {
  if (counts.skipped === 'busy') return 'ANOTHER_RUN';
  if (counts.error && counts.error !== 'PROFILE_EXPIRED') return counts.error;
  return null;
}

/**
 * The queue's handlers of the recurring work. Each attempt goes on from the job's checkpoint; a failed one is
 * retried by the queue with backoff.
 * - Health sweep: checkpoints each stored batch. Profiles Microsoft could not be reached for make the attempt
 *   fail after the whole pass; the retry sweeps again, and only those are still due.
 * - Directory sync round: checkpoints each finished profile (the profile's delta links are its own
 *   checkpoint, stored as each part is applied). Profiles whose round stopped on a transient failure make the
 *   attempt fail; the retry syncs only them.
 */
export function registerRecurringWork(worker: Pick<QueueWorker, 'handle'>, deps: RecurringWorkDeps): void {
  worker.handle<unknown, SweepProgress>(HEALTH_SWEEP_JOB, async (job, context) => {
    let progress = job.checkpoint;
    const totals = await deps.health.sweep({
      olderThanMs: deps.healthCheckIntervalMs / 2,
      resume: progress,
      signal: context.signal,
      onBatch: async (next) => {
        progress = next;
        await context.checkpoint(next);
      },
    });
    context.log.info(totals, 'app profile health sweep finished');
    if (totals.unreachable > 0 && progress) {
      await context.checkpoint({ ...progress, afterId: null, unreachable: 0 });
      throw new Error(`Microsoft could not be reached for ${totals.unreachable} app profile(s); the sweep tries them again.`);
    }
  });

  worker.handle<unknown, SyncRoundProgress>(DIRECTORY_SYNC_JOB, async (job, context) => {
    const progress: SyncRoundProgress = { done: [...(job.checkpoint?.done ?? [])], stopped: {} };
    // Profiles end concurrently: their checkpoints are written one after another, each a superset of the last.
    let saving = Promise.resolve();
    const results = await deps.directorySync.syncAll({
      except: new Set(progress.done),
      busyWaitMs: deps.jobLeaseMs,
      onProfile: (counts) => {
        const reason = retryReason(counts);
        if (reason) progress.stopped[counts.profileId] = reason;
        else progress.done.push(counts.profileId);
        const snapshot = { done: [...progress.done], stopped: { ...progress.stopped } };
        saving = saving.then(() => context.checkpoint(snapshot));
        return saving;
      },
    });
    context.log.info({ profiles: results.length, stopped: Object.keys(progress.stopped).length }, 'directory sync round finished');
    const reasons = [...new Set(Object.values(progress.stopped))];
    if (reasons.length > 0) throw new Error(`The directory sync stopped for ${Object.keys(progress.stopped).length} app profile(s) (${reasons.join(', ')}); it tries them again.`);
  });
}

/**
 * Adds the interval's job of a recurring kind, keyed by the interval's start (idempotent); none while the
 * previous interval's job is still queued or running, so two never overlap. Answers whether one was added.
 */
export async function enqueueRecurring(queue: Pick<JobQueue, 'enqueue' | 'hasUnfinished'>, kind: RecurringJobKind, intervalStart: string): Promise<boolean> {
  if (await queue.hasUnfinished(kind)) return false;
  return (await queue.enqueue({ kind, key: `${kind}:${intervalStart}` })).added;
}
