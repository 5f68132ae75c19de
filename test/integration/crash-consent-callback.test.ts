import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type DatabaseHandle } from '../../src/server/db/database';
import { signUpPartner } from '../support/api-client';
import { createPostgresDatabase, testEngines } from '../support/engines';
import { AdminBrowser, CONTOSO, followCallback, SAMPLE_PASSWORD } from '../support/microsoft-round-trip';
import { freePort, portalEnv, startPortalProcess, withProcessStarts, type PortalProcess } from '../support/portal-process';

/**
 * Issue 9, crash (b): the portal is killed with SIGKILL in the Microsoft callback that creates an app profile,
 * after the authorization code was redeemed and before the profile is stored. The first Graph call made after
 * the redemption (the Global Administrator check) is held for 20 s by a sandbox fault, and the kill lands
 * while it waits. After the restart: no profile at all (none half made, none without its sealed token), the
 * interrupted callback delivered again is refused and stores nothing, and the administrator simply starts
 * again and succeeds with a profile whose token works.
 */
const HOLD_MS = 20_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe.each(testEngines())('a consent callback killed with SIGKILL between code redemption and profile insert on %s', (engine) => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'tenantgate-crash-callback-'));
  let portal: PortalProcess | undefined;
  let database: DatabaseHandle;
  let env: Record<string, string>;
  let dropDatabase: (() => Promise<void>) | undefined;

  beforeAll(async () => {
    const extra: Record<string, string> = {};
    if (engine === 'postgres') {
      const pg = await createPostgresDatabase();
      extra.DATABASE_URL = pg.url;
      dropDatabase = pg.drop;
    }
    env = portalEnv(path.join(dataDir, 'data'), await freePort(), await freePort(), extra);
    portal = await startPortalProcess(env);
    database = openDatabase({ databaseUrl: extra.DATABASE_URL, dataDir: env.TENANTGATE_DATA_DIR });
  }, withProcessStarts(1, 30_000));
  afterAll(async () => {
    await portal?.stop('SIGKILL');
    await database?.close();
    await dropDatabase?.();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const graphRequests = async () => ((await (await fetch(`${portal!.sandboxUrl}/_sandbox/requests?tenantId=${CONTOSO.id}`)).json()) as { requests: number }).requests;
  const profilesOf = (partnerId: string) => database.db.selectFrom('app_profiles').selectAll().where('partner_id', '=', partnerId).execute();

  it('leaves no profile behind, refuses the interrupted callback, and a fresh start succeeds', async () => {
    const { client, partnerId } = await signUpPartner(portal!.url);
    const admin = new AdminBrowser(client);
    const start = await client.post('/api/app-profiles', { name: 'Contoso', cloud: 'global' });
    expect(start.status, JSON.stringify(start.body)).toBe(201);
    const callback = await admin.microsoft.authorize(start.body.authorizationUrl, { email: CONTOSO.admin, password: SAMPLE_PASSWORD, consent: 'accept' });

    // The next Graph request of the tenant (the first one after the code is redeemed) waits 20 s.
    const before = await graphRequests();
    const hold = await fetch(`${portal!.sandboxUrl}/_sandbox/faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ tenantId: CONTOSO.id, delayMs: HOLD_MS, requests: 1 }) });
    expect(hold.status).toBeLessThan(300);
    const delivered = client.get(`${callback.pathname}${callback.search}`).then(
      (res) => `answered ${res.status}`,
      () => 'cut off',
    );
    const deadline = Date.now() + 15_000;
    while ((await graphRequests()) === before) {
      expect(Date.now(), 'the callback made no Graph request after redeeming the code').toBeLessThan(deadline);
      await sleep(25);
    }
    const redeemedAt = Date.now();
    await portal!.stop('SIGKILL');
    const killedAfterMs = Date.now() - redeemedAt;
    expect(await delivered).toBe('cut off');
    expect(await profilesOf(partnerId)).toEqual([]);

    const restartedAt = Date.now();
    portal = await startPortalProcess(env);
    const restartMs = Date.now() - restartedAt;
    expect(await profilesOf(partnerId)).toEqual([]);

    // The browser delivers the interrupted callback again (a reload): refused, nothing stored.
    const again = await followCallback(client, callback);
    expect(again.result).toBe('error');
    expect(again.code).toBe('STATE_INVALID');
    expect(await profilesOf(partnerId)).toEqual([]);
    const listed = await client.get('/api/app-profiles');
    expect(listed.body.items).toEqual([]);

    // The administrator starts again: one profile, Active, holding a sealed token that works.
    const created = await admin.createProfile('Contoso', { email: CONTOSO.admin, password: SAMPLE_PASSWORD, consent: 'accept' });
    expect(created.result, created.location).toBe('created');
    const profiles = await profilesOf(partnerId);
    expect(profiles).toHaveLength(1);
    expect(profiles[0]).toMatchObject({ id: created.profileId, name: 'Contoso', status: 'active', tenant_id: CONTOSO.id });
    expect(profiles[0].refresh_token_sealed).toMatch(/^v1\./);
    const check = await client.post(`/api/app-profiles/${created.profileId}/check`, {});
    expect(check.status, JSON.stringify(check.body)).toBe(200);
    expect(check.body).toMatchObject({ status: 'active' });
    // Audited: the creation once, and the refused second delivery of the interrupted callback.
    const creations = await client.get('/api/audit?action=app_profile.create');
    expect(creations.body.items.map((e: { outcome: string }) => e.outcome)).toEqual(['success']);
    const refused = await client.get('/api/audit?action=microsoft.callback');
    expect(refused.body.items).toEqual([expect.objectContaining({ outcome: 'failure', details: expect.objectContaining({ code: 'STATE_INVALID' }) })]);
    console.log(`[${engine}] killed ${killedAfterMs} ms after the first Graph call following the redemption was seen (held ${HOLD_MS / 1000} s); restart took ${restartMs} ms; a fresh start created the profile`);
  }, withProcessStarts(1, 90_000));
});
