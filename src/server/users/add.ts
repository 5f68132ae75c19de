import type { AuthContext } from '../http/context';
import { FieldError } from '../http/errors';
import { isUniqueViolation } from '../db/database';
import { isForeignKeyViolation } from '../db/violations';
import { mapPool } from '../jobs/pool';
import { newActivation, type Invitation } from './invitations';
import { localAddressVerdict, placeFound, rejection, screenAddresses, tenantAddressVerdict, type FoundObject, type Rejection, type RejectionCode } from './rules';
import type { AddInput, AddResult, UserServiceDeps } from './types';
import { newUserRow } from './store';
import type { UserSupport } from './support';

/** Graph look-ups in flight at once while checking the addresses of one request. */
const LOOKUP_CONCURRENCY = 8;

type Recorder = ReturnType<UserSupport['audited']>;

/** Adding local users (invitations) and Microsoft 365 users and groups (checked in the profile's tenant). */
export function createUserAdding(deps: Pick<UserServiceDeps, 'store' | 'downloads' | 'invitations' | 'invitationQuota' | 'publicUrl'>, support: UserSupport) {
  const { store, downloads } = deps;
  const { usableProfile, throughGraph, viewsById } = support;

  async function addLocal(auth: AuthContext, input: AddInput, valid: string[], rejected: Rejection[], record: Recorder): Promise<AddResult> {
    const partnerId = auth.partner.id;
    const inPartner = await store.existingEmails(partnerId, valid);
    const localAnywhere = await store.localEmailsAnywhere(valid);
    const addedIds: string[] = [];
    const invitations: Invitation[] = [];
    const toInvite = valid.filter((email) => localAddressVerdict(email, inPartner, localAnywhere) === null);
    try {
      await deps.invitationQuota?.take(partnerId, toInvite.length);
    } catch (error) {
      await record('user.add', { id: null, name: toInvite.join(', ').slice(0, 300) }, 'failure', { signInType: 'local', code: (error as { code?: string }).code ?? 'INVITATION_LIMIT', count: toInvite.length });
      throw error;
    }
    for (const email of valid) {
      const refused = localAddressVerdict(email, inPartner, localAnywhere);
      if (refused) {
        rejected.push(rejection(email, refused));
        continue;
      }
      const now = Date.now();
      const activation = newActivation(deps.publicUrl, now);
      const row = newUserRow(
        { partner_id: partnerId, email, role: input.role, status: 'invited', activation_token_hash: activation.tokenHash, activation_expires_at: activation.expiresAt },
        new Date(now).toISOString(),
      );
      try {
        await store.insert(row);
      } catch (error) {
        if (!isUniqueViolation(error)) throw error;
        const code = (await store.existingEmails(partnerId, [email])).has(email) ? 'ALREADY_ADDED' : 'EMAIL_TAKEN';
        rejected.push(rejection(email, code));
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

  async function addMicrosoft(auth: AuthContext, input: AddInput, valid: string[], rejected: Rejection[], record: Recorder): Promise<AddResult> {
    const partnerId = auth.partner.id;
    const profile = await usableProfile(partnerId, input.appProfileId!);
    const tenant = profile.tenant_name || profile.tenant_domain;
    const reject = (email: string, code: RejectionCode) => rejected.push(rejection(email, code, tenant));

    const found = await throughGraph(profile, async (graph) => {
      const domains = await graph.get<{ value?: { id: string; isVerified?: boolean }[] }>('/domains');
      const tenantDomains = new Set((domains.value ?? []).filter((d) => d.isVerified !== false).map((d) => d.id.toLowerCase()));
      const inPartner = await store.existingEmails(partnerId, valid);
      const toLookUp: string[] = [];
      const outcome = new Map<string, FoundObject | RejectionCode>();
      for (const email of valid) {
        const refused = tenantAddressVerdict(email, inPartner, tenantDomains);
        if (refused) outcome.set(email, refused);
        else toLookUp.push(email);
      }
      await mapPool(toLookUp, LOOKUP_CONCURRENCY, async (email) => {
        const user = await graph.findUser(email);
        if (user) {
          outcome.set(email, user.accountEnabled === false ? 'ACCOUNT_DISABLED' : { email, kind: 'user', objectId: user.id.toLowerCase(), displayName: user.displayName ?? user.userPrincipalName });
          return;
        }
        const group = await graph.findGroupByMail(email);
        outcome.set(email, group ? { email, kind: 'group', objectId: group.id.toLowerCase(), displayName: group.displayName ?? email } : 'NOT_FOUND_IN_TENANT');
      });
      return valid.map((email) => outcome.get(email)!);
    });

    const objectIds = found.filter((f): f is FoundObject => typeof f === 'object').map((f) => f.objectId);
    const placed = placeFound(found, await store.existingObjects(partnerId, profile.tenant_id, objectIds));
    const addedIds: string[] = [];
    const groupIds: string[] = [];
    for (const [i, entry] of placed.entries()) {
      const email = valid[i];
      if (typeof entry === 'string') {
        reject(email, entry);
        continue;
      }
      const row = newUserRow({
        partner_id: partnerId,
        email,
        role: input.role,
        display_name: entry.displayName,
        sign_in_type: 'microsoft365',
        kind: entry.kind,
        app_profile_id: profile.id,
        ms_tenant_id: profile.tenant_id,
        ms_object_id: entry.objectId,
        ...(entry.kind === 'group' ? { sync_done: 0, sync_total: 0 } : {}),
      });
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
    await downloads.startInBackground(partnerId, groupIds);
    return { added: await viewsById(partnerId, addedIds), rejected };
  }

  return {
    async add(auth: AuthContext, input: AddInput, clientAddress: string): Promise<AddResult> {
      if (input.signInType === 'microsoft365' && !input.appProfileId) {
        throw new FieldError('appProfileId', 'Choose the app profile of the tenant these Microsoft 365 users and groups belong to.');
      }
      if (input.signInType === 'local' && input.appProfileId) {
        throw new FieldError('appProfileId', 'Local users are not added through an app profile; leave it out.');
      }
      const { valid, rejected } = screenAddresses(input.emails);
      const record = support.audited(auth, clientAddress);
      return input.signInType === 'local' ? addLocal(auth, input, valid, rejected, record) : addMicrosoft(auth, input, valid, rejected, record);
    },

  };
}
