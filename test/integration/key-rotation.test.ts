import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/server/db/database';
import { createSecretBox, parseKeyList } from '../../src/server/security/secret-box';
import { startSandboxCloud, type SandboxCloud } from '../../src/sandbox-cloud/index';
import { ApiClient, signUpPartner } from '../support/api-client';
import { testEngines } from '../support/engines';
import { newKey, sharedStorage, startInstance, type SharedStorage } from '../support/instances';
import { AdminBrowser, CONTOSO, NORTHWIND, SAMPLE_PASSWORD } from '../support/microsoft-round-trip';
import { freePort, runScript, withProcessStarts } from '../support/portal-process';

describe.each(testEngines())('encryption key rotation (%s)', (engine) => {
  let sandbox: SandboxCloud;
  let storage: SharedStorage;
  let port: number;
  const oldKey = newKey('old');
  const currentKey = newKey('new');
  let session: Map<string, string>;
  // A consent link waiting to be mailed: its job keeps the link sealed, bound to the job's key.
  const MAIL_JOB_KEY = 'consent-link-mail:key-rotation-test';
  const MAILED_LINK = 'http://127.0.0.1/consent/a-single-use-token';
  const profileIds: string[] = [];

  const env = (keys: string) => ({ ...storage.env, TENANTGATE_SANDBOX_URL: sandbox.baseUrl, TENANTGATE_ENCRYPTION_KEYS: keys });
  const storedSecrets = async () => {
    const { db, close } = openDatabase({ databaseUrl: storage.env.DATABASE_URL, dataDir: storage.dataDir });
    try {
      const profiles = await db.selectFrom('app_profiles').select(['id', 'refresh_token_sealed', 'refresh_token_key_id']).orderBy('id').execute();
      const flows = await db.selectFrom('oauth_flows').select(['id', 'secrets_sealed']).orderBy('id').execute();
      const webhooks = await db.selectFrom('webhooks').select(['id', 'secret_sealed']).execute();
      const jobs = await db.selectFrom('jobs').select(['key', 'payload']).where('key', '=', MAIL_JOB_KEY).execute();
      return { profiles, flows, webhooks, jobs };
    } finally {
      await close();
    }
  };
  const keysScript = (command: string, keys: string) =>
    runScript(`scripts/keys.ts`, { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', LOG_LEVEL: 'silent', ...env(keys) }, [command]);

  beforeAll(async () => {
    sandbox = await startSandboxCloud({ port: 0 });
    storage = await sharedStorage(engine);
    port = await freePort();
    // Two profiles and a pending authorization, all sealed with the old key.
    const portal = await startInstance(env(oldKey), { port });
    try {
      const { client } = await signUpPartner(portal.url);
      const admin = new AdminBrowser(client);
      for (const [name, tenant] of [['Contoso', CONTOSO], ['Northwind', NORTHWIND]] as const) {
        const outcome = await admin.createProfile(name, { email: tenant.admin, password: SAMPLE_PASSWORD, consent: 'accept' });
        expect(outcome.result).toBe('created');
        profileIds.push(outcome.profileId!);
      }
      expect((await client.post('/api/app-profiles', { name: 'Pending', cloud: 'global' })).status).toBe(201);
      // A webhook's signing secret is a stored secret too (sandbox mode allows http to loopback).
      const hook = await client.post('/api/webhooks', { url: 'http://127.0.0.1:9/tenantgate' });
      expect(hook.status, JSON.stringify(hook.body)).toBe(201);
      session = new Map(client.jar);
    } finally {
      await portal.close();
    }
    const { db, close } = openDatabase({ databaseUrl: storage.env.DATABASE_URL, dataDir: storage.dataDir });
    try {
      const at = new Date().toISOString();
      const sealedUrl = createSecretBox(parseKeyList(oldKey)).seal(MAILED_LINK, MAIL_JOB_KEY);
      // Due far in the future, so no worker takes it during the test.
      await db
        .insertInto('jobs')
        .values({ id: 'job-key-rotation', kind: 'consent-link-mail', partner_id: null, key: MAIL_JOB_KEY, payload: JSON.stringify({ linkId: 'x', email: 'it@example.test', sealedUrl }), state: 'queued', attempts: 0, max_attempts: 5, run_after: '2100-01-01T00:00:00.000Z', created_at: at, updated_at: at })
        .execute();
    } finally {
      await close();
    }
  }, withProcessStarts(2, 30_000));
  afterAll(async () => {
    await storage?.drop();
    await sandbox?.close();
  });

  it('status counts the secrets per key; rotate re-seals all under the first key; the old key is then removable', async () => {
    const status = keysScript('status', `${currentKey},${oldKey}`);
    expect(await status.exited, status.output()).toBe(0);
    expect(status.output()).toMatch(/app_profiles\.refresh_token_sealed\s+key old\s+2/);
    expect(status.output()).toMatch(/jobs\.payload\.sealedUrl\s+key old\s+1/);

    const rotate = keysScript('rotate', `${currentKey},${oldKey}`);
    expect(await rotate.exited, rotate.output()).toBe(0);
    expect(rotate.output()).toMatch(/Re-sealed 7 secret\(s\) under key new/);
    expect(rotate.output()).toMatch(/older keys can be removed/);
    const after = await storedSecrets();
    expect(after.profiles.map((p) => [p.refresh_token_sealed.split('.')[1], p.refresh_token_key_id])).toEqual([['new', 'new'], ['new', 'new']]);
    expect(after.flows.every((f) => f.secrets_sealed.startsWith('v1.new.'))).toBe(true);
    expect(after.webhooks.map((w) => w.secret_sealed.split('.')[1])).toEqual(['new']);
    // The mail waiting in the queue still carries its link, now under the new key alone.
    const mailed = JSON.parse(after.jobs[0].payload) as { sealedUrl: string; email: string };
    expect(mailed.email).toBe('it@example.test');
    expect(createSecretBox(parseKeyList(currentKey)).open(mailed.sealedUrl, MAIL_JOB_KEY)).toBe(MAILED_LINK);

    // Only the new key now: the portal starts and every profile's token still opens at Microsoft.
    const portal = await startInstance(env(currentKey), { port });
    try {
      const client = new ApiClient(portal.url);
      for (const [k, v] of session) client.jar.set(k, v);
      const me = await client.get('/api/session');
      client.csrfToken = me.body?.csrfToken;
      for (const id of profileIds) {
        const checked = await client.post(`/api/app-profiles/${id}/check`);
        expect(checked.status, JSON.stringify(checked.body)).toBe(200);
        expect(checked.body.status).toBe('active');
      }
    } finally {
      await portal.close();
    }
  }, withProcessStarts(2, 30_000));

  it('a missing key or a wrong key stops start-up with a clear message and changes nothing', async () => {
    const before = await storedSecrets();
    await expect(startInstance(env(newKey('other')), { port })).rejects.toThrow(/sealed with encryption key id\(s\) new, which TENANTGATE_ENCRYPTION_KEYS .* does not list/);
    await expect(startInstance(env(newKey('new')), { port })).rejects.toThrow(/key with id new does not open the secrets sealed with it/);
    expect(await storedSecrets()).toEqual(before);
  }, withProcessStarts(2, 30_000));
});
