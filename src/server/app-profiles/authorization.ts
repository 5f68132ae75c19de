import { randomUUID } from 'node:crypto';
import type { AuditLog } from '../audit/store';
import type { CallbackParams, FlowResult } from '../auth-flows/types';
import type { FlowStore, RedeemedFlow } from '../auth-flows/store';
import { FlowRefusal, outcomeUrl, safeReturnPath, type FlowOutcome } from '../auth-flows/outcome';
import type { AuthContext } from '../http/context';
import { BadRequestError, NotFoundError } from '../http/errors';
import type { Cloud } from '../microsoft/clouds';
import { tenantGraphHost } from '../microsoft/discovery';
import type { AuthorizationRequest, MicrosoftOAuth, RedeemedTokenSet } from '../microsoft/oauth';
import { APP_PROFILE_SCOPES } from '../microsoft/permissions';
import type { SecretBox } from '../security/secret-box';
import type { MicrosoftSetup } from '../core-types';
import type { TenantGraphs } from './tenant-graph';
import { freshAuthorizationColumns, verifyConsentAnswer } from './consent';
import type { AppProfileStore } from './store';
import { isUniqueViolation } from '../db/database';
import { permissionsRestored, profileRestored, type Notify } from '../notifications/events';

export const APP_PROFILES_PAGE = '/settings/app-profiles';

export interface AuthorizationDeps {
  store: AppProfileStore;
  flows: FlowStore;
  oauth: MicrosoftOAuth;
  box: SecretBox;
  microsoft: Pick<MicrosoftSetup, 'offeredClouds' | 'endpoints'>;
  /** Reads a tenant's Graph host from its discovery document (default: microsoft/discovery.ts). */
  graphHostOf?: (cloud: Cloud, tenantId: string) => Promise<string>;
  graphs: Pick<TenantGraphs, 'forToken'>;
  audit: AuditLog;
  publicUrl: string;
  notify?: Notify;
}

export type ProfileAuthorization = ReturnType<typeof createProfileAuthorization>;

const linkDetails = (flow: RedeemedFlow) => (flow.consentLinkId ? { consentLinkId: flow.consentLinkId } : {});

/** A re-authorization names its profile; a creation does not (both portal and consent-link round trips). */
const createsProfile = (flow: RedeemedFlow) => flow.purpose === 'create_profile' || (flow.purpose === 'consent_link' && !flow.profileId);

async function actorEmail(store: AuthorizationDeps['store'], flow: RedeemedFlow): Promise<string | null> {
  if (!flow.userId || !flow.partnerId) return null;
  return (await store.actorEmail(flow.partnerId, flow.userId)) ?? null;
}

/**
 * The round trips to Microsoft that create and re-authorize app profiles. Nothing is stored as a
 * profile until Microsoft sends back a consent from a Global Administrator; every refusal leaves the
 * partner's profiles exactly as they were.
 */
