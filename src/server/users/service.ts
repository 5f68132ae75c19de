import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { AppProfilesFeature } from '../app-profiles/index';
import { graphRefusalReason, MicrosoftUnreachableError, ProfileExpiredError, reasonOf } from '../app-profiles/health';
import type { AppProfileRow } from '../app-profiles/store';
import type { AuditLog } from '../audit/store';
import { isUniqueViolation } from '../db/database';
import type { AuthContext } from '../http/context';
import { BadRequestError, ConflictError, FieldError, NotFoundError } from '../http/errors';
import { GraphError, type GraphClient } from '../microsoft/graph';
import type { SessionStore } from '../partners/session-store';
import { checkPasswordStrength, hashPassword } from '../security/passwords';
import type { GroupMemberDownloads } from './group-members';
import { activationHash, newActivation, type Invitation, type InvitationDelivery } from './invitations';
import type { UserListQuery, UserRow, UserStore } from './store';
import { toUserView, type UserView } from './view';

export type RejectionCode =
  | 'INVALID_EMAIL'
  | 'DUPLICATE_IN_REQUEST'
  | 'ALREADY_ADDED'
  | 'FOREIGN_DOMAIN'
  | 'NOT_FOUND_IN_TENANT'
  | 'ACCOUNT_DISABLED'
  | 'PROFILE_DELETED'
  | 'EMAIL_TAKEN';

export interface Rejection {
  email: string;
  code: RejectionCode;
  message: string;
}

export interface AddInput {
  signInType: 'local' | 'microsoft365';
  emails: string[];
  appProfileId?: string;
  role: 'administrator' | 'member';
}

export interface AddResult {
  added: UserView[];
  rejected: Rejection[];
  invitations?: Invitation[];
  /** Invitations the mail server accepted (SMTP configured). */
  invitationsEmailed?: number;
}

export interface DeleteResult {
  deleted: string[];
  blocked: { id: string; email: string; code: 'OWNER'; message: string }[];
}

export interface DirectoryEntry {
  id: string;
  displayName: string;
  email: string | null;
  kind: 'user' | 'group';
}

/** Graph look-ups in flight at once while checking the addresses of one request. */
const LOOKUP_CONCURRENCY = 8;
const BROWSE_PAGE_SIZE = 25;
const MAX_EMAIL_LENGTH = 254;
const emailFormat = z.email();

const MESSAGES: Record<RejectionCode, (email: string, extra?: string) => string> = {
  INVALID_EMAIL: (e) => `“${e}” is not a valid email address.`,
  DUPLICATE_IN_REQUEST: (e) => `“${e}” appears more than once in this request; it is added once.`,
  ALREADY_ADDED: (e) => `${e} is already a user of this portal.`,
  FOREIGN_DOMAIN: (e, tenant) => `${e} is not in a domain of the tenant ${tenant ?? ''}; choose the app profile of that address’s tenant.`.replace(' ;', ';'),
  NOT_FOUND_IN_TENANT: (e, tenant) => `No user or group with the address ${e} exists in the tenant ${tenant ?? ''}.`.replace(' .', '.'),
  ACCOUNT_DISABLED: (e) => `The Microsoft 365 account ${e} is disabled (sign-in blocked); enable it in the tenant first.`,
  PROFILE_DELETED: (e) => `${e} was not added: the app profile was deleted while adding.`,
  EMAIL_TAKEN: (e) => `${e} already has a local account in a portal; use another address or add it as a Microsoft 365 user.`,
};

export interface UserServiceDeps {
  store: UserStore;
  audit: AuditLog;
  sessions: SessionStore;
  appProfiles: Pick<AppProfilesFeature, 'store' | 'health'>;
  downloads: GroupMemberDownloads;
  invitations: InvitationDelivery;
  publicUrl: string;
}

