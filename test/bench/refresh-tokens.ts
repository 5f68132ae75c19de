import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { mapPool } from '../../src/server/jobs/pool';
import { APP_PROFILE_REFRESH_SCOPES } from '../../src/server/microsoft/permissions';
import { SAMPLE_PASSWORD } from '../support/microsoft-round-trip';
import { SandboxUserAgent } from '../support/sandbox-user-agent';
import { generatedTenant } from './support';

/**
 * Many refresh tokens for the health-sweep benchmarks. The sandbox keeps the 20 most recent refresh tokens per
 * app and user (earlier ones are forgotten), so tokens for thousands of profiles come from many users of one
 * generated tenant: each user signs in once and refreshes for the rest of its share.
 */
export const SCALE_TENANT = { id: '5a0c7d1e-2b3f-4c5d-8e9f-0a1b2c3d4e5f', domain: 'scale.example', admin: 'admin@scale.example' };

/** Writes a fixture with the tenant (its administrator and `users` generated users, password Passw0rd!) into `dir`. */
export function writeScaleFixture(dir: string, users: number): string {
  const file = path.join(dir, 'fixture.json');
  writeFileSync(file, JSON.stringify({ tenants: [generatedTenant(SCALE_TENANT.id, 'Scale Ltd', SCALE_TENANT.domain, { users, groups: 0, groupsPerUser: 0, nesting: 0, seed: 7 })] }));
  return file;
}

/** The portal's app at the sandbox's token endpoint of the tenant (`login`: the sandbox's login origin). */
export function tokenClient(login: string, app: { clientId: string; clientSecret: string }, redirectUri: string) {
  const tokenUrl = `${login}/${SCALE_TENANT.id}/oauth2/v2.0/token`;
  const post = async (form: Record<string, string>): Promise<string> => {
    const res = await fetch(tokenUrl, { method: 'POST', body: new URLSearchParams({ ...form, client_id: app.clientId, client_secret: app.clientSecret }) });
    if (!res.ok) throw new Error(`token request (${form.grant_type}) failed: ${res.status} ${await res.text()}`);
    return ((await res.json()) as { refresh_token: string }).refresh_token;
  };
  return {
    refresh: (refreshToken: string) => post({ grant_type: 'refresh_token', refresh_token: refreshToken, scope: APP_PROFILE_REFRESH_SCOPES.join(' ') }),

    /** One user signs in to the app (authorization code with PKCE; the administrator consented for the tenant). */
    async signIn(email: string): Promise<string> {
      const verifier = randomBytes(32).toString('base64url');
      const authorize = new URL(`${login}/${SCALE_TENANT.id}/oauth2/v2.0/authorize`);
      authorize.search = new URLSearchParams({
        client_id: app.clientId,
        response_type: 'code',
        redirect_uri: redirectUri,
        scope: APP_PROFILE_REFRESH_SCOPES.join(' '),
        state: randomUUID(),
        code_challenge: createHash('sha256').update(verifier).digest('base64url'),
        code_challenge_method: 'S256',
        login_hint: email,
      }).toString();
      const redirect = await new SandboxUserAgent().authorize(authorize, { email, password: SAMPLE_PASSWORD });
      const code = redirect.searchParams.get('code');
      if (!code) throw new Error(`${email} got no code: ${redirect.searchParams.get('error_description')}`);
      return post({ grant_type: 'authorization_code', code, redirect_uri: redirectUri, code_verifier: verifier });
    },
  };
}

/**
 * `count` refresh tokens, `perUser` of each generated user (user1, user2, …): pick `perUser` so that every
 * token of a user stays among its 20 most recent through the refreshes the benchmark makes of them.
 */
export async function issueRefreshTokens(client: ReturnType<typeof tokenClient>, count: number, perUser: number, concurrency: number): Promise<string[]> {
  const started = performance.now();
  const users = Math.ceil(count / perUser);
  const tokens: string[] = new Array(count);
  await mapPool(Array.from({ length: users }, (_, u) => u), concurrency, async (u) => {
    let token = await client.signIn(`user${u + 1}@${SCALE_TENANT.domain}`);
    for (let k = 0; k < perUser && u * perUser + k < count; k++) {
      tokens[u * perUser + k] = token;
      if (k < perUser - 1) token = await client.refresh(token);
    }
  });
  console.log(`  ${users} users signed in and ${count} refresh tokens issued in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  return tokens;
}