export function createProfileAuthorization(deps: AuthorizationDeps) {
  const { store, oauth, box, audit } = deps;

  const startFlow = (input: ConsentFlowInput) => startConsentFlow(deps, input);

  const graphHostOf = deps.graphHostOf ?? ((cloud: Cloud, tenantId: string) => tenantGraphHost(deps.microsoft.endpoints[cloud].login, cloud, tenantId));
  const verifyConsent = (flow: RedeemedFlow, params: CallbackParams) => verifyConsentAnswer({ oauth, graphs: deps.graphs, graphHostOf }, flow, params);
  const freshAuthorization = (profileId: string, tokens: RedeemedTokenSet, upn: string, graphHost: string, now: string) =>
    freshAuthorizationColumns(box, profileId, tokens, upn, graphHost, now);

  async function finishCreate(flow: RedeemedFlow, params: CallbackParams, clientAddress: string): Promise<FlowOutcome> {
    const { tokens, tenantName, tenantDomain, upn, graphHost } = await verifyConsent(flow, params);
    const partnerId = flow.partnerId!;
    const tenantId = tokens.idToken.tid.toLowerCase();
    const existing = await store.findByTenant(partnerId, flow.cloud, tenantId);
    if (existing) {
      throw new FlowRefusal('TENANT_ALREADY_CONNECTED', `The tenant is already connected as “${existing.name}”.`, { profileId: existing.id, details: { tenantId, microsoftAccount: upn } });
    }
    const name = flow.profileName!;
    const id = randomUUID();
    const now = new Date().toISOString();
    try {
      await store.insert({
        id,
        partner_id: partnerId,
        name,
        name_key: name.toLowerCase(),
        cloud: flow.cloud,
        tenant_id: tenantId,
        tenant_name: tenantName,
        tenant_domain: tenantDomain,
        ...freshAuthorization(id, tokens, upn, graphHost, now),
        created_at: now,
        updated_at: now,
      });
    } catch (error) {
      // Someone took the name, or connected the tenant, while this person was at Microsoft.
      if (isUniqueViolation(error)) {
        const again = await store.findByTenant(partnerId, flow.cloud, tenantId);
        if (again) throw new FlowRefusal('TENANT_ALREADY_CONNECTED', `The tenant is already connected as “${again.name}”.`, { profileId: again.id });
        throw new FlowRefusal('NAME_TAKEN', `An app profile named “${name}” already exists.`);
      }
      throw error;
    }
    await audit.record({
      partnerId,
      actor: { userId: flow.userId, email: await actorEmail(store, flow) },
      action: 'app_profile.create',
      target: { type: 'app_profile', id, name },
      outcome: 'success',
      clientAddress,
      details: { cloud: flow.cloud, tenantId, tenantName, microsoftAccount: upn, ...linkDetails(flow) },
    });
    return { result: 'created', profileId: id };
  }

  async function finishReauthorize(flow: RedeemedFlow, params: CallbackParams, clientAddress: string): Promise<FlowOutcome> {
    const partnerId = flow.partnerId!;
    const profile = await store.get(partnerId, flow.profileId!);
    if (!profile) throw new FlowRefusal('PROFILE_NOT_FOUND', 'The app profile was deleted meanwhile.');
    const { tokens, upn, graphHost } = await verifyConsent(flow, params);
    const tenantId = tokens.idToken.tid.toLowerCase();
    if (tenantId !== profile.tenant_id || flow.cloud !== profile.cloud) {
      throw new FlowRefusal('WRONG_TENANT', 'The account belongs to another tenant than the app profile.', { profileId: profile.id, details: { tenantId, microsoftAccount: upn } });
    }
    const now = new Date().toISOString();
    await store.update(partnerId, profile.id, freshAuthorization(profile.id, tokens, upn, graphHost, now));
    await audit.record({
      partnerId,
      actor: { userId: flow.userId, email: await actorEmail(store, flow) },
      action: 'app_profile.reauthorize',
      target: { type: 'app_profile', id: profile.id, name: profile.name },
      outcome: 'success',
      clientAddress,
      details: { account: flow.account, tenantId, microsoftAccount: upn, previousMicrosoftAccount: profile.authorized_by_upn, ...linkDetails(flow) },
    });
    // Every permission was consented again (verifyConsent refuses less): an expiry or a drift ends.
    const ref = { partnerId, id: profile.id, name: profile.name, tenantId: profile.tenant_id };
    await deps.notify?.(profileRestored(ref, 'reauthorize'));
    await deps.notify?.(permissionsRestored(ref));
    return { result: 'reauthorized', profileId: profile.id };
  }

  /** Creates or re-authorizes with every check; a refusal is audited and answered, never thrown. */
  async function settle(flow: RedeemedFlow, params: CallbackParams, clientAddress: string, precheck?: () => void): Promise<FlowOutcome> {
    try {
      precheck?.();
      return createsProfile(flow) ? await finishCreate(flow, params, clientAddress) : await finishReauthorize(flow, params, clientAddress);
    } catch (error) {
      if (!(error instanceof FlowRefusal)) throw error;
      if (flow.partnerId) {
        await audit.record({
          partnerId: flow.partnerId,
          actor: { userId: flow.userId, email: await actorEmail(store, flow) },
          action: createsProfile(flow) ? 'app_profile.create' : 'app_profile.reauthorize',
          target: { type: 'app_profile', id: flow.profileId, name: flow.profileName },
          outcome: 'failure',
          clientAddress,
          details: { code: error.code, reason: error.message, cloud: flow.cloud, ...linkDetails(flow), ...error.extra.details },
        });
      }
      return { result: 'error', code: error.code, profileId: error.extra.profileId, missing: error.extra.missing };
    }
  }

  return {
    async startCreate(auth: AuthContext, browserBinding: string, input: { name: string; cloud: Cloud; returnTo?: string }): Promise<string> {
      if (!deps.microsoft.offeredClouds.includes(input.cloud)) {
        throw new BadRequestError('CLOUD_NOT_OFFERED', 'This deployment does not offer that Microsoft 365 version.', { field: 'cloud' });
      }
      return startFlow({ auth, browserBinding, purpose: 'create_profile', cloud: input.cloud, profileName: input.name, returnTo: input.returnTo });
    },

    async startReauthorize(auth: AuthContext, browserBinding: string, profileId: string, account: 'current' | 'another', returnTo?: string): Promise<string> {
      const profile = await store.get(auth.partner.id, profileId);
      if (!profile) throw new NotFoundError('The app profile');
      return startFlow({
        auth,
        browserBinding,
        purpose: 'reauthorize_profile',
        cloud: profile.cloud,
        profileId,
        profileName: profile.name,
        account,
        loginHint: profile.authorized_by_upn,
        returnTo,
      });
    },

    /**
     * Finishes a round trip. Only the browser and portal session (an Administrator's) that started it
     * may finish it; any refusal becomes `?result=error&code=...` and changes nothing.
     */
    async finish(flow: RedeemedFlow, params: CallbackParams, auth: AuthContext | null, clientAddress: string): Promise<FlowResult> {
      const outcome = await settle(flow, params, clientAddress, () => {
        if (!auth || auth.sessionId !== flow.sessionId || auth.partner.id !== flow.partnerId || auth.user.role !== 'administrator') {
          throw new FlowRefusal('STATE_INVALID', 'The round trip was not started by this portal session.');
        }
      });
      return { location: outcomeUrl(flow.returnTo ?? APP_PROFILES_PAGE, outcome) };
    },

    /**
     * Finishes a round trip started from a consent link (no portal session): the partner, cloud and profile
     * come from the link, never from the browser, and exactly the checks of the portal's own round trips run.
     */
    finishFromLink: (flow: RedeemedFlow, params: CallbackParams, clientAddress: string): Promise<FlowOutcome> => settle(flow, params, clientAddress),
  };
}

