import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signUpPartner, type ApiClient } from '../support/api-client';
import { AdminBrowser, CONTOSO, SAMPLE_PASSWORD } from '../support/microsoft-round-trip';
import { freePort, portalEnv, startPortalProcess, withProcessStarts, type PortalProcess } from '../support/portal-process';

/** SIGTERM as an orchestrator sends it: the portal process stops accepting, drains, and exits. */
describe('SIGTERM', () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'tenantgate-sigterm-'));
  let portal: PortalProcess;
  let client: ApiClient;
  let profileId: string;
  let ports: [number, number];

  const start = async () => {
    portal = await startPortalProcess(portalEnv(dataDir, ...ports));
  };
  const slowGraph = (delayMs: number) =>
    fetch(`${portal.sandboxUrl}/_sandbox/faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ tenantId: CONTOSO.id, delayMs, requests: 1 }) });
  const exitOf = (p: PortalProcess) => new Promise<number | null>((resolve) => (p.child.exitCode !== null ? resolve(p.child.exitCode) : p.child.once('exit', (code) => resolve(code))));

  beforeAll(async () => {
    ports = [await freePort(), await freePort()];
    portal = await startPortalProcess(portalEnv(dataDir, ...ports));
    ({ client } = await signUpPartner(portal.url));
    const outcome = await new AdminBrowser(client).createProfile('Contoso', { email: CONTOSO.admin, password: SAMPLE_PASSWORD, consent: 'accept' });
    profileId = outcome.profileId!;
  }, withProcessStarts(1, 30_000));
  afterAll(async () => {
    await portal?.stop('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('stops accepting, finishes the slow request in flight, releases its leases and exits 0', async () => {
    expect((await slowGraph(3_000)).ok).toBe(true);
    const inFlight = client.get(`/api/app-profiles/${profileId}/directory?type=user`);
    await new Promise((resolve) => setTimeout(resolve, 800));
    const exited = exitOf(portal);
    portal.child.kill('SIGTERM');
    await new Promise((resolve) => setTimeout(resolve, 300));
    await expect(fetch(`${portal.url}/healthz`)).rejects.toThrow();
    const answer = await inFlight;
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    expect(answer.body.items.length).toBeGreaterThan(0);
    expect(await exited).toBe(0);
    const db = new SQLite(path.join(dataDir, 'tenantgate.sqlite'), { readonly: true });
    try {
      expect(db.prepare('select name from job_leases where holder is not null').all()).toEqual([]);
    } finally {
      db.close();
    }
  }, withProcessStarts(1, 60_000));

  it('gives a request that will not finish 10 seconds, then exits anyway', async () => {
    await start();
    expect((await slowGraph(40_000)).ok).toBe(true);
    const inFlight = client.get(`/api/app-profiles/${profileId}/directory?type=user`).then((r) => r.status, () => 'cut off');
    await new Promise((resolve) => setTimeout(resolve, 800));
    const exited = exitOf(portal);
    const signalledAt = Date.now();
    portal.child.kill('SIGTERM');
    expect(await exited).toBe(0);
    const tookMs = Date.now() - signalledAt;
    expect(tookMs).toBeGreaterThanOrEqual(9_000);
    expect(tookMs).toBeLessThan(16_000);
    expect(await inFlight).toBe('cut off');
  }, withProcessStarts(1, 60_000));
});
