import { randomUUID } from 'node:crypto';
import { consentAuthorizationUrl, type ProfileAuthorization } from '../app-profiles/authorization';
import type { AppProfileStore } from '../app-profiles/store';
import { SettledFlowError, type FlowOutcome } from '../auth-flows/outcome';
import type { FlowStore } from '../auth-flows/store';
import type { FlowFinisher } from '../auth-flows/types';
import type { AuditLog } from '../audit/store';
import type { AuthContext } from '../http/context';
import { BadRequestError, NotFoundError } from '../http/errors';
import type { Cloud } from '../microsoft/clouds';
import type { MicrosoftOAuth } from '../microsoft/oauth';
import { consentLinkEvent, type Notify } from '../notifications/events';
import { randomToken, sha256 } from '../security/random';
import type { ConsentLinkMailer } from './mail';
import type { ConsentLinkRow, ConsentLinkStore } from './store';

/** A link waits 72 hours for its Global Administrator unless revoked or used first. */
export const CONSENT_LINK_LIFETIME_MS = 72 * 3600_000;
/** Links that expired this recently are alerted (the alert is keyed per link, so a rerun repeats nothing). */
const EXPIRED_LINK_ALERT_WINDOW_MS = 7 * 24 * 3600_000;

/** Where a round trip started from a link ends: a page of the link's own, bound to the visiting browser. */
export const CONSENT_DONE_PAGE = '/consent/done';

/** The outcome of a round trip that failed for a reason other than a refusal (logged by the callback route). */
const UNEXPECTED_ERROR = 'UNEXPECTED_ERROR';

export type ConsentLinkState = 'waiting' | 'used' | 'expired' | 'revoked';

export interface ConsentLinkView {
  id: string;
  kind: 'create' | 'reauthorize';
  profileName: string;
  profileId: string | null;
  cloud: Cloud;
  email: string | null;
  state: ConsentLinkState;
  createdAt: string;
  expiresAt: string;
  outcome: string | null;
}

export interface ConsentLinkDeps {
  store: ConsentLinkStore;
  profiles: Pick<AppProfileStore, 'get'>;
  flows: FlowStore;
  oauth: MicrosoftOAuth;
  authorization: Pick<ProfileAuthorization, 'finishFromLink'>;
  audit: AuditLog;
  offeredClouds: readonly Cloud[];
  publicUrl: string;
  now?: () => Date;
  notify?: Notify;
  /** Mails a link given an address (only when SMTP is configured). */
  mailer?: ConsentLinkMailer;
}

export type ConsentLinkService = ReturnType<typeof createConsentLinkService>;

export function stateOf(row: Pick<ConsentLinkRow, 'used_at' | 'revoked_at' | 'expires_at'>, now: Date): ConsentLinkState {
  if (row.revoked_at) return 'revoked';
  if (row.used_at) return 'used';
  return Date.parse(row.expires_at) <= now.getTime() ? 'expired' : 'waiting';
}

const view = (row: ConsentLinkRow, now: Date): ConsentLinkView => ({
  id: row.id,
  kind: row.profile_id ? 'reauthorize' : 'create',
  profileName: row.profile_name,
  profileId: row.profile_id,
  cloud: row.cloud,
  email: row.email,
  state: stateOf(row, now),
  createdAt: row.created_at,
  expiresAt: row.expires_at,
  outcome: row.outcome,
});

/**
 * Consent links: "Send a link instead" of creating or re-authorizing an app profile in this browser. The
 * link's page needs no portal session; the round trip it starts acts only for the link's partner, cloud and
 * profile, with exactly the checks of the portal's own round trips (ProfileAuthorization.finishFromLink).
 */
