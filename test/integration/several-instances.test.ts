import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandboxCloud, type SandboxCloud } from '../../src/sandbox-cloud/index';
import type { RunningPortal } from '../../src/server/start';
import { openDatabase } from '../../src/server/db/database';
import { ApiClient, signUpPartner } from '../support/api-client';
import { CONTOSO, followCallback, NORTHWIND, SAMPLE_PASSWORD } from '../support/microsoft-round-trip';
import { SandboxUserAgent } from '../support/sandbox-user-agent';
import { newKey, sharedStorage, startInstance, type SharedStorage } from '../support/instances';

/** Several portal instances on one PostgreSQL (and one shared sandbox cloud), as behind a load balancer. */
describe.runIf(process.env.TEST_DATABASE_URL)('several instances on one PostgreSQL', () => {
  let sandbox: SandboxCloud;
  let storage: SharedStorage;
  const instances: RunningPortal[] = [];
  /** The partner signed up on A (by the second test), signed in in its browser. */
  let partnerOnA: ApiClient | undefined;
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
    partnerOnA = onA;
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

  it('a consent link made on A is opened and completed on C, and A sees the profile it created', async () => {
    const onA = partnerOnA!;
    const made = await onA.post('/api/consent-links', { name: 'Northwind via link', cloud: 'global', email: NORTHWIND.admin });
    expect(made.status).toBe(201);
    // The link carries the load balancer's address; the Global Administrator's browser reaches C through it.
    expect(made.body.url).toMatch(new RegExp(`^${publicUrl}/consent/`));
    const linkPath = new URL(made.body.url).pathname;
    const ga = new ApiClient(addressOf(instances[2]));
    const page = await ga.get(linkPath);
    expect(page.status).toBe(200);
    const go = await ga.get(`${linkPath}/continue`);
    expect(go.status).toBe(303);
    const redirect = await new SandboxUserAgent().authorize(go.headers.get('location')!, { email: NORTHWIND.admin, password: SAMPLE_PASSWORD, consent: 'accept' });
    expect(redirect.origin).toBe(publicUrl);
    const callback = await ga.get(`${redirect.pathname}${redirect.search}`);
    expect(callback.status).toBe(303);
    const done = await ga.get(callback.headers.get('location')!);
    expect(done.body).toContain('Your tenant is now connected as “Northwind via link”');
    const links = (await onA.get('/api/consent-links')).body.links;
    expect(links).toEqual([expect.objectContaining({ id: made.body.id, state: 'used', outcome: 'created' })]);
    const profiles = (await onA.get('/api/app-profiles')).body.items.map((p: { name: string; status: string }) => [p.name, p.status]);
    expect(profiles.sort()).toEqual([['Contoso via A', 'active'], ['Northwind via link', 'active']]);
  }, 60_000);
});
