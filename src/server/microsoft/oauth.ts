/**
 * Authorization-code flow with PKCE against the Microsoft identity platform (v2.0 endpoints), for every cloud
 * and for the sandbox cloud alike: only the configured base URLs differ.
 *
 * openid-client v6 cannot check Microsoft's `{tenantid}` templated issuer on a login host other than
 * login.microsoftonline.com, so the token endpoint is called directly (form-encoded, client_secret_post; form-post.ts)
 * and ID tokens are verified with jose against the cloud's JWKS, with the issuer derived from the token's
 * GUID `tid` and compared exactly.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { createRemoteJWKSet, customFetch, decodeJwt, errors as joseErrors, jwtVerify, type JWTPayload } from 'jose';
import { CLOUDS, normalizeCloudEndpoints, type Cloud, type CloudEndpoints } from './clouds';
import {
  AuthorizationResponseError,
  IdTokenValidationError,
  MicrosoftTokenError,
  MicrosoftUnavailableError,
  parseErrorCodes,
  parseRetryAfter,
  summarizeDescription,
} from './errors';
import { createFormPost, formPostOverFetch, type FormAnswer, type FormPost } from './form-post';

export const GUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** `common`, `organizations`, `consumers`, a tenant GUID or a domain name. */
const TENANT_PATTERN = /^(?:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*)$/i;

export type Prompt = 'login' | 'none' | 'consent' | 'select_account';
const PROMPTS: readonly Prompt[] = ['login', 'none', 'consent', 'select_account'];

export interface MicrosoftOAuthOptions {
  endpoints: Record<Cloud, CloudEndpoints>;
  clientId: Record<Cloud, string>;
  clientSecret: Record<Cloud, string>;
  /** The portal's redirect URI, registered on the app registration of every cloud. */
  redirectUri: string;
  fetch?: typeof fetch;
  /** Timeout for each HTTP request to the identity platform. Default 10 s. */
  timeoutMs?: number;
  /** Allowed clock skew for ID token time claims. Default 60 s. */
  clockToleranceSeconds?: number;
  /** Current time for ID token checks. Default: the system clock. */
  now?: () => Date;
}

export interface AuthorizationRequest {
  state: string;
  nonce: string;
  codeVerifier: string;
  codeChallenge: string;
}

export interface AuthorizationUrlParams {
  /** Default `organizations` (work accounts of any tenant). */
  tenant?: string;
  scopes: readonly string[];
  state: string;
  nonce: string;
  codeChallenge: string;
  prompt?: Prompt;
  loginHint?: string;
  domainHint?: string;
}

export interface IdTokenClaims {
  /** Tenant id (GUID). */
  tid: string;
  /** Object id of the user in that tenant (GUID). Identify people by tid + oid. */
  oid: string;
  name?: string;
  preferredUsername?: string;
  email?: string;
}

export interface TokenSet {
  /** Opaque to the portal: only ever sent to Graph. */
  accessToken: string;
  /** Present when `offline_access` was granted; always keep the newest. */
  refreshToken?: string;
  accessTokenExpiresAt: Date;
  /** Scopes Microsoft reports as granted (the response's `scope`). */
  grantedScopes: string[];
  idToken?: IdTokenClaims;
}

export interface RedeemedTokenSet extends TokenSet {
  idToken: IdTokenClaims;
}

export interface RedeemCodeParams {
  code: string;
  codeVerifier: string;
  nonce: string;
  scopes: readonly string[];
  /** The tenant the authorization request went to. Default `organizations`. When a GUID, the ID token must be from it. */
  tenant?: string;
}

export interface RefreshParams {
  tenantId: string;
  refreshToken: string;
  scopes: readonly string[];
}

export interface LogoutUrlParams {
  postLogoutRedirectUri: string;
  logoutHint?: string;
  /** Default `common`. */
  tenant?: string;
}

export interface MicrosoftOAuth {
  newAuthorizationRequest(): AuthorizationRequest;
  authorizationUrl(cloud: Cloud, params: AuthorizationUrlParams): string;
  redeemCode(cloud: Cloud, params: RedeemCodeParams): Promise<RedeemedTokenSet>;
  refresh(cloud: Cloud, params: RefreshParams): Promise<TokenSet>;
  logoutUrl(cloud: Cloud, params: LogoutUrlParams): string;
}

