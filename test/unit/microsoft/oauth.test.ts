import { createHash } from 'node:crypto';
import { SignJWT, exportJWK, generateKeyPair, type JWK } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { createMicrosoftOAuth, readAuthorizationResponse, type MicrosoftOAuthOptions } from '../../../src/server/microsoft/oauth';
import {
  AuthorizationResponseError,
  IdTokenValidationError,
  MicrosoftTokenError,
  MicrosoftUnavailableError,
} from '../../../src/server/microsoft/errors';
import { fakeFetch, json, type Handler } from './fake-fetch';

const TID = '4f6d1d0e-1c2b-4d9a-9a55-0b7c3e1f2a10';
const OID = '11111111-2222-4333-8444-555555555555';
const LOGIN = 'https://login.example.test/global/login';
const endpoints = {
  global: { login: LOGIN, graph: 'https://graph.example.test/global/graph' },
  usgov: { login: 'https://login.example.test/usgov/login', graph: 'https://graph.example.test/usgov/graph' },
  china: { login: 'https://login.example.test/china/login', graph: 'https://graph.example.test/china/graph' },
};
const clientId = { global: 'client-global', usgov: 'client-usgov', china: 'client-china' };
const clientSecret = { global: 'SECRET-global-abc', usgov: 'SECRET-usgov-xyz', china: 'SECRET-china-123' };
const redirectUri = 'http://localhost:3000/auth/microsoft/callback';

let privateKey: CryptoKey;
let otherPrivateKey: CryptoKey;
let publicJwk: JWK;

beforeAll(async () => {
  const pair = await generateKeyPair('RS256');
  privateKey = pair.privateKey;
  publicJwk = { ...(await exportJWK(pair.publicKey)), kid: 'k1', use: 'sig', alg: 'RS256' };
  otherPrivateKey = (await generateKeyPair('RS256')).privateKey;
});

async function idToken(
  claims: Record<string, unknown> = {},
  opts: { key?: CryptoKey; kid?: string; issuer?: string; audience?: string; expSeconds?: number } = {},
): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ tid: TID, oid: OID, nonce: 'nonce-1', ver: '2.0', name: 'Contoso Admin', preferred_username: 'admin@contoso.com', ...claims })
    .setProtectedHeader({ alg: 'RS256', kid: opts.kid ?? 'k1', typ: 'JWT' })
    .setIssuer(opts.issuer ?? `${LOGIN}/${TID}/v2.0`)
    .setAudience(opts.audience ?? 'client-global')
    .setIssuedAt(now - 10)
    .setNotBefore(now - 10)
    .setExpirationTime(now + (opts.expSeconds ?? 3600))
    .sign(opts.key ?? privateKey);
}

function oauthWith(tokenHandler: Handler, extra: Partial<MicrosoftOAuthOptions> = {}) {
  const fake = fakeFetch((req, i) => {
    if (req.url.endsWith('/discovery/v2.0/keys')) return json({ keys: [publicJwk] });
    return tokenHandler(req, i);
  });
  const oauth = createMicrosoftOAuth({ endpoints, clientId, clientSecret, redirectUri, fetch: fake.fetch, ...extra });
  return { oauth, requests: fake.requests };
}

const tokenResponse = (id_token: string | undefined, extra: Record<string, unknown> = {}) =>
  json({
    token_type: 'Bearer',
    access_token: 'AT-opaque',
    refresh_token: 'RT-1',
    expires_in: 3600,
    scope: 'https://graph.microsoft.com/User.Read openid profile offline_access',
    ...(id_token ? { id_token } : {}),
    ...extra,
  });

const redeem = (oauth: ReturnType<typeof createMicrosoftOAuth>, nonce = 'nonce-1') =>
  oauth.redeemCode('global', { code: 'CODE-123', codeVerifier: 'VERIFIER-456', nonce, scopes: ['openid', 'User.Read'] });

