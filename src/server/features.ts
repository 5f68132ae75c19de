import type { FastifyInstance } from 'fastify';
import { registerAppProfileRoutes } from './app-profiles/routes';
import { registerMicrosoftCallbackRoutes } from './auth-flows/routes';
import { registerCloudRoutes } from './clouds/routes';
import type { Config } from './config';
import { setSessionCookie } from './http/guards';
import type { Services } from './services';
import { registerUserRoutes } from './users/routes';
import { registerSsoRoutes } from './sso/routes';
import { registerConsentLinkRoutes } from './consent-links/routes';
import { registerNotificationRoutes } from './notifications/routes';
import { registerBackgroundWorkRoutes } from './background-work/routes';
import { createBackgroundWorkService } from './background-work/service';
import { registerWebhookRoutes } from './webhooks/routes';

/** Routes of the Microsoft 365 features (app profiles, users, single sign-on), each wired in its own folder. */
export async function registerFeatureRoutes(app: FastifyInstance, config: Config, services: Services): Promise<void> {
  const { appProfiles } = services;
  registerAppProfileRoutes(app, { service: appProfiles.service, authorization: appProfiles.authorization, microsoft: services.microsoft });
  registerMicrosoftCallbackRoutes(app, {
    flows: services.flows,
    setSessionCookie: (reply, token) => setSessionCookie(reply, token, config),
    binding: { key: services.secretBox.deriveKey('tg_oauth browser binding'), secure: config.secureCookies },
    audit: services.audit,
    finishers: {
      create_profile: appProfiles.authorization.finish,
      reauthorize_profile: appProfiles.authorization.finish,
      sign_in: services.sso.finish,
      consent_link: services.consentLinks.finish,
    },
  });
  registerUserRoutes(app, { service: services.users.service });
  registerCloudRoutes(app, { detector: services.clouds });
  registerSsoRoutes(app, { sso: services.sso, cookies: config });
  registerConsentLinkRoutes(app, { links: services.consentLinks });
  registerNotificationRoutes(app, { notifications: services.notifications });
  const backgroundWork = createBackgroundWorkService({
    db: services.db,
    profiles: appProfiles.store,
    users: services.users.store,
    queue: services.jobs.queue,
    restartDownload: services.users.service.restartDownload,
    syncProfile: services.directorySync.syncProfile,
    audit: services.audit,
    log: app.log,
    config,
  });
  registerBackgroundWorkRoutes(app, { service: backgroundWork });
  registerWebhookRoutes(app, { webhooks: services.webhooks });
}
