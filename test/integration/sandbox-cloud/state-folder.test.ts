import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startSandboxCloud, STATE_FILE_NAME, type SandboxCloud } from '../../../src/sandbox-cloud/index';
import { freePort, PROCESS_START_LIMIT_MS, runScript, withProcessStarts } from '../../support/portal-process';
import { startTestPortal } from '../../support/portal';
import { CONTOSO, control, graphGet, POST_LOGOUT_URI, REDIRECT_URI, signIn, startHarness, tokenRequest, type Harness } from './helpers';

const tenant = (id: string, name: string, domain: string) => ({
  id,
  cloud: 'global',
  displayName: name,
  domains: [{ name: domain }],
  users: [{ userPrincipalName: `admin@${domain}`, displayName: `${name} Admin`, password: 'Passw0rd!', roles: ['Global Administrator'] }],
});
const FIRST = { tenants: [tenant('9a9a9a9a-0000-4000-8000-000000000001', 'First Co', 'first.com')] };
const SECOND = { tenants: [tenant('9a9a9a9a-0000-4000-8000-000000000002', 'Second Co', 'second.com')] };

describe('the sandbox state folder', () => {
  const cleanUp: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const step of cleanUp.splice(0).reverse()) await step();
  });
  const folder = () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'sandbox-state-'));
    cleanUp.push(() => rmSync(dir, { recursive: true, force: true }));
    return dir;
  };
  const start = async (stateDir: string, options: Parameters<typeof startSandboxCloud>[0] = {}) => {
    const sandbox = await startSandboxCloud({ port: 0, stateDir, ...options });
    cleanUp.push(() => sandbox.close());
    return sandbox;
  };
  /** Stops a sandbox and lets the client side see its keep-alive sockets close before the next one starts. */
  const stop = async (sandbox: SandboxCloud) => {
    await sandbox.close();
    await new Promise((resolve) => setTimeout(resolve, 100));
  };
  const tenantNames = async (sandbox: SandboxCloud) =>
    ((await (await fetch(`${sandbox.baseUrl}/_sandbox/tenants`)).json()) as { tenants: { displayName: string }[] }).tenants.map((t) => t.displayName);

  it('seeds a fresh state from the fixture; afterwards the state wins over any fixture', async () => {
    const dir = folder();
    const first = await start(dir, { fixture: FIRST });
    expect(first.restored).toBe(false);
    // Signing keys and client secrets are in there: owner only.
    expect(statSync(path.join(dir, STATE_FILE_NAME)).mode & 0o777).toBe(0o600);
    await stop(first);
    const again = await start(dir, { fixture: SECOND });
    expect(again.restored).toBe(true);
    expect(await tenantNames(again)).toEqual(['First Co']);
  });

  it('POST /_sandbox/fixture replaces everything on purpose, and the replacement is what comes back', async () => {
    const dir = folder();
    const port = await freePort();
    const sandbox = await start(dir, { port });
    const app = sandbox.registerApp({ displayName: 'Probe', redirectUris: [REDIRECT_URI], postLogoutRedirectUris: [POST_LOGOUT_URI] });
    const h: Harness = { sandbox, ...app };
    const tokens = await signIn(h, 'admin@contoso.com');
    expect((await control(h, 'POST', '/fixture', SECOND)).status).toBe(200);
    await stop(sandbox);
    const again = await start(dir, { port });
    expect(await tenantNames(again)).toEqual(['Second Co']);
    // Tokens of the replaced tenants went with them; the app registration stayed.
    const refreshed = await tokenRequest({ ...h, sandbox: again }, 'global', 'organizations', { grant_type: 'refresh_token', refresh_token: tokens.refresh_token });
    expect(refreshed.body.error).toBe('invalid_grant');
    expect(refreshed.body.error_codes).not.toContain(700016);
  });

  it('keeps signing keys, the clock, pending faults and throttles, and delta tokens', async () => {
    const dir = folder();
    const port = await freePort();
    const sandbox = await start(dir, { port });
    const h: Harness = { sandbox, ...sandbox.registerApp({ displayName: 'Probe', redirectUris: [REDIRECT_URI] }) };
    const keysOf = async (s: SandboxCloud) => (await (await fetch(`${s.clouds.global.login}/common/discovery/v2.0/keys`)).json()) as { keys: { kid: string; n: string }[] };
    const keysBefore = await keysOf(sandbox);
    const tokens = await signIn(h, 'admin@contoso.com');
    const delta = await graphGet(h, 'global', '/users/delta?$select=userPrincipalName', tokens.access_token);
    let link = delta.body['@odata.nextLink'] as string | undefined;
    let deltaLink = delta.body['@odata.deltaLink'] as string | undefined;
    while (link) {
      const page = await graphGet(h, 'global', link, tokens.access_token);
      link = page.body['@odata.nextLink'] as string | undefined;
      deltaLink = page.body['@odata.deltaLink'] as string | undefined;
    }
    await control(h, 'POST', `/tenants/${CONTOSO}/users`, { userPrincipalName: 'late@contoso.com', displayName: 'Late Arrival', password: 'p' });
    await control(h, 'POST', '/clock', { advanceSeconds: 3600 });
    await control(h, 'POST', '/faults', { tenantId: CONTOSO, status: 503, requests: 1 });
    await control(h, 'POST', '/throttle', { tenantId: CONTOSO, requests: 1, retryAfterSeconds: 7 });
    await stop(sandbox);

    const again = await start(dir, { port });
    const h2: Harness = { ...h, sandbox: again };
    expect(await keysOf(again)).toEqual(keysBefore);
    expect(((await control(h2, 'GET', '/clock')).body as { offsetSeconds: number }).offsetSeconds).toBe(3600);
    // The access token from before is an hour old on the sandbox clock: expired. A refresh gives a new one.
    expect((await graphGet(h2, 'global', '/me', tokens.access_token)).status).toBe(401);
    const fresh = await tokenRequest(h2, 'global', 'organizations', { grant_type: 'refresh_token', refresh_token: tokens.refresh_token });
    const token = fresh.body.access_token!;
    expect((await graphGet(h2, 'global', '/me', token)).status).toBe(503);
    const throttled = await graphGet(h2, 'global', '/me', token);
    expect([throttled.status, throttled.headers.get('retry-after')]).toEqual([429, '7']);
    const changes = await graphGet(h2, 'global', deltaLink!, token);
    expect(changes.status).toBe(200);
    expect(changes.body.value?.map((u) => u.userPrincipalName)).toEqual(['late@contoso.com']);
  });

  it('stops start-up on a corrupt state file, naming the file, instead of starting empty', async () => {
    const dir = folder();
    writeFileSync(path.join(dir, STATE_FILE_NAME), 'this is not a database, it is a shopping list: eggs, milk, flour');
    const file = path.resolve(dir, STATE_FILE_NAME);
    await expect(startSandboxCloud({ port: 0, stateDir: dir })).rejects.toThrow(file);
    await expect(startTestPortal('sqlite', { TENANTGATE_SANDBOX_STATE: dir })).rejects.toThrow(/sandbox state file .*state\.sqlite cannot be read/);
  });

  it('the standalone cli.ts keeps its state in TENANTGATE_SANDBOX_STATE', async () => {
    const dir = folder();
    mkdirSync(dir, { recursive: true });
    const port = await freePort();
    const env = { PATH: process.env.PATH ?? '', TENANTGATE_SANDBOX_STATE: dir, TENANTGATE_SANDBOX_PORT: String(port) };
    const run = async () => {
      const cli = runScript('src/sandbox-cloud/cli.ts', env);
      const deadline = Date.now() + PROCESS_START_LIMIT_MS;
      while (!cli.output().includes('listening at')) {
        if (Date.now() > deadline) throw new Error(cli.output());
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      return cli;
    };
    const registration = { displayName: 'Remote portal', redirectUris: ['http://localhost:4999/cb'], reuseExisting: true };
    const register = async () => {
      const res = await fetch(`http://127.0.0.1:${port}/_sandbox/apps`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(registration) });
      return { status: res.status, body: (await res.json()) as { clientId: string } };
    };
    const first = await run();
    expect(first.output()).toContain(', new)');
    const made = await register();
    expect(made.status).toBe(201);
    first.child.kill('SIGKILL');
    await first.exited;
    const second = await run();
    cleanUp.push(async () => {
      second.child.kill('SIGTERM');
      await second.exited;
    });
    expect(second.output()).toContain(', restored)');
    // A portal that registers itself again keeps its client id.
    expect(await register()).toEqual({ status: 200, body: { clientId: made.body.clientId, clientSecret: expect.any(String) } });
  }, withProcessStarts(2, 30_000));
});


describe('refresh tokens kept per app and user', () => {
  it('keeps earlier tokens valid, but only the 20 most recent, so the state stays bounded', async () => {
    const h = await startHarness();
    try {
      const first = await signIn(h, 'admin@contoso.com');
      const refresh = (token: string) => tokenRequest(h, 'global', 'organizations', { grant_type: 'refresh_token', refresh_token: token });
      const issued = [first.refresh_token];
      for (let i = 0; i < 20; i++) issued.push((await refresh(issued.at(-1)!)).body.refresh_token!);
      expect((await refresh(issued[1])).status).toBe(200);
      expect((await refresh(issued[0])).body.error_codes).toEqual([9002313]);
    } finally {
      await h.sandbox.close();
    }
  });
});