/** The rules of user management: who may be added, invited, activated and removed. */
export function createUserService(deps: UserServiceDeps) {
  const { store, audit, sessions, appProfiles, downloads } = deps;

  async function views(partnerId: string, rows: Awaited<ReturnType<UserStore['getWithProfile']>>): Promise<UserView[]> {
    const failedCandidates = rows.filter((r) => r.kind === 'group' && r.sync_total !== null && r.sync_total !== undefined && !downloads.isRunning(partnerId, r.id));
    const failures = await store.lastDownloadFailures(partnerId, failedCandidates.map((r) => r.id));
    return rows.map((r) => toUserView(r, failures.get(r.id) ?? null));
  }

  async function viewsById(partnerId: string, ids: string[]): Promise<UserView[]> {
    const rows = await store.getWithProfile(partnerId, ids);
    const byId = new Map(rows.map((r) => [r.id, r]));
    return views(
      partnerId,
      ids.map((id) => byId.get(id)).filter((r) => r !== undefined),
    );
  }

  /** A profile the partner owns and that is active; otherwise 404 or 409 PROFILE_EXPIRED. */
  async function usableProfile(partnerId: string, profileId: string): Promise<AppProfileRow> {
    const profile = await appProfiles.store.get(partnerId, profileId);
    if (!profile) throw new NotFoundError('The app profile');
    if (profile.status !== 'active') throw new ProfileExpiredError(profile.name, reasonOf(profile));
    return profile;
  }

  /** Graph failures while acting through a profile: refusals mark it expired, outages answer 503; nothing is changed. */
  async function throughGraph<T>(profile: AppProfileRow, work: (graph: GraphClient) => Promise<T>): Promise<T> {
    try {
      return await work(appProfiles.health.graphFor(profile));
    } catch (error) {
      if (error instanceof GraphError && (error.status === 401 || error.status === 403)) {
        const reason = graphRefusalReason(error);
        await appProfiles.health.markExpired(profile, reason, 'use');
        throw new ProfileExpiredError(profile.name, reason);
      }
      if (error instanceof GraphError) throw new MicrosoftUnreachableError(error.status ? `HTTP ${error.status}` : error.code);
      throw error;
    }
  }

  function audited(auth: AuthContext, clientAddress: string) {
    return (action: string, target: { id: string | null; name: string }, outcome: 'success' | 'failure', details: Record<string, unknown>) =>
      audit.record({
        partnerId: auth.partner.id,
        actor: { userId: auth.user.id, email: auth.user.email },
        action,
        target: { type: 'user', ...target },
        outcome,
        clientAddress,
        details,
      });
  }

  /** Splits the requested addresses into well-formed unique ones and rejections, keeping the request order. */
  function screen(emails: string[]): { valid: string[]; rejected: Rejection[] } {
    const valid: string[] = [];
    const rejected: Rejection[] = [];
    const seen = new Set<string>();
    for (const raw of emails) {
      const email = raw.trim().toLowerCase();
      if (email.length === 0 || email.length > MAX_EMAIL_LENGTH || !emailFormat.safeParse(email).success) {
        rejected.push({ email: raw.trim(), code: 'INVALID_EMAIL', message: MESSAGES.INVALID_EMAIL(raw.trim()) });
      } else if (seen.has(email)) {
        rejected.push({ email, code: 'DUPLICATE_IN_REQUEST', message: MESSAGES.DUPLICATE_IN_REQUEST(email) });
      } else {
        seen.add(email);
        valid.push(email);
      }
    }
    return { valid, rejected };
  }

  async function addLocal(auth: AuthContext, input: AddInput, valid: string[], rejected: Rejection[], record: ReturnType<typeof audited>): Promise<AddResult> {
    const partnerId = auth.partner.id;
    const inPartner = await store.existingEmails(partnerId, valid);
    const localAnywhere = await store.localEmailsAnywhere(valid);
    const addedIds: string[] = [];
    const invitations: Invitation[] = [];
    for (const email of valid) {
      if (inPartner.has(email)) {
        rejected.push({ email, code: 'ALREADY_ADDED', message: MESSAGES.ALREADY_ADDED(email) });
        continue;
      }
      if (localAnywhere.has(email)) {
        rejected.push({ email, code: 'EMAIL_TAKEN', message: MESSAGES.EMAIL_TAKEN(email) });
        continue;
      }
      const now = Date.now();
      const activation = newActivation(deps.publicUrl, now);
      const row: UserRow = {
        ...baseRow(partnerId, email, email.split('@')[0], input.role, now),
        sign_in_type: 'local',
        kind: 'user',
        status: 'invited',
        activation_token_hash: activation.tokenHash,
        activation_expires_at: activation.expiresAt,
      };
      try {
        await store.insert(row);
      } catch (error) {
        if (!isUniqueViolation(error)) throw error;
        const code = (await store.existingEmails(partnerId, [email])).has(email) ? 'ALREADY_ADDED' : 'EMAIL_TAKEN';
        rejected.push({ email, code, message: MESSAGES[code](email) });
        continue;
      }
      addedIds.push(row.id);
      invitations.push({ email, activationUrl: activation.activationUrl });
      await record('user.add', { id: row.id, name: email }, 'success', { signInType: 'local', kind: 'user', role: input.role, invitationExpiresAt: activation.expiresAt });
    }
    for (const r of rejected) await record('user.add', { id: null, name: r.email }, 'failure', { signInType: 'local', code: r.code });
    const undelivered = await deps.invitations.deliver(invitations);
    return { added: await viewsById(partnerId, addedIds), rejected, invitations: undelivered, invitationsEmailed: invitations.length - undelivered.length };
  }

  async function addMicrosoft(auth: AuthContext, input: AddInput, valid: string[], rejected: Rejection[], record: ReturnType<typeof audited>): Promise<AddResult> {
    const partnerId = auth.partner.id;
    const profile = await usableProfile(partnerId, input.appProfileId!);
    const tenant = profile.tenant_name || profile.tenant_domain;
    const reject = (email: string, code: RejectionCode) => rejected.push({ email, code, message: MESSAGES[code](email, tenant) });

    type Found = { email: string; kind: 'user' | 'group'; objectId: string; displayName: string };
    const found = await throughGraph(profile, async (graph) => {
      const domains = await graph.get<{ value?: { id: string; isVerified?: boolean }[] }>('/domains');
      const tenantDomains = new Set((domains.value ?? []).filter((d) => d.isVerified !== false).map((d) => d.id.toLowerCase()));
      const inPartner = await store.existingEmails(partnerId, valid);
      const toLookUp: string[] = [];
      const outcome = new Map<string, Found | RejectionCode>();
      for (const email of valid) {
        if (inPartner.has(email)) outcome.set(email, 'ALREADY_ADDED');
        else if (!tenantDomains.has(email.slice(email.lastIndexOf('@') + 1))) outcome.set(email, 'FOREIGN_DOMAIN');
        else toLookUp.push(email);
      }
      let next = 0;
      const worker = async () => {
        while (next < toLookUp.length) {
          const email = toLookUp[next++];
          const user = await graph.findUser(email);
          if (user) {
            outcome.set(email, user.accountEnabled === false ? 'ACCOUNT_DISABLED' : { email, kind: 'user', objectId: user.id.toLowerCase(), displayName: user.displayName ?? user.userPrincipalName });
            continue;
          }
          const group = await graph.findGroupByMail(email);
          outcome.set(email, group ? { email, kind: 'group', objectId: group.id.toLowerCase(), displayName: group.displayName ?? email } : 'NOT_FOUND_IN_TENANT');
        }
      };
      await Promise.all(Array.from({ length: Math.min(LOOKUP_CONCURRENCY, toLookUp.length) }, worker));
      return valid.map((email) => outcome.get(email)!);
    });

    const objectIds = found.filter((f): f is Found => typeof f === 'object').map((f) => f.objectId);
    const existingObjects = await store.existingObjects(partnerId, profile.tenant_id, objectIds);
    const takenInRequest = new Set<string>();
    const addedIds: string[] = [];
    const groupIds: string[] = [];
    for (const [i, entry] of found.entries()) {
      const email = valid[i];
      if (typeof entry === 'string') {
        reject(email, entry);
        continue;
      }
      if (existingObjects.has(entry.objectId)) {
        reject(email, 'ALREADY_ADDED');
        continue;
      }
      if (takenInRequest.has(entry.objectId)) {
        reject(email, 'DUPLICATE_IN_REQUEST');
        continue;
      }
      takenInRequest.add(entry.objectId);
      const now = Date.now();
      const row: UserRow = {
        ...baseRow(partnerId, email, entry.displayName, input.role, now),
        sign_in_type: 'microsoft365',
        kind: entry.kind,
        status: 'active',
        app_profile_id: profile.id,
        ms_tenant_id: profile.tenant_id,
        ms_object_id: entry.objectId,
        ...(entry.kind === 'group' ? { sync_done: 0, sync_total: 0 } : {}),
      };
      try {
        await store.insert(row);
      } catch (error) {
        // The foreign key refused: the profile was deleted while these addresses were checked.
        if (isForeignKeyViolation(error)) reject(email, 'PROFILE_DELETED');
        else if (isUniqueViolation(error)) reject(email, 'ALREADY_ADDED');
        else throw error;
        continue;
      }
      addedIds.push(row.id);
      if (entry.kind === 'group') groupIds.push(row.id);
      await record('user.add', { id: row.id, name: email }, 'success', {
        signInType: 'microsoft365',
        kind: entry.kind,
        role: input.role,
        appProfileId: profile.id,
        tenantId: profile.tenant_id,
        microsoftObjectId: entry.objectId,
        microsoftAccount: profile.authorized_by_upn,
      });
    }
    for (const r of rejected) {
      await record('user.add', { id: null, name: r.email }, 'failure', { signInType: 'microsoft365', code: r.code, appProfileId: profile.id, tenantId: profile.tenant_id });
    }
    downloads.startInBackground(partnerId, groupIds);
    return { added: await viewsById(partnerId, addedIds), rejected };
  }

  return {
    async list(partnerId: string, query: UserListQuery): Promise<{ items: UserView[]; nextCursor: string | null }> {
      const { rows, nextCursor } = await store.list(partnerId, query);
      return { items: await views(partnerId, rows), nextCursor };
    },

    async add(auth: AuthContext, input: AddInput, clientAddress: string): Promise<AddResult> {
      if (input.signInType === 'microsoft365' && !input.appProfileId) {
        throw new FieldError('appProfileId', 'Choose the app profile of the tenant these Microsoft 365 users and groups belong to.');
      }
      if (input.signInType === 'local' && input.appProfileId) {
        throw new FieldError('appProfileId', 'Local users are not added through an app profile; leave it out.');
      }
      const { valid, rejected } = screen(input.emails);
      const record = audited(auth, clientAddress);
      return input.signInType === 'local' ? addLocal(auth, input, valid, rejected, record) : addMicrosoft(auth, input, valid, rejected, record);
    },

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
      const ok = await store.activate(row.id, hash, await hashPassword(input.password), now);
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

    /** The browse dialog: users or groups of the profile's tenant, straight from Graph, a page at a time. */
    async browse(partnerId: string, profileId: string, query: { type: 'user' | 'group'; search?: string; cursor?: string }): Promise<{ items: DirectoryEntry[]; nextCursor: string | null }> {
      const profile = await usableProfile(partnerId, profileId);
      const link = query.cursor ? decodeCursor(query.cursor) : undefined;
      const page = await throughGraph(profile, async (graph) => {
        try {
          if (link || query.search) return await graph.searchDirectory(query.type, query.search ?? '', { top: BROWSE_PAGE_SIZE, cursor: link });
          const collection = query.type === 'user' ? 'users' : 'groups';
          const first = await graph.get<{ value?: Record<string, unknown>[]; '@odata.nextLink'?: string }>(`/${collection}`, {
            query: { $select: query.type === 'user' ? 'id,displayName,mail,userPrincipalName' : 'id,displayName,mail', $top: BROWSE_PAGE_SIZE, $orderby: 'displayName' },
          });
          return { items: (first.value ?? []) as never[], nextCursor: first['@odata.nextLink'] };
        } catch (error) {
          if (error instanceof GraphError && (error.code === 'untrustedLink' || error.code === 'invalidLink')) throw invalidCursor();
          throw error;
        }
      });
      const items = (page.items as { id: string; displayName?: string | null; mail?: string | null; userPrincipalName?: string }[]).map((o) => ({
        id: o.id,
        displayName: o.displayName ?? o.mail ?? o.userPrincipalName ?? o.id,
        email: o.mail ?? o.userPrincipalName ?? null,
        kind: query.type,
      }));
      return { items, nextCursor: page.nextCursor ? Buffer.from(page.nextCursor, 'utf8').toString('base64url') : null };
    },

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

function baseRow(partnerId: string, email: string, displayName: string, role: 'administrator' | 'member', now: number): UserRow {
  const at = new Date(now).toISOString();
  return {
    id: randomUUID(),
    partner_id: partnerId,
    email,
    email_key: email,
    display_name: displayName,
    password_hash: null,
    role,
    is_owner: 0,
    sign_in_type: 'local',
    kind: 'user',
    status: 'active',
    app_profile_id: null,
    created_at: at,
    updated_at: at,
  };
}

function decodeCursor(cursor: string): string {
  const link = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!/^https?:\/\//.test(link)) throw invalidCursor();
  return link;
}

const invalidCursor = () => new FieldError('cursor', 'The cursor is not valid for this list; start again from the first page.', 'INVALID_CURSOR');
const activationInvalid = () =>
  new BadRequestError('ACTIVATION_INVALID', 'This activation link is not valid: it was already used, it expired (links last 72 hours) or it is incomplete. Ask an administrator to invite you again.');

function isForeignKeyViolation(error: unknown): boolean {
  const code = (error as { code?: string } | null)?.code;
  return code === '23503' || code === 'SQLITE_CONSTRAINT_FOREIGNKEY';
}