/** 32 random bytes, base64url (43 characters). */
function randomToken(): string {
  return randomBytes(32).toString('base64url');
}

/** RFC 7636 S256 code challenge. */
export function pkceChallenge(codeVerifier: string): string {
  return createHash('sha256').update(codeVerifier, 'ascii').digest('base64url');
}

function assertTenant(tenant: string): string {
  if (!TENANT_PATTERN.test(tenant)) throw new TypeError('tenant must be common, organizations, consumers, a GUID or a domain name');
  return tenant;
}

function safeEqual(a: string, b: string): boolean {
  const ab = Buffer.from(a);
  const bb = Buffer.from(b);
  return ab.length === bb.length && timingSafeEqual(ab, bb);
}

export function createMicrosoftOAuth(options: MicrosoftOAuthOptions): MicrosoftOAuth {
  const doFetch = options.fetch ?? globalThis.fetch;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const clockTolerance = options.clockToleranceSeconds ?? 60;
  const now = options.now ?? (() => new Date());
  const endpoints = Object.fromEntries(
    CLOUDS.map((c) => [c, normalizeCloudEndpoints(options.endpoints[c])]),
  ) as Record<Cloud, CloudEndpoints>;
  // A cloud without an app registration ('' for both) is not offered; half a registration is a mistake.
  if (!CLOUDS.some((c) => options.clientId[c])) throw new TypeError('clientId for cloud "global" is missing');
  for (const c of CLOUDS) {
    if (options.clientId[c] && !options.clientSecret[c]) throw new TypeError(`clientSecret for cloud "${c}" is missing`);
    if (!options.clientId[c] && options.clientSecret[c]) throw new TypeError(`clientId for cloud "${c}" is missing`);
  }
  if (!URL.canParse(options.redirectUri)) throw new TypeError('redirectUri must be an absolute URL');

  // One JWKS per cloud, created lazily; jose caches the keys and refetches on an unknown kid.
  const jwks = new Map<Cloud, ReturnType<typeof createRemoteJWKSet>>();
  function jwksFor(cloud: Cloud): ReturnType<typeof createRemoteJWKSet> {
    let set = jwks.get(cloud);
    if (!set) {
      set = createRemoteJWKSet(new URL(`${endpoints[cloud].login}/common/discovery/v2.0/keys`), {
        timeoutDuration: timeoutMs,
        cooldownDuration: 30_000,
        cacheMaxAge: 60 * 60 * 1000,
        [customFetch]: doFetch,
      });
      jwks.set(cloud, set);
    }
    return set;
  }

  function tokenEndpoint(cloud: Cloud, tenant: string): string {
    return `${endpoints[cloud].login}/${encodeURIComponent(assertTenant(tenant))}/oauth2/v2.0/token`;
  }

  // A given fetch (tests, benches) carries the token requests too; otherwise they go over node:http(s).
  const formPost = options.fetch ? formPostOverFetch(options.fetch) : createFormPost();
  const postToken = (url: string, form: Record<string, string>) => postTokenRequest(formPost, timeoutMs, url, form);
  const toTokenSet = (record: Record<string, unknown>, requestedScopes: readonly string[]) => tokenSetOf(record, requestedScopes, now());

  async function validateIdToken(
    cloud: Cloud,
    idToken: unknown,
    expected: { nonce?: string; tenantId?: string },
  ): Promise<IdTokenClaims> {
    if (typeof idToken !== 'string' || idToken.length === 0) {
      throw new IdTokenValidationError('missing', 'the token response has no id_token');
    }
    let unverified: JWTPayload;
    try {
      unverified = decodeJwt(idToken);
    } catch {
      throw new IdTokenValidationError('malformed', 'the id_token is not a JWT');
    }
    const tid = unverified.tid;
    if (typeof tid !== 'string' || !GUID_PATTERN.test(tid)) {
      throw new IdTokenValidationError('tenant_id', 'the tid claim is not a GUID');
    }
    const issuer = `${endpoints[cloud].login}/${tid}/v2.0`;
    let payload: JWTPayload;
    let kid: string | undefined;
    try {
      ({ payload, protectedHeader: { kid } } = await jwtVerify(idToken, jwksFor(cloud), {
        algorithms: ['RS256'],
        audience: options.clientId[cloud],
        issuer,
        clockTolerance,
        currentDate: now(),
        requiredClaims: ['exp', 'iat', 'tid', 'oid'],
      }));
    } catch (err) {
      throw mapJoseError(err);
    }
    assertKeyIssuer(jwksFor(cloud).jwks()?.keys.find((key) => key.kid === kid), tid, payload.iss);
    if (expected.nonce !== undefined) {
      if (typeof payload.nonce !== 'string' || !safeEqual(payload.nonce, expected.nonce)) {
        throw new IdTokenValidationError('nonce', 'the nonce does not match the authorization request');
      }
    }
    if (payload.ver !== undefined && payload.ver !== '2.0') {
      throw new IdTokenValidationError('claims', 'the token is not a v2.0 ID token');
    }
    if (typeof payload.oid !== 'string' || !GUID_PATTERN.test(payload.oid)) {
      throw new IdTokenValidationError('claims', 'the oid claim is not a GUID');
    }
    if (expected.tenantId !== undefined && tid.toLowerCase() !== expected.tenantId.toLowerCase()) {
      throw new IdTokenValidationError('tenant_mismatch', 'the token was issued for another tenant');
    }
    const claims: IdTokenClaims = { tid: tid.toLowerCase(), oid: payload.oid.toLowerCase() };
    if (typeof payload.name === 'string') claims.name = payload.name;
    if (typeof payload.preferred_username === 'string') claims.preferredUsername = payload.preferred_username;
    if (typeof payload.email === 'string') claims.email = payload.email;
    return claims;
  }

  return {
    newAuthorizationRequest(): AuthorizationRequest {
      const codeVerifier = randomToken();
      return { state: randomToken(), nonce: randomToken(), codeVerifier, codeChallenge: pkceChallenge(codeVerifier) };
    },

    authorizationUrl: (cloud: Cloud, params: AuthorizationUrlParams): string => buildAuthorizationUrl(endpoints[cloud].login, options.clientId[cloud], options.redirectUri, params),

    async redeemCode(cloud: Cloud, params: RedeemCodeParams): Promise<RedeemedTokenSet> {
      const tenant = params.tenant ?? 'organizations';
      const record = await postToken(tokenEndpoint(cloud, tenant), {
        client_id: options.clientId[cloud],
        client_secret: options.clientSecret[cloud],
        grant_type: 'authorization_code',
        code: params.code,
        redirect_uri: options.redirectUri,
        code_verifier: params.codeVerifier,
        scope: params.scopes.join(' '),
      });
      const idToken = await validateIdToken(cloud, record.id_token, {
        nonce: params.nonce,
        ...(GUID_PATTERN.test(tenant) ? { tenantId: tenant } : {}),
      });
      return { ...toTokenSet(record, params.scopes), idToken };
    },

    async refresh(cloud: Cloud, params: RefreshParams): Promise<TokenSet> {
      if (!GUID_PATTERN.test(params.tenantId)) throw new TypeError('tenantId must be a GUID');
      const record = await postToken(tokenEndpoint(cloud, params.tenantId), {
        client_id: options.clientId[cloud],
        client_secret: options.clientSecret[cloud],
        grant_type: 'refresh_token',
        refresh_token: params.refreshToken,
        scope: params.scopes.join(' '),
      });
      const set = toTokenSet(record, params.scopes);
      // Only an ID token that was asked for (openid) is read; one sent anyway is ignored unread.
      if (record.id_token !== undefined && params.scopes.includes('openid')) {
        // ID tokens from a refresh carry no nonce; they must still be genuine and from the same tenant.
        set.idToken = await validateIdToken(cloud, record.id_token, { tenantId: params.tenantId });
      }
      return set;
    },

    logoutUrl(cloud: Cloud, params: LogoutUrlParams): string {
      const tenant = assertTenant(params.tenant ?? 'common');
      const url = new URL(`${endpoints[cloud].login}/${encodeURIComponent(tenant)}/oauth2/v2.0/logout`);
      url.searchParams.set('post_logout_redirect_uri', params.postLogoutRedirectUri);
      if (params.logoutHint !== undefined) url.searchParams.set('logout_hint', params.logoutHint);
      return url.toString();
    },
  };
}

