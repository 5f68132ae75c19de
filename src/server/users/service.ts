import type { AuthContext } from '../http/context';
import { BadRequestError, ConflictError, NotFoundError } from '../http/errors';
import { isUniqueViolation } from '../db/database';
import { checkPasswordStrength } from '../partners/password-policy';
import { hashPassword } from '../security/passwords';
import { activationHash, newActivation } from './invitations';
import type { UserListQuery, UserRow } from './store';
import type { UserView } from './view';
import type { DeleteResult, UserServiceDeps } from './types';
import { createUserAdding } from './add';
import { createDirectoryBrowser } from './browse';
import { createUserSupport } from './support';

export type { DeleteResult, UserServiceDeps } from './types';

export type UserService = ReturnType<typeof createUserService>;

/** The rules of user management: who may be added, invited, activated and removed. */
export function createUserService(deps: UserServiceDeps) {
  const { store, audit, sessions, downloads } = deps;
  const support = createUserSupport(deps);
  const { views, viewsById, usableProfile, audited } = support;
  const adding = createUserAdding(deps, support);
  const browser = createDirectoryBrowser(deps, support);

  return {
    async list(partnerId: string, query: UserListQuery): Promise<{ items: UserView[]; nextCursor: string | null }> {
      const { rows, nextCursor } = await store.list(partnerId, query);
      return { items: await views(partnerId, rows), nextCursor };
    },

    add: adding.add,

    /**
     * Removes users and groups. The tenant owner stays (blocked). Unknown or foreign ids make the whole
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
          result.blocked.push({ id, email: row.email, code: 'OWNER', message: `${row.email} is the tenant owner and cannot be removed.` });
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

    /**
     * Whether an activation link still works, asked when the page opens (before a password is typed). Says only
     * the invited address, which the link's holder was sent anyway.
     */
    async checkActivation(token: string): Promise<{ email: string; expiresAt: string }> {
      const row = await store.findByActivationHash(activationHash(token));
      if (!row || !row.activation_expires_at || row.activation_expires_at <= new Date().toISOString()) throw activationInvalid();
      return { email: row.email, expiresAt: row.activation_expires_at };
    },

    /**
     * A new activation link for an invited local user (lost, expired soon, sent to a closed tab): the old link stops
     * working. Mailed when mail is set up, else handed to the administrator once, like at Add.
     */
    async resendInvitation(auth: AuthContext, id: string, clientAddress: string): Promise<{ email: string; expiresAt: string; activationUrl: string | null; emailed: boolean }> {
      const row = await store.get(auth.partner.id, id);
      if (!row) throw new NotFoundError('The user');
      if (row.sign_in_type !== 'local' || row.status !== 'invited') {
        throw new ConflictError('NOT_INVITED', `${row.email} is not waiting for an invitation: only invited local users get a new link.`);
      }
      await deps.invitationQuota?.take(auth.partner.id, 1);
      const now = Date.now();
      const activation = newActivation(deps.publicUrl, now);
      if (!(await store.renewActivation(auth.partner.id, id, activation.tokenHash, activation.expiresAt, new Date(now).toISOString()))) {
        throw new ConflictError('NOT_INVITED', `${row.email} activated the account meanwhile; no new link is needed.`);
      }
      const undelivered = await deps.invitations.deliver([{ email: row.email, activationUrl: activation.activationUrl }]);
      await audited(auth, clientAddress)('user.invitation_resend', { id, name: row.email }, 'success', { invitationExpiresAt: activation.expiresAt, emailed: undelivered.length === 0 });
      return { email: row.email, expiresAt: activation.expiresAt, activationUrl: undelivered[0]?.activationUrl ?? null, emailed: undelivered.length === 0 };
    },

    /** Sets an invited local user's password through the single-use activation link. */
    async activate(input: { token: string; password: string }, clientAddress: string): Promise<{ email: string }> {
      const hash = activationHash(input.token);
      const row = await store.findByActivationHash(hash);
      const now = new Date().toISOString();
      if (!row || !row.activation_expires_at || row.activation_expires_at <= now) {
        await audit.record({
          partnerId: row?.partner_id ?? null,
          actor: { email: row?.email ?? null },
          action: 'user.activate',
          target: { type: 'user', id: row?.id ?? null, name: row?.email ?? null },
          outcome: 'failure',
          clientAddress,
          details: { reason: row ? 'expired' : 'unknown_or_used' },
        });
        throw activationInvalid();
      }
      checkPasswordStrength(input.password, { email: row.email });
      let ok: boolean;
      try {
        ok = await store.activate(row.id, hash, await hashPassword(input.password), now);
      } catch (error) {
        if (!isUniqueViolation(error)) throw error;
        // Another partner's account took this email while the invitation was pending.
        await audit.record({ partnerId: row.partner_id, actor: { userId: row.id, email: row.email }, action: 'user.activate', target: { type: 'user', id: row.id, name: row.email }, outcome: 'failure', clientAddress, details: { reason: 'email_taken' } });
        throw new ConflictError('EMAIL_TAKEN', `${row.email} already has a local account in another portal. Sign in with it, or ask your administrator to invite another address.`);
      }
      if (!ok) throw activationInvalid();
      await audit.record({
        partnerId: row.partner_id,
        actor: { userId: row.id, email: row.email },
        action: 'user.activate',
        target: { type: 'user', id: row.id, name: row.email },
        outcome: 'success',
        clientAddress,
      });
      return { email: row.email };
    },

    browse: browser.browse,

    /**
     * Changes the role of a user or group entry. The tenant owner stays an Administrator, nobody changes
     * their own role (no locking oneself out by surprise), and a member who signed in through a group has
     * the group's role (change the group's). The new role applies to open sessions at once.
     */
    async changeRole(auth: AuthContext, id: string, role: 'administrator' | 'member', clientAddress: string): Promise<UserView> {
      const row = await store.get(auth.partner.id, id);
      if (!row) throw new NotFoundError('The user');
      const refuse = (code: string, message: string) => new ConflictError(code, message, { field: 'role' });
      if (row.is_owner === 1) throw refuse('OWNER_ROLE_FIXED', 'The tenant owner is always an Administrator.');
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
      downloads.startInBackground(auth.partner.id, [id]);
      await audited(auth, clientAddress)('user.group_members.restart', { id, name: row.email }, 'success', { tenantId: row.ms_tenant_id });
      return (await viewsById(auth.partner.id, [id]))[0];
    },
  };
}

const activationInvalid = () =>
  new BadRequestError('ACTIVATION_INVALID', 'This activation link is not valid: it was already used, it expired (links last 72 hours) or it is incomplete. Ask an administrator to invite you again.');

