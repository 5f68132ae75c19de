import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../src/server/config';
import { startPortal, type RunningPortal } from '../../src/server/start';
import { createPostgresDatabase, type TestEngine } from './engines';
import { freePort } from './portal-process';

/**
 * Storage that outlives the portals started on it (a data folder, and a PostgreSQL database when the
 * engine is PostgreSQL): for tests that stop a portal and start another, or several, on the same data.
 */
export interface SharedStorage {
  dataDir: string;
  env: Record<string, string>;
  drop(): Promise<void>;
}

export async function sharedStorage(engine: TestEngine): Promise<SharedStorage> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'tenantgate-shared-'));
  const pgDb = engine === 'postgres' ? await createPostgresDatabase() : undefined;
  return {
    dataDir,
    env: { TENANTGATE_DATA_DIR: dataDir, ...(pgDb ? { DATABASE_URL: pgDb.url } : {}) },
    async drop() {
      await pgDb?.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export const newKey = (id: string) => `${id}:${randomBytes(32).toString('base64')}`;

/** One portal instance in this process (no background jobs unless asked), on its own port. */
export async function startInstance(env: Record<string, string>, options: { backgroundJobs?: boolean; port?: number } = {}): Promise<RunningPortal> {
  const port = options.port ?? (await freePort());
  const config = loadConfig({
    PORT: String(port),
    HOST: '127.0.0.1',
    PUBLIC_URL: `http://localhost:${port}`,
    TENANTGATE_SANDBOX_PORT: '0',
    LOG_LEVEL: 'silent',
    TENANTGATE_RATE_LIMIT_PASSWORD_PER_MINUTE: '100000',
    TENANTGATE_RATE_LIMIT_ANONYMOUS_PER_MINUTE: '100000',
    ...env,
  });
  return startPortal(config, { backgroundJobs: options.backgroundJobs ?? false });
}
