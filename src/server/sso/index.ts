import { randomUUID } from 'node:crypto';
import { ProfileExpiredError } from '../app-profiles/errors';
import type { TenantGraphs } from '../app-profiles/tenant-graph';
import type { AppProfileRow } from '../app-profiles/store';
import type { FlowFinisher } from '../auth-flows/routes';
import type { FlowStore, RedeemedFlow } from '../auth-flows/store';
import type { Config } from '../config';
import { isUniqueViolation } from '../db/database';
import type { Role } from '../http/context';
import type { Cloud } from '../microsoft/clouds';
import { MicrosoftTokenError } from '../microsoft/errors';
import { GraphError } from '../microsoft/graph';
import type { IdTokenClaims, MicrosoftOAuth } from '../microsoft/oauth';
import { SSO_SCOPES } from '../microsoft/permissions';
import type { SignedIn } from '../partners/service';
import { randomToken, sha256 } from '../security/random';
import type { CoreServices } from '../core-types';

/** The codes the sign-in page turns into messages (`/signin?error=CODE`). */
export type SsoRefusalCode = 'NOT_ADDED' | 'ACCOUNT_DISABLED' | 'REMOVED_FROM_GROUP' | 'PROFILE_EXPIRED' | 'STATE_INVALID' | 'MICROSOFT_ERROR';

/** When several partners refuse for different reasons, the most specific reason is shown. */
const REFUSAL_PRIORITY: SsoRefusalCode[] = ['ACCOUNT_DISABLED', 'REMOVED_FROM_GROUP', 'PROFILE_EXPIRED', 'MICROSOFT_ERROR', 'NOT_ADDED'];
const CHOICE_LIFETIME_MS = 10 * 60_000;
const CHOICE_MARK = 'sso:choose';
const roleRank = (role: Role) => (role === 'administrator' ? 2 : 1);

export interface PartnerChoice {
  partnerId: string;
  partnerName: string;
  userId: string;
  /** The highest role of the added groups that let this person in (a direct entry's own role may be lower). */
  groupRole?: Role | null;
}

type PartnerOutcome = { ok: true; choice: PartnerChoice; via: 'user' | 'group' } | { ok: false; code: SsoRefusalCode; partnerId: string; userId: string | null };

interface Entry {
  id: string;
  partner_id: string;
  kind: 'user' | 'group';
  role: Role;
  status: 'invited' | 'active' | 'disabled';
  email: string;
  via_group_id: string | null;
  ms_object_id: string | null;
  app_profile_id: string;
  partner_name: string;
}

export type SsoFeature = ReturnType<typeof createSsoFeature>;

/**
 * Single sign-on with Microsoft 365. A person is identified by `tid` + `oid` of a validated ID token and let
 * into every partner that added them, directly (a user entry) or through a group entry whose group they are
 * a direct or nested member of. Group membership is confirmed live with `checkMemberGroups` through the
 * partner's app profile (group_members is only the index of who was a member), so a change in the tenant
 * counts at the next sign-in without downloading any group. A person let in by several partners chooses.
 */
