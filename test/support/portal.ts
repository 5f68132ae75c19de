import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../src/server/config';
import { startPortal, type RunningPortal } from '../../src/server/start';
import { createPostgresDatabase, type TestEngine } from './engines';
import { freePort } from './free-port';

export interface TestPortal extends RunningPortal {
  engine: TestEngine;
}

/**
 * A real portal on a random port with its own database (a temp SQLite file or a fresh PostgreSQL
 * database) and, in sandbox mode, its own sandbox cloud on a random port.
 */
export async function startTestPortal(engine: TestEngine = 'sqlite', env: Record<string, string> = {}, options: { backgroundJobs?: boolean; queueWorker?: boolean; sandboxFixture?: unknown; logStream?: NodeJS.WritableStream } = {}): Promise<TestPortal> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'tenantgate-test-'));
  const pgDb = engine === 'postgres' ? await createPostgresDatabase() : undefined;
  const config = loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    TENANTGATE_DATA_DIR: dataDir,
    TENANTGATE_SANDBOX_PORT: '0',
    LOG_LEVEL: 'silent',
    // Every test file signs up and signs in from 127.0.0.1 many times; the tests of the limits set their own.
    TENANTGATE_RATE_LIMIT_PASSWORD_PER_MINUTE: '100000',
    TENANTGATE_RATE_LIMIT_ANONYMOUS_PER_MINUTE: '100000',
    ...(pgDb ? { DATABASE_URL: pgDb.url } : {}),
    ...env,
  });
  // The redirect URI must name the real port, which is known only after listening: reserve it first.
  const port = config.port === 0 ? await freePort() : config.port;
  const publicUrl = env.PUBLIC_URL ?? `http://localhost:${port}`;
  const cleanUp = async () => {
    await pgDb?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  };
  let portal: RunningPortal;
  try {
    portal = await startPortal({ ...config, port, publicUrl }, { backgroundJobs: options.backgroundJobs ?? false, queueWorker: options.queueWorker, sandboxFixture: options.sandboxFixture, logStream: options.logStream });
  } catch (error) {
    await cleanUp();
    throw error;
  }
  return {
    ...portal,
    url: publicUrl,
    engine,
    async close() {
      await portal.close();
      await cleanUp();
    },
  };
}
