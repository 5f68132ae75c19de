import { randomUUID } from 'node:crypto';
import type { AuditLog } from '../audit/store';
import { isUniqueViolation, type Db } from '../db/database';
import { ConflictError, TooManyRequestsError, UnauthorizedError } from '../http/errors';
import type { AuthContext } from '../http/context';
import { decoyPasswordHash, hashPassword, needsRehash, withPasswordCheck } from '../security/passwords';
import { checkPasswordStrength } from './password-policy';
import type { SessionStore } from './session-store';
import type { SignInAttempt, SignInLimiter } from './sign-in-limiter';
import { insertUserRow, newUserRow, setPasswordHash } from '../users/store';

export interface PartnerServiceDeps {
  db: Db;
  sessions: SessionStore;
  limiter: SignInLimiter;
  audit: AuditLog;
}

export interface SignedIn {
  token: string;
  context: AuthContext;
}

export type PartnerService = ReturnType<typeof createPartnerService>;

export function createPartnerService({ db, sessions, limiter, audit }: PartnerServiceDeps) {
  /** `groupRole`: the role a Microsoft 365 sign-in earned through added groups (the higher role applies). */
  async function openSession(context: Omit<AuthContext, 'sessionId' | 'csrfToken'>, clientAddress: string, groupRole?: 'administrator' | 'member' | null): Promise<SignedIn> {
    const { token, csrfToken, sessionId } = await sessions.create({ partnerId: context.partner.id, userId: context.user.id, clientAddress, groupRole });
    const role = groupRole === 'administrator' ? 'administrator' : context.user.role;
    return { token, context: { ...context, user: { ...context.user, role }, sessionId, csrfToken } };
  }

  /** A hash made with older parameters is replaced by today's, unless the password changed meanwhile. */
  async function rehash(userId: string, oldHash: string, password: string): Promise<void> {
    try {
      const fresh = await hashPassword(password);
      await setPasswordHash(db, userId, fresh, { unlessChangedFrom: oldHash });
    } catch {
      // Busy or failed: the sign-in still succeeds and the next one tries again.
    }
  }

  return {
    openSession,

    async signUp(input: { organizationName: string; email: string; password: string }, clientAddress: string): Promise<SignedIn> {
      checkPasswordStrength(input.password, { email: input.email, organizationName: input.organizationName });
      const passwordHash = await hashPassword(input.password);
      const now = new Date().toISOString();
      const partner = { id: randomUUID(), name: input.organizationName };
      // No name is known at sign-up: the address stands for the person (never a name made from it).
      const displayName = input.email;
      const user = {
        id: randomUUID(),
        email: input.email,
        displayName,
        role: 'administrator' as const,
        isOwner: true,
        signInType: 'local' as const,
      };
      try {
        await db.transaction().execute(async (trx) => {
          const taken = await trx
            .selectFrom('users')
            .select('id')
            .where('email_key', '=', input.email)
            .where('sign_in_type', '=', 'local')
            .where('status', '!=', 'invited')
            .executeTakeFirst();
          if (taken) throw emailTaken();
          await trx.insertInto('partners').values({ id: partner.id, name: partner.name, created_at: now }).execute();
          await insertUserRow(trx, newUserRow({ id: user.id, partner_id: partner.id, email: input.email, display_name: displayName, password_hash: passwordHash, role: 'administrator', is_owner: 1 }, now));
          await audit.record(
            { partnerId: partner.id, actor: { userId: user.id, email: user.email }, action: 'partner.signup', target: { type: 'partner', id: partner.id, name: partner.name }, outcome: 'success', clientAddress },
            trx,
          );
        });
      } catch (error) {
        if (isUniqueViolation(error)) throw emailTaken();
        throw error;
      }
      return openSession({ user, partner }, clientAddress);
    },

    async signIn(input: { email: string; password: string }, clientAddress: string): Promise<SignedIn> {
      const failure = (reason: string, row?: { id: string; partnerId: string }) =>
        audit.record({
          partnerId: row?.partnerId ?? null,
          actor: { userId: row?.id ?? null, email: input.email },
          action: 'session.signin',
          target: { type: 'user', id: row?.id ?? null, name: input.email },
          outcome: 'failure',
          clientAddress,
          details: { reason },
        });
      // Made (once) before the hashing slot is taken: it is itself a hash.
      const decoy = await decoyPasswordHash();
      // The hashing slot first: a sign-in the server cannot check now is refused (503) before it is counted.
      const { attempt, row, ok } = await withPasswordCheck(async (check) => {
        // Counted before the password is checked, so a parallel burst gets no more guesses than the limit.
        let counted: SignInAttempt;
        try {
          counted = await limiter.begin(input.email, clientAddress);
        } catch (error) {
          if (error instanceof TooManyRequestsError) await failure('rate_limited');
          throw error;
        }
        const account = await db
          .selectFrom('users as u')
          .innerJoin('partners as p', 'p.id', 'u.partner_id')
          .select(['u.id', 'u.email', 'u.display_name', 'u.role', 'u.is_owner', 'u.status', 'u.password_hash', 'p.id as partnerId', 'p.name as partnerName'])
          .where('u.email_key', '=', input.email)
          .where('u.sign_in_type', '=', 'local')
          // Pending invitations are not accounts (and may exist in several partners).
          .where('u.status', '!=', 'invited')
          .executeTakeFirst();
        return { attempt: counted, row: account, ok: await check(input.password, account?.password_hash ?? decoy) };
      });
      if (!row || !ok || row.status !== 'active') {
        await failure(!row ? 'unknown_account' : !ok ? 'wrong_password' : `account_${row.status}`, row);
        throw new UnauthorizedError('The email or password is incorrect.', 'INVALID_CREDENTIALS');
      }
      await attempt.succeeded();
      if (row.password_hash && needsRehash(row.password_hash)) await rehash(row.id, row.password_hash, input.password);
      const context = {
        user: { id: row.id, email: row.email, displayName: row.display_name, role: row.role, isOwner: row.is_owner === 1, signInType: 'local' as const },
        partner: { id: row.partnerId, name: row.partnerName },
      };
      const signedIn = await openSession(context, clientAddress);
      await audit.record({ partnerId: row.partnerId, actor: { userId: row.id, email: row.email }, action: 'session.signin', target: { type: 'user', id: row.id, name: row.email }, outcome: 'success', clientAddress, details: { method: 'password' } });
      return signedIn;
    },

    async signOut(auth: AuthContext, clientAddress: string): Promise<void> {
      await sessions.destroy(auth.sessionId);
      await audit.record({ partnerId: auth.partner.id, actor: { userId: auth.user.id, email: auth.user.email }, action: 'session.signout', target: { type: 'user', id: auth.user.id, name: auth.user.email }, outcome: 'success', clientAddress });
    },
  };
}

const emailTaken = () => new ConflictError('EMAIL_TAKEN', 'An account with this email already exists. Sign in instead.', { field: 'email' });
