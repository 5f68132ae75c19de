import type { SandboxCloudName } from '../clouds';
import { CLOUD_PROFILES, tenantGraphHost, VARIANT_PROFILES } from '../clouds';
import type { Tenant } from '../directory';
import type { SandboxState } from '../state';
import { aad } from './aad-errors';

/**
 * OpenID discovery and keys. `organizations` / `common` documents carry the literal `{tenantid}` issuer
 * template (a validator substitutes the token's `tid`); a tenant's own document names its issuer.
 */
function issuerTemplate(state: SandboxState, cloud: SandboxCloudName, tenantSegment: string): string {
  const segment = tenantSegment.toLowerCase();
  if (segment === 'organizations' || segment === 'common') return `${state.urls(cloud).login}/{tenantid}/v2.0`;
  const tenant = state.directory.resolve(cloud, tenantSegment);
  if (!tenant) throw aad.tenantNotFound(tenantSegment);
  return `${state.urls(cloud).login}/${tenant.id}/v2.0`;
}

/**
 * The tenant a discovery request names. Like Microsoft, the global login host also answers for US Government
 * tenants (with the US Government cloud's document); China tenants are found at the China host only.
 */
function discoveredTenant(state: SandboxState, askedCloud: SandboxCloudName, tenantSegment: string): Tenant | undefined {
  const segment = tenantSegment.toLowerCase();
  if (segment === 'organizations' || segment === 'common') return undefined;
  const tenant = state.directory.resolve(askedCloud, tenantSegment) ?? (askedCloud === 'global' ? state.directory.resolve('usgov', tenantSegment) : undefined);
  if (!tenant) throw aad.tenantNotFound(tenantSegment);
  return tenant;
}

export function discoveryDocument(state: SandboxState, askedCloud: SandboxCloudName, tenantSegment: string): Record<string, unknown> {
  const tenant = discoveredTenant(state, askedCloud, tenantSegment);
  const cloud = tenant?.cloud ?? askedCloud;
  const issuer = issuerTemplate(state, cloud, tenantSegment);
  const { login, graph } = state.urls(cloud);
  const base = `${login}/${tenantSegment}`;
  const variant = tenant?.variant ? VARIANT_PROFILES[tenant.variant] : undefined;
  return {
    token_endpoint: `${base}/oauth2/v2.0/token`,
    token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
    jwks_uri: `${base}/discovery/v2.0/keys`,
    response_modes_supported: ['query', 'fragment', 'form_post'],
    subject_types_supported: ['pairwise'],
    id_token_signing_alg_values_supported: ['RS256'],
    response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
    scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
    issuer,
    request_uri_parameter_supported: false,
    userinfo_endpoint: `${graph}/oidc/userinfo`,
    authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
    device_authorization_endpoint: `${base}/oauth2/v2.0/devicecode`,
    http_logout_supported: true,
    frontchannel_logout_supported: true,
    end_session_endpoint: `${base}/oauth2/v2.0/logout`,
    claims_supported: ['sub', 'iss', 'cloud_instance_name', 'cloud_instance_host_name', 'cloud_graph_host_name', 'msgraph_host', 'aud', 'exp', 'iat', 'auth_time', 'acr', 'nonce', 'preferred_username', 'name', 'tid', 'ver', 'at_hash', 'c_hash', 'email'],
    code_challenge_methods_supported: ['S256'],
    kerberos_endpoint: `${base}/kerberos`,
    tenant_region_scope: variant?.tenantRegionScope ?? CLOUD_PROFILES[cloud].tenantRegionScope,
    ...(variant ? { tenant_region_sub_scope: variant.tenantRegionSubScope } : {}),
    cloud_instance_name: CLOUD_PROFILES[cloud].cloudInstanceName,
    cloud_graph_host_name: 'graph.windows.net',
    // The real host name, as Microsoft reports it (dod-graph.microsoft.us for DoD tenants); a portal pointed at the
    // sandbox maps it to the sandbox's Graph prefix through GET /_sandbox/clouds (`graphHosts`).
    msgraph_host: tenant ? tenantGraphHost(tenant) : CLOUD_PROFILES[cloud].graphHost,
    rbac_url: 'https://pas.windows.net',
  };
}

export function keysDocument(state: SandboxState, cloud: SandboxCloudName, tenantSegment: string): { keys: Record<string, unknown>[] } {
  const issuer = issuerTemplate(state, cloud, tenantSegment);
  return { keys: [{ ...state.keys[cloud].publicJwk, issuer }] };
}
