import type { FastifyBaseLogger } from 'fastify';
import type { ProfileHealth } from '../app-profiles/health';
import type { FlowStore } from '../auth-flows/store';
import type { Config } from '../config';
import type { Db } from '../db/database';
import type { DirectorySync } from '../directory-sync/index';
import type { SessionStore } from '../partners/session-store';
import type { SignInLimiter } from '../partners/sign-in-limiter';
import type { SsoFeature } from '../sso/index';
import type { AuditLog } from '../audit/store';
import { purgeExpiredInvitations } from '../users/invitations';
import type { Metrics } from '../metrics/index';
import type { ConsentLinkService } from '../consent-links/service';
import { createJobRunner, type JobRunner } from './runner';

/** What the recurring jobs use, and nothing more. */
export interface BackgroundJobDeps {
  db: Db;
  sessions: Pick<SessionStore, 'purgeExpired'>;
  limiter: Pick<SignInLimiter, 'purgeOld'>;
  flows: Pick<FlowStore, 'purgeExpired'>;
  appProfiles: { health: Pick<ProfileHealth, 'sweep'> };
  directorySync: Pick<DirectorySync, 'syncAll'>;
  sso: Pick<SsoFeature, 'purgeExpiredChoices'>;
  consentLinks: Pick<ConsentLinkService, 'notifyExpired'>;
  audit: AuditLog;
  metrics?: Pick<Metrics, 'jobRun'>;
}

/** The recurring jobs of the portal; each runs once per interval across all instances. */
export function startBackgroundJobs(config: Pick<Config, 'healthCheckIntervalMs' | 'directorySyncIntervalMs' | 'jobLeaseMs'>, services: BackgroundJobDeps, log: FastifyBaseLogger): JobRunner {
  const runner = createJobRunner(services.db, log, { metrics: services.metrics, leaseMs: config.jobLeaseMs });
  runner.every('purge-expired-sessions', 15 * 60_000, async () => {
    await services.sessions.purgeExpired();
    await services.limiter.purgeOld();
    await services.flows.purgeExpired();
    await services.sso.purgeExpiredChoices();
  });
  // Invitations whose link expired unused are removed, so they reserve nothing.
  runner.every('purge-expired-invitations', 60 * 60_000, async (runLog) => {
    const removed = await purgeExpiredInvitations(services.db, services.audit);
    if (removed) runLog.info({ removed }, 'expired invitations removed');
  });
  // Consent links that expired unused are alerted once each.
  runner.every('consent-link-expiry-alerts', 60 * 60_000, async (runLog) => {
    const expired = await services.consentLinks.notifyExpired();
    if (expired) runLog.info({ expired }, 'expired consent links alerted');
  });
  // Refreshing every authorization keeps Microsoft's 90-day inactivity window open and rotates tokens.
  runner.every('app-profile-health', config.healthCheckIntervalMs, async (runLog) => {
    const totals = await services.appProfiles.health.sweep({ olderThanMs: config.healthCheckIntervalMs / 2 });
    runLog.info(totals, 'app profile health sweep finished');
  });
  // Keeps added users' details and added groups' memberships current (Graph delta queries).
  runner.every('directory-sync', config.directorySyncIntervalMs, async () => {
    await services.directorySync.syncAll();
  });
  runner.start();
  return runner;
}
