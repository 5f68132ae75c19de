import type { AppProfileStore } from '../app-profiles/store';
import type { Config } from '../config';
import type { Db } from '../db/database';
import { createSyncStateStore } from '../directory-sync/state-store';
import { ConflictError, NotFoundError } from '../http/errors';
import type { AuthContext } from '../http/context';
import { createLeases } from '../jobs/lease';
import type { JobQueue } from '../jobs/queue';
import { GROUP_MEMBERS_JOB, groupMembersJobKey } from '../users/group-members';
import type { UserService } from '../users/service';
import type { UserStore } from '../users/store';
import { downloadWork, nextHealthCheckAt, nextRunAt, syncOutcome, type BackgroundWork } from './view';

/** The recurring jobs' names in the runner (jobs/background.ts) and the directory sync's per-profile lease. */
const HEALTH_JOB = 'app-profile-health';
const SYNC_JOB = 'directory-sync';
const syncLease = (profileId: string) => `directory-sync:${profileId}`;

export interface BackgroundWorkDeps {
  db: Db;
  profiles: Pick<AppProfileStore, 'get'>;
  users: Pick<UserStore, 'groupsOfProfile' | 'hasEntries'>;
  queue: Pick<JobQueue, 'byKeys' | 'get'>;
  restartDownload: UserService['restartDownload'];
  config: Pick<Config, 'healthCheckIntervalMs' | 'directorySyncIntervalMs'>;
  now?: () => Date;
}

export type BackgroundWorkService = ReturnType<typeof createBackgroundWorkService>;

/**
 * What runs in the background for one app profile: its groups' member downloads (queue jobs), and where the
 * recurring health sweep and directory sync stand for it. Read-only but for Retry, which restarts a group's
 * download as "Download again" does.
 */
export function createBackgroundWorkService(deps: BackgroundWorkDeps) {
  const leases = createLeases(deps.db);
  const syncState = createSyncStateStore(deps.db);
  const clock = deps.now ?? (() => new Date());

  async function show(partnerId: string, profileId: string): Promise<BackgroundWork> {
    const profile = await deps.profiles.get(partnerId, profileId);
    if (!profile) throw new NotFoundError('The app profile');
    const now = clock();
    const groups = await deps.users.groupsOfProfile(partnerId, profileId);
    const jobs = new Map((await deps.queue.byKeys(groups.map((g) => groupMembersJobKey(g.id)))).map((job) => [job.key, job]));
    const [health, syncRound, profileSync, lastCompletedAt, inUse] = await Promise.all([
      leases.peek(HEALTH_JOB),
      leases.peek(SYNC_JOB),
      leases.peek(syncLease(profileId)),
      syncState.lastCompletedAt(profileId),
      deps.users.hasEntries(partnerId, profileId),
    ]);
    const active = profile.status === 'active';
    const failedLast = profile.last_check_error_at !== null && (profile.last_checked_at === null || profile.last_check_error_at > profile.last_checked_at);
    const healthOutcome = !active ? 'expired' : failedLast ? 'failed' : profile.last_checked_at ? 'succeeded' : 'never';
    const syncRunning = profileSync?.running ?? false;
    const lastStartedAt = profileSync?.lastRunAt ?? null;
    const sync = syncOutcome({ active, inUse, running: syncRunning, lastStartedAt, lastCompletedAt });
    return {
      downloads: groups.map((group) => downloadWork(group, jobs.get(groupMembersJobKey(group.id)), now.toISOString())),
      healthCheck: {
        outcome: healthOutcome,
        lastCheckedAt: profile.last_checked_at,
        lastError: failedLast ? { at: profile.last_check_error_at!, message: profile.last_check_error_message ?? '' } : null,
        running: health?.running ?? false,
        nextDueAt: active ? nextHealthCheckAt(health?.lastRunAt ?? null, profile.last_checked_at, deps.config.healthCheckIntervalMs, now).toISOString() : null,
      },
      directorySync: {
        ...sync,
        lastCompletedAt,
        lastStartedAt,
        running: syncRunning,
        nextDueAt: active && inUse ? nextRunAt(syncRound?.lastRunAt ?? null, deps.config.directorySyncIntervalMs, now).toISOString() : null,
      },
    };
  }

  return {
    show,

    /** Retries a failed group download, or one waiting to retry, at once; another profile's job (or partner's) is not found. */
    async retry(auth: AuthContext, profileId: string, jobId: string, clientAddress: string): Promise<BackgroundWork> {
      const before = await show(auth.partner.id, profileId);
      const job = await deps.queue.get(jobId);
      const work = before.downloads.find((d) => d.jobId === jobId);
      if (!job || job.kind !== GROUP_MEMBERS_JOB || job.partner_id !== auth.partner.id || !work) throw new NotFoundError('The background job');
      if (!work.retryable) throw new ConflictError('JOB_NOT_RETRYABLE', `The member download of ${work.group} is ${work.state === 'done' ? 'done' : 'already under way'}; only a failed download or one waiting to retry can be retried.`);
      await deps.restartDownload(auth, work.groupId, clientAddress);
      return show(auth.partner.id, profileId);
    },
  };
}