describe('authorization requests', () => {
  const { oauth } = oauthWith(() => json({}));

  it('creates fresh random state, nonce and an S256 PKCE pair', () => {
    const a = oauth.newAuthorizationRequest();
    const b = oauth.newAuthorizationRequest();
    expect(a.state).not.toBe(b.state);
    expect(a.nonce).not.toBe(a.state);
    expect(a.codeVerifier).toMatch(/^[A-Za-z0-9_-]{43,128}$/);
    expect(a.codeChallenge).toBe(createHash('sha256').update(a.codeVerifier).digest('base64url'));
  });

  it('builds the authorize URL on the cloud login host with every required parameter', () => {
    const req = oauth.newAuthorizationRequest();
    const url = new URL(
      oauth.authorizationUrl('usgov', { scopes: ['openid', 'profile', 'offline_access', 'User.Read'], ...req, prompt: 'consent', domainHint: 'fabrikamgov.us' }),
    );
    expect(`${url.origin}${url.pathname}`).toBe('https://login.example.test/usgov/login/organizations/oauth2/v2.0/authorize');
    const q = url.searchParams;
    expect(q.get('client_id')).toBe('client-usgov');
    expect(q.get('response_type')).toBe('code');
    expect(q.get('redirect_uri')).toBe(redirectUri);
    expect(q.get('scope')).toBe('openid profile offline_access User.Read');
    expect(q.get('state')).toBe(req.state);
    expect(q.get('nonce')).toBe(req.nonce);
    expect(q.get('code_challenge')).toBe(req.codeChallenge);
    expect(q.get('code_challenge_method')).toBe('S256');
    expect(q.get('prompt')).toBe('consent');
    expect(q.get('domain_hint')).toBe('fabrikamgov.us');
    expect(q.has('code_verifier')).toBe(false);
    expect(url.toString()).not.toContain(req.codeVerifier);
  });

  it('uses a given tenant and login hint, and refuses bad combinations and tenants', () => {
    const req = oauth.newAuthorizationRequest();
    const url = new URL(oauth.authorizationUrl('global', { tenant: TID, scopes: ['openid'], ...req, loginHint: 'admin@contoso.com' }));
    expect(url.pathname).toBe(`/global/login/${TID}/oauth2/v2.0/authorize`);
    expect(url.searchParams.get('login_hint')).toBe('admin@contoso.com');
    expect(() => oauth.authorizationUrl('global', { scopes: ['openid'], ...req, prompt: 'select_account', loginHint: 'a@b.c' })).toThrow(/login_hint/);
    expect(() => oauth.authorizationUrl('global', { tenant: '../evil', scopes: ['openid'], ...req })).toThrow(/tenant/);
    expect(() => oauth.authorizationUrl('global', { scopes: ['openid'], ...req, prompt: 'admin_consent' as never })).toThrow(/prompt/);
  });

  it('builds the logout URL', () => {
    const url = new URL(oauth.logoutUrl('global', { postLogoutRedirectUri: 'http://localhost:3000/auth/microsoft/signed-out', logoutHint: 'hint-1' }));
    expect(`${url.origin}${url.pathname}`).toBe(`${LOGIN}/common/oauth2/v2.0/logout`);
    expect(url.searchParams.get('post_logout_redirect_uri')).toBe('http://localhost:3000/auth/microsoft/signed-out');
    expect(url.searchParams.get('logout_hint')).toBe('hint-1');
  });
});

