import type { SandboxCloudName } from '../clouds';
import { CLOUD_PROFILES } from '../clouds';
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

export function discoveryDocument(state: SandboxState, cloud: SandboxCloudName, tenantSegment: string): Record<string, unknown> {
  const issuer = issuerTemplate(state, cloud, tenantSegment);
  const { login, graph } = state.urls(cloud);
  const base = `${login}/${tenantSegment}`;
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
    tenant_region_scope: CLOUD_PROFILES[cloud].tenantRegionScope,
    cloud_instance_name: CLOUD_PROFILES[cloud].cloudInstanceName,
    cloud_graph_host_name: 'graph.windows.net',
    // The sandbox's Graph lives under a path, so this names host and path (no scheme), e.g. 127.0.0.1:3100/global/graph.
    msgraph_host: graph.replace(/^https?:\/\//, ''),
    rbac_url: 'https://pas.windows.net',
  };
}

export function keysDocument(state: SandboxState, cloud: SandboxCloudName, tenantSegment: string): { keys: Record<string, unknown>[] } {
  const issuer = issuerTemplate(state, cloud, tenantSegment);
  return { keys: [{ ...state.keys[cloud].publicJwk, issuer }] };
}
