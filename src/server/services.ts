import { createAuditLog, type AuditLog } from './audit/store';
import type { CoreServices, MicrosoftSetup } from './core-types';
import type { Config } from './config';
import type { DatabaseHandle } from './db/database';
import { createAppProfilesFeature, type AppProfilesFeature } from './app-profiles/index';
import { createFlowStore, type FlowStore } from './auth-flows/store';
import { createCloudDetector, type CloudDetector } from './clouds/detect';
import { CLOUDS, type Cloud } from './microsoft/clouds';
import { createMicrosoftOAuth, type MicrosoftOAuth } from './microsoft/oauth';
import { createPartnerService } from './partners/service';
import { createSessionStore } from './partners/session-store';
import { createSignInLimiter } from './partners/sign-in-limiter';
import type { Metrics } from './metrics/index';
import type { SecretBox } from './security/secret-box';
import { createUsersFeature, type UsersFeature } from './users/index';
import { createUserStore } from './users/store';
import { createSsoFeature, type SsoFeature } from './sso/index';
import { createDirectorySync, type DirectorySync } from './directory-sync/index';
import { createConsentLinkService, type ConsentLinkService } from './consent-links/service';
import { consentLinkMailer } from './consent-links/mail';
import { createConsentLinkStore } from './consent-links/store';
import { createNotificationService, type NotificationChannel, type NotificationService, type NotificationServiceDeps } from './notifications/service';
import { createNotificationStore } from './notifications/store';
import { createEmailChannel } from './notifications/email';
import type { UserStore } from './users/store';
import { createJobQueue } from './jobs/queue';
import { createQueueWorker } from './jobs/worker';
import { registerRecurringWork } from './jobs/recurring';
import { createWebhookSender } from './webhooks/channel';
import { createWebhookService, type WebhookService } from './webhooks/service';
import { createWebhookStore } from './webhooks/store';

export type { CoreServices, MicrosoftSetup } from './core-types';

export interface Services extends CoreServices {
  oauth: MicrosoftOAuth;
  flows: FlowStore;
  appProfiles: AppProfilesFeature;
  users: UsersFeature;
  sso: SsoFeature;
  directorySync: DirectorySync;
  clouds: CloudDetector;
  consentLinks: ConsentLinkService;
  notifications: NotificationService;
  webhooks: WebhookService;
}

export function createServices(config: Config, database: DatabaseHandle, extra: { secretBox: SecretBox; microsoft: MicrosoftSetup; sandboxBaseUrl?: string; metrics: Metrics }): Services {
  const core = createCoreServices(config, database, extra);
  const { microsoft } = core;
  const perCloud = (pick: (app: { clientId: string; clientSecret: string }) => string) =>
    Object.fromEntries(CLOUDS.map((c) => [c, microsoft.apps[c] ? pick(microsoft.apps[c]) : ''])) as Record<Cloud, string>;
  const oauth = createMicrosoftOAuth({
    endpoints: microsoft.endpoints,
    clientId: perCloud((a) => a.clientId),
    clientSecret: perCloud((a) => a.clientSecret),
    redirectUri: `${config.publicUrl}/auth/microsoft/callback`,
  });
  const flows = createFlowStore(core.db, core.secretBox);
  const userStore = createUserStore(core.db, core.engine);
  const webhooks = createWebhooks(config, core);
  // The profiles' store exists once app profiles are made, which need `notify`: read through it when asked.
  const notifications = createNotifications(config, core, userStore, webhooks.sender.channel, (partnerId, id) => appProfiles.store.get(partnerId, id));
  const { notify } = notifications;
  const appProfiles = createAppProfilesFeature(core, { oauth, flows, publicUrl: config.publicUrl, graphUnitsPer10s: config.graphUnitsPer10s, notify });
  const directorySync = createDirectorySync(core, { graphs: appProfiles.graphs, users: userStore, profiles: appProfiles.store, notify, leaseMs: config.jobLeaseMs });
  registerRecurringWork(core.jobs.worker, { health: appProfiles.health, directorySync, healthCheckIntervalMs: config.healthCheckIntervalMs, jobLeaseMs: config.jobLeaseMs });
  const users = createUsersFeature(core, { appProfiles, config, store: userStore, notify });
  const sso = createSsoFeature(core, { oauth, flows, graphs: appProfiles.graphs, users: userStore, config });
  const consentLinkStore = createConsentLinkStore(core.db);
  const consentLinks = createConsentLinkService({
    store: consentLinkStore,
    profiles: appProfiles.store,
    flows,
    oauth,
    authorization: appProfiles.authorization,
    audit: core.audit,
    offeredClouds: microsoft.offeredClouds,
    publicUrl: config.publicUrl,
    notify,
    mailer: config.smtp ? consentLinkMailer(config.smtp, { box: core.secretBox, jobs: core.jobs, store: consentLinkStore, log: { warn: (details, msg) => console.warn(JSON.stringify({ level: 'warn', msg, ...details })) } }) : undefined,
  });
  const clouds = createCloudDetector({ endpoints: microsoft.endpoints, offeredClouds: microsoft.offeredClouds, perMinute: config.cloudDetectPerMinute });
  return { ...core, oauth, flows, appProfiles, users, sso, directorySync, clouds, consentLinks, notifications, webhooks: webhooks.service };
}

