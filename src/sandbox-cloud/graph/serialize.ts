import type { DirectoryGroup, DirectoryObject, DirectoryUser, Tenant } from '../directory';
import { ROLE_BY_NAME } from '../roles';

/** Graph JSON for directory objects: the default property sets of v1.0, or exactly the `$select`ed ones. */

type Json = Record<string, unknown>;

const USER_PROPERTIES: Record<string, (u: DirectoryUser) => unknown> = {
  businessPhones: () => [],
  displayName: (u) => u.displayName,
  givenName: (u) => u.givenName,
  jobTitle: (u) => u.jobTitle,
  mail: (u) => u.mail,
  mobilePhone: () => null,
  officeLocation: () => null,
  preferredLanguage: () => null,
  surname: (u) => u.surname,
  userPrincipalName: (u) => u.userPrincipalName,
  id: (u) => u.id,
  accountEnabled: (u) => u.accountEnabled,
  createdDateTime: (u) => u.createdDateTime,
  mailNickname: (u) => u.userPrincipalName.split('@')[0],
  userType: () => 'Member',
};
const USER_DEFAULTS = ['businessPhones', 'displayName', 'givenName', 'jobTitle', 'mail', 'mobilePhone', 'officeLocation', 'preferredLanguage', 'surname', 'userPrincipalName', 'id'];

const GROUP_PROPERTIES: Record<string, (g: DirectoryGroup) => unknown> = {
  id: (g) => g.id,
  deletedDateTime: () => null,
  classification: () => null,
  createdDateTime: (g) => g.createdDateTime,
  description: (g) => g.description,
  displayName: (g) => g.displayName,
  groupTypes: () => [],
  mail: (g) => g.mail,
  mailEnabled: (g) => g.mailEnabled,
  mailNickname: (g) => g.mailNickname,
  securityEnabled: (g) => g.securityEnabled,
  visibility: () => null,
};
const GROUP_DEFAULTS = Object.keys(GROUP_PROPERTIES);

export type EntityKind = 'user' | 'group' | 'directoryObject';

function canonical(names: string[]): Map<string, string> {
  return new Map(names.map((n) => [n.toLowerCase(), n]));
}
const SELECTABLE: Record<EntityKind, Map<string, string>> = {
  user: canonical(Object.keys(USER_PROPERTIES)),
  group: canonical(Object.keys(GROUP_PROPERTIES)),
  directoryObject: canonical([...Object.keys(USER_PROPERTIES), ...Object.keys(GROUP_PROPERTIES)]),
};

/** Canonical property names for a `$select`, or the name Graph would complain about. */
export function resolveSelect(kind: EntityKind, names: string[]): { properties: string[] } | { unknown: string } {
  const properties: string[] = [];
  for (const name of names) {
    const found = SELECTABLE[kind].get(name.toLowerCase());
    if (!found) return { unknown: name };
    if (!properties.includes(found)) properties.push(found);
  }
  return { properties };
}

export function serializeUser(user: DirectoryUser, select: string[] | null): Json {
  const result: Json = {};
  for (const name of select ?? USER_DEFAULTS) {
    const read = USER_PROPERTIES[name];
    if (read) result[name] = read(user);
  }
  return result;
}

/** The user's Graph JSON text; the default-property form is cached on the user. */
export function userJson(user: DirectoryUser, select: string[] | null): string {
  if (select) return JSON.stringify(serializeUser(user, select));
  return (user.defaultJson ??= JSON.stringify(serializeUser(user, null)));
}

export function serializeGroup(group: DirectoryGroup, select: string[] | null): Json {
  const result: Json = {};
  for (const name of select ?? GROUP_DEFAULTS) {
    const read = GROUP_PROPERTIES[name];
    if (read) result[name] = read(group);
  }
  return result;
}

/** A member in a mixed collection carries its `@odata.type`. */
export function serializeDirectoryObject(object: DirectoryObject, select: string[] | null): Json {
  return object.kind === 'user'
    ? { '@odata.type': '#microsoft.graph.user', ...serializeUser(object, select) }
    : { '@odata.type': '#microsoft.graph.group', ...serializeGroup(object, select) };
}

/** A tenant-scoped directoryRole object for a role template name (stable id per tenant and role). */
export function serializeDirectoryRole(tenant: Tenant, roleName: string): Json | null {
  const template = ROLE_BY_NAME.get(roleName);
  if (!template) return null;
  const id = `${template.roleTemplateId.slice(0, 24)}${tenant.id.replace(/-/g, '').slice(0, 12)}`;
  return {
    '@odata.type': '#microsoft.graph.directoryRole',
    id,
    deletedDateTime: null,
    description: template.description,
    displayName: template.displayName,
    roleTemplateId: template.roleTemplateId,
  };
}

/**
 * Serializes every user's default Graph form once, when tenants are loaded, so the first paging pass
 * (a portal's first sync of a large tenant) is as fast as later ones. Changes to a user drop it again.
 */
/**
 * The same, a slice per event-loop turn, so a restored sandbox answers at once while the cache warms up
 * (a read before then builds the user's JSON itself).
 */
export function preserializeUsersInBackground(tenants: Iterable<{ users: readonly DirectoryUser[] }>, sliceSize = 5000): void {
  const users = [...tenants].flatMap((t) => t.users);
  const step = (from: number) => {
    for (let i = from; i < Math.min(from + sliceSize, users.length); i++) userJson(users[i], null);
    if (from + sliceSize < users.length) setImmediate(step, from + sliceSize).unref();
  };
  setImmediate(step, 0).unref();
}

export function preserializeUsers(tenants: Iterable<{ users: readonly DirectoryUser[] }>): void {
  for (const tenant of tenants) for (const user of tenant.users) userJson(user, null);
}
