import type { TenantGraphs } from '../app-profiles/tenant-graph';
import type { FlowStore, RedeemedFlow } from '../auth-flows/store';
import type { FlowFinisher, FlowResult } from '../auth-flows/types';
import type { Config } from '../config';
import type { CoreServices } from '../core-types';
import type { Cloud } from '../microsoft/clouds';
import { MicrosoftTokenError } from '../microsoft/errors';
import type { IdTokenClaims, MicrosoftOAuth } from '../microsoft/oauth';
import { SSO_SCOPES } from '../microsoft/permissions';
import type { SignedIn } from '../partners/service';
import type { UserStore } from '../users/store';
import { createChoiceStore, type PartnerChoice } from './choice-store';
import { refusalFromCallback, refusalFromMicrosoft, strongestRefusal, type SsoRefusalCode } from './decisions';
import { createPartnerEvaluation, type PartnerOutcome } from './evaluate';

export interface SsoDeps {
  oauth: MicrosoftOAuth;
  flows: FlowStore;
  graphs: Pick<TenantGraphs, 'forToken'>;
  users: UserStore;
  config: Config;
}

export type SsoFeature = ReturnType<typeof createSsoFeature>;

/** Audits a refusal and sends the person back to sign-in with its code. */
type Refuse = (code: SsoRefusalCode, partnerId?: string | null, claims?: Partial<IdTokenClaims> | null, userId?: string | null) => Promise<FlowResult>;

/**
 * Single sign-on with Microsoft 365. A person is identified by `tid` + `oid` of a validated ID token and let
 * into every partner that added them, directly (a user entry) or through a group entry whose group they are
 * a direct or nested member of. Group membership is confirmed live with `checkMemberGroups` on `/me`, with the
 * person's own delegated token under the tenant-wide consent (group_members is only the index of who was a
 * member), so a change in the tenant counts at the next sign-in and a lapsed app profile stops nobody. Each partner is evaluated on its own: what
 * goes wrong in one partner refuses that partner only. A person let in by several partners chooses.
 */
export function createSsoFeature(core: Pick<CoreServices, 'db' | 'audit' | 'secretBox' | 'sessions' | 'partners' | 'microsoft'>, deps: SsoDeps) {
  const { db, audit } = core;
  const choices = createChoiceStore(db, core.secretBox);
  const { evaluateAll } = createPartnerEvaluation({ db, sessions: core.sessions, users: deps.users, graphs: deps.graphs });

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
    const fail: Refuse = async (code, partnerId = null, claims = null, userId = null) => {
      await recordAudit(partnerId, claims, userId, 'failure', code, clientAddress);
      return { location: `/signin?error=${code}` };
    };
    if (params.error) return fail(refusalFromCallback(params));
    if (!params.code) return fail('STATE_INVALID');
    let claims: IdTokenClaims;
    let accessToken: string;
    try {
      ({ idToken: claims, accessToken } = await deps.oauth.redeemCode(flow.cloud, { code: params.code, codeVerifier: flow.codeVerifier, nonce: flow.nonce, scopes: SSO_SCOPES, tenant: 'organizations' }));
    } catch (error) {
      return fail(error instanceof MicrosoftTokenError ? refusalFromMicrosoft(error.errorCodes) : 'MICROSOFT_ERROR');
    }
    claims = { ...claims, tid: claims.tid.toLowerCase(), oid: claims.oid.toLowerCase() };
    const outcomes = await evaluateAll(flow.cloud, claims, accessToken);
    const incidents = outcomes.flatMap((o) => (!o.ok && o.error !== undefined ? [o.error] : []));
    const result = await enter(outcomes, flow, claims, clientAddress, fail);
    return incidents.length > 0 ? { ...result, incidents } : result;
  };

  /** Into the one partner that let the person in, to the choice between several, or back to sign-in with the strongest refusal. */
  async function enter(outcomes: PartnerOutcome[], flow: RedeemedFlow, claims: IdTokenClaims, clientAddress: string, fail: Refuse): Promise<FlowResult> {
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
  }

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
