import { randomUUID } from 'node:crypto';
import type { AuditLog } from '../audit/store';
import type { Db } from '../db/database';
import { TooManyRequestsError } from '../http/errors';
import { randomToken, sha256 } from '../security/random';
import { deleteExpiredInvitation, expiredInvitations } from './store';

/** An invitation's activation link lives 72 hours and works once. */
export const ACTIVATION_LIFETIME_MS = 72 * 3600_000;

export interface Invitation {
  email: string;
  activationUrl: string;
}

/** A fresh activation token: the link carries the token, the database only its SHA-256. */
export function newActivation(publicUrl: string, now: number): { tokenHash: string; expiresAt: string; activationUrl: string } {
  const token = randomToken(32);
  return {
    tokenHash: sha256(token),
    expiresAt: new Date(now + ACTIVATION_LIFETIME_MS).toISOString(),
    activationUrl: `${publicUrl}/activate?token=${token}`,
  };
}

export const activationHash = (token: string): string => sha256(token);

/**
 * Delivers invitations: by mail when SMTP_URL is set; otherwise the links are handed to the
 * administrator who added the users, once, in the answer of the add request (and never stored or logged).
 */
export interface InvitationDelivery {
  /** The invitations the administrator must pass on themselves. */
  deliver(invitations: Invitation[]): Promise<Invitation[]>;
}

export const showToAdministrator: InvitationDelivery = {
  deliver: async (invitations) => invitations,
};

/** How many invitations one partner may send per hour (a setting); refused past it, nothing created. */
export interface InvitationQuota {
  take(partnerId: string, count: number): Promise<void>;
}

const HOUR = 3600_000;

/**
 * Counted in the database so every instance sees the same total. The sends are recorded before they are
 * counted, so parallel requests cannot together exceed the limit.
 */
export function createInvitationQuota(db: Db, perHour: number): InvitationQuota {
  return {
    async take(partnerId, count) {
      if (count <= 0) return;
      const now = Date.now();
      const rows = Array.from({ length: count }, () => ({ id: randomUUID(), partner_id: partnerId, at: new Date(now).toISOString() }));
      await db.insertInto('invitation_sends').values(rows).execute();
      const sent = await db
        .selectFrom('invitation_sends')
        .select((eb) => [eb.fn.countAll<number>().as('n'), eb.fn.min('at').as('oldest')])
        .where('partner_id', '=', partnerId)
        .where('at', '>', new Date(now - HOUR).toISOString())
        .executeTakeFirstOrThrow();
      if (Number(sent.n) <= perHour) return;
      await db.deleteFrom('invitation_sends').where('id', 'in', rows.map((r) => r.id)).execute();
      const minutes = Math.max(1, Math.ceil(((sent.oldest ? Date.parse(sent.oldest as string) : now) + HOUR - now) / 60_000));
      throw new TooManyRequestsError(
        `Your organization can send ${perHour} invitations an hour. Try again in ${minutes} minute${minutes === 1 ? '' : 's'}, or invite fewer people at once.`,
        minutes * 60,
        'INVITATION_LIMIT',
      );
    },
  };
}

/**
 * Removes invitations whose link expired unused (they were never accounts), one audit entry each, and
 * sends older than an hour. Run by the job runner.
 */
export async function purgeExpiredInvitations(db: Db, audit: AuditLog, now = Date.now()): Promise<number> {
  const at = new Date(now).toISOString();
  const expired = await expiredInvitations(db, at);
  for (const row of expired) {
    if (!(await deleteExpiredInvitation(db, row.id, at))) continue;
    await audit.record({ partnerId: row.partner_id, actor: { userId: null, email: null }, action: 'user.invitation_expired', target: { type: 'user', id: row.id, name: row.email }, outcome: 'success', details: { reason: 'expired' } });
  }
  await db.deleteFrom('invitation_sends').where('at', '<', new Date(now - HOUR).toISOString()).execute();
  return expired.length;
}
