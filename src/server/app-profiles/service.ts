import type { AuditLog } from '../audit/store';
import type { AuthContext } from '../http/context';
import { ConflictError, NotFoundError } from '../http/errors';
import type { CheckOutcome } from './check';
import { isUniqueViolation } from '../db/database';
import { isForeignKeyViolation } from '../db/violations';
import type { AppProfileRow, AppProfileStore, ListQuery } from './store';
import { toAppProfileView, type AppProfileView } from './view';

export interface DeleteResult {
  deleted: string[];
  blocked: { id: string; name: string; code: 'PROFILE_IN_USE'; message: string; inUse: { users: number; groups: number } }[];
}

export type AppProfileService = ReturnType<typeof createAppProfileService>;

/** The rules of app profiles that need no round trip to Microsoft. */
export function createAppProfileService(deps: { store: AppProfileStore; check: (row: AppProfileRow) => Promise<CheckOutcome>; audit: AuditLog }) {
  const { store, audit } = deps;

  async function view(partnerId: string, id: string): Promise<AppProfileView> {
    const row = await store.get(partnerId, id);
    if (!row) throw new NotFoundError('The app profile');
    return toAppProfileView(row, (await store.inUseCounts(partnerId, [id])).get(id)!);
  }

  async function assertNameFree(partnerId: string, name: string, exceptId?: string): Promise<void> {
    const existing = await store.findByName(partnerId, name.toLowerCase());
    if (existing && existing.id !== exceptId) throw nameTaken(name);
  }

  return {
    view,
    assertNameFree,

    /** Step one of Create: whether the partner already has a profile of this name (case aside), in words. */
    async nameAvailability(partnerId: string, name: string): Promise<{ available: boolean; message: string | null }> {
      const existing = await store.findByName(partnerId, name.toLowerCase());
      return existing ? { available: false, message: nameTaken(name).message } : { available: true, message: null };
    },

    async list(partnerId: string, query: ListQuery): Promise<{ items: AppProfileView[]; nextCursor: string | null }> {
      const { rows, nextCursor } = await store.list(partnerId, query);
      const counts = await store.inUseCounts(partnerId, rows.map((r) => r.id));
      return { items: rows.map((r) => toAppProfileView(r, counts.get(r.id)!)), nextCursor };
    },

    async rename(auth: AuthContext, id: string, name: string, clientAddress: string): Promise<AppProfileView> {
      const row = await store.get(auth.partner.id, id);
      if (!row) throw new NotFoundError('The app profile');
      if (row.name !== name) {
        await assertNameFree(auth.partner.id, name, id);
        try {
          await store.update(auth.partner.id, id, { name, name_key: name.toLowerCase() });
        } catch (error) {
          if (isUniqueViolation(error)) throw nameTaken(name);
          throw error;
        }
        await audit.record({
          partnerId: auth.partner.id,
          actor: { userId: auth.user.id, email: auth.user.email },
          action: 'app_profile.rename',
          target: { type: 'app_profile', id, name },
          outcome: 'success',
          clientAddress,
          details: { previousName: row.name },
        });
      }
      return view(auth.partner.id, id);
    },

    async check(auth: AuthContext, id: string, clientAddress: string): Promise<AppProfileView> {
      const row = await store.get(auth.partner.id, id);
      if (!row) throw new NotFoundError('The app profile');
      const outcome = await deps.check(row);
      await audit.record({
        partnerId: auth.partner.id,
        actor: { userId: auth.user.id, email: auth.user.email },
        action: 'app_profile.check',
        target: { type: 'app_profile', id, name: row.name },
        outcome: outcome === 'active' ? 'success' : 'failure',
        clientAddress,
        details: { result: outcome, tenantId: row.tenant_id, microsoftAccount: row.authorized_by_upn },
      });
      return view(auth.partner.id, id);
    },

    /**
     * Deletes the profiles nothing uses; those in use stay, each with the reason. Unknown or foreign ids
     * make the whole request 404 (and nothing is deleted), so no other partner's ids are revealed.
     */
    async delete(auth: AuthContext, ids: string[], clientAddress: string): Promise<DeleteResult> {
      const unique = [...new Set(ids)];
      const rows = await store.getMany(auth.partner.id, unique);
      if (rows.length !== unique.length) throw new NotFoundError('An app profile');
      const result: DeleteResult = { deleted: [], blocked: [] };
      for (const row of rows) {
        let outcome: Awaited<ReturnType<AppProfileStore['deleteIfUnused']>>;
        try {
          outcome = await store.deleteIfUnused(auth.partner.id, row.id);
        } catch (error) {
          // The foreign key refused: a user was added through it at this very moment.
          if (!isForeignKeyViolation(error)) throw error;
          outcome = { deleted: false, inUse: (await store.inUseCounts(auth.partner.id, [row.id])).get(row.id)! };
        }
        if (outcome.deleted) {
          result.deleted.push(row.id);
        } else {
          const { users, groups } = outcome.inUse;
          result.blocked.push({
            id: row.id,
            name: row.name,
            code: 'PROFILE_IN_USE',
            message: `“${row.name}” cannot be deleted: used by ${users} Microsoft 365 user${users === 1 ? '' : 's'} and ${groups} group${groups === 1 ? '' : 's'} in User management.`,
            inUse: outcome.inUse,
          });
        }
        await audit.record({
          partnerId: auth.partner.id,
          actor: { userId: auth.user.id, email: auth.user.email },
          action: 'app_profile.delete',
          target: { type: 'app_profile', id: row.id, name: row.name },
          outcome: outcome.deleted ? 'success' : 'failure',
          clientAddress,
          details: outcome.deleted ? { tenantId: row.tenant_id, cloud: row.cloud } : { code: 'PROFILE_IN_USE', ...outcome.inUse },
        });
      }
      return result;
    },
  };
}

const nameTaken = (name: string) =>
  new ConflictError('NAME_TAKEN', `An app profile named “${name}” already exists. Choose another name.`, { field: 'name' });

