import type { SandboxCloudName, TenantVariant } from './clouds';
import { newGuid, randomToken } from './crypto-utils';
import { GLOBAL_ADMINISTRATOR, PRIVILEGED_ROLE_ADMINISTRATOR } from './roles';

/**
 * The in-memory directory: tenants with their users and groups, lookup indexes and a change log for delta.
 * Users and groups live in arrays ordered by a monotonic `seq` (paging cursors are seqs, so paging stays exact
 * while objects are added or deleted) plus Maps by id / lower-case UPN for O(1) lookups.
 */

export interface TenantDomain {
  name: string;
  isDefault: boolean;
  isInitial: boolean;
}

export interface DirectoryUser {
  kind: 'user';
  seq: number;
  id: string;
  userPrincipalName: string;
  upnLower: string;
  displayName: string;
  displayNameLower: string;
  givenName: string | null;
  surname: string | null;
  mail: string | null;
  mailLower: string | null;
  jobTitle: string | null;
  password: string;
  accountEnabled: boolean;
  roles: string[];
  createdDateTime: string;
  /** Ids of the groups this user is a direct member of (an array: cheaper than a Set for a handful of ids). */
  memberOf: string[];
  /** Refresh tokens and sessions authenticated at or before this instant are revoked (ms on the sandbox clock). */
  tokensValidFromMs: number;
  /** Graph JSON with the default properties, built on first read and dropped on change (paging speed). */
  defaultJson?: string;
}

export interface DirectoryGroup {
  kind: 'group';
  seq: number;
  id: string;
  displayName: string;
  displayNameLower: string;
  description: string | null;
  mail: string | null;
  mailLower: string | null;
  mailNickname: string;
  mailEnabled: boolean;
  securityEnabled: boolean;
  createdDateTime: string;
  /** Direct members (user or group ids), in the order they were added. */
  members: Set<string>;
  memberOf: string[];
}

export type DirectoryObject = DirectoryUser | DirectoryGroup;

export type ChangeKind = 'upsert' | 'delete' | 'memberAdded' | 'memberRemoved';

export interface ChangeEntry {
  seq: number;
  objectType: 'user' | 'group';
  id: string;
  change: ChangeKind;
  memberId?: string;
  memberType?: 'user' | 'group';
}

export interface NewUser {
  id?: string;
  userPrincipalName: string;
  displayName: string;
  givenName?: string | null;
  surname?: string | null;
  mail?: string | null;
  jobTitle?: string | null;
  password: string;
  accountEnabled?: boolean;
  roles?: string[];
}

export interface NewGroup {
  id?: string;
  displayName: string;
  description?: string | null;
  mail?: string | null;
  mailNickname?: string;
  mailEnabled?: boolean;
  securityEnabled?: boolean;
}

export class DirectoryError extends Error {
  constructor(
    message: string,
    readonly status: 400 | 404 | 409,
  ) {
    super(message);
  }
}

export class Tenant {
  readonly users: DirectoryUser[] = [];
  readonly usersById = new Map<string, DirectoryUser>();
  readonly usersByUpn = new Map<string, DirectoryUser>();
  readonly groups: DirectoryGroup[] = [];
  readonly groupsById = new Map<string, DirectoryGroup>();
  /** Changes after load; a delta token is a position in this log. */
  readonly changes: ChangeEntry[] = [];
  /** Changes to this value invalidate every delta token (fixture reload). */
  epoch = randomToken(6);
  /** Bumped on every change; caches of sorted views key on it. */
  version = 0;
  private nextSeq = 1;
  readonly createdDateTime: string;
  /** GCC, GCC High or DoD (from the fixture); undefined for a commercial or China tenant. */
  variant?: TenantVariant;

  constructor(
    readonly id: string,
    readonly cloud: SandboxCloudName,
    readonly displayName: string,
    readonly domains: TenantDomain[],
    createdAt: Date = new Date('2020-01-01T00:00:00Z'),
  ) {
    this.createdDateTime = createdAt.toISOString();
  }

  get defaultDomain(): string {
    return (this.domains.find((d) => d.isDefault) ?? this.domains[0]).name;
  }

  get changeSeq(): number {
    return this.changes.length;
  }

  isGlobalAdministrator(user: DirectoryUser): boolean {
    return user.roles.includes(GLOBAL_ADMINISTRATOR);
  }

  /** Who may grant admin consent for the whole tenant (Entra: Global or Privileged Role Administrator). */
  canGrantTenantConsent(user: DirectoryUser): boolean {
    return this.isGlobalAdministrator(user) || user.roles.includes(PRIVILEGED_ROLE_ADMINISTRATOR);
  }

