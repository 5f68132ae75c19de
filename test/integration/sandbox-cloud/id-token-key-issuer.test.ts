/**
 * The signing key's `issuer` (issue 8, item 11): the sandbox's keys carry it as Microsoft's do, and the portal's
 * Microsoft client refuses an ID token whose issuer is not the one of the key that signed it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandboxCloud, type SandboxCloud } from '../../../src/sandbox-cloud/index';
import type { Cloud } from '../../../src/server/microsoft/clouds';
import { IdTokenValidationError } from '../../../src/server/microsoft/errors';
import { createMicrosoftOAuth, readAuthorizationResponse } from '../../../src/server/microsoft/oauth';
import { APP_PROFILE_SCOPES } from '../../../src/server/microsoft/permissions';
import { SandboxUserAgent } from '../../support/sandbox-user-agent';

const REDIRECT_URI = 'http://localhost:3000/auth/microsoft/callback';

describe('the signing key issuer', () => {
  let sandbox: SandboxCloud;
  let app: { clientId: string; clientSecret: string };
  beforeAll(async () => {
    sandbox = await startSandboxCloud({ port: 0 });
    app = sandbox.registerApp({ displayName: 'Issuer check', redirectUris: [REDIRECT_URI] });
  });
  afterAll(async () => {
    await sandbox?.close();
  });

  it('the sandbox keys carry issuer like Microsoft\'s: a {tenantid} template on the multi-tenant endpoints', async () => {
    for (const cloud of ['global', 'usgov'] as const) {
      const keys = (await (await fetch(`${sandbox.clouds[cloud].login}/organizations/discovery/v2.0/keys`)).json()) as { keys: { kid: string; issuer: string }[] };
      expect(keys.keys.map((k) => k.issuer)).toEqual([`${sandbox.clouds[cloud].login}/{tenantid}/v2.0`]);
    }
  });

  /** The Microsoft client seeing the sandbox through a fetch that rewrites the key set's `issuer`. */
  const clientWithKeyIssuer = (issuer: (original: string) => string) => {
    const rewriting: typeof fetch = async (input, init) => {
      const res = await fetch(input, init);
      if (!String(input instanceof Request ? input.url : input).endsWith('/discovery/v2.0/keys')) return res;
      const body = (await res.json()) as { keys: { issuer: string }[] };
      for (const key of body.keys) key.issuer = issuer(key.issuer);
      return new Response(JSON.stringify(body), { status: 200, headers: { 'content-type': 'application/json' } });
    };
    const endpoints = sandbox.clouds;
    return createMicrosoftOAuth({ endpoints, clientId: { global: app.clientId, usgov: app.clientId, china: app.clientId }, clientSecret: { global: app.clientSecret, usgov: app.clientSecret, china: app.clientSecret }, redirectUri: REDIRECT_URI, fetch: rewriting });
  };

  const redeem = async (oauth: ReturnType<typeof createMicrosoftOAuth>, cloud: Cloud, email: string) => {
    const req = oauth.newAuthorizationRequest();
    const url = oauth.authorizationUrl(cloud, { scopes: APP_PROFILE_SCOPES, ...req, loginHint: email });
    const final = new URL(String(await new SandboxUserAgent().authorize(url, { email, password: 'Passw0rd!', consent: 'accept' })));
    const { code } = readAuthorizationResponse(final.searchParams, req.state);
    return oauth.redeemCode(cloud, { code, codeVerifier: req.codeVerifier, nonce: req.nonce, scopes: APP_PROFILE_SCOPES }).catch((e: unknown) => e);
  };

  it('accepts an ID token whose issuer the signing key names', async () => {
    const result = await redeem(clientWithKeyIssuer((original) => original), 'global', 'admin@contoso.com');
    expect(result).not.toBeInstanceOf(Error);
  });

  it.each([
    ['another tenant only', (original: string) => original.replace('{tenantid}', '7c1e0a55-3d4b-4f8e-9c21-5a6b7c8d9e01')],
    ['another cloud\'s login host', (original: string) => original.replace('/global/login', '/usgov/login')],
    ['another identity provider', () => 'https://sts.example.net/{tenantid}/'],
  ])('refuses an ID token signed by a key whose issuer is %s', async (_name, issuer) => {
    const err = await redeem(clientWithKeyIssuer(issuer), 'global', 'admin@contoso.com');
    expect(err).toBeInstanceOf(IdTokenValidationError);
    expect((err as IdTokenValidationError).reason).toBe('issuer');
  });
});