describe('redeemCode', () => {
  it('posts a client_secret_post code grant with the verifier and returns validated claims', async () => {
    const token = await idToken();
    const { oauth, requests } = oauthWith(() => tokenResponse(token));
    const set = await redeem(oauth);
    expect(set.accessToken).toBe('AT-opaque');
    expect(set.refreshToken).toBe('RT-1');
    expect(set.grantedScopes).toContain('https://graph.microsoft.com/User.Read');
    expect(set.accessTokenExpiresAt.getTime()).toBeGreaterThan(Date.now() + 3500_000);
    expect(set.idToken).toEqual({ tid: TID, oid: OID, name: 'Contoso Admin', preferredUsername: 'admin@contoso.com' });
    const post = requests.find((r) => r.method === 'POST')!;
    expect(post.url).toBe(`${LOGIN}/organizations/oauth2/v2.0/token`);
    expect(post.headers['content-type']).toBe('application/x-www-form-urlencoded');
    const form = new URLSearchParams(post.body);
    expect(Object.fromEntries(form)).toEqual({
      client_id: 'client-global',
      client_secret: 'SECRET-global-abc',
      grant_type: 'authorization_code',
      code: 'CODE-123',
      redirect_uri: redirectUri,
      code_verifier: 'VERIFIER-456',
      scope: 'openid User.Read',
    });
    expect(requests.filter((r) => r.url === `${LOGIN}/common/discovery/v2.0/keys`)).toHaveLength(1);
  });

  it('caches the key set per cloud', async () => {
    const token = await idToken();
    const { oauth, requests } = oauthWith(() => tokenResponse(token));
    await redeem(oauth);
    await redeem(oauth);
    expect(requests.filter((r) => r.url.endsWith('/keys'))).toHaveLength(1);
  });

  const rejections: [string, () => Promise<string>, string][] = [
    ['a wrong nonce', () => idToken({ nonce: 'other' }), 'nonce'],
    ['a missing nonce', () => idToken({ nonce: undefined }), 'nonce'],
    ['an issuer for another tenant', () => idToken({}, { issuer: `${LOGIN}/2b8f4c3a-6e1d-4a7b-8c9d-0e1f2a3b4c5d/v2.0` }), 'issuer'],
    ['an issuer on another cloud', () => idToken({}, { issuer: `https://login.example.test/usgov/login/${TID}/v2.0` }), 'issuer'],
    ['a tid that is not a GUID', () => idToken({ tid: 'common' }, { issuer: `${LOGIN}/common/v2.0` }), 'tenant_id'],
    ['another audience', () => idToken({}, { audience: 'someone-else' }), 'audience'],
    ['an expired token', () => idToken({}, { expSeconds: -600 }), 'expired'],
    ['a token signed by an unknown key', () => idToken({}, { key: otherPrivateKey }), 'signature'],
    ['a token with an unknown kid', () => idToken({}, { kid: 'nope' }), 'unknown_key'],
    [
      'a tampered payload',
      async () => {
        const [h, p, s] = (await idToken()).split('.');
        const payload = JSON.parse(Buffer.from(p, 'base64url').toString());
        payload.oid = '99999999-2222-4333-8444-555555555555';
        return `${h}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.${s}`;
      },
      'signature',
    ],
    [
      'an HS256 token',
      async () =>
        new SignJWT({ tid: TID, oid: OID, nonce: 'nonce-1' })
          .setProtectedHeader({ alg: 'HS256' })
          .setIssuer(`${LOGIN}/${TID}/v2.0`)
          .setAudience('client-global')
          .setIssuedAt()
          .setExpirationTime('1h')
          .sign(new TextEncoder().encode('x'.repeat(32))),
      'algorithm',
    ],
    ['garbage', async () => 'not-a-jwt', 'malformed'],
  ];

  for (const [label, make, reason] of rejections) {
    it(`rejects ${label}`, async () => {
      const token = await make();
      const { oauth } = oauthWith(() => tokenResponse(token));
      const err = await redeem(oauth).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(IdTokenValidationError);
      expect((err as IdTokenValidationError).reason).toBe(reason);
    });
  }

  it('rejects a token response without an ID token', async () => {
    const { oauth } = oauthWith(() => tokenResponse(undefined));
    await expect(redeem(oauth)).rejects.toMatchObject({ name: 'IdTokenValidationError', reason: 'missing' });
  });

  it('requires the ID token to come from the tenant the request was sent to', async () => {
    const token = await idToken();
    const { oauth } = oauthWith(() => tokenResponse(token));
    await expect(
      oauth.redeemCode('global', { code: 'c', codeVerifier: 'v', nonce: 'nonce-1', scopes: ['openid'], tenant: '2b8f4c3a-6e1d-4a7b-8c9d-0e1f2a3b4c5d' }),
    ).rejects.toMatchObject({ reason: 'tenant_mismatch' });
  });

  it('accepts a token from a skewed clock within tolerance only', async () => {
    const token = await idToken({}, { expSeconds: 30 });
    const later = new Date(Date.now() + 120_000);
    const { oauth } = oauthWith(() => tokenResponse(token), { now: () => later, clockToleranceSeconds: 60 });
    await expect(redeem(oauth)).rejects.toMatchObject({ reason: 'expired' });
  });
});

