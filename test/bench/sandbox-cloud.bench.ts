import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { startSandboxCloud } from '../../src/sandbox-cloud/index';
import { SandboxUserAgent } from '../support/sandbox-user-agent';
import { processMemory, startSandboxProcess, type Clouds } from './support';
import type { BenchRow } from './types';

/**
 * Sandbox cloud figures: generating a 100,000-user / 2,000-group tenant, paging every user through HTTP at
 * $top=999, and the process memory afterwards.
 */
const TENANT_ID = '5e5e5e5e-0000-4000-8000-000000000100';
const REDIRECT_URI = 'http://localhost:3999/bench-callback';
const USERS = 100_000;

export default async function sandboxCloudBench(): Promise<BenchRow[]> {
  const fixture = {
    tenants: [
      {
        id: TENANT_ID,
        cloud: 'global',
        displayName: 'Bench Corp',
        domains: [{ name: 'benchcorp.onmicrosoft.com', isInitial: true }, { name: 'benchcorp.com', isDefault: true }],
        users: [{ userPrincipalName: 'admin@benchcorp.com', displayName: 'Bench Admin', password: 'Passw0rd!', roles: ['Global Administrator'] }],
        groups: [],
        generate: { users: USERS - 1, groups: 2000, groupsPerUser: 3, nesting: 2, seed: 42 },
      },
    ],
  };

  // Generation, measured in this process.
  const started = performance.now();
  const inProcess = await startSandboxCloud({ port: 0, fixture });
  const generationSeconds = (performance.now() - started) / 1000;
  await inProcess.close();

  // Paging: the sandbox in its own process (as it serves the portal) and this script as the client, so the
  // figure is the sandbox's and not the sum of server and client work on one thread.
  const dir = mkdtempSync(path.join(tmpdir(), 'sandbox-bench-'));
  const fixturePath = path.join(dir, 'fixture.json');
  writeFileSync(fixturePath, JSON.stringify(fixture));
  const server = await startSandboxProcess(fixturePath);
  try {
    const token = await adminToken(server.baseUrl, server.clouds);
    let pages = 0;
    let users = 0;
    let next: string | undefined = `${server.clouds.global.graph}/v1.0/users?$top=999`;
    const pagingStarted = performance.now();
    while (next) {
      const res = await fetch(next, { headers: { authorization: `Bearer ${token}` } });
      if (res.status !== 200) throw new Error(`Paging failed with ${res.status}: ${await res.text()}`);
      const body = (await res.json()) as { value: unknown[]; '@odata.nextLink'?: string };
      users += body.value.length;
      pages++;
      next = body['@odata.nextLink'];
    }
    const pagesPerSecond = pages / ((performance.now() - pagingStarted) / 1000);
    if (users !== USERS) throw new Error(`Paging returned ${users} users, expected ${USERS}.`);

    const { rssMb, peakRssMb } = processMemory(server.pid);
    return [
      { name: 'sandbox: generate 100k users + 2k groups', value: round(generationSeconds), unit: 's', target: '< 10 s', ok: generationSeconds < 10 },
      { name: `sandbox: page ${USERS} users at $top=999 (${pages} pages, sandbox in its own process)`, value: round(pagesPerSecond), unit: 'pages/s', target: '>= 50 pages/s', ok: pagesPerSecond >= 50 },
      { name: 'sandbox process RSS after generation + paging', value: round(rssMb), unit: 'MB', target: '< 500 MB', ok: rssMb < 500 },
      { name: 'sandbox process peak RSS', value: round(peakRssMb), unit: 'MB', target: '< 500 MB', ok: peakRssMb < 500 },
    ];
  } finally {
    server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}

/** Signs the tenant's admin in through the real authorize and token endpoints. */
async function adminToken(baseUrl: string, clouds: Clouds): Promise<string> {
  const { createHash, randomBytes } = await import('node:crypto');
  const registered = await fetch(`${baseUrl}/_sandbox/apps`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ displayName: 'Bench', redirectUris: [REDIRECT_URI] }) });
  const app = (await registered.json()) as { clientId: string; clientSecret: string };
  const verifier = randomBytes(32).toString('base64url');
  const url = new URL(`${clouds.global.login}/organizations/oauth2/v2.0/authorize`);
  url.search = new URLSearchParams({
    client_id: app.clientId,
    response_type: 'code',
    redirect_uri: REDIRECT_URI,
    scope: 'openid offline_access User.Read.All',
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
  }).toString();
  const callback = await new SandboxUserAgent().authorize(url.toString(), { email: 'admin@benchcorp.com', password: 'Passw0rd!', consent: 'accept' });
  const res = await fetch(`${clouds.global.login}/organizations/oauth2/v2.0/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      client_id: app.clientId,
      client_secret: app.clientSecret,
      code: callback.searchParams.get('code') ?? '',
      redirect_uri: REDIRECT_URI,
      code_verifier: verifier,
    }),
  });
  const body = (await res.json()) as { access_token?: string };
  if (!body.access_token) throw new Error(`Bench sign-in failed: ${JSON.stringify(body)}`);
  return body.access_token;
}
