/** The application id of Microsoft Graph, the resource the permissions below belong to (the same in every cloud). */
export const MICROSOFT_GRAPH_APP_ID = '00000003-0000-0000-c000-000000000000';

export type GraphPermission =
  | 'User.Read'
  | 'User.Read.All'
  | 'Group.Read.All'
  | 'Directory.Read.All'
  | 'GroupMember.Read.All'
  | 'Organization.Read.All'
  | 'Domain.Read.All';

export interface GraphPermissionInfo {
  /** Delegated permission (oauth2PermissionScope) id on Microsoft Graph. */
  id: string;
  /** What Microsoft's consent screen says. */
  consentText: string;
  /** Whether only an administrator can consent to it. */
  adminConsent: boolean;
}

/**
 * The delegated Microsoft Graph permissions the "Tenantgate - User Management" app asks for, with their
 * well-known permission ids (identical in every cloud) and the text Microsoft's consent screen shows.
 */
export const GRAPH_PERMISSIONS: Readonly<Record<GraphPermission, GraphPermissionInfo>> = Object.freeze({
  'User.Read': { id: 'e1fe6dd8-ba31-4d61-89e7-88639da4683d', consentText: 'Sign in and read user profile', adminConsent: false },
  'User.Read.All': { id: 'a154be20-db9c-4678-8ab7-66f6cc099a59', consentText: "Read all users' full profiles", adminConsent: true },
  'Group.Read.All': { id: '5f8c59db-677d-491f-a6b8-5f174b11ec1d', consentText: 'Read all groups', adminConsent: true },
  'Directory.Read.All': { id: '06da0dbc-49e2-44d2-8312-53f166ab848a', consentText: 'Read directory data', adminConsent: true },
  'GroupMember.Read.All': { id: 'bc024368-1153-4739-b217-4326f2e966d0', consentText: 'Read group memberships', adminConsent: true },
  'Organization.Read.All': { id: '4908d5b9-3fb2-4b1e-9336-1888b7937185', consentText: 'Read organization information', adminConsent: true },
  'Domain.Read.All': { id: '2f9ee017-59c1-4f1d-9472-bd5529a7b311', consentText: 'Read domains', adminConsent: true },
});

/** The seven permissions, in a stable display order. */
export const GRAPH_PERMISSION_NAMES: readonly GraphPermission[] = Object.freeze(
  Object.keys(GRAPH_PERMISSIONS) as GraphPermission[],
);

export type OidcScope = 'openid' | 'profile' | 'email' | 'offline_access';

/**
 * Ids of the OpenID Connect scopes as exposed by Microsoft Graph (checked against many public app manifests;
 * note openid is 37f7f235-527c-4136-accd-4a02d197296e).
 */
export const OIDC_SCOPE_IDS: Readonly<Record<OidcScope, string>> = Object.freeze({
  openid: '37f7f235-527c-4136-accd-4a02d197296e',
  profile: '14dad69e-099b-42c9-810b-d002981feec1',
  email: '64a6cdd6-aab1-4aaf-94b8-3cc8405e90d0',
  offline_access: '7427e0e9-2fba-42fe-b0c0-848c9e6a8182',
});

/** Scopes requested when a Global Administrator connects a tenant through an app profile. */
export const APP_PROFILE_SCOPES: readonly string[] = Object.freeze([
  'openid',
  'profile',
  'offline_access',
  ...GRAPH_PERMISSION_NAMES,
]);

/**
 * Scopes of a refresh that keeps an app profile's authorization alive: the Graph permissions and
 * offline_access, without openid, so Microsoft mints no ID token nobody would read.
 */
export const APP_PROFILE_REFRESH_SCOPES: readonly string[] = Object.freeze(['offline_access', ...GRAPH_PERMISSION_NAMES]);

/**
 * Scopes requested for single sign-on of portal users. Besides the ID token, the person's own access token
 * checks their group membership (`/me/checkMemberGroups`); both Graph permissions are covered by the
 * tenant-wide consent of the app profile, so nobody is asked to consent. Once that consent is removed,
 * Microsoft refuses the sign-in itself (admin approval needed), which the portal shows as CONSENT_REMOVED.
 */
export const SSO_SCOPES: readonly string[] = Object.freeze(['openid', 'profile', 'email', 'User.Read', 'GroupMember.Read.All']);

/**
 * Strips a resource prefix such as `https://graph.microsoft.com/` or `https://graph.microsoft.us/` from a
 * granted scope and lower-cases it.
 */
function normalizeScope(scope: string): string {
  const slash = scope.lastIndexOf('/');
  return (slash >= 0 ? scope.slice(slash + 1) : scope).trim().toLowerCase();
}

/**
 * The Graph permissions of the app profile that are not in `grantedScopes` (the token response's `scope`).
 * Case-insensitive; entries may carry a resource prefix or be space-separated lists themselves.
 */
export function missingPermissions(grantedScopes: readonly string[]): GraphPermission[] {
  const granted = new Set(
    grantedScopes.flatMap((s) => s.split(/\s+/)).filter((s) => s.length > 0).map(normalizeScope),
  );
  return GRAPH_PERMISSION_NAMES.filter((p) => !granted.has(p.toLowerCase()));
}

export function isGraphPermission(value: unknown): value is GraphPermission {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(GRAPH_PERMISSIONS, value);
}

export interface RequiredResourceAccess {
  resourceAppId: string;
  resourceAccess: { id: string; type: 'Scope' }[];
}

/** The `requiredResourceAccess` block of the app registration's manifest. */
export function requiredResourceAccess(): RequiredResourceAccess[] {
  const oidc: OidcScope[] = ['openid', 'profile', 'email', 'offline_access'];
  return [
    {
      resourceAppId: MICROSOFT_GRAPH_APP_ID,
      resourceAccess: [
        ...GRAPH_PERMISSION_NAMES.map((p) => ({ id: GRAPH_PERMISSIONS[p].id, type: 'Scope' as const })),
        ...oidc.map((s) => ({ id: OIDC_SCOPE_IDS[s], type: 'Scope' as const })),
      ],
    },
  ];
}
