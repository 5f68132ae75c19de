import { performance } from 'node:perf_hooks';
import { startSandboxCloud } from '../../src/sandbox-cloud/index';
import { SandboxUserAgent } from '../support/sandbox-user-agent';
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

  const started = performance.now();
  const sandbox = await startSandboxCloud({ port: 0, fixture });
  const generationSeconds = (performance.now() - started) / 1000;

  try {
    const token = await adminToken(sandbox);
    let pages = 0;
    let users = 0;
    let next: string | undefined = `${sandbox.clouds.global.graph}/v1.0/users?$top=999`;
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

    const memory = process.memoryUsage();
    const rssMb = memory.rss / 1024 / 1024;
    const heapMb = memory.heapUsed / 1024 / 1024;
    return [
      { name: 'sandbox: generate 100k users + 2k groups', value: round(generationSeconds), unit: 's', target: '< 10 s', ok: generationSeconds < 10 },
      { name: `sandbox: page ${USERS} users at $top=999 (${pages} pages)`, value: round(pagesPerSecond), unit: 'pages/s', target: '>= 50 pages/s', ok: pagesPerSecond >= 50 },
      { name: 'sandbox: RSS after generation + paging', value: round(rssMb), unit: 'MB', target: '< 500 MB', ok: rssMb < 500 },
      { name: 'sandbox: heap used after generation + paging', value: round(heapMb), unit: 'MB', target: '< 500 MB', ok: heapMb < 500 },
    ];
  } finally {
    await sandbox.close();
  }
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}

/** Signs the tenant's admin in through the real authorize and token endpoints. */
async function adminToken(sandbox: Awaited<ReturnType<typeof startSandboxCloud>>): Promise<string> {
  const { createHash, randomBytes } = await import('node:crypto');
  const app = sandbox.registerApp({ displayName: 'Bench', redirectUris: [REDIRECT_URI] });
  const verifier = randomBytes(32).toString('base64url');
  const url = new URL(`${sandbox.clouds.global.login}/organizations/oauth2/v2.0/authorize`);
  url.search = new URLSearchParams({
    client_id: app.clientId,
    response_type: 'code',
    redirect_uri: REDIRECT_URI,
    scope: 'openid offline_access User.Read.All',
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
  }).toString();
  const callback = await new SandboxUserAgent().authorize(url.toString(), { email: 'admin@benchcorp.com', password: 'Passw0rd!', consent: 'accept' });
  const res = await fetch(`${sandbox.clouds.global.login}/organizations/oauth2/v2.0/token`, {
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