/** The token endpoint's answer, or the error it means (never carrying a sent secret). */
async function postTokenRequest(post: FormPost, timeoutMs: number, url: string, form: Record<string, string>): Promise<Record<string, unknown>> {
  let response: FormAnswer;
  try {
    response = await post(url, new URLSearchParams(form).toString(), timeoutMs);
  } catch (err) {
    const timedOut = err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError');
    throw new MicrosoftUnavailableError({ reason: timedOut ? 'timeout' : 'network', status: 0 });
  }
  let body: unknown;
  try {
    body = JSON.parse(response.text);
  } catch {
    body = undefined;
  }
  const record = body !== null && typeof body === 'object' && !Array.isArray(body) ? (body as Record<string, unknown>) : undefined;
  const retryAfterSeconds = parseRetryAfter(response.header('retry-after'));
  if (response.status === 429 || response.status >= 500 || record?.error === 'temporarily_unavailable') {
    throw new MicrosoftUnavailableError({
      reason: 'http',
      status: response.status,
      ...(retryAfterSeconds !== undefined ? { retryAfterSeconds } : {}),
    });
  }
  if (response.status < 200 || response.status > 299) {
    if (typeof record?.error !== 'string') {
      throw new MicrosoftUnavailableError({ reason: 'bad_response', status: response.status });
    }
    const sent = [form.client_secret, form.code, form.code_verifier, form.refresh_token].filter(
      (v): v is string => typeof v === 'string',
    );
    const description = summarizeDescription(record.error_description, sent);
    throw new MicrosoftTokenError({
      error: record.error,
      errorCodes: parseErrorCodes(record.error_codes, record.error_description),
      status: response.status,
      ...(typeof record.suberror === 'string' ? { suberror: record.suberror } : {}),
      ...(description !== undefined ? { description } : {}),
      ...(typeof record.trace_id === 'string' ? { traceId: record.trace_id } : {}),
      ...(typeof record.correlation_id === 'string' ? { correlationId: record.correlation_id } : {}),
    });
  }
  if (!record || typeof record.access_token !== 'string' || record.access_token.length === 0) {
    throw new MicrosoftUnavailableError({ reason: 'bad_response', status: response.status });
  }
  return record;
}