  findUser(idOrUpn: string): DirectoryUser | undefined {
    return this.usersById.get(idOrUpn.toLowerCase()) ?? this.usersByUpn.get(idOrUpn.toLowerCase());
  }

  findGroup(id: string): DirectoryGroup | undefined {
    return this.groupsById.get(id.toLowerCase());
  }

  findObject(id: string): DirectoryObject | undefined {
    return this.usersById.get(id.toLowerCase()) ?? this.groupsById.get(id.toLowerCase());
  }

  /** Adds a user; `logChange` is false while a fixture loads (the initial delta round lists everything anyway). */
  addUser(input: NewUser, logChange = true): DirectoryUser {
    const upnLower = input.userPrincipalName.toLowerCase();
    if (this.usersByUpn.has(upnLower)) throw new DirectoryError(`A user with userPrincipalName "${input.userPrincipalName}" already exists.`, 409);
    const id = (input.id ?? newGuid()).toLowerCase();
    if (this.findObject(id)) throw new DirectoryError(`An object with id "${id}" already exists.`, 409);
    const [first, ...rest] = input.displayName.split(' ');
    const mail = input.mail === undefined ? input.userPrincipalName : input.mail;
    const user: DirectoryUser = {
      kind: 'user',
      seq: this.nextSeq++,
      id,
      userPrincipalName: input.userPrincipalName,
      upnLower,
      displayName: input.displayName,
      displayNameLower: input.displayName.toLowerCase(),
      givenName: input.givenName === undefined ? first || null : input.givenName,
      surname: input.surname === undefined ? rest.join(' ') || null : input.surname,
      mail,
      mailLower: mail ? mail.toLowerCase() : null,
      jobTitle: input.jobTitle ?? null,
      password: input.password,
      accountEnabled: input.accountEnabled ?? true,
      roles: input.roles ?? [],
      createdDateTime: this.createdDateTime,
      memberOf: [],
      tokensValidFromMs: 0,
    };
    this.users.push(user);
    this.usersById.set(id, user);
    this.usersByUpn.set(upnLower, user);
    if (logChange) this.log('user', id, 'upsert');
    return user;
  }

  updateUser(user: DirectoryUser, patch: { displayName?: string; accountEnabled?: boolean; password?: string; roles?: string[] }, nowMs: number): void {
    if (patch.displayName !== undefined) {
      user.displayName = patch.displayName;
      user.displayNameLower = patch.displayName.toLowerCase();
    }
    if (patch.accountEnabled !== undefined) user.accountEnabled = patch.accountEnabled;
    if (patch.roles !== undefined) user.roles = patch.roles;
    user.defaultJson = undefined;
    if (patch.password !== undefined) {
      user.password = patch.password;
      // An administrator's password reset revokes refresh tokens and sessions (AADSTS50173).
      user.tokensValidFromMs = nowMs;
    }
    this.log('user', user.id, 'upsert');
  }

  deleteUser(user: DirectoryUser): void {
    for (const groupId of [...user.memberOf]) this.removeMember(this.groupsById.get(groupId)!, user.id);
    removeBySeq(this.users, user.seq);
    this.usersById.delete(user.id);
    this.usersByUpn.delete(user.upnLower);
    this.log('user', user.id, 'delete');
  }

  addGroup(input: NewGroup, logChange = true): DirectoryGroup {
    const id = (input.id ?? newGuid()).toLowerCase();
    if (this.findObject(id)) throw new DirectoryError(`An object with id "${id}" already exists.`, 409);
    const mail = input.mail ?? null;
    const group: DirectoryGroup = {
      kind: 'group',
      seq: this.nextSeq++,
      id,
      displayName: input.displayName,
      displayNameLower: input.displayName.toLowerCase(),
      description: input.description ?? null,
      mail,
      mailLower: mail ? mail.toLowerCase() : null,
      mailNickname: input.mailNickname ?? (mail ? mail.split('@')[0] : input.displayName.replace(/[^A-Za-z0-9]/g, '')),
      mailEnabled: input.mailEnabled ?? Boolean(mail),
      securityEnabled: input.securityEnabled ?? true,
      createdDateTime: this.createdDateTime,
      members: new Set(),
      memberOf: [],
    };
    this.groups.push(group);
    this.groupsById.set(id, group);
    if (logChange) this.log('group', id, 'upsert');
    return group;
  }