describe('token errors', () => {
  const refresh = (handler: Handler) =>
    oauthWith(handler).oauth.refresh('global', { tenantId: TID, refreshToken: 'RT-SECRET-VALUE', scopes: ['User.Read', 'offline_access'] });

  it('parses invalid_grant with error_codes and suberror into a MicrosoftTokenError', async () => {
    const err = await refresh(() =>
      json(
        {
          error: 'invalid_grant',
          error_description:
            'AADSTS700082: The refresh token has expired due to inactivity.\r\nTrace ID: abc\r\nCorrelation ID: def\r\nTimestamp: 2025-01-01',
          error_codes: [700082],
          suberror: 'bad_token',
          trace_id: 't-1',
          correlation_id: 'c-1',
        },
        400,
      ),
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MicrosoftTokenError);
    const e = err as MicrosoftTokenError;
    expect(e.error).toBe('invalid_grant');
    expect(e.errorCodes).toEqual([700082]);
    expect(e.suberror).toBe('bad_token');
    expect(e.status).toBe(400);
    expect(e.description).toBe('AADSTS700082: The refresh token has expired due to inactivity.');
    expect(e.correlationId).toBe('c-1');
    expect(e.message).toContain('AADSTS700082');
  });

  it('reads the code from the description when error_codes is absent', async () => {
    const err = (await refresh(() => json({ error: 'interaction_required', error_description: 'AADSTS50076: Due to a configuration change...' }, 400)).catch(
      (e: unknown) => e,
    )) as MicrosoftTokenError;
    expect(err.error).toBe('interaction_required');
    expect(err.errorCodes).toEqual([50076]);
  });

  it('never carries the refresh token, secret or code in the error', async () => {
    const err = await refresh(() =>
      json({ error: 'invalid_grant', error_description: 'AADSTS9002313: Invalid request. RT-SECRET-VALUE eyJhbGciOiJub25lIn0.eyJ4IjoxfQ.', error_codes: [9002313] }, 400),
    ).catch((e: unknown) => e);
    const dump = `${JSON.stringify(err)} ${(err as Error).message} ${String((err as Error).stack)}`;
    expect(dump).not.toContain('SECRET');
    expect(dump).not.toContain('eyJhbGciOiJub25lIn0');
  });

  it('treats 5xx, 429, network failures and non-JSON answers as transient', async () => {
    await expect(refresh(() => json({ error: 'server_error' }, 503))).rejects.toBeInstanceOf(MicrosoftUnavailableError);
    const throttled = (await refresh(() => json({ error: 'too_many' }, 429, { 'retry-after': '7' })).catch((e: unknown) => e)) as MicrosoftUnavailableError;
    expect(throttled).toBeInstanceOf(MicrosoftUnavailableError);
    expect(throttled.retryAfterSeconds).toBe(7);
    await expect(refresh(() => json({ error: 'temporarily_unavailable' }, 400))).rejects.toBeInstanceOf(MicrosoftUnavailableError);
    const net = (await refresh(() => Promise.reject(new TypeError('fetch failed'))).catch((e: unknown) => e)) as MicrosoftUnavailableError;
    expect(net).toMatchObject({ name: 'MicrosoftUnavailableError', reason: 'network', status: 0 });
    await expect(refresh(() => new Response('<html>gateway</html>', { status: 404 }))).rejects.toMatchObject({ reason: 'bad_response' });
  });

  it('times out a hanging token endpoint', async () => {
    const { oauth } = oauthWith(
      (req) =>
        new Promise<Response>((_resolve, reject) => {
          void req;
          setTimeout(() => reject(Object.assign(new Error('aborted'), { name: 'TimeoutError' })), 20);
        }),
      { timeoutMs: 10 },
    );
    await expect(oauth.refresh('global', { tenantId: TID, refreshToken: 'x', scopes: ['openid'] })).rejects.toMatchObject({ reason: 'timeout' });
  });
});