function tokenSetOf(record: Record<string, unknown>, requestedScopes: readonly string[], at: Date): TokenSet {
  const expiresIn = Number(record.expires_in);
  const lifetime = Number.isFinite(expiresIn) && expiresIn > 0 ? expiresIn : 3600;
  const scope = typeof record.scope === 'string' ? record.scope : requestedScopes.join(' ');
  const set: TokenSet = {
    accessToken: record.access_token as string,
    accessTokenExpiresAt: new Date(at.getTime() + lifetime * 1000),
    grantedScopes: scope.split(/\s+/).filter((s) => s.length > 0),
  };
  if (typeof record.refresh_token === 'string' && record.refresh_token.length > 0) set.refreshToken = record.refresh_token;
  return set;
}

/** The authorization URL of a round trip: PKCE S256, state and nonce always. */
function buildAuthorizationUrl(login: string, clientId: string, redirectUri: string, params: AuthorizationUrlParams): string {
  const tenant = assertTenant(params.tenant ?? 'organizations');
  if (params.scopes.length === 0) throw new TypeError('scopes must not be empty');
  if (!params.state || !params.nonce || !params.codeChallenge) {
    throw new TypeError('state, nonce and codeChallenge are required');
  }
  if (params.prompt !== undefined && !PROMPTS.includes(params.prompt)) {
    throw new TypeError(`prompt must be one of ${PROMPTS.join(', ')}`);
  }
  if (params.prompt === 'select_account' && params.loginHint !== undefined) {
    throw new TypeError('login_hint cannot be combined with prompt=select_account');
  }
  const url = new URL(`${login}/${encodeURIComponent(tenant)}/oauth2/v2.0/authorize`);
  const q = url.searchParams;
  q.set('client_id', clientId);
  q.set('response_type', 'code');
  q.set('redirect_uri', redirectUri);
  q.set('response_mode', 'query');
  q.set('scope', params.scopes.join(' '));
  q.set('state', params.state);
  q.set('nonce', params.nonce);
  q.set('code_challenge', params.codeChallenge);
  q.set('code_challenge_method', 'S256');
  if (params.prompt !== undefined) q.set('prompt', params.prompt);
  if (params.loginHint !== undefined) q.set('login_hint', params.loginHint);
  if (params.domainHint !== undefined) q.set('domain_hint', params.domainHint);
  return url.toString();
}