  deleteGroup(group: DirectoryGroup): void {
    for (const memberId of [...group.members]) this.removeMember(group, memberId);
    for (const parentId of [...group.memberOf]) this.removeMember(this.groupsById.get(parentId)!, group.id);
    removeBySeq(this.groups, group.seq);
    this.groupsById.delete(group.id);
    this.log('group', group.id, 'delete');
  }

  addMember(group: DirectoryGroup, member: DirectoryObject, logChange = true): boolean {
    if (group.members.has(member.id)) return false;
    group.members.add(member.id);
    member.memberOf.push(group.id);
    if (logChange) this.log('group', group.id, 'memberAdded', member.id, member.kind);
    return true;
  }

  removeMember(group: DirectoryGroup, memberId: string): boolean {
    if (!group.members.delete(memberId)) return false;
    const member = this.findObject(memberId);
    if (member) member.memberOf = member.memberOf.filter((id) => id !== group.id);
    this.log('group', group.id, 'memberRemoved', memberId, member?.kind ?? 'user');
    return true;
  }

  /** Every group the object belongs to, directly or through nested groups. */
  transitiveMemberOf(object: DirectoryObject): Set<string> {
    const seen = new Set<string>();
    const queue = [...object.memberOf];
    while (queue.length > 0) {
      const id = queue.pop()!;
      if (seen.has(id)) continue;
      seen.add(id);
      const group = this.groupsById.get(id);
      if (group) queue.push(...group.memberOf);
    }
    return seen;
  }

  /** Every member of the group, directly or through nested groups, each once (breadth first). */
  transitiveMembers(group: DirectoryGroup): DirectoryObject[] {
    const seen = new Set<string>([group.id]);
    const result: DirectoryObject[] = [];
    const queue: DirectoryGroup[] = [group];
    for (let i = 0; i < queue.length; i++) {
      for (const memberId of queue[i].members) {
        if (seen.has(memberId)) continue;
        seen.add(memberId);
        const member = this.findObject(memberId);
        if (!member) continue;
        result.push(member);
        if (member.kind === 'group') queue.push(member);
      }
    }
    return result;
  }

  private log(objectType: 'user' | 'group', id: string, change: ChangeKind, memberId?: string, memberType?: 'user' | 'group'): void {
    this.version++;
    this.changes.push({ seq: this.changes.length + 1, objectType, id, change, memberId, memberType });
  }
}

function removeBySeq<T extends { seq: number }>(items: T[], seq: number): void {
  const index = lowerBoundBySeq(items, seq);
  if (items[index]?.seq === seq) items.splice(index, 1);
}

/** Index of the first item whose seq is >= `seq` (items are ordered by seq). */
export function lowerBoundBySeq(items: readonly { seq: number }[], seq: number): number {
  let lo = 0;
  let hi = items.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (items[mid].seq < seq) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** All tenants of both clouds, found by id or by any of their domain names within a cloud. */
export class Directory {
  private readonly tenants = new Map<string, Tenant>();
  private readonly byDomain = new Map<string, Tenant>();

  constructor(tenants: Tenant[] = []) {
    this.replaceAll(tenants);
  }

  replaceAll(tenants: Tenant[]): void {
    this.tenants.clear();
    this.byDomain.clear();
    for (const tenant of tenants) {
      this.tenants.set(tenant.id, tenant);
      for (const domain of tenant.domains) this.byDomain.set(`${tenant.cloud}|${domain.name.toLowerCase()}`, tenant);
    }
  }

  all(): Tenant[] {
    return [...this.tenants.values()];
  }

  byId(id: string): Tenant | undefined {
    return this.tenants.get(id.toLowerCase());
  }

  /** A tenant GUID or domain name as it appears in a login URL, looked up in one cloud only. */
  resolve(cloud: SandboxCloudName, idOrDomain: string): Tenant | undefined {
    const byId = this.tenants.get(idOrDomain.toLowerCase());
    if (byId) return byId.cloud === cloud ? byId : undefined;
    return this.byDomain.get(`${cloud}|${idOrDomain.toLowerCase()}`);
  }

  /** The user whose UPN domain belongs to a tenant of this cloud. */
  findUserByUpn(cloud: SandboxCloudName, upn: string): { tenant: Tenant; user: DirectoryUser } | undefined {
    const at = upn.lastIndexOf('@');
    if (at < 0) return undefined;
    const tenant = this.resolve(cloud, upn.slice(at + 1));
    const user = tenant?.usersByUpn.get(upn.toLowerCase());
    return tenant && user ? { tenant, user } : undefined;
  }
}