describe('refresh', () => {
  it('uses the tenant-specific token endpoint and returns the rotated refresh token', async () => {
    const { oauth, requests } = oauthWith(() => tokenResponse(undefined, { refresh_token: 'RT-2', scope: 'User.Read openid' }));
    const set = await oauth.refresh('global', { tenantId: TID, refreshToken: 'RT-1', scopes: ['User.Read', 'offline_access'] });
    expect(set.refreshToken).toBe('RT-2');
    expect(set.idToken).toBeUndefined();
    expect(set.grantedScopes).toEqual(['User.Read', 'openid']);
    expect(requests[0].url).toBe(`${LOGIN}/${TID}/oauth2/v2.0/token`);
    expect(Object.fromEntries(new URLSearchParams(requests[0].body))).toMatchObject({
      grant_type: 'refresh_token',
      refresh_token: 'RT-1',
      client_id: 'client-global',
      client_secret: 'SECRET-global-abc',
      scope: 'User.Read offline_access',
    });
  });

  it('validates an ID token returned by a refresh, without a nonce but for the same tenant', async () => {
    const good = await idToken({ nonce: undefined });
    const set = await oauthWith(() => tokenResponse(good)).oauth.refresh('global', { tenantId: TID, refreshToken: 'r', scopes: ['openid'] });
    expect(set.idToken?.oid).toBe(OID);
    const forged = await idToken({ nonce: undefined }, { key: otherPrivateKey });
    await expect(
      oauthWith(() => tokenResponse(forged)).oauth.refresh('global', { tenantId: TID, refreshToken: 'r', scopes: ['openid'] }),
    ).rejects.toBeInstanceOf(IdTokenValidationError);
  });

  it('refuses a tenant id that is not a GUID', async () => {
    const { oauth, requests } = oauthWith(() => tokenResponse(undefined));
    await expect(oauth.refresh('global', { tenantId: 'contoso.com/../x', refreshToken: 'r', scopes: [] })).rejects.toThrow(TypeError);
    expect(requests).toHaveLength(0);
  });
});

describe('readAuthorizationResponse', () => {
  it('returns the code when the state matches', () => {
    expect(readAuthorizationResponse(new URLSearchParams({ code: 'C1', state: 'S1' }), 'S1')).toEqual({ code: 'C1' });
  });

  it('refuses a response for another sign-in, or one without a code', () => {
    expect(() => readAuthorizationResponse(new URLSearchParams({ code: 'C1', state: 'S2' }), 'S1')).toThrow(AuthorizationResponseError);
    expect(() => readAuthorizationResponse(new URLSearchParams({ code: 'C1' }), 'S1')).toThrow(/state mismatch/);
    expect(() => readAuthorizationResponse(new URLSearchParams({ state: 'S1' }), 'S1')).toThrow(/neither a code/);
  });

  it('turns an error redirect into a MicrosoftTokenError with the AADSTS code', () => {
    const err = (() => {
      try {
        readAuthorizationResponse(
          new URLSearchParams({ state: 'S1', error: 'access_denied', error_description: 'AADSTS65004: User declined to consent.\r\nTrace ID: x' }),
          'S1',
        );
      } catch (e) {
        return e;
      }
    })() as MicrosoftTokenError;
    expect(err).toBeInstanceOf(MicrosoftTokenError);
    expect(err).toMatchObject({ error: 'access_denied', errorCodes: [65004], status: 0, description: 'AADSTS65004: User declined to consent.' });
  });
});
