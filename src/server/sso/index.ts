import { ProfileExpiredError } from '../app-profiles/errors';
import type { AppProfileRow } from '../app-profiles/store';
import type { TenantGraphs } from '../app-profiles/tenant-graph';
import type { FlowStore, RedeemedFlow } from '../auth-flows/store';
import type { FlowFinisher } from '../auth-flows/types';
import type { Config } from '../config';
import type { CoreServices } from '../core-types';
import { isUniqueViolation } from '../db/database';
import type { Cloud } from '../microsoft/clouds';
import { MicrosoftTokenError } from '../microsoft/errors';
import { GraphError } from '../microsoft/graph';
import type { IdTokenClaims, MicrosoftOAuth } from '../microsoft/oauth';
import { SSO_SCOPES } from '../microsoft/permissions';
import type { SignedIn } from '../partners/service';
import { newUserRow, type UserStore } from '../users/store';
import { createChoiceStore, type PartnerChoice } from './choice-store';
import { classifyEntries, decideSignIn, refusalBeforeGraph, refusalFromCallback, strongestRefusal, type Entry, type PartnerEntries, type SsoRefusalCode } from './decisions';

export type { SsoRefusalCode } from './decisions';
export type { PartnerChoice } from './choice-store';

type PartnerOutcome = { ok: true; choice: PartnerChoice; via: 'user' | 'group' } | { ok: false; code: SsoRefusalCode; partnerId: string; userId: string | null };

export interface SsoDeps {
  oauth: MicrosoftOAuth;
  flows: FlowStore;
  graphs: Pick<TenantGraphs, 'run'>;
  users: UserStore;
  config: Config;
}

export type SsoFeature = ReturnType<typeof createSsoFeature>;

/**
 * Single sign-on with Microsoft 365. A person is identified by `tid` + `oid` of a validated ID token and let
 * into every partner that added them, directly (a user entry) or through a group entry whose group they are
 * a direct or nested member of. Group membership is confirmed live with `checkMemberGroups` through the
 * partner's app profile (group_members is only the index of who was a member), so a change in the tenant
 * counts at the next sign-in without downloading any group. Each partner is evaluated on its own: what
 * goes wrong in one partner refuses that partner only. A person let in by several partners chooses.
 */
