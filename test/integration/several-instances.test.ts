import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandboxCloud, type SandboxCloud } from '../../src/sandbox-cloud/index';
import type { RunningPortal } from '../../src/server/start';
import { openDatabase } from '../../src/server/db/database';
import { newKey, sharedStorage, startInstance, type SharedStorage } from '../support/instances';

/** Several portal instances on one PostgreSQL (and one shared sandbox cloud), as behind a load balancer. */
describe.runIf(process.env.TEST_DATABASE_URL)('several instances on one PostgreSQL', () => {
  let sandbox: SandboxCloud;
  let storage: SharedStorage;
  const instances: RunningPortal[] = [];
  const keys = newKey('k1');
  beforeAll(async () => {
    sandbox = await startSandboxCloud({ port: 0 });
    storage = await sharedStorage('postgres');
  });
  afterAll(async () => {
    for (const instance of instances) await instance.close().catch(() => undefined);
    await storage?.drop();
    await sandbox?.close();
  });

  it('three instances started at once on an empty database all come up, and it is migrated once', async () => {
    const env = { ...storage.env, TENANTGATE_SANDBOX_URL: sandbox.baseUrl, TENANTGATE_ENCRYPTION_KEYS: keys };
    const started = await Promise.allSettled([startInstance(env), startInstance(env), startInstance(env)]);
    for (const s of started) if (s.status === 'fulfilled') instances.push(s.value);
    expect(started.map((s) => (s.status === 'rejected' ? String(s.reason) : 'up'))).toEqual(['up', 'up', 'up']);
    const { db, close } = openDatabase({ databaseUrl: storage.env.DATABASE_URL, dataDir: storage.dataDir });
    try {
      const applied = await db.selectFrom('kysely_migration' as never).select('name' as never).execute();
      expect(applied.length).toBe(new Set(applied.map((r) => JSON.stringify(r))).size);
    } finally {
      await close();
    }
    for (const instance of instances) expect((await fetch(`${instance.url}/readyz`)).status).toBe(200);
  }, 60_000);
});