export function createSsoFeature(core: Pick<CoreServices, 'db' | 'audit' | 'secretBox' | 'sessions' | 'partners' | 'microsoft'>, deps: { oauth: MicrosoftOAuth; flows: FlowStore; graphs: Pick<TenantGraphs, 'run'>; config: Config }) {
  const { db, audit, secretBox: box } = core;

  /** Start in the global cloud unless asked for usgov or the email's domain belongs to a usgov profile's tenant. */
  async function chooseCloud(email: string | undefined, requested: Cloud | undefined): Promise<Cloud> {
    const offered = (c: Cloud) => Boolean(core.microsoft.apps[c]);
    if (requested && offered(requested)) return requested;
    const domain = email?.split('@')[1]?.trim().toLowerCase();
    if (domain && offered('usgov')) {
      const profile = await db.selectFrom('app_profiles').select('id').where('cloud', '=', 'usgov').where((eb) => eb(eb.fn('lower', ['tenant_domain']), '=', domain)).limit(1).executeTakeFirst();
      if (profile) return 'usgov';
      const entry = await db
        .selectFrom('users as u')
        .innerJoin('app_profiles as p', 'p.id', 'u.app_profile_id')
        .select('u.id')
        .where('p.cloud', '=', 'usgov')
        .where('u.sign_in_type', '=', 'microsoft365')
        .where('u.email_key', 'like', `%@${domain.replace(/[\\%_]/g, '')}`)
        .limit(1)
        .executeTakeFirst();
      if (entry) return 'usgov';
    }
    return 'global';
  }

  async function recordAudit(partnerId: string | null, claims: Partial<IdTokenClaims> | null, userId: string | null, outcome: 'success' | 'failure', code: string, clientAddress: string, extra: Record<string, unknown> = {}): Promise<void> {
    const email = (claims?.preferredUsername ?? claims?.email ?? '').toLowerCase() || null;
    await audit.record({
      partnerId,
      actor: { userId, email },
      action: 'session.signin',
      target: { type: 'user', id: userId, name: email },
      outcome,
      clientAddress,
      details: { method: 'microsoft365', code, ...(claims?.tid ? { tenantId: claims.tid } : {}), ...extra },
    });
  }

  /** Every entry of every partner that may concern this person: their user entries and member records, and group entries of their tenant. */
  async function candidates(cloud: Cloud, tid: string, oid: string): Promise<{ entries: Entry[]; profiles: Map<string, AppProfileRow> }> {
    const profiles = await db.selectFrom('app_profiles').selectAll().where('cloud', '=', cloud).where('tenant_id', '=', tid).execute();
    if (profiles.length === 0) return { entries: [], profiles: new Map() };
    const rows = await db
      .selectFrom('users as u')
      .innerJoin('partners as pa', 'pa.id', 'u.partner_id')
      .select(['u.id', 'u.partner_id', 'u.kind', 'u.role', 'u.status', 'u.email', 'u.via_group_id', 'u.ms_object_id', 'u.app_profile_id', 'pa.name as partner_name'])
      .where('u.sign_in_type', '=', 'microsoft365')
      .where(
        'u.app_profile_id',
        'in',
        profiles.map((p) => p.id),
      )
      .where((eb) => eb.or([eb('u.kind', '=', 'group'), eb.and([eb('u.kind', '=', 'user'), eb('u.ms_object_id', '=', oid)])]))
      .execute();
    return { entries: rows as Entry[], profiles: new Map(profiles.map((p) => [p.id, p])) };
  }

  /** Ends the sessions of a member record whose person is no longer in any group of the partner. */
  async function forgetMembership(partnerId: string, groupIds: string[], oid: string, recordId: string | null): Promise<void> {
    if (groupIds.length > 0) await db.deleteFrom('group_members').where('partner_id', '=', partnerId).where('group_user_id', 'in', groupIds).where('member_object_id', '=', oid).execute();
    if (recordId) await core.sessions.destroyForUsers(partnerId, [recordId]);
  }

  async function evaluatePartner(partnerId: string, entries: Entry[], profile: AppProfileRow, claims: IdTokenClaims): Promise<PartnerOutcome> {
    const { oid } = claims;
    const direct = entries.find((e) => e.kind === 'user' && e.via_group_id === null) ?? null;
    const record = entries.find((e) => e.kind === 'user' && e.via_group_id !== null) ?? null;
    const groups = entries.filter((e) => e.kind === 'group' && e.status === 'active' && e.ms_object_id);
    const partnerName = entries[0].partner_name;
    const refuse = (code: SsoRefusalCode): PartnerOutcome => ({ ok: false, code, partnerId, userId: direct?.id ?? record?.id ?? null });

    if (direct && direct.status === 'disabled') return refuse('ACCOUNT_DISABLED');
    if (!direct && groups.length === 0) return refuse(record ? 'REMOVED_FROM_GROUP' : 'NOT_ADDED');
    if (profile.status !== 'active') return refuse('PROFILE_EXPIRED');

    let memberOf: Set<string>;
    try {
      const found = await deps.graphs.run(profile, 'interactive', async (graph) => {
        if (groups.length > 0) return new Set((await graph.checkMemberGroups(oid, groups.map((g) => g.ms_object_id!))).map((id) => id.toLowerCase()));
        const user = await graph.get<{ id: string; accountEnabled?: boolean }>(`/users/${encodeURIComponent(oid)}`, { query: { $select: 'id,accountEnabled' } });
        return user.accountEnabled === false ? null : new Set<string>();
      });
      if (!found) return refuse('ACCOUNT_DISABLED');
      memberOf = found;
    } catch (error) {
      if (error instanceof ProfileExpiredError) return refuse('PROFILE_EXPIRED');
      // Deleted in the tenant meanwhile: treated like a disabled account (the sync marks it 'disabled' too).
      if (error instanceof GraphError && error.status === 404) return refuse('ACCOUNT_DISABLED');
      return refuse('MICROSOFT_ERROR');
    }

    const matched = groups.filter((g) => memberOf.has(g.ms_object_id!.toLowerCase()));
    const unmatched = groups.filter((g) => !memberOf.has(g.ms_object_id!.toLowerCase()));
    // Keep the index honest for this person right away; the sync does the same for everybody.
    if (unmatched.length > 0) await db.deleteFrom('group_members').where('partner_id', '=', partnerId).where('group_user_id', 'in', unmatched.map((g) => g.id)).where('member_object_id', '=', oid).execute();
    if (matched.length > 0) {
      await db
        .insertInto('group_members')
        .values(matched.map((g) => ({ partner_id: partnerId, group_user_id: g.id, member_object_id: oid })))
        .onConflict((oc) => oc.columns(['group_user_id', 'member_object_id']).doNothing())
        .execute();
    }

    if (direct) {
      const groupRole = matched.some((g) => g.role === 'administrator') ? 'administrator' : matched.length > 0 ? 'member' : null;
      return { ok: true, via: 'user', choice: { partnerId, partnerName, userId: direct.id, groupRole } };
    }
    if (matched.length === 0) {
      if (record) {
        await forgetMembership(partnerId, [], oid, record.id);
        return refuse('REMOVED_FROM_GROUP');
      }
      return refuse('NOT_ADDED');
    }
    if (record?.status === 'disabled') return refuse('ACCOUNT_DISABLED');
    const best = matched.reduce((a, b) => (roleRank(b.role) > roleRank(a.role) ? b : a));
    const userId = await upsertMemberRecord(partnerId, profile, best, claims, record);
    return { ok: true, via: 'group', choice: { partnerId, partnerName, userId } };
  }

  /** The record of a member who signs in through a group: created at first sign-in, kept in step after. */
  async function upsertMemberRecord(partnerId: string, profile: AppProfileRow, group: Entry, claims: IdTokenClaims, record: Entry | null): Promise<string> {
    const now = new Date().toISOString();
    const email = (claims.preferredUsername ?? claims.email ?? `${claims.oid}@${profile.tenant_domain}`).toLowerCase();
    const displayName = claims.name ?? email.split('@')[0];
    if (record) {
      await db.updateTable('users').set({ role: group.role, via_group_id: group.id, display_name: displayName, updated_at: now }).where('id', '=', record.id).execute();
      return record.id;
    }
    const id = randomUUID();
    try {
      await db
        .insertInto('users')
        .values({
          id,
          partner_id: partnerId,
          email,
          email_key: email,
          display_name: displayName,
          password_hash: null,
          role: group.role,
          is_owner: 0,
          sign_in_type: 'microsoft365',
          kind: 'user',
          status: 'active',
          app_profile_id: profile.id,
          ms_tenant_id: claims.tid,
          ms_object_id: claims.oid,
          via_group_id: group.id,
          last_synced_at: now,
          created_at: now,
          updated_at: now,
        })
        .execute();
      return id;
    } catch (error) {
      if (!isUniqueViolation(error)) throw error;
      // A parallel first sign-in of the same person created it a moment ago.
      const again = await db.selectFrom('users').select('id').where('partner_id', '=', partnerId).where('ms_tenant_id', '=', claims.tid).where('ms_object_id', '=', claims.oid).executeTakeFirst();
      if (!again) throw error;
      return again.id;
    }
  }

  async function openSession(choice: PartnerChoice, clientAddress: string): Promise<SignedIn | null> {
    const user = await db.selectFrom('users').select(['id', 'email', 'display_name', 'role', 'status']).where('id', '=', choice.userId).where('partner_id', '=', choice.partnerId).executeTakeFirst();
    if (!user || user.status !== 'active') return null;
    return core.partners.openSession(
      {
        user: { id: user.id, email: user.email, displayName: user.display_name, role: user.role, isOwner: false, signInType: 'microsoft365' },
        partner: { id: choice.partnerId, name: choice.partnerName },
      },
      clientAddress,
      choice.groupRole,
    );
  }

  function refusalFrom(params: { error?: string; errorDescription?: string }): SsoRefusalCode {
    const aadsts = /AADSTS(\d+)/.exec(params.errorDescription ?? '')?.[1];
    return aadsts === '50057' ? 'ACCOUNT_DISABLED' : 'MICROSOFT_ERROR';
  }

  async function bindingHashOf(flow: RedeemedFlow): Promise<string | null> {
    const row = await db.selectFrom('oauth_flows').select('browser_binding').where('id', '=', flow.id).executeTakeFirst();
    return row?.browser_binding ?? null;
  }

  async function storeChoices(flow: RedeemedFlow, choices: PartnerChoice[]): Promise<boolean> {
    const bindingHash = await bindingHashOf(flow);
    if (!bindingHash) return false;
    const id = sha256(randomToken());
    const now = Date.now();
    await db
      .insertInto('oauth_flows')
      .values({
        id,
        purpose: 'sign_in',
        browser_binding: bindingHash,
        session_id: null,
        partner_id: null,
        user_id: null,
        cloud: flow.cloud,
        profile_id: null,
        profile_name: null,
        account: null,
        login_hint: null,
        secrets_sealed: box.seal(JSON.stringify(choices), `${id}:sso-choices`),
        return_to: CHOICE_MARK,
        continue_url: null,
        created_at: new Date(now).toISOString(),
        expires_at: new Date(now + CHOICE_LIFETIME_MS).toISOString(),
        used_at: null,
      })
      .execute();
    return true;
  }

  async function pendingChoices(binding: string | undefined): Promise<{ id: string; choices: PartnerChoice[] } | null> {
    if (!binding) return null;
    const row = await db
      .selectFrom('oauth_flows')
      .select(['id', 'secrets_sealed'])
      .where('browser_binding', '=', sha256(binding))
      .where('return_to', '=', CHOICE_MARK)
      .where('used_at', 'is', null)
      .where('expires_at', '>', new Date().toISOString())
      .orderBy('created_at', 'desc')
      .executeTakeFirst();
    if (!row) return null;
    return { id: row.id, choices: JSON.parse(box.open(row.secrets_sealed, `${row.id}:sso-choices`)) as PartnerChoice[] };
  }

  const finish: FlowFinisher = async (flow, params, _auth, clientAddress) => {
    const fail = async (code: SsoRefusalCode, partnerId: string | null = null, claims: Partial<IdTokenClaims> | null = null, userId: string | null = null) => {
      await recordAudit(partnerId, claims, userId, 'failure', code, clientAddress);
      return { location: `/signin?error=${code}` };
    };
    // A pending choice is not a round trip: it cannot be finished through the callback.
    if (flow.returnTo === CHOICE_MARK) return fail('STATE_INVALID');
    if (params.error) return fail(refusalFrom(params));
    if (!params.code) return fail('STATE_INVALID');
    let claims: IdTokenClaims;
    try {
      ({ idToken: claims } = await deps.oauth.redeemCode(flow.cloud, { code: params.code, codeVerifier: flow.codeVerifier, nonce: flow.nonce, scopes: SSO_SCOPES, tenant: 'organizations' }));
    } catch (error) {
      if (error instanceof MicrosoftTokenError && error.errorCodes.includes(50057)) return fail('ACCOUNT_DISABLED');
      return fail('MICROSOFT_ERROR');
    }
    const tid = claims.tid.toLowerCase();
    const oid = claims.oid.toLowerCase();
    const { entries, profiles } = await candidates(flow.cloud, tid, oid);
    const byPartner = new Map<string, Entry[]>();
    for (const e of entries) byPartner.set(e.partner_id, [...(byPartner.get(e.partner_id) ?? []), e]);
    const outcomes: PartnerOutcome[] = [];
    for (const [partnerId, list] of byPartner) {
      const profile = profiles.get(list[0].app_profile_id)!;
      outcomes.push(await evaluatePartner(partnerId, list, profile, { ...claims, tid, oid }));
    }
    const allowed = outcomes.filter((o): o is Extract<PartnerOutcome, { ok: true }> => o.ok);
    const refused = outcomes.filter((o): o is Extract<PartnerOutcome, { ok: false }> => !o.ok);
    // Every partner whose entry refused this person sees why in its audit log.
    for (const r of refused) if (allowed.length === 0 || r.code !== 'NOT_ADDED') await recordAudit(r.partnerId, claims, r.userId, 'failure', r.code, clientAddress);
    if (allowed.length === 0) {
      const code = REFUSAL_PRIORITY.find((c) => refused.some((r) => r.code === c)) ?? 'NOT_ADDED';
      if (refused.length === 0) await recordAudit(null, claims, null, 'failure', code, clientAddress);
      return { location: `/signin?error=${code}` };
    }
    if (allowed.length === 1) {
      const { choice, via } = allowed[0];
      const signedIn = await openSession(choice, clientAddress);
      if (!signedIn) return fail('ACCOUNT_DISABLED', choice.partnerId, claims, choice.userId);
      await recordAudit(choice.partnerId, claims, choice.userId, 'success', 'SIGNED_IN', clientAddress, { via });
      return { location: '/', sessionToken: signedIn.token };
    }
    if (!(await storeChoices(flow, allowed.map((a) => a.choice)))) return fail('STATE_INVALID');
    return { location: '/signin?choose=1' };
  };

  return {
    finish,

    /** The authorization URL for "Sign in with Microsoft 365"; the flow is bound to this browser. */
    async start(browserBinding: string, input: { email?: string; cloud?: Cloud }): Promise<string> {
      const cloud = await chooseCloud(input.email, input.cloud);
      const request = deps.oauth.newAuthorizationRequest();
      const loginHint = input.email?.trim() || undefined;
      await deps.flows.create({ purpose: 'sign_in', state: request.state, nonce: request.nonce, codeVerifier: request.codeVerifier, browserBinding, cloud, loginHint: loginHint ?? null, returnTo: '/' });
      return deps.oauth.authorizationUrl(cloud, { tenant: 'organizations', scopes: SSO_SCOPES, state: request.state, nonce: request.nonce, codeChallenge: request.codeChallenge, loginHint });
    },

    async choices(browserBinding: string | undefined): Promise<{ partnerId: string; partnerName: string }[] | null> {
      const pending = await pendingChoices(browserBinding);
      return pending ? pending.choices.map(({ partnerId, partnerName }) => ({ partnerId, partnerName })) : null;
    },

    /** Finishes a pending choice (single use, this browser only) with a session in the chosen partner. */
    async choose(browserBinding: string | undefined, partnerId: string, clientAddress: string): Promise<SignedIn | null> {
      const pending = await pendingChoices(browserBinding);
      const choice = pending?.choices.find((c) => c.partnerId === partnerId);
      if (!pending || !choice) return null;
      const claimed = await db.updateTable('oauth_flows').set({ used_at: new Date().toISOString() }).where('id', '=', pending.id).where('used_at', 'is', null).executeTakeFirst();
      if (Number(claimed.numUpdatedRows) !== 1) return null;
      const signedIn = await openSession(choice, clientAddress);
      if (!signedIn) return null;
      await audit.record({
        partnerId: choice.partnerId,
        actor: { userId: choice.userId, email: signedIn.context.user.email },
        action: 'session.signin',
        target: { type: 'user', id: choice.userId, name: signedIn.context.user.email },
        outcome: 'success',
        clientAddress,
        details: { method: 'microsoft365', code: 'SIGNED_IN', chosenAmong: pending.choices.length },
      });
      return signedIn;
    },
  };
}
