import type { AppRegistration } from '../apps';
import type { SandboxCloudName } from '../clouds';
import { sha256 } from '../crypto-utils';
import type { Tenant } from '../directory';
import { parseScopes } from '../permissions';
import type { SandboxState } from '../state';
import { AadError, aad } from './aad-errors';
import { CODE_LIFETIME_MS, REFRESH_INACTIVITY_MS } from './grants';
import { mintTokens, type TokenResponse } from './tokens';

/** POST {login}/{tenant}/oauth2/v2.0/token: authorization_code and refresh_token grants, client secret by post or Basic. */
export async function handleTokenRequest(
  state: SandboxState,
  cloud: SandboxCloudName,
  tenantSegment: string,
  form: Record<string, string>,
  authorization: string | undefined,
): Promise<TokenResponse> {
  const segment = tenantSegment.toLowerCase();
  let pathTenant: Tenant | undefined;
  if (segment !== 'organizations' && segment !== 'common') {
    pathTenant = state.directory.resolve(cloud, tenantSegment);
    if (!pathTenant) throw new AadError('invalid_request', 90002, aad.tenantNotFound(tenantSegment).detail);
  }
  const app = authenticateClient(state, form, authorization, pathTenant?.displayName ?? tenantSegment);

  switch (form.grant_type) {
    case 'authorization_code':
      return redeemCode(state, cloud, app, pathTenant, form);
    case 'refresh_token':
      return redeemRefreshToken(state, cloud, app, pathTenant, form);
    case undefined:
    case '':
      throw aad.missingParameter('grant_type');
    default:
      throw aad.unsupportedGrantType(form.grant_type);
  }
}

function authenticateClient(state: SandboxState, form: Record<string, string>, authorization: string | undefined, directory: string): AppRegistration {
  let clientId = form.client_id;
  let secret = form.client_secret;
  if (authorization?.toLowerCase().startsWith('basic ')) {
    const decoded = Buffer.from(authorization.slice(6).trim(), 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    const basicId = safeDecode(colon >= 0 ? decoded.slice(0, colon) : decoded);
    if (clientId && clientId !== basicId) throw new AadError('invalid_request', 900144, 'The client_id in the request body does not match the client credentials in the Authorization header.');
    clientId = basicId;
    secret = colon >= 0 ? safeDecode(decoded.slice(colon + 1)) : '';
  }
  if (!clientId) throw aad.missingParameter('client_id');
  const app = state.apps.get(clientId);
  if (!app) throw aad.appNotFound(clientId, directory);
  if (!secret) throw aad.missingClientSecret();
  if (!state.apps.secretMatches(app, secret)) throw aad.wrongClientSecret(app.clientId);
  return app;
}

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value.replace(/\+/g, ' '));
  } catch {
    return value;
  }
}

async function redeemCode(state: SandboxState, cloud: SandboxCloudName, app: AppRegistration, pathTenant: Tenant | undefined, form: Record<string, string>): Promise<TokenResponse> {
  if (!form.code) throw aad.missingParameter('code');
  const found = state.grants.findCode(form.code);
  if (!found || found.code.cloud !== cloud) throw aad.malformedGrant();
  const { code } = found;
  if (code.redeemed) throw aad.codeRedeemed();
  if (state.clock.nowMs() - code.issuedMs > CODE_LIFETIME_MS) throw aad.grantExpired();
  if (code.clientId !== app.clientId || (pathTenant && pathTenant.id !== code.tenantId)) throw aad.grantClientMismatch();
  if (form.redirect_uri !== code.redirectUri) throw aad.redirectUriGrantMismatch();
  if (!form.code_verifier || sha256(form.code_verifier).toString('base64url') !== code.codeChallenge) throw aad.verifierMismatch();
  const { tenant, user } = liveUser(state, code.tenantId, code.userId, code.authTimeMs, code.issuedMs);
  state.grants.markRedeemed(found);
  return mintTokens(state, {
    cloud,
    app,
    tenant,
    user,
    oidcScopes: code.oidcScopes,
    requestedGraphScopes: code.graphScopes,
    nonce: code.nonce,
    authTimeMs: code.authTimeMs,
  });
}

async function redeemRefreshToken(state: SandboxState, cloud: SandboxCloudName, app: AppRegistration, pathTenant: Tenant | undefined, form: Record<string, string>): Promise<TokenResponse> {
  if (!form.refresh_token) throw aad.missingParameter('refresh_token');
  const grant = state.grants.findRefreshToken(form.refresh_token);
  if (!grant || grant.cloud !== cloud) throw aad.malformedGrant();
  if (grant.clientId !== app.clientId || (pathTenant && pathTenant.id !== grant.tenantId)) throw aad.grantClientMismatch();
  if (state.clock.nowMs() - grant.issuedMs > REFRESH_INACTIVITY_MS) throw aad.refreshInactive(new Date(grant.issuedMs));
  const { tenant, user } = liveUser(state, grant.tenantId, grant.userId, grant.authTimeMs, grant.issuedMs);
  if (!state.consents.hasConsent(tenant.id, app.clientId, user.id)) throw aad.consentMissing(app.clientId, app.displayName);
  let graphScopes = grant.graphScopes;
  if (form.scope) {
    const requested = parseScopes(form.scope, cloud, state.urls(cloud).graphHosts);
    if (requested.unknown.length > 0) throw aad.invalidScope(requested.unknown[0]);
    if (requested.graph.length > 0) graphScopes = requested.graph;
  }
  // As Entra: permissions removed from the consent since are left out of the new tokens (the answer's `scope`
  // names what is granted); only when none of the asked permissions is consented any more is it refused.
  const consented = state.consents.consentedScopes(tenant.id, app.clientId, user.id);
  const stillGranted = graphScopes.filter((s) => consented.has(s));
  if (graphScopes.length > 0 && stillGranted.length === 0) throw aad.consentMissing(app.clientId, app.displayName);
  return mintTokens(state, { cloud, app, tenant, user, oidcScopes: grant.oidcScopes, requestedGraphScopes: stillGranted, authTimeMs: grant.authTimeMs });
}

/** The grant's user must still exist, be enabled, and not have had sessions revoked since signing in. */
function liveUser(state: SandboxState, tenantId: string, userId: string, authTimeMs: number, issuedMs: number) {
  const tenant = state.directory.byId(tenantId);
  const user = tenant?.usersById.get(userId);
  if (!tenant || !user) throw aad.userNotFound(tenant?.displayName ?? tenantId);
  if (authTimeMs <= user.tokensValidFromMs) throw aad.grantRevoked(new Date(issuedMs), new Date(user.tokensValidFromMs));
  if (!user.accountEnabled) throw aad.accountDisabled();
  return { tenant, user };
}