/**
 * Reads the query of the redirect back to the portal. Returns the code when `state` matches; throws
 * AuthorizationResponseError when the state is not ours or nothing usable came back, and a MicrosoftTokenError
 * (status 0) when Microsoft returned an error such as `access_denied` (AADSTS65004 cancelled consent,
 * AADSTS90094 admin approval needed) — `statusReasonFor()` explains it.
 */
export function readAuthorizationResponse(query: URLSearchParams, expectedState: string): { code: string } {
  const state = query.get('state');
  if (state === null || !safeEqual(state, expectedState)) throw new AuthorizationResponseError('state_mismatch');
  const error = query.get('error');
  if (error) {
    const description = query.get('error_description') ?? undefined;
    const summary = summarizeDescription(description);
    const suberror = query.get('suberror');
    throw new MicrosoftTokenError({
      error,
      errorCodes: parseErrorCodes(query.get('error_codes')?.split(','), description),
      status: 0,
      ...(summary !== undefined ? { description: summary } : {}),
      ...(suberror ? { suberror } : {}),
    });
  }
  const code = query.get('code');
  if (!code) throw new AuthorizationResponseError('missing_code');
  return { code };
}

/**
 * The multi-tenant key set serves every tenant, so a key also says whose tokens it signs: Microsoft's keys carry
 * `issuer` (`https://login.microsoftonline.com/{tenantid}/v2.0`). A token whose issuer is not the one of the key
 * that signed it is refused; a key without `issuer` leaves the decision to the issuer check already made.
 */
function assertKeyIssuer(key: object | undefined, tid: string, tokenIssuer: unknown): void {
  const issuer = (key as { issuer?: unknown } | undefined)?.issuer;
  if (typeof issuer !== 'string') return;
  const keyIssuer = issuer.replace('{tenantid}', tid);
  if (typeof tokenIssuer !== 'string' || keyIssuer.toLowerCase() !== tokenIssuer.toLowerCase()) {
    throw new IdTokenValidationError('issuer', 'the signing key does not sign for this issuer');
  }
}

function mapJoseError(err: unknown): Error {
  if (err instanceof joseErrors.JWTExpired) return new IdTokenValidationError('expired', 'the token has expired');
  if (err instanceof joseErrors.JWTClaimValidationFailed) {
    switch (err.claim) {
      case 'iss':
        return new IdTokenValidationError('issuer', 'unexpected issuer');
      case 'aud':
        return new IdTokenValidationError('audience', 'the token was not issued to this app');
      case 'nbf':
      case 'iat':
        return new IdTokenValidationError('not_yet_valid', `the ${err.claim} claim is in the future`);
      default:
        return new IdTokenValidationError('claims', `claim ${err.claim} failed validation (${err.reason})`);
    }
  }
  if (err instanceof joseErrors.JWSSignatureVerificationFailed) {
    return new IdTokenValidationError('signature', 'the signature does not verify');
  }
  if (err instanceof joseErrors.JOSEAlgNotAllowed) return new IdTokenValidationError('algorithm', 'the algorithm is not RS256');
  if (err instanceof joseErrors.JWKSNoMatchingKey || err instanceof joseErrors.JWKSMultipleMatchingKeys) {
    return new IdTokenValidationError('unknown_key', 'the signing key is not one of the cloud\'s keys');
  }
  if (err instanceof joseErrors.JWKSTimeout) return new MicrosoftUnavailableError({ reason: 'timeout', status: 0 });
  if (err instanceof joseErrors.JWSInvalid || err instanceof joseErrors.JWTInvalid) {
    return new IdTokenValidationError('malformed', 'the token is not a valid JWS');
  }
  if (err instanceof joseErrors.JOSEError && err.code === 'ERR_JOSE_GENERIC') {
    // The key set could not be fetched (non-200 or not JSON): a transient outage of the keys endpoint.
    return new MicrosoftUnavailableError({ reason: 'bad_response', status: 0, detail: 'the signing keys could not be fetched' });
  }
  if (err instanceof joseErrors.JOSEError) return new IdTokenValidationError('malformed', err.code);
  return new MicrosoftUnavailableError({ reason: 'network', status: 0, detail: 'the signing keys could not be fetched' });
}
