import { createHash } from 'node:crypto';
import type { AppRegistration } from '../apps';
import { graphSiteOf, graphSiteUrl, type SandboxCloudName } from '../clouds';
import { encodeBase64UrlJson, newGuid, randomToken } from '../crypto-utils';
import type { DirectoryUser, Tenant } from '../directory';
import { signJwt } from '../keys';
import { signTampered } from './tamper';
import { GRAPH_PERMISSIONS } from '../permissions';
import type { SandboxState } from '../state';

export const ACCESS_TOKEN_LIFETIME_SECONDS = 3599;
const ID_TOKEN_LIFETIME_SECONDS = 3600;

export interface TokenResponse {
  token_type: 'Bearer';
  scope: string;
  expires_in: number;
  ext_expires_in: number;
  access_token: string;
  refresh_token?: string;
  id_token?: string;
  client_info: string;
}

export interface MintInput {
  cloud: SandboxCloudName;
  app: AppRegistration;
  tenant: Tenant;
  user: DirectoryUser;
  oidcScopes: string[];
  /** Graph scopes the request named (kept on the refresh token for the next round). */
  requestedGraphScopes: string[];
  nonce?: string;
  authTimeMs: number;
}

/**
 * Private claim of the sandbox's access tokens: how far the sandbox clock was ahead of real time when the token was
 * issued. Tokens carry true `iat`/`nbf`/`exp` (a client with a correct clock accepts them after
 * `POST /_sandbox/clock`); the sandbox's own Graph adds this offset to judge their lifetime on the sandbox clock.
 */
export const CLOCK_OFFSET_CLAIM = 'sandbox_clock_offset';

export const issuerFor = (state: SandboxState, cloud: SandboxCloudName, tenantId: string): string => `${state.urls(cloud).login}/${tenantId}/v2.0`;

/** Pairwise subject: stable per user and audience, as Entra's `sub`. */
function pairwiseSubject(userId: string, audience: string): string {
  return createHash('sha256').update(`${userId}|${audience}`).digest('base64url').slice(0, 43);
}

/**
 * Mints the token response. Like Entra, the access token carries every Graph permission consented for this app
 * and user (not only the ones this request named), as short names in `scp`.
 */
export async function mintTokens(state: SandboxState, input: MintInput): Promise<TokenResponse> {
  const { cloud, app, tenant, user } = input;
  const key = state.keys[cloud];
  const urls = state.urls(cloud);
  // True time, not the sandbox clock: tokens are checked by clients whose clocks are right.
  const now = Math.floor(Date.now() / 1000);
  const clockOffsetSeconds = Math.round(state.clock.offsetMilliseconds / 1000);
  const consented = state.consents.consentedScopes(tenant.id, app.clientId, user.id);
  const granted = GRAPH_PERMISSIONS.map((p) => p.scope).filter((s) => consented.has(s));
  const signInScopes = input.oidcScopes.filter((s) => s !== 'offline_access');
  const issuer = issuerFor(state, cloud, tenant.id);

  const accessToken = await signJwt(key, {
    // The tenant's own Graph (DoD tenants: the dod-graph stand-in), as Entra names the resource per tenant.
    aud: graphSiteUrl(state.baseUrl, graphSiteOf(tenant)),
    iss: issuer,
    iat: now,
    nbf: now,
    exp: now + ACCESS_TOKEN_LIFETIME_SECONDS,
    app_displayname: app.displayName,
    appid: app.clientId,
    azp: app.clientId,
    idtyp: 'user',
    name: user.displayName,
    oid: user.id,
    scp: [...granted, ...signInScopes].join(' '),
    sub: pairwiseSubject(user.id, urls.graph),
    tid: tenant.id,
    unique_name: user.userPrincipalName,
    upn: user.userPrincipalName,
    uti: randomToken(16),
    ver: '2.0',
    ...(clockOffsetSeconds ? { [CLOCK_OFFSET_CLAIM]: clockOffsetSeconds } : {}),
  });

  const response: TokenResponse = {
    token_type: 'Bearer',
    scope: [...granted, ...input.oidcScopes].join(' '),
    expires_in: ACCESS_TOKEN_LIFETIME_SECONDS,
    ext_expires_in: ACCESS_TOKEN_LIFETIME_SECONDS,
    access_token: accessToken,
    client_info: encodeBase64UrlJson({ uid: user.id, utid: tenant.id }),
  };

  if (input.oidcScopes.includes('offline_access')) {
    response.refresh_token = state.grants.issueRefreshToken({
      cloud,
      clientId: app.clientId,
      tenantId: tenant.id,
      userId: user.id,
      oidcScopes: input.oidcScopes,
      graphScopes: input.requestedGraphScopes,
      issuedMs: state.clock.nowMs(),
      authTimeMs: input.authTimeMs,
    });
  }

  if (input.oidcScopes.includes('openid')) {
    const profile = input.oidcScopes.includes('profile');
    const email = input.oidcScopes.includes('email') && user.mail;
    const tamper = state.idTokenTampering.take(tenant.id);
    const otherCloud = cloud === 'global' ? 'usgov' : 'global';
    const signIdToken = (claims: Parameters<typeof signJwt>[1]) => (tamper ? signTampered(tamper, claims, key, state.keys[otherCloud]) : signJwt(key, claims));
    response.id_token = await signIdToken({
      aud: app.clientId,
      iss: issuer,
      iat: now,
      nbf: now,
      exp: now + ID_TOKEN_LIFETIME_SECONDS,
      ...(input.nonce ? { nonce: input.nonce } : {}),
      ...(profile ? { name: user.displayName, preferred_username: user.userPrincipalName } : {}),
      ...(email ? { email: user.mail } : {}),
      oid: user.id,
      sub: pairwiseSubject(user.id, app.clientId),
      tid: tenant.id,
      uti: randomToken(16),
      ver: '2.0',
      // The sign-in instant on the sandbox clock, told in true time (as long ago as the sandbox thinks it was).
      auth_time: Math.floor((input.authTimeMs - state.clock.offsetMilliseconds) / 1000),
      sid: newGuid(),
    });
  }
  return response;
}