export function createConsentLinkService(deps: ConsentLinkDeps) {
  const { store } = deps;
  const now = deps.now ?? (() => new Date());
  const notify: Notify = deps.notify ?? (async () => undefined);
  const linkRef = (row: ConsentLinkRow, profileId = row.profile_id) => ({ partnerId: row.partner_id, id: row.id, profileName: row.profile_name, profileId });

  async function issue(auth: AuthContext, input: { cloud: Cloud; profileName: string; profileId: string | null; email?: string }, clientAddress: string) {
    const token = randomToken();
    const at = now();
    const row: ConsentLinkRow = {
      id: randomUUID(),
      partner_id: auth.partner.id,
      token_hash: sha256(token),
      cloud: input.cloud,
      profile_name: input.profileName,
      profile_id: input.profileId,
      email: input.email?.trim().toLowerCase() || null,
      created_by: auth.user.id,
      created_at: at.toISOString(),
      expires_at: new Date(at.getTime() + CONSENT_LINK_LIFETIME_MS).toISOString(),
      used_at: null,
      revoked_at: null,
      visit_binding: null,
      outcome: null,
      outcome_profile_id: null,
    };
    await store.insert(row);
    await deps.audit.record({
      partnerId: auth.partner.id,
      actor: { userId: auth.user.id, email: auth.user.email },
      action: 'consent_link.create',
      target: { type: 'consent_link', id: row.id, name: row.profile_name },
      outcome: 'success',
      clientAddress,
      details: { kind: input.profileId ? 'reauthorize' : 'create', cloud: row.cloud, profileId: input.profileId, email: row.email, expiresAt: row.expires_at },
    });
    // The token is in this answer (and a mail the queue keeps sealed) only; the database keeps its hash.
    const url = `${deps.publicUrl}/consent/${token}`;
    const emailed = row.email && deps.mailer ? await deps.mailer.send(row, url) : false;
    return { id: row.id, url, expiresAt: row.expires_at, emailed };
  }

  /** The link behind a token with its state, or null for a token nobody issued. */
  async function lookup(token: string) {
    if (!/^[A-Za-z0-9_-]{43}$/.test(token)) return null;
    const row = await store.byTokenHash(sha256(token));
    return row ? { row, state: stateOf(row, now()) } : null;
  }

  const finish: FlowFinisher = async (flow, params, _auth, clientAddress) => {
    const done = (id: string) => ({ location: `${CONSENT_DONE_PAGE}?link=${encodeURIComponent(id)}` });
    const link = flow.consentLinkId ? await store.byId(flow.consentLinkId) : undefined;
    if (!link) return { location: `${CONSENT_DONE_PAGE}?link=unknown` };
    // Used, expired or revoked meanwhile: nothing changes.
    if (!(await store.claim(link.id, now().toISOString()))) return done(link.id);
    // The partner, cloud and profile are the link's, whatever the browser sent.
    let outcome: FlowOutcome;
    try {
      outcome = await deps.authorization.finishFromLink(
        { ...flow, partnerId: link.partner_id, userId: null, sessionId: null, cloud: link.cloud, profileId: link.profile_id, profileName: link.profile_name, account: null },
        params,
        clientAddress,
      );
    } catch (error) {
      // Not a refusal: give the link back (the Global Administrator may try again) and still show its page.
      await store.settle(link.id, UNEXPECTED_ERROR, null, false);
      throw new SettledFlowError(done(link.id).location, error);
    }
    const succeeded = outcome.result !== 'error';
    await store.settle(link.id, succeeded ? outcome.result : (outcome.code ?? 'MICROSOFT_ERROR'), outcome.profileId ?? null, succeeded);
    if (succeeded) await notify(consentLinkEvent(linkRef(link, outcome.profileId ?? link.profile_id), 'used', outcome.result));
    return done(link.id);
  };

  return {
    finish,
    lookup,
    lookupPartnerName: (partnerId: string) => store.partnerName(partnerId),

    async createForNewProfile(auth: AuthContext, input: { name: string; cloud: Cloud; email?: string }, clientAddress: string) {
      if (!deps.offeredClouds.includes(input.cloud)) throw new BadRequestError('CLOUD_NOT_OFFERED', 'This deployment does not offer that Microsoft 365 version.', { field: 'cloud' });
      return issue(auth, { cloud: input.cloud, profileName: input.name, profileId: null, email: input.email }, clientAddress);
    },

    async createForProfile(auth: AuthContext, profileId: string, input: { email?: string }, clientAddress: string) {
      const profile = await deps.profiles.get(auth.partner.id, profileId);
      if (!profile) throw new NotFoundError('The app profile');
      return issue(auth, { cloud: profile.cloud, profileName: profile.name, profileId: profile.id, email: input.email }, clientAddress);
    },

    async list(auth: AuthContext): Promise<ConsentLinkView[]> {
      const at = now();
      return (await store.list(auth.partner.id)).map((row) => view(row, at));
    },

    async revoke(auth: AuthContext, id: string, clientAddress: string): Promise<void> {
      const row = await store.get(auth.partner.id, id);
      if (!row) throw new NotFoundError('The consent link');
      if (!(await store.revoke(auth.partner.id, id, now().toISOString()))) return;
      await deps.audit.record({
        partnerId: auth.partner.id,
        actor: { userId: auth.user.id, email: auth.user.email },
        action: 'consent_link.revoke',
        target: { type: 'consent_link', id, name: row.profile_name },
        outcome: 'success',
        clientAddress,
        details: { kind: row.profile_id ? 'reauthorize' : 'create' },
      });
      await notify(consentLinkEvent(linkRef(row), 'revoked'));
    },

    /** Alerts each link that expired unused within the last week (once per link, however often it runs). */
    async notifyExpired(): Promise<number> {
      const at = now();
      const expired = await store.expiredUnused(new Date(at.getTime() - EXPIRED_LINK_ALERT_WINDOW_MS).toISOString(), at.toISOString());
      for (const row of expired) await notify(consentLinkEvent(linkRef(row), 'expired'));
      return expired.length;
    },

    /** "Continue to Microsoft" on the link's page: a round trip bound to this browser, or null when the link no longer waits. */
    async start(token: string, browserBinding: string): Promise<string | null> {
      const found = await lookup(token);
      if (!found || found.state !== 'waiting') return null;
      const { row } = found;
      const request = deps.oauth.newAuthorizationRequest();
      await deps.flows.create({
        purpose: 'consent_link',
        state: request.state,
        nonce: request.nonce,
        codeVerifier: request.codeVerifier,
        browserBinding,
        partnerId: row.partner_id,
        cloud: row.cloud,
        profileId: row.profile_id,
        profileName: row.profile_name,
        consentLinkId: row.id,
      });
      await store.setVisit(row.id, sha256(browserBinding));
      return consentAuthorizationUrl(deps.oauth, row.cloud, request, row.email ?? undefined);
    },

    /** The outcome of the round trip this browser made from a link; null for any other browser. */
    async outcome(linkId: string, browserBinding: string | undefined) {
      if (!browserBinding) return null;
      const row = await store.byId(linkId);
      if (!row || row.visit_binding !== sha256(browserBinding)) return null;
      return { row, state: stateOf(row, now()) };
    },
  };
}
