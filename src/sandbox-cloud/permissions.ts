import type { CloudUrls, SandboxCloudName } from './clouds';
import { GRAPH_SITES } from './clouds';

/** Delegated Microsoft Graph permissions the sandbox knows, with Microsoft's consent-screen texts. */
export interface GraphPermission {
  scope: string;
  consentText: string;
  id: string;
  adminConsentRequired: boolean;
}

export const GRAPH_PERMISSIONS: readonly GraphPermission[] = [
  { scope: 'User.Read', consentText: 'Sign in and read user profile', id: 'e1fe6dd8-ba31-4d61-89e7-88639da4683d', adminConsentRequired: false },
  { scope: 'User.ReadBasic.All', consentText: "Read all users' basic profiles", id: 'b340eb25-3456-403f-be2f-af7a0d370277', adminConsentRequired: false },
  { scope: 'User.Read.All', consentText: "Read all users' full profiles", id: 'a154be20-db9c-4678-8ab7-66f6cc099a59', adminConsentRequired: true },
  { scope: 'Group.Read.All', consentText: 'Read all groups', id: '5f8c59db-677d-491f-a6b8-5f174b11ec1d', adminConsentRequired: true },
  { scope: 'Directory.Read.All', consentText: 'Read directory data', id: '06da0dbc-49e2-44d2-8312-53f166ab848a', adminConsentRequired: true },
  { scope: 'GroupMember.Read.All', consentText: 'Read group memberships', id: 'bc024368-1153-4739-b217-4326f2e966d0', adminConsentRequired: true },
  { scope: 'Organization.Read.All', consentText: 'Read organization information', id: '4908d5b9-3fb2-4b1e-9336-1888b7937185', adminConsentRequired: true },
  { scope: 'Domain.Read.All', consentText: 'Read domains', id: '2f9ee017-59c1-4f1d-9472-bd5529a7b311', adminConsentRequired: true },
];

/** OpenID Connect scopes and the summary lines the consent page shows for them. */
export const OIDC_SCOPES: Readonly<Record<string, string>> = {
  openid: 'Sign you in',
  profile: 'View your basic profile',
  email: 'View your email address',
  offline_access: 'Maintain access to data you have given it access to',
};

const PERMISSION_BY_LOWER = new Map(GRAPH_PERMISSIONS.map((p) => [p.scope.toLowerCase(), p]));

export function graphPermission(scope: string): GraphPermission | undefined {
  return PERMISSION_BY_LOWER.get(scope.toLowerCase());
}

export interface RequestedScopes {
  oidc: string[];
  graph: string[];
  /** `{resource}/.default`: every permission already consented. */
  graphDefault: boolean;
  unknown: string[];
}

/**
 * The resource prefixes a Graph scope may carry in `cloud`: every Graph host of that cloud (the US Government cloud
 * has two, graph.microsoft.us and dod-graph.microsoft.us), as Microsoft's resource URI and as the sandbox site
 * standing in for it.
 */
function graphScopePrefixes(cloud: SandboxCloudName, graphHosts: CloudUrls['graphHosts']): string[] {
  return GRAPH_SITES.filter((site) => site.cloud === cloud).flatMap((site) => {
    const sandboxBase = graphHosts[site.host];
    return sandboxBase ? [`https://${site.host}/`, `${sandboxBase}/`] : [`https://${site.host}/`];
  });
}

/**
 * Splits a space-separated scope string into OIDC scopes and canonical short Graph scope names.
 * Graph scopes may be short, or prefixed with a Graph resource of the cloud: the real host's
 * (`https://dod-graph.microsoft.us/User.Read`) or the sandbox site's base URL standing in for it.
 */
export function parseScopes(raw: string, cloud: SandboxCloudName, graphHosts: CloudUrls['graphHosts']): RequestedScopes {
  const result: RequestedScopes = { oidc: [], graph: [], graphDefault: false, unknown: [] };
  const prefixes = graphScopePrefixes(cloud, graphHosts);
  for (const token of raw.split(/\s+/).filter(Boolean)) {
    const lower = token.toLowerCase();
    if (lower in OIDC_SCOPES) {
      if (!result.oidc.includes(lower)) result.oidc.push(lower);
      continue;
    }
    const prefix = prefixes.find((p) => lower.startsWith(p.toLowerCase()));
    const short = prefix ? token.slice(prefix.length) : token;
    if (prefix && short === '.default') {
      result.graphDefault = true;
      continue;
    }
    const permission = graphPermission(short);
    if (permission) {
      if (!result.graph.includes(permission.scope)) result.graph.push(permission.scope);
    } else {
      result.unknown.push(token);
    }
  }
  return result;
}
