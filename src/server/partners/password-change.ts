import type { AuditLog } from '../audit/store';
import type { Db } from '../db/database';
import type { AuthContext } from '../http/context';
import { ConflictError, FieldError, TooManyRequestsError } from '../http/errors';
import { hashPassword, verifyPassword } from '../security/passwords';
import { checkPasswordStrength } from './password-policy';
import type { SessionStore } from './session-store';
import { countAttempt, type CountedAttempt } from './sign-in-limiter';
import { passwordOf, setPasswordHash } from '../users/store';

/** Wrong current passwords allowed per person in the window, so a stolen session cannot guess on. */
const WRONG_LIMIT = 5;
const WRONG_WINDOW_MS = 15 * 60_000;

const tooManyWrongPasswords = (waitSeconds: number) => new TooManyRequestsError(`Too many wrong passwords. Wait ${Math.ceil(waitSeconds / 60)} minute${waitSeconds > 60 ? 's' : ''} and try again.`, waitSeconds);

export type PasswordChange = ReturnType<typeof createPasswordChange>;

/**
 * A local user changes their own password with the current one. Every other session of the person ends
 * with it (a session opened with the old password is not trusted after the change); this one stays.
 */
export function createPasswordChange(deps: { db: Db; sessions: SessionStore; audit: AuditLog }) {
  const { db, sessions, audit } = deps;

  return async function changePassword(auth: AuthContext, input: { currentPassword: string; newPassword: string }, clientAddress: string): Promise<{ endedSessions: number }> {
    const record = (outcome: 'success' | 'failure', details: Record<string, unknown>) =>
      audit.record({ partnerId: auth.partner.id, actor: { userId: auth.user.id, email: auth.user.email }, action: 'user.password_change', target: { type: 'user', id: auth.user.id, name: auth.user.email }, outcome, clientAddress, details });
    if (auth.user.signInType !== 'local') {
      await record('failure', { code: 'NOT_LOCAL' });
      throw new ConflictError('NOT_LOCAL', 'Microsoft 365 accounts change their password at Microsoft.');
    }
    // Counted before the check, so a burst of parallel guesses cannot all pass the limit.
    let attempt: CountedAttempt;
    try {
      attempt = await countAttempt(db, `password-change:${auth.user.id}`, WRONG_LIMIT, WRONG_WINDOW_MS, tooManyWrongPasswords);
    } catch (error) {
      if (error instanceof TooManyRequestsError) await record('failure', { code: 'TOO_MANY_REQUESTS' });
      throw error;
    }
    const user = await passwordOf(db, auth.partner.id, auth.user.id);
    let right: boolean;
    try {
      right = !!user?.password_hash && (await verifyPassword(input.currentPassword, user.password_hash));
    } catch (error) {
      await attempt.withdrawn(); // never checked (say, the server was too busy to hash): it does not count
      throw error;
    }
    if (!user || !right) {
      await record('failure', { code: 'WRONG_PASSWORD' });
      throw new FieldError('currentPassword', 'The current password is not right.', 'WRONG_PASSWORD');
    }
    await attempt.withdrawn(); // only wrong passwords count
    checkPasswordStrength(input.newPassword, { email: user.email, organizationName: auth.partner.name }, 'newPassword');
    const passwordHash = await hashPassword(input.newPassword);
    const endedSessions = await db.transaction().execute(async (trx) => {
      await setPasswordHash(trx, auth.user.id, passwordHash, { partnerId: auth.partner.id });
      return sessions.destroyOthers(auth.partner.id, auth.user.id, auth.sessionId, trx);
    });
    await record('success', { endedSessions });
    return { endedSessions };
  };
}
