import { createHash, randomBytes } from 'node:crypto';
import { startSandboxCloud, type SandboxCloud, type SandboxCloudName } from '../../../src/sandbox-cloud/index';
import { SandboxUserAgent, type AuthorizeActions } from '../../support/sandbox-user-agent';

/** Shared helpers for the sandbox-cloud conformance tests (plain fetch; openid-client where a test says so). */

export const CONTOSO = '4f6d1d0e-1c2b-4d9a-9a55-0b7c3e1f2a10';
export const NORTHWIND = '7c1e0a55-3d4b-4f8e-9c21-5a6b7c8d9e01';
export const FABRIKAM = '2b8f4c3a-6e1d-4a7b-8c9d-0e1f2a3b4c5d';
export const PASSWORD = 'Passw0rd!';
export const REDIRECT_URI = 'http://localhost:3999/callback';
export const POST_LOGOUT_URI = 'http://localhost:3999/signed-out';
export const ADMIN_SCOPES = 'openid profile email offline_access User.Read User.Read.All Group.Read.All GroupMember.Read.All Organization.Read.All Domain.Read.All';

export interface Harness {
  sandbox: SandboxCloud;
  clientId: string;
  clientSecret: string;
}

export async function startHarness(options: Parameters<typeof startSandboxCloud>[0] = {}): Promise<Harness> {
  const sandbox = await startSandboxCloud({ port: 0, ...options });
  const app = sandbox.registerApp({ displayName: 'Conformance App', redirectUris: [REDIRECT_URI], postLogoutRedirectUris: [POST_LOGOUT_URI] });
  return { sandbox, ...app };
}

export function pkce(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

export function authorizeUrl(h: Harness, cloud: SandboxCloudName, tenant: string, params: Record<string, string>): string {
  const url = new URL(`${h.sandbox.clouds[cloud].login}/${tenant}/oauth2/v2.0/authorize`);
  const defaults = { client_id: h.clientId, response_type: 'code', redirect_uri: REDIRECT_URI, scope: ADMIN_SCOPES, state: 'st-1', nonce: 'n-1', code_challenge_method: 'S256' };
  for (const [key, value] of Object.entries({ ...defaults, ...params })) url.searchParams.set(key, value);
  return url.toString();
}

export interface TokenResult {
  status: number;
  body: Record<string, unknown> & { access_token?: string; refresh_token?: string; id_token?: string; error?: string; error_codes?: number[]; error_description?: string };
}

export async function tokenRequest(h: Harness, cloud: SandboxCloudName, tenant: string, form: Record<string, string>, basic = false): Promise<TokenResult> {
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
  const body = new URLSearchParams(form);
  if (basic) {
    headers.authorization = `Basic ${Buffer.from(`${encodeURIComponent(h.clientId)}:${encodeURIComponent(h.clientSecret)}`).toString('base64')}`;
  } else {
    if (!body.has('client_id')) body.set('client_id', h.clientId);
    if (!body.has('client_secret')) body.set('client_secret', h.clientSecret);
  }
  const res = await fetch(`${h.sandbox.clouds[cloud].login}/${tenant}/oauth2/v2.0/token`, { method: 'POST', headers, body });
  return { status: res.status, body: (await res.json()) as TokenResult['body'] };
}

/** Runs authorize with the user agent and answers the callback URL plus the PKCE verifier. */
export async function authorizeCode(
  h: Harness,
  input: { cloud?: SandboxCloudName; tenant?: string; params?: Record<string, string>; actions: AuthorizeActions; ua?: SandboxUserAgent },
): Promise<{ callback: URL; verifier: string; ua: SandboxUserAgent }> {
  const { verifier, challenge } = pkce();
  const ua = input.ua ?? new SandboxUserAgent();
  const url = authorizeUrl(h, input.cloud ?? 'global', input.tenant ?? 'organizations', { code_challenge: challenge, ...input.params });
  const callback = await ua.authorize(url, { password: PASSWORD, consent: 'accept', ...input.actions });
  return { callback, verifier, ua };
}

/** Signs in (consenting) and redeems the code: the token response body. */
export async function signIn(
  h: Harness,
  email: string,
  options: { cloud?: SandboxCloudName; tenant?: string; scope?: string; ua?: SandboxUserAgent } = {},
): Promise<TokenResult['body'] & { access_token: string; refresh_token: string }> {
  const cloud = options.cloud ?? 'global';
  const { callback, verifier } = await authorizeCode(h, { cloud, tenant: options.tenant, params: options.scope ? { scope: options.scope } : {}, actions: { email }, ua: options.ua });
  const code = callback.searchParams.get('code');
  if (!code) throw new Error(`No code: ${callback}`);
  const result = await tokenRequest(h, cloud, options.tenant ?? 'organizations', { grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI, code_verifier: verifier });
  if (result.status !== 200) throw new Error(`Token request failed: ${JSON.stringify(result.body)}`);
  return result.body as TokenResult['body'] & { access_token: string; refresh_token: string };
}

export interface GraphResult {
  status: number;
  headers: Headers;
  body: Record<string, unknown> & { value?: Record<string, unknown>[]; error?: { code: string; message: string; innerError: Record<string, string> } };
}

export async function graphGet(h: Harness, cloud: SandboxCloudName, pathOrUrl: string, token: string, headers: Record<string, string> = {}): Promise<GraphResult> {
  const url = pathOrUrl.startsWith('http') ? pathOrUrl : `${h.sandbox.clouds[cloud].graph}/v1.0${pathOrUrl}`;
  const res = await fetch(url, { headers: { authorization: `Bearer ${token}`, ...headers } });
  return { status: res.status, headers: res.headers, body: (await res.json()) as GraphResult['body'] };
}

export async function graphPost(h: Harness, cloud: SandboxCloudName, path: string, token: string, body: unknown): Promise<GraphResult> {
  const res = await fetch(`${h.sandbox.clouds[cloud].graph}/v1.0${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, headers: res.headers, body: (await res.json()) as GraphResult['body'] };
}

export async function control(h: Harness, method: string, path: string, body?: unknown): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`${h.sandbox.baseUrl}/_sandbox${path}`, {
    method,
    headers: body === undefined && method !== 'POST' ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

export function decodeJwtPayload(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8'));
}
