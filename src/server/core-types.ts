/**
 * The shared shapes every feature is wired from. A leaf: it builds nothing, so features and routes can
 * name what they need without importing the module that builds everything (services.ts).
 */
import type { AuditLog } from './audit/store';
import type { Db, Engine } from './db/database';
import type { JobQueue } from './jobs/queue';
import type { QueueWorker } from './jobs/worker';
import type { Metrics } from './metrics/index';
import type { Cloud, CloudEndpoints } from './microsoft/clouds';
import type { PartnerService } from './partners/service';
import type { SessionStore } from './partners/session-store';
import type { SignInLimiter } from './partners/sign-in-limiter';
import type { SecretBox } from './security/secret-box';

/** Where Microsoft (or the sandbox cloud) answers, and the app registration for each cloud. */
export interface MicrosoftSetup {
  endpoints: Record<Cloud, CloudEndpoints>;
  apps: Partial<Record<Cloud, { clientId: string; clientSecret: string }>>;
  /** Clouds a partner may connect in this deployment (usgov only in the US Gov Virginia data center). */
  offeredClouds: Cloud[];
}

export interface CoreServices {
  db: Db;
  engine: Engine;
  sessions: SessionStore;
  limiter: SignInLimiter;
  audit: AuditLog;
  partners: PartnerService;
  secretBox: SecretBox;
  microsoft: MicrosoftSetup;
  sandboxBaseUrl?: string;
  metrics: Metrics;
  /** The durable job queue and this instance's worker (started with the background jobs). */
  jobs: { queue: JobQueue; worker: QueueWorker };
}