/** Webhooks: live mode sends to public https URLs only; sandbox mode also to http on this machine. */
function createWebhooks(config: Config, core: CoreServices) {
  const store = createWebhookStore(core.db);
  const policy = { sandbox: config.sandboxMode };
  const sender = createWebhookSender({ store, box: core.secretBox, jobs: core.jobs, policy, sent: core.metrics.alertSent });
  return { sender, service: createWebhookService({ store, box: core.secretBox, audit: core.audit, sender, policy }) };
}

/** Alerts: the portal's list always, email to the partner's Administrators when SMTP is configured, and the partner's webhooks. */
function createNotifications(config: Config, core: CoreServices, users: Pick<UserStore, 'administrators'>, webhooks: NotificationChannel, profiles: NotificationServiceDeps['profiles']): NotificationService {
  const warn = (details: object, msg: string) => console.warn(JSON.stringify({ level: 'warn', msg, ...details }));
  const store = createNotificationStore(core.db);
  const email = config.smtp ? createEmailChannel({ smtp: config.smtp, store, administrators: (partnerId) => users.administrators(partnerId), jobs: core.jobs, publicUrl: config.publicUrl, log: { warn }, sent: core.metrics.alertSent }) : null;
  return createNotificationService({
    store,
    audit: core.audit,
    channels: [...(email ? [{ name: 'email' as const, channel: email }] : []), { name: 'webhooks', channel: webhooks }],
    log: (msg, error) => warn({ reason: (error as Error)?.message }, msg),
    sent: core.metrics.alertSent,
    profiles,
  });
}

export function createCoreServices(config: Config, database: DatabaseHandle, extra: { secretBox: SecretBox; microsoft: MicrosoftSetup; sandboxBaseUrl?: string; metrics: Metrics }): CoreServices {
  const { db } = database;
  const sessions = createSessionStore(db, { idleTimeoutMs: config.sessionIdleTimeoutMs, absoluteLifetimeMs: config.sessionAbsoluteLifetimeMs });
  const limiter = createSignInLimiter(db);
  const audit = countingSignIns(createAuditLog(db), extra.metrics);
  const queue = createJobQueue(db, database.engine);
  return {
    jobs: { queue, worker: createQueueWorker(queue, { leaseMs: config.jobLeaseMs, metrics: extra.metrics }) },
    db,
    engine: database.engine,
    sessions,
    limiter,
    audit,
    partners: createPartnerService({ db, sessions, limiter, audit }),
    ...extra,
  };
}

/** Every sign-in (password or Microsoft 365, either outcome) is audited once: the metric counts there. */
function countingSignIns(audit: AuditLog, metrics: Metrics): AuditLog {
  return {
    ...audit,
    async record(entry, executor) {
      await audit.record(entry, executor);
      if (entry.action === 'session.signin') {
        const method = entry.details?.method === 'microsoft365' ? 'microsoft' : 'password';
        metrics.signIn(method, entry.outcome);
      }
    },
  };
}
