import type { AppProfileRow, AppProfileStore } from '../app-profiles/store';
import type { AuditLog } from '../audit/store';
import type { Config } from '../config';
import type { Db } from '../db/database';
import type { DirectorySync } from '../directory-sync';
import { createSyncStateStore } from '../directory-sync/state-store';
import { ConflictError, NotFoundError } from '../http/errors';
import type { AuthContext } from '../http/context';
import { createLeases } from '../jobs/lease';
import type { JobQueue } from '../jobs/queue';
import { GROUP_MEMBERS_JOB, groupMembersJobKey } from '../users/group-members';
import type { UserService } from '../users/service';
import type { UserStore } from '../users/store';
import { DIRECTORY_SYNC_JOB, HEALTH_SWEEP_JOB, type SyncRoundProgress } from '../jobs/recurring';
import { downloadWork, nextHealthCheckAt, nextRunAt, retryOf, syncOutcome, syncStopWords, type BackgroundWork, type ProfileRetry } from './view';

/** The directory sync's per-profile lease. */
const syncLease = (profileId: string) => `directory-sync:${profileId}`;
/** How long "Sync now" waits for a quick sync to end before it answers with the sync running. */
const SYNC_NOW_ANSWER_MS = 300;

export interface BackgroundWorkDeps {
  db: Db;
  profiles: Pick<AppProfileStore, 'get'>;
  users: Pick<UserStore, 'groupsOfProfile' | 'hasEntries'>;
  queue: Pick<JobQueue, 'byKeys' | 'get' | 'latest'>;
  restartDownload: UserService['restartDownload'];
  /** Runs one profile's directory sync now (shared with the scheduled round: one run per profile at a time). */
  syncProfile: DirectorySync['syncProfile'];
  audit: Pick<AuditLog, 'record'>;
  log?: { warn(details: object, message: string): void };
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

  async function show(partnerId: string, profileId: string, known?: AppProfileRow): Promise<BackgroundWork> {
    const profile = known ?? (await deps.profiles.get(partnerId, profileId));
    if (!profile) throw new NotFoundError('The app profile');
    const now = clock();
    const groups = await deps.users.groupsOfProfile(partnerId, profileId);
    const jobs = new Map((await deps.queue.byKeys(groups.map((g) => groupMembersJobKey(g.id)))).map((job) => [job.key, job]));
    const [health, syncRound, profileSync, lastCompletedAt, inUse, sweepJob, roundJob] = await Promise.all([
      leases.peek(HEALTH_SWEEP_JOB),
      leases.peek(DIRECTORY_SYNC_JOB),
      leases.peek(syncLease(profileId)),
      syncState.lastCompletedAt(profileId),
      deps.users.hasEntries(partnerId, profileId),
      deps.queue.latest(HEALTH_SWEEP_JOB),
      deps.queue.latest(DIRECTORY_SYNC_JOB),
    ]);
    const active = profile.status === 'active';
    const failedLast = profile.last_check_error_at !== null && (profile.last_checked_at === null || profile.last_check_error_at > profile.last_checked_at);
    const healthOutcome = !active ? 'expired' : failedLast ? 'failed' : profile.last_checked_at ? 'succeeded' : 'never';
    const syncRunning = profileSync?.running ?? false;
    const lastStartedAt = profileSync?.lastRunAt ?? null;
    // The sweep's retry takes up the profiles whose check failed; the round's retry those its checkpoint names as stopped.
    const sweepRetry = failedLast ? retryOf(sweepJob, now.toISOString()) : undefined;
    const stoppedFor = roundJob?.checkpoint ? (JSON.parse(roundJob.checkpoint) as SyncRoundProgress).stopped?.[profileId] : undefined;
    const roundRetry = stoppedFor ? retryOf(roundJob, now.toISOString()) : undefined;
    const retry: ProfileRetry | null = roundRetry && stoppedFor ? { at: roundRetry.at, reason: syncStopWords(stoppedFor, roundRetry.at) } : null;
    const sync = syncOutcome({ active, inUse, running: syncRunning, lastStartedAt, lastCompletedAt, retry });
    return {
      downloads: groups.map((group) => downloadWork(group, jobs.get(groupMembersJobKey(group.id)), now.toISOString())),
      healthCheck: {
        outcome: healthOutcome,
        lastCheckedAt: profile.last_checked_at,
        lastError: failedLast ? { at: profile.last_check_error_at!, message: profile.last_check_error_message ?? '' } : null,
        running: sweepJob?.state === 'running' && (sweepJob.lease_until ?? '') > now.toISOString(),
        attempts: sweepJob?.attempts ?? 0,
        retryAt: sweepRetry?.at ?? null,
        nextDueAt: active ? nextHealthCheckAt(health?.lastRunAt ?? null, profile.last_checked_at, deps.config.healthCheckIntervalMs, now).toISOString() : null,
      },
      directorySync: {
        ...sync,
        lastCompletedAt,
        lastStartedAt,
        running: syncRunning,
        attempts: roundJob?.attempts ?? 0,
        retryAt: roundRetry?.at ?? null,
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

    /**
     * "Sync now": runs the profile's directory sync at once instead of at the next round (after a failed or
     * waiting one, say). The run goes on after the answer; the background work shows it running, then its outcome.
     */
    async syncNow(auth: AuthContext, profileId: string, clientAddress: string): Promise<BackgroundWork> {
      const profile = await deps.profiles.get(auth.partner.id, profileId);
      if (!profile) throw new NotFoundError('The app profile');
      const before = await show(auth.partner.id, profileId, profile);
      const { outcome, reason, running } = before.directorySync;
      if (outcome === 'paused' || outcome === 'not_needed') throw new ConflictError('NOTHING_TO_SYNC', reason ?? 'There is nothing to sync through this app profile.');
      if (running) return before;
      const run = deps.syncProfile(profileId).catch((error: unknown) => deps.log?.warn({ err: error, appProfileId: profileId }, 'directory sync started by Sync now failed'));
      await deps.audit.record({
        partnerId: auth.partner.id,
        actor: { userId: auth.user.id, email: auth.user.email },
        action: 'app_profile.sync',
        target: { type: 'app_profile', id: profileId, name: profile.name },
        outcome: 'success',
        clientAddress,
        details: { tenantId: profile.tenant_id },
      });
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([run, new Promise((resolve) => (timer = setTimeout(resolve, SYNC_NOW_ANSWER_MS)))]);
      clearTimeout(timer);
      return show(auth.partner.id, profileId);
    },
  };
}
