import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandboxCloud, type SandboxCloud } from '../../src/sandbox-cloud/index';
import type { RunningPortal } from '../../src/server/start';
import { openDatabase } from '../../src/server/db/database';
import { ApiClient, signUpPartner } from '../support/api-client';
import { CONTOSO, followCallback, SAMPLE_PASSWORD } from '../support/microsoft-round-trip';
import { SandboxUserAgent } from '../support/sandbox-user-agent';
import { newKey, sharedStorage, startInstance, type SharedStorage } from '../support/instances';

/** Several portal instances on one PostgreSQL (and one shared sandbox cloud), as behind a load balancer. */
describe.runIf(process.env.TEST_DATABASE_URL)('several instances on one PostgreSQL', () => {
  let sandbox: SandboxCloud;
  let storage: SharedStorage;
  const instances: RunningPortal[] = [];
  const keys = newKey('k1');
  // One PUBLIC_URL for all: the load balancer's address.
  const publicUrl = 'http://portal.example.test';

  /** Where an instance listens (its PUBLIC_URL is the load balancer's). */
  const addressOf = (instance: RunningPortal) => `http://127.0.0.1:${(instance.app.server.address() as AddressInfo).port}`;
  /** The same browser (cookies, CSRF token) reaching another instance through the load balancer. */
  const sameBrowserAt = (client: ApiClient, url: string) => {
    const other = new ApiClient(url);
    for (const [k, v] of client.jar) other.jar.set(k, v);
    other.csrfToken = client.csrfToken;
    return other;
  };
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
    const env = { ...storage.env, TENANTGATE_SANDBOX_URL: sandbox.baseUrl, TENANTGATE_ENCRYPTION_KEYS: keys, PUBLIC_URL: publicUrl };
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
    for (const instance of instances) expect((await fetch(`${addressOf(instance)}/readyz`)).status).toBe(200);
  }, 60_000);

  it('share one app registration at the shared sandbox: an authorization begun on A finishes on B', async () => {
    const { client: onA } = await signUpPartner(addressOf(instances[0]));
    const start = await onA.post('/api/app-profiles', { name: 'Contoso via A', cloud: 'global' });
    expect(start.status).toBe(201);
    const { db, close } = openDatabase({ databaseUrl: storage.env.DATABASE_URL, dataDir: storage.dataDir });
    try {
      expect(await db.selectFrom('oauth_flows').select('id').where('used_at', 'is', null).execute()).toHaveLength(1);
    } finally {
      await close();
    }
    const redirect = await new SandboxUserAgent().authorize(start.body.authorizationUrl, { email: CONTOSO.admin, password: SAMPLE_PASSWORD, consent: 'accept' });
    const onB = sameBrowserAt(onA, addressOf(instances[1]));
    const outcome = await followCallback(onB, redirect);
    expect(outcome.result).toBe('created');
    const clientIdOf = (url: string) => new URL(url).searchParams.get('client_id');
    const onC = await sameBrowserAt(onA, addressOf(instances[2])).post('/api/app-profiles', { name: 'Begun on C', cloud: 'global' });
    expect(clientIdOf(onC.body.authorizationUrl)).toBe(clientIdOf(start.body.authorizationUrl));
    // A session made on one instance works on the others, and all see the profile.
    for (const instance of instances) {
      const there = sameBrowserAt(onA, addressOf(instance));
      const profiles = await there.get('/api/app-profiles');
      expect(profiles.status).toBe(200);
      expect(profiles.body.items.map((p: { name: string; status: string }) => [p.name, p.status])).toEqual([['Contoso via A', 'active']]);
    }
    const checked = await sameBrowserAt(onA, addressOf(instances[2])).post(`/api/app-profiles/${outcome.profileId}/check`);
    expect(checked.body.status).toBe('active');
  }, 60_000);
});
