import { errors as joseErrors, jwtVerify } from 'jose';
import { graphSiteUrl, tenantGraphHost, type GraphSite } from '../clouds';
import type { DirectoryUser, Tenant } from '../directory';
import { CLOCK_OFFSET_CLAIM } from '../identity/tokens';
import type { SandboxState } from '../state';
import { accessDenied, invalidToken } from './errors';

/** Who is calling Graph: the verified token's tenant, user and app, and what the app may still do. */
export interface GraphCaller {
  tenant: Tenant;
  clientId: string;
  userId: string;
  /** Scopes in the token that are still consented (consent removal takes effect at once, like Entra). */
  scopes: Set<string>;
}

/** Verifies the bearer token for one Graph site: a token for another site (a DoD tenant at graph.microsoft.us) fails on its audience. */
export async function authenticateGraphRequest(state: SandboxState, site: GraphSite, authorization: string | undefined): Promise<GraphCaller> {
  const cloud = site.cloud;
  const token = authorization?.match(/^Bearer\s+(.+)$/i)?.[1]?.trim();
  if (!token) throw invalidToken('Access token is empty.');
  let claims;
  try {
    ({ payload: claims } = await jwtVerify(token, state.keys[cloud].publicKey, {
      algorithms: ['RS256'],
      audience: graphSiteUrl(state.baseUrl, site),
    }));
    // Lifetime on the sandbox clock: the token's true expiry moved by the offset the clock had when it was issued.
    const offsetAtIssue = Number(claims[CLOCK_OFFSET_CLAIM] ?? 0) * 1000;
    if (typeof claims.exp === 'number' && claims.exp * 1000 + offsetAtIssue <= state.clock.nowMs()) throw new joseErrors.JWTExpired('expired on the sandbox clock', claims);
  } catch (error) {
    if (error instanceof joseErrors.JWTExpired) throw invalidToken('Lifetime validation failed, the token is expired.');
    if (error instanceof joseErrors.JWTClaimValidationFailed && error.claim === 'aud') throw invalidToken('Access token validation failure. Invalid audience.');
    if (error instanceof joseErrors.JWTClaimValidationFailed && error.claim === 'nbf') throw invalidToken('Lifetime validation failed, the token is not yet valid.');
    throw invalidToken('Access token validation failure.');
  }
  const tenant = typeof claims.tid === 'string' ? state.directory.byId(claims.tid) : undefined;
  if (!tenant || tenant.cloud !== cloud || tenantGraphHost(tenant) !== site.host || claims.iss !== `${state.urls(cloud).login}/${tenant.id}/v2.0`) {
    throw invalidToken('Access token validation failure. Invalid issuer.');
  }
  const clientId = String(claims.appid ?? claims.azp ?? '');
  const userId = String(claims.oid ?? '');
  const consented = state.consents.consentedScopes(tenant.id, clientId, userId);
  const tokenScopes = String(claims.scp ?? '').split(' ').filter(Boolean);
  return { tenant, clientId, userId, scopes: new Set(tokenScopes.filter((s) => consented.has(s))) };
}

/** 403 unless the caller holds one of the scopes that grant this call. */
export function requireScope(caller: GraphCaller, anyOf: readonly string[]): void {
  if (!anyOf.some((scope) => caller.scopes.has(scope))) throw accessDenied();
}

export function signedInUser(caller: GraphCaller): DirectoryUser | undefined {
  return caller.tenant.usersById.get(caller.userId);
}
