import type { Directory, NewGroup, NewUser } from './directory';
import { DirectoryError } from './directory';

/**
 * A change to a tenant made through the control endpoints. Each carries everything needed to apply it again
 * (ids chosen, instants), so the state folder keeps the fixture plus these changes and replays them at start-up:
 * the directory, its delta change log and every delta token come back exactly as they were.
 */
export type TenantChange =
  | { op: 'addUser'; tenantId: string; user: NewUser & { id: string } }
  | { op: 'updateUser'; tenantId: string; userId: string; patch: { displayName?: string; accountEnabled?: boolean; password?: string; roles?: string[] }; atMs: number }
  | { op: 'deleteUser'; tenantId: string; userId: string }
  | { op: 'addGroup'; tenantId: string; group: NewGroup & { id: string }; memberIds: string[] }
  | { op: 'deleteGroup'; tenantId: string; groupId: string }
  | { op: 'addMember'; tenantId: string; groupId: string; memberId: string }
  | { op: 'removeMember'; tenantId: string; groupId: string; memberId: string }
  | { op: 'revokeSessions'; tenantId: string; userId: string; atMs: number };

/** Applies one change; throws DirectoryError (404/409) when it does not fit the directory. */
export function applyTenantChange(directory: Directory, change: TenantChange): void {
  const tenant = directory.byId(change.tenantId);
  if (!tenant) throw new DirectoryError(`No tenant '${change.tenantId}'.`, 404);
  const user = (id: string) => tenant.usersById.get(id) ?? missing(`user '${id}'`);
  const group = (id: string) => tenant.groupsById.get(id) ?? missing(`group '${id}'`);
  switch (change.op) {
    case 'addUser':
      tenant.addUser(change.user);
      return;
    case 'updateUser':
      tenant.updateUser(user(change.userId), change.patch, change.atMs);
      return;
    case 'deleteUser':
      tenant.deleteUser(user(change.userId));
      return;
    case 'addGroup': {
      const members = change.memberIds.map((id) => tenant.findObject(id) ?? missing(`member '${id}'`));
      const created = tenant.addGroup(change.group);
      for (const member of members) tenant.addMember(created, member);
      return;
    }
    case 'deleteGroup':
      tenant.deleteGroup(group(change.groupId));
      return;
    case 'addMember':
      tenant.addMember(group(change.groupId), tenant.findObject(change.memberId) ?? missing(`member '${change.memberId}'`));
      return;
    case 'removeMember':
      tenant.removeMember(group(change.groupId), change.memberId);
      return;
    case 'revokeSessions':
      user(change.userId).tokensValidFromMs = change.atMs;
      return;
  }
}

function missing(what: string): never {
  throw new DirectoryError(`No ${what} in the tenant.`, 404);
}
