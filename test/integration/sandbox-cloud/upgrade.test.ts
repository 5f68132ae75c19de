import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { ApiClient } from '../../support/api-client';
import { SAMPLE_PASSWORD } from '../../support/microsoft-round-trip';
import { freePort, portalEnv, startPortalProcess, withProcessStarts, type PortalProcess } from '../../support/portal-process';
import { SandboxUserAgent } from '../../support/sandbox-user-agent';

/**
 * Upgrade: a data folder written by the portal of commit 18821ab (see the fixture's make-fixture.ts) starts under
 * the current code, migrations and all, with every app profile Active and its Microsoft 365 user signing in.
 */
const FIXTURE = fileURLToPath(new URL('../../fixtures/upgrade-18821ab', import.meta.url));
const fixture = JSON.parse(readFileSync(path.join(FIXTURE, 'partner.json'), 'utf8')) as { email: string; password: string; portalPort: number; profiles: Record<string, string>; m365User: string };

/**
 * The fixture's refresh tokens were issued when it was made; Microsoft lets them lapse after 90 days unused. Move
 * the sandbox's record of them to "just now" so the test says the same thing on any date.
 */
function redateTokens(stateFile: string): void {
  const db = new Database(stateFile);
  const rows = db.prepare('SELECT key, value FROM refresh_tokens').all() as { key: string; value: string }[];
  const newest = Math.max(...rows.map((r) => (JSON.parse(r.value) as { issuedMs: number }).issuedMs));
  const shift = Math.max(0, Date.now() - newest);
  const update = db.prepare('UPDATE refresh_tokens SET value = ? WHERE key = ?');
  for (const row of rows) {
    const grant = JSON.parse(row.value) as { issuedMs: number; authTimeMs: number };
    update.run(JSON.stringify({ ...grant, issuedMs: grant.issuedMs + shift, authTimeMs: grant.authTimeMs + shift }), row.key);
  }
  db.close();
}

function moveRedirectUris(stateFile: string, fromPort: number, toPort: number): void {
  const db = new Database(stateFile);
  const rows = db.prepare('SELECT key, value FROM apps').all() as { key: string; value: string }[];
  const update = db.prepare('UPDATE apps SET value = ? WHERE key = ?');
  for (const row of rows) update.run(row.value.replaceAll(`http://localhost:${fromPort}/`, `http://localhost:${toPort}/`), row.key);
  db.close();
}

describe('upgrade from 18821ab', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'tenantgate-upgrade-'));
  let portal: PortalProcess | undefined;
  afterAll(async () => {
    await portal?.stop('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  });

  it('starts over the old data folder with every profile Active', async () => {
    cpSync(FIXTURE, dir, { recursive: true });
    redateTokens(path.join(dir, 'sandbox', 'state.sqlite'));
    // The portal answers on a free port here; its registration's redirect URIs follow it (as an administrator
    // updates them in Entra when a portal moves), so the portal finds its app, and its client id, again.
    const port = await freePort();
    moveRedirectUris(path.join(dir, 'sandbox', 'state.sqlite'), fixture.portalPort, port);
    portal = await startPortalProcess(portalEnv(path.join(dir, 'portal-data'), port, await freePort(), { TENANTGATE_SANDBOX_STATE: path.join(dir, 'sandbox') }));

    const client = new ApiClient(portal.url);
    expect((await client.post('/api/session', { email: fixture.email, password: fixture.password })).status).toBe(200);
    const listed = await client.get('/api/app-profiles');
    expect(listed.status).toBe(200);
    const ids = Object.values(fixture.profiles);
    for (const id of ids) {
      const checked = await client.post(`/api/app-profiles/${id}/check`);
      expect(checked.body, JSON.stringify(checked.body)).toMatchObject({ status: 'active' });
    }

    // Migration 008: profiles made before Graph hosts came from discovery keep their cloud's default host.
    const db = new Database(path.join(dir, 'portal-data', 'tenantgate.sqlite'), { readonly: true });
    try {
      const hosts = db.prepare('SELECT cloud, graph_host FROM app_profiles').all();
      expect(hosts).toEqual(ids.map(() => ({ cloud: 'global', graph_host: 'graph.microsoft.com' })));
    } finally {
      db.close();
    }

    // The Microsoft 365 user added then signs in without being asked to consent again.
    const person = new ApiClient(portal.url);
    const start = await person.get(`/auth/microsoft/sign-in?email=${encodeURIComponent(fixture.m365User)}`);
    const redirect = await new SandboxUserAgent().authorize(new URL(start.headers.get('location')!), { email: fixture.m365User, password: SAMPLE_PASSWORD, consent: 'cancel' });
    expect((await person.get(`${redirect.pathname}${redirect.search}`)).headers.get('location')).toBe('/');
  }, withProcessStarts(1, 90_000));
});
