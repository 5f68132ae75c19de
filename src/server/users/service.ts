import type { AuthContext } from '../http/context';
import { BadRequestError, ConflictError, NotFoundError } from '../http/errors';
import type { UserListQuery, UserRow } from './store';
import type { UserView } from './view';
import type { DeleteResult, UserServiceDeps } from './types';
import { createUserAdding } from './add';
import { createDirectoryBrowser } from './browse';
import { createUserSupport } from './support';
import { createActivation } from './activation';

export type { DeleteResult, UserServiceDeps } from './types';

export type UserService = ReturnType<typeof createUserService>;

/** The rules of user management: who may be added, invited, activated and removed. */
export function createUserService(deps: UserServiceDeps) {
  const { store, sessions, downloads } = deps;
  const support = createUserSupport(deps);
  const { views, viewsById, usableProfile, audited } = support;
  const adding = createUserAdding(deps, support);
  const browser = createDirectoryBrowser(deps, support);

  return {
    /** One page of the list and the total of the whole list with the same filters. */
    async list(partnerId: string, query: UserListQuery): Promise<{ items: UserView[]; nextCursor: string | null; total: number }> {
      const [page, total] = await Promise.all([store.list(partnerId, query), store.count(partnerId, query)]);
      if (!page) throw new BadRequestError('INVALID_CURSOR', 'This list position is not valid for the chosen sort. Load the list again.');
      return { items: await views(partnerId, page.rows), nextCursor: page.nextCursor, total };
    },

    add: adding.add,

    /**
     * Removes users and groups. The portal owner stays (blocked). Unknown or foreign ids make the whole
     * request 404 and nothing is removed. Sessions of the removed users end in the same transaction.
     */
    async delete(auth: AuthContext, ids: string[], clientAddress: string): Promise<DeleteResult> {
      const partnerId = auth.partner.id;
      const unique = [...new Set(ids)];
      const rows = await store.getMany(partnerId, unique);
      if (rows.length !== unique.length) throw new NotFoundError('A user');
      const byId = new Map(rows.map((r) => [r.id, r]));
      const result: DeleteResult = { deleted: [], blocked: [] };
      const removable: UserRow[] = [];
      for (const id of unique) {
        const row = byId.get(id)!;
        if (row.is_owner === 1) {
          result.blocked.push({ id, email: row.email, code: 'OWNER', message: `${row.email} is the portal owner and cannot be removed.` });
        } else {
          removable.push(row);
        }
      }
      if (removable.length > 0) {
        await store.deleteMany(partnerId, removable.map((r) => r.id), (trx, sessionUserIds) => sessions.destroyForUsers(partnerId, sessionUserIds, trx));
      }
      const record = audited(auth, clientAddress);
      for (const row of removable) {
        result.deleted.push(row.id);
        await record('user.remove', { id: row.id, name: row.email }, 'success', {
          signInType: row.sign_in_type,
          kind: row.kind,
          ...(row.sign_in_type === 'microsoft365' ? { appProfileId: row.app_profile_id, tenantId: row.ms_tenant_id, microsoftObjectId: row.ms_object_id } : {}),
        });
      }
      for (const blocked of result.blocked) await record('user.remove', { id: blocked.id, name: blocked.email }, 'failure', { code: 'OWNER' });
      return result;
    },

    ...createActivation(deps, support),

    browse: browser.browse,

    /**
     * Changes the role of a user or group entry. The portal owner stays an Administrator, nobody changes
     * their own role (no locking oneself out by surprise), and a member who signed in through a group has
     * the group's role (change the group's). The new role applies to open sessions at once.
     */
    async changeRole(auth: AuthContext, id: string, role: 'administrator' | 'member', clientAddress: string): Promise<UserView> {
      const row = await store.get(auth.partner.id, id);
      if (!row) throw new NotFoundError('The user');
      const refuse = (code: string, message: string) => new ConflictError(code, message, { field: 'role' });
      if (row.is_owner === 1) throw refuse('OWNER_ROLE_FIXED', 'The portal owner is always an Administrator.');
      if (row.id === auth.user.id) throw refuse('OWN_ROLE', 'You cannot change your own role. Ask another Administrator.');
      if (row.via_group_id) throw refuse('ROLE_FROM_GROUP', `${row.email} signs in through a Microsoft 365 group and has the group’s role. Change the group’s role instead.`);
      if (row.role !== role) {
        await store.setRole(auth.partner.id, id, role);
        await audited(auth, clientAddress)('user.role_change', { id, name: row.email }, 'success', { from: row.role, to: role });
      }
      return (await viewsById(auth.partner.id, [id]))[0];
    },

    /** Starts the membership download of an added group again (after a failure). */
    async restartDownload(auth: AuthContext, id: string, clientAddress: string): Promise<UserView> {
      const row = await store.get(auth.partner.id, id);
      if (!row) throw new NotFoundError('The user');
      if (row.kind !== 'group') throw new BadRequestError('NOT_A_GROUP', `${row.email} is not a Microsoft 365 group; only groups have members to download.`);
      await usableProfile(auth.partner.id, row.app_profile_id!);
      await store.setProgress(auth.partner.id, id, { done: 0, total: 0 });
      await downloads.startInBackground(auth.partner.id, [id]);
      await audited(auth, clientAddress)('user.group_members.restart', { id, name: row.email }, 'success', { tenantId: row.ms_tenant_id });
      return (await viewsById(auth.partner.id, [id]))[0];
    },
  };
}
