import { randomToken, sha256 } from '../security/random';

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