export function createSsoFeature(core: Pick<CoreServices, 'db' | 'audit' | 'secretBox' | 'sessions' | 'partners' | 'microsoft'>, deps: SsoDeps) {
  const { db, audit } = core;
  const { users } = deps;
  const choices = createChoiceStore(db, core.secretBox);

  /** Start in the global cloud unless asked for usgov or the email's domain belongs to a usgov profile's tenant. */
  async function chooseCloud(email: string | undefined, requested: Cloud | undefined): Promise<Cloud> {
    const offered = (c: Cloud) => Boolean(core.microsoft.apps[c]);
    if (requested && offered(requested)) return requested;
    const domain = email?.split('@')[1]?.trim().toLowerCase();
    if (domain && offered('usgov')) {
      const profile = await db.selectFrom('app_profiles').select('id').where('cloud', '=', 'usgov').where((eb) => eb(eb.fn('lower', ['tenant_domain']), '=', domain)).limit(1).executeTakeFirst();
      if (profile) return 'usgov';
      // An indexed equality on the stored domain (migration 007), not a LIKE scan of every address.
      const entry = await db
        .selectFrom('users as u')
        .innerJoin('app_profiles as p', 'p.id', 'u.app_profile_id')
        .select('u.id')
        .where('u.email_domain', '=', domain)
        .where('u.sign_in_type', '=', 'microsoft365')
        .where('p.cloud', '=', 'usgov')
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

  /** Asks Graph which of the partner's groups the person is in (or, without groups, whether the account is enabled). */
  async function membershipAtGraph(p: PartnerEntries, profile: AppProfileRow, oid: string): Promise<Set<string> | SsoRefusalCode> {
    try {
      return await deps.graphs.run(profile, 'interactive', async (graph) => {
        if (p.groups.length > 0) return new Set((await graph.checkMemberGroups(oid, p.groups.map((g) => g.ms_object_id!))).map((id) => id.toLowerCase()));
        const user = await graph.get<{ id: string; accountEnabled?: boolean }>(`/users/${encodeURIComponent(oid)}`, { query: { $select: 'id,accountEnabled' } });
        return user.accountEnabled === false ? 'ACCOUNT_DISABLED' : new Set<string>();
      });
    } catch (error) {
      if (error instanceof ProfileExpiredError) return 'PROFILE_EXPIRED';
      // Deleted in the tenant meanwhile: treated like a disabled account (the sync marks it 'disabled' too).
      if (error instanceof GraphError && error.status === 404) return 'ACCOUNT_DISABLED';
      return 'MICROSOFT_ERROR';
    }
  }

  async function evaluatePartner(entries: Entry[], profile: AppProfileRow, claims: IdTokenClaims): Promise<PartnerOutcome> {
    const p = classifyEntries(entries);
    const refuse = (code: SsoRefusalCode): PartnerOutcome => ({ ok: false, code, partnerId: p.partnerId, userId: p.direct?.id ?? p.record?.id ?? null });
    const early = refusalBeforeGraph(p, profile.status);
    if (early) return refuse(early);
    const memberOf = await membershipAtGraph(p, profile, claims.oid);
    if (typeof memberOf === 'string') return refuse(memberOf);

    const decision = decideSignIn(p, memberOf);
    // Keep the index honest for this person right away; the sync does the same for everybody.
    await users.setPersonMemberships(p.partnerId, claims.oid, decision.matched.map((g) => g.id), decision.unmatched.map((g) => g.id));
    if ('refuse' in decision) {
      if (decision.endRecordSessions && p.record) await core.sessions.destroyForUsers(p.partnerId, [p.record.id]);
      return refuse(decision.refuse);
    }
    if (decision.allow === 'user') return { ok: true, via: 'user', choice: { partnerId: p.partnerId, partnerName: p.partnerName, userId: decision.userId, groupRole: decision.groupRole } };
    const userId = await upsertMemberRecord(p.partnerId, profile, decision.group, claims, decision.record);
    if (!userId) return refuse('EMAIL_IN_USE');
    return { ok: true, via: 'group', choice: { partnerId: p.partnerId, partnerName: p.partnerName, userId } };
  }

  /**
   * The record of a member who signs in through a group: created at first sign-in, kept in step after.
   * Null when another entry of the partner (a local user) already has the person's address.
   */
  async function upsertMemberRecord(partnerId: string, profile: AppProfileRow, group: Entry, claims: IdTokenClaims, record: Entry | null): Promise<string | null> {
    const email = (claims.preferredUsername ?? claims.email ?? `${claims.oid}@${profile.tenant_domain}`).toLowerCase();
    const displayName = claims.name ?? email.split('@')[0];
    if (record) {
      await users.updateMemberRecord(partnerId, record.id, { role: group.role, via_group_id: group.id, display_name: displayName });
      return record.id;
    }
    const row = newUserRow({
      partner_id: partnerId,
      email,
      role: group.role,
      display_name: displayName,
      sign_in_type: 'microsoft365',
      app_profile_id: profile.id,
      ms_tenant_id: claims.tid,
      ms_object_id: claims.oid,
      via_group_id: group.id,
      last_synced_at: new Date().toISOString(),
    });
    try {
      await users.insert(row);
      return row.id;
    } catch (error) {
      if (!isUniqueViolation(error)) throw error;
      // A parallel first sign-in of the same person created it a moment ago, or the address is another entry's.
      return (await users.findByObject(partnerId, claims.tid, claims.oid))?.id ?? null;
    }
  }

  /** Each partner on its own: an unexpected failure in one refuses that partner, not the sign-in everywhere. */
  async function evaluateAll(cloud: Cloud, claims: IdTokenClaims): Promise<PartnerOutcome[]> {
    const { entries, profiles } = await candidates(cloud, claims.tid, claims.oid);
    const byPartner = new Map<string, Entry[]>();
    for (const e of entries) byPartner.set(e.partner_id, [...(byPartner.get(e.partner_id) ?? []), e]);
    const outcomes: PartnerOutcome[] = [];
    for (const [partnerId, list] of byPartner) {
      try {
        outcomes.push(await evaluatePartner(list, profiles.get(list[0].app_profile_id)!, claims));
      } catch {
        outcomes.push({ ok: false, code: 'MICROSOFT_ERROR', partnerId, userId: null });
      }
    }
    return outcomes;
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

  async function bindingHashOf(flow: RedeemedFlow): Promise<string | null> {
    const row = await db.selectFrom('oauth_flows').select('browser_binding').where('id', '=', flow.id).executeTakeFirst();
    return row?.browser_binding ?? null;
  }

  const finish: FlowFinisher = async (flow, params, _auth, clientAddress) => {
    const fail = async (code: SsoRefusalCode, partnerId: string | null = null, claims: Partial<IdTokenClaims> | null = null, userId: string | null = null) => {
      await recordAudit(partnerId, claims, userId, 'failure', code, clientAddress);
      return { location: `/signin?error=${code}` };
    };
    if (params.error) return fail(refusalFromCallback(params));
    if (!params.code) return fail('STATE_INVALID');
    let claims: IdTokenClaims;
    try {
      ({ idToken: claims } = await deps.oauth.redeemCode(flow.cloud, { code: params.code, codeVerifier: flow.codeVerifier, nonce: flow.nonce, scopes: SSO_SCOPES, tenant: 'organizations' }));
    } catch (error) {
      if (error instanceof MicrosoftTokenError && error.errorCodes.includes(50057)) return fail('ACCOUNT_DISABLED');
      return fail('MICROSOFT_ERROR');
    }
    claims = { ...claims, tid: claims.tid.toLowerCase(), oid: claims.oid.toLowerCase() };
    const outcomes = await evaluateAll(flow.cloud, claims);
    const allowed = outcomes.filter((o): o is Extract<PartnerOutcome, { ok: true }> => o.ok);
    const refused = outcomes.filter((o): o is Extract<PartnerOutcome, { ok: false }> => !o.ok);
    // Every partner whose entry refused this person sees why in its audit log.
    for (const r of refused) if (allowed.length === 0 || r.code !== 'NOT_ADDED') await recordAudit(r.partnerId, claims, r.userId, 'failure', r.code, clientAddress);
    if (allowed.length === 0) {
      const code = strongestRefusal(refused.map((r) => r.code));
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
    const bindingHash = await bindingHashOf(flow);
    if (!bindingHash) return fail('STATE_INVALID');
    await choices.create(
      bindingHash,
      allowed.map((a) => a.choice),
    );
    return { location: '/signin?choose=1' };
  };

  return {
    finish,
    purgeExpiredChoices: () => choices.purgeExpired(),

    /** The authorization URL for "Sign in with Microsoft 365"; the flow is bound to this browser. */
    async start(browserBinding: string, input: { email?: string; cloud?: Cloud }): Promise<string> {
      const cloud = await chooseCloud(input.email, input.cloud);
      const request = deps.oauth.newAuthorizationRequest();
      const loginHint = input.email?.trim() || undefined;
      await deps.flows.create({ purpose: 'sign_in', state: request.state, nonce: request.nonce, codeVerifier: request.codeVerifier, browserBinding, cloud, loginHint: loginHint ?? null, returnTo: '/' });
      return deps.oauth.authorizationUrl(cloud, { tenant: 'organizations', scopes: SSO_SCOPES, state: request.state, nonce: request.nonce, codeChallenge: request.codeChallenge, loginHint });
    },

    async choices(browserBinding: string | undefined): Promise<{ partnerId: string; partnerName: string }[] | null> {
      const pending = await choices.pending(browserBinding);
      return pending ? pending.choices.map(({ partnerId, partnerName }) => ({ partnerId, partnerName })) : null;
    },

    /** Finishes a pending choice (single use, this browser only) with a session in the chosen partner. */
    async choose(browserBinding: string | undefined, partnerId: string, clientAddress: string): Promise<SignedIn | null> {
      const pending = await choices.pending(browserBinding);
      const choice = pending?.choices.find((c) => c.partnerId === partnerId);
      if (!pending || !choice) return null;
      if (!(await choices.take(pending.id))) return null;
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
