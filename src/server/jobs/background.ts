import type { FastifyBaseLogger } from 'fastify';
import type { FlowStore } from '../auth-flows/store';
import type { Config } from '../config';
import type { Db } from '../db/database';
import type { SessionStore } from '../partners/session-store';
import type { SignInLimiter } from '../partners/sign-in-limiter';
import type { SsoFeature } from '../sso/index';
import type { AuditLog } from '../audit/store';
import { purgeExpiredInvitations } from '../users/invitations';
import type { Metrics } from '../metrics/index';
import type { ConsentLinkService } from '../consent-links/service';
import type { NotificationService } from '../notifications/service';
import type { WebhookService } from '../webhooks/service';
import type { JobQueue } from './queue';
import { DIRECTORY_SYNC_JOB, enqueueRecurring, HEALTH_SWEEP_JOB, RECURRING_JOB_KINDS } from './recurring';
import { createJobRunner, type JobRunner } from './runner';
import type { QueueWorker } from './worker';

/** What the recurring jobs use, and nothing more. */
export interface BackgroundJobDeps {
  db: Db;
  sessions: Pick<SessionStore, 'purgeExpired'>;
  limiter: Pick<SignInLimiter, 'purgeOld'>;
  flows: Pick<FlowStore, 'purgeExpired'>;
  jobs: { queue: Pick<JobQueue, 'enqueue' | 'hasUnfinished' | 'purgeFinished'>; worker: Pick<QueueWorker, 'wake'> };
  sso: Pick<SsoFeature, 'purgeExpiredChoices'>;
  consentLinks: Pick<ConsentLinkService, 'notifyExpired'>;
  notifications: Pick<NotificationService, 'trimOlderThan'>;
  webhooks: Pick<WebhookService, 'trimDeliveries'>;
  audit: AuditLog;
  metrics?: Pick<Metrics, 'jobRun'>;
}

/** How long finished health sweeps and sync rounds stay in the queue (shown as the last run, then removed). */
const FINISHED_RECURRING_JOBS_KEPT_MS = 7 * 24 * 3600_000;
/**
 * How long the bell's notifications and the webhook delivery records are kept: they are recent history, not the
 * record (the audit log is, and it is not trimmed); without a bound they grow for ever with every sweep's alerts.
 */
export const HISTORY_KEPT_MS = { notifications: 90 * 24 * 3600_000, webhookDeliveries: 30 * 24 * 3600_000 } as const;

/**
 * The recurring jobs of the portal; each runs (or is queued) once per interval across all instances. The long
 * ones, the health sweep and the directory sync round, are queue jobs (jobs/recurring.ts): the schedule only
 * adds the interval's job, and the queue's worker runs it with attempts, backoff and checkpoints.
 */
export function startBackgroundJobs(config: Pick<Config, 'healthCheckIntervalMs' | 'directorySyncIntervalMs' | 'jobLeaseMs'>, services: BackgroundJobDeps, log: FastifyBaseLogger): JobRunner {
  const runner = createJobRunner(services.db, log, { metrics: services.metrics, leaseMs: config.jobLeaseMs });
  runner.every('purge-expired-sessions', 15 * 60_000, async () => {
    await services.sessions.purgeExpired();
    await services.limiter.purgeOld();
    await services.flows.purgeExpired();
    await services.sso.purgeExpiredChoices();
    await services.jobs.queue.purgeFinished(RECURRING_JOB_KINDS, new Date(Date.now() - FINISHED_RECURRING_JOBS_KEPT_MS).toISOString());
  });
  // Invitations whose link expired unused are removed, so they reserve nothing.
  runner.every('purge-expired-invitations', 60 * 60_000, async (runLog) => {
    const removed = await purgeExpiredInvitations(services.db, services.audit);
    if (removed) runLog.info({ removed }, 'expired invitations removed');
  });
  runner.every('trim-history', 60 * 60_000, async (runLog) => {
    const trimmed = await trimHistory(services, new Date());
    if (trimmed.notifications || trimmed.webhookDeliveries) runLog.info(trimmed, 'old notifications and webhook deliveries removed');
  });
  // Consent links that expired unused are alerted once each.
  runner.every('consent-link-expiry-alerts', 60 * 60_000, async (runLog) => {
    const expired = await services.consentLinks.notifyExpired();
    if (expired) runLog.info({ expired }, 'expired consent links alerted');
  });
  const enqueue = (kind: typeof HEALTH_SWEEP_JOB | typeof DIRECTORY_SYNC_JOB) => async (intervalStart: string) => {
    if (await enqueueRecurring(services.jobs.queue, kind, intervalStart)) services.jobs.worker.wake();
  };
  // Refreshing every authorization keeps Microsoft's 90-day inactivity window open and rotates tokens.
  runner.enqueueEvery(HEALTH_SWEEP_JOB, config.healthCheckIntervalMs, enqueue(HEALTH_SWEEP_JOB));
  // Keeps added users' details and added groups' memberships current (Graph delta queries).
  runner.enqueueEvery(DIRECTORY_SYNC_JOB, config.directorySyncIntervalMs, enqueue(DIRECTORY_SYNC_JOB));
  runner.start();
  return runner;
}

/** Removes the notifications and webhook delivery records older than HISTORY_KEPT_MS. */
export async function trimHistory(services: Pick<BackgroundJobDeps, 'notifications' | 'webhooks'>, now: Date): Promise<{ notifications: number; webhookDeliveries: number }> {
  return {
    notifications: await services.notifications.trimOlderThan(new Date(now.getTime() - HISTORY_KEPT_MS.notifications)),
    webhookDeliveries: await services.webhooks.trimDeliveries(new Date(now.getTime() - HISTORY_KEPT_MS.webhookDeliveries)),
  };
}
