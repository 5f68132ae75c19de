import type { AuthContext } from '../http/context';
import { BadRequestError, ConflictError, NotFoundError } from '../http/errors';
import { isUniqueViolation } from '../db/database';
import { checkPasswordStrength } from '../partners/password-policy';
import { hashPassword } from '../security/passwords';
import { activationHash, newActivation } from './invitations';
import type { UserSupport } from './support';
import type { UserServiceDeps } from './types';

/** Invitation links: checking one as the page opens, issuing a new one, and setting the password with it. */
export function createActivation(deps: Pick<UserServiceDeps, 'store' | 'audit' | 'invitations' | 'invitationQuota' | 'publicUrl'>, support: Pick<UserSupport, 'audited'>) {
  const { store, audit } = deps;
  const { audited } = support;

  return {
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
  };
}

const activationInvalid = () =>
  new BadRequestError('ACTIVATION_INVALID', 'This activation link is not valid: it was already used, it expired (links last 72 hours) or it is incomplete. Ask an administrator to invite you again.');

