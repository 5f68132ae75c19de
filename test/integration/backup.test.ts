import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ApiClient, signUpPartner } from '../support/api-client';
import { AdminBrowser, CONTOSO, SAMPLE_PASSWORD } from '../support/microsoft-round-trip';
import { freePort, portalEnv, runScript, startPortalProcess, withProcessStarts, type PortalProcess } from '../support/portal-process';

describe('npm run backup (SQLite, sandbox mode)', () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'tenantgate-live-'));
  const backupDir = path.join(mkdtempSync(path.join(tmpdir(), 'tenantgate-backups-')), 'nightly');
  const running: PortalProcess[] = [];
  afterAll(async () => {
    for (const p of running) await p.stop('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(path.dirname(backupDir), { recursive: true, force: true });
  });

  it('copies a running portal; a portal started on the copy has the profile, Active on Check now', async () => {
    const [port, sandboxPort] = [await freePort(), await freePort()];
    const original = await startPortalProcess(portalEnv(dataDir, port, sandboxPort));
    running.push(original);
    const { client, email, password } = await signUpPartner(original.url);
    const outcome = await new AdminBrowser(client).createProfile('Contoso', { email: CONTOSO.admin, password: SAMPLE_PASSWORD, consent: 'accept' });
    expect(outcome.result).toBe('created');

    // While the original still runs (and serves requests).
    const listing = client.get('/api/app-profiles');
    const backup = runScript('scripts/backup.ts', portalEnv(dataDir, port, sandboxPort), [backupDir]);
    expect(await backup.exited, backup.output()).toBe(0);
    expect((await listing).status).toBe(200);
    expect(readdirSync(backupDir).sort()).toEqual(['encryption-key', 'sandbox', 'tenantgate.sqlite']);
    expect(statSync(path.join(backupDir, 'encryption-key')).mode & 0o077).toBe(0);

    // A second backup into the same folder refuses rather than overwrite it.
    const again = runScript('scripts/backup.ts', portalEnv(dataDir, port, sandboxPort), [backupDir]);
    expect(await again.exited).toBe(1);
    expect(again.output()).toMatch(/is not empty/);

    await original.stop('SIGTERM');
    rmSync(dataDir, { recursive: true, force: true }); // the machine is gone: only the backup is left
    const restored = await startPortalProcess(portalEnv(backupDir, port, sandboxPort));
    running.push(restored);
    const owner = new ApiClient(restored.url);
    const signIn = await owner.post('/api/session', { email, password });
    expect(signIn.status, JSON.stringify(signIn.body)).toBe(200);
    const profiles = await owner.get('/api/app-profiles');
    expect(profiles.body.items.map((p: { name: string }) => p.name)).toEqual(['Contoso']);
    const checked = await owner.post(`/api/app-profiles/${outcome.profileId}/check`);
    expect(checked.status, JSON.stringify(checked.body)).toBe(200);
    expect(checked.body.status).toBe('active');
    await restored.stop('SIGTERM');
  }, withProcessStarts(2, 60_000));
});

describe.runIf(process.env.TEST_DATABASE_URL)('npm run backup (PostgreSQL)', () => {
  it('copies the data folder and says the database is pg_dump\'s job', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'tenantgate-pg-'));
    const target = path.join(dataDir, 'backup');
    try {
      const run = runScript('scripts/backup.ts', { ...portalEnv(dataDir, 3000, 3100), DATABASE_URL: process.env.TEST_DATABASE_URL! }, [target]);
      expect(await run.exited, run.output()).toBe(0);
      expect(run.output()).toMatch(/pg_dump --format=custom/);
      expect(readdirSync(target)).not.toContain('tenantgate.sqlite');
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