export interface ConsentFlowInput {
  auth: AuthContext;
  browserBinding: string;
  purpose: 'create_profile' | 'reauthorize_profile';
  cloud: Cloud;
  profileId?: string;
  profileName: string;
  account?: 'current' | 'another';
  loginHint?: string;
  returnTo?: string;
}

/**
 * Microsoft's sign-in for an app profile's consent, from the portal or from a consent link. It always shows the
 * consent screen: the seed's "Review the permissions and click Accept".
 */
export function consentAuthorizationUrl(oauth: Pick<MicrosoftOAuth, 'authorizationUrl'>, cloud: Cloud, request: AuthorizationRequest, loginHint?: string): string {
  return oauth.authorizationUrl(cloud, {
    tenant: 'organizations',
    scopes: APP_PROFILE_SCOPES,
    state: request.state,
    nonce: request.nonce,
    codeChallenge: request.codeChallenge,
    prompt: 'consent',
    loginHint,
  });
}

/** Starts a consent round trip at Microsoft (always with the consent screen), optionally after signing the browser out. */
export async function startConsentFlow(deps: Pick<AuthorizationDeps, 'oauth' | 'flows' | 'publicUrl'>, input: ConsentFlowInput): Promise<string> {
  const request = deps.oauth.newAuthorizationRequest();
  const url = consentAuthorizationUrl(deps.oauth, input.cloud, request, input.account === 'current' ? input.loginHint : undefined);
  const signOutFirst = input.account === 'another';
  await deps.flows.create({
    purpose: input.purpose,
    state: request.state,
    nonce: request.nonce,
    codeVerifier: request.codeVerifier,
    browserBinding: input.browserBinding,
    sessionId: input.auth.sessionId,
    partnerId: input.auth.partner.id,
    userId: input.auth.user.id,
    cloud: input.cloud,
    profileId: input.profileId,
    profileName: input.profileName,
    account: input.account,
    loginHint: input.loginHint,
    returnTo: safeReturnPath(input.returnTo, APP_PROFILES_PAGE),
    continueUrl: signOutFirst ? url : null,
  });
  if (!signOutFirst) return url;
  // Sign the browser out at Microsoft first; /auth/microsoft/signed-out then continues to `url`.
  return deps.oauth.logoutUrl(input.cloud, { postLogoutRedirectUri: `${deps.publicUrl}/auth/microsoft/signed-out`, logoutHint: undefined });
}
