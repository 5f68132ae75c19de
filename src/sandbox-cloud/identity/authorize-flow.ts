import type { SandboxCloudName } from '../clouds';
import { newGuid, randomToken, secretsEqual } from '../crypto-utils';
import type { DirectoryUser, Tenant } from '../directory';
import { appendQuery } from '../http';
import { graphPermission, OIDC_SCOPES, parseScopes } from '../permissions';
import type { SandboxState } from '../state';
import { aad, aadErrorBody, type AadError } from './aad-errors';
import { accountPickerPage, adminApprovalPage, consentPage, errorPage, signInPage } from './pages';
import { PROMPTS, type AuthorizeFlow, type Prompt } from './flows';
import type { BrowserSession } from './sessions';

/**
 * The authorize state machine: validate the request, then sign-in → account picker → consent → code.
 * A flow lives on the server under an opaque id; the pages post back only that id.
 */

const FLOW_LIFETIME_MS = 60 * 60 * 1000;

export type Outcome =
  | { kind: 'page'; status: number; html: string; newSession?: BrowserSession }
  | { kind: 'redirect'; location: string; newSession?: BrowserSession };

export interface FlowContext {
  state: SandboxState;
  cloud: SandboxCloudName;
  session: BrowserSession | undefined;
}

export const flowActions = (cloud: SandboxCloudName) => ({
  signIn: `/${cloud}/login/_flow/sign-in`,
  pick: `/${cloud}/login/_flow/pick-account`,
  consent: `/${cloud}/login/_flow/consent`,
  adminApproval: `/${cloud}/login/_flow/admin-approval`,
});

export function errorPageOutcome(ctx: FlowContext, failure: AadError, status = 400): Outcome {
  const body = aadErrorBody(failure, ctx.state.clock.now(), ctx.state.urls(ctx.cloud).login);
  return { kind: 'page', status, html: errorPage({ code: failure.code, message: failure.detail, correlationId: body.correlation_id, timestamp: body.timestamp }) };
}

function redirectError(ctx: FlowContext, redirectUri: string, stateParam: string | undefined, failure: AadError, errorName = failure.error): Outcome {
  const body = aadErrorBody(failure, ctx.state.clock.now(), ctx.state.urls(ctx.cloud).login);
  return { kind: 'redirect', location: appendQuery(redirectUri, { error: errorName, error_description: body.error_description, error_uri: body.error_uri, state: stateParam }) };
}

/** GET authorize: validates like Entra (errors before the redirect URI is trusted are pages, after it redirects). */
export function startAuthorize(ctx: FlowContext, tenantSegment: string, params: Record<string, string>): Outcome {
  const { state, cloud } = ctx;
  const segment = tenantSegment.toLowerCase();
  let pathTenant: Tenant | undefined;
  if (segment !== 'organizations' && segment !== 'common') {
    pathTenant = state.directory.resolve(cloud, tenantSegment);
    if (!pathTenant) return errorPageOutcome(ctx, aad.tenantNotFound(tenantSegment));
  }
  if (!params.client_id) return errorPageOutcome(ctx, aad.missingParameter('client_id'));
  const app = state.apps.get(params.client_id);
  if (!app) return errorPageOutcome(ctx, aad.appNotFound(params.client_id, pathTenant?.displayName ?? tenantSegment));
  if (!params.redirect_uri) return errorPageOutcome(ctx, aad.missingParameter('redirect_uri'));
  if (!app.redirectUris.includes(params.redirect_uri)) return errorPageOutcome(ctx, aad.redirectMismatch(params.redirect_uri, app.clientId));

  const fail = (failure: AadError) => redirectError(ctx, params.redirect_uri, params.state, failure);
  if (!params.response_type) return fail(aad.missingParameter('response_type'));
  if (params.response_type !== 'code') return fail(aad.unsupportedResponseType(params.response_type));
  if (!params.scope) return fail(aad.missingParameter('scope'));
  const scopes = parseScopes(params.scope, cloud, state.urls(cloud).graphHosts);
  if (scopes.unknown.length > 0) return fail(aad.invalidScope(scopes.unknown[0]));
  if (!params.code_challenge) return fail(aad.missingParameter('code_challenge'));
  if ((params.code_challenge_method ?? 'plain') !== 'S256') return fail(aad.invalidCodeChallengeMethod());
  if (params.prompt && !PROMPTS.includes(params.prompt as Prompt)) return fail(aad.invalidPrompt(params.prompt));

  sweepFlows(state);
  const flow: AuthorizeFlow = {
    id: randomToken(24),
    cloud,
    pathTenantId: pathTenant?.id ?? null,
    app,
    request: {
      clientId: app.clientId,
      redirectUri: params.redirect_uri,
      scopes,
      state: params.state,
      nonce: params.nonce,
      codeChallenge: params.code_challenge,
      prompt: params.prompt as Prompt | undefined,
      loginHint: params.login_hint,
      domainHint: params.domain_hint,
    },
    createdMs: state.clock.nowMs(),
    askCredentials: params.prompt === 'login',
  };
  state.flows.set(flow.id, flow);
  return continueFlow(ctx, flow);
}

function sweepFlows(state: SandboxState): void {
  const now = state.clock.nowMs();
  for (const [id, flow] of state.flows) if (now - flow.createdMs > FLOW_LIFETIME_MS) state.flows.delete(id);
}

export function findFlow(ctx: FlowContext, flowId: string | undefined): AuthorizeFlow | undefined {
  const flow = flowId ? ctx.state.flows.get(flowId) : undefined;
  if (!flow || flow.cloud !== ctx.cloud || ctx.state.clock.nowMs() - flow.createdMs > FLOW_LIFETIME_MS) return undefined;
  return flow;
}

/** Accounts of the browser session that still exist and whose sign-in was not revoked. */
function usableAccounts(ctx: FlowContext): { tenant: Tenant; user: DirectoryUser; authTimeMs: number }[] {
  const result = [];
  for (const account of ctx.session?.accounts.values() ?? []) {
    const tenant = ctx.state.directory.byId(account.tenantId);
    const user = tenant?.usersById.get(account.userId);
    if (tenant && user && account.authTimeMs > user.tokensValidFromMs) result.push({ tenant, user, authTimeMs: account.authTimeMs });
  }
  return result;
}

function showSignIn(ctx: FlowContext, flow: AuthorizeFlow): Outcome {
  const html = signInPage({ action: flowActions(ctx.cloud).signIn, flowId: flow.id, email: flow.signInEmail ?? flow.request.loginHint, error: flow.signInError });
  return { kind: 'page', status: 200, html };
}

/** Moves the flow as far as it can go without the person, and answers the page or redirect to show. */
export function continueFlow(ctx: FlowContext, flow: AuthorizeFlow): Outcome {
  const { state } = ctx;
  const { request } = flow;
  const failRedirect = (failure: AadError, errorName?: string) => {
    state.flows.delete(flow.id);
    return redirectError(ctx, request.redirectUri, request.state, failure, errorName);
  };

  if (!flow.userId) {
    if (flow.askCredentials) return showSignIn(ctx, flow);
    const accounts = usableAccounts(ctx);
    const hint = request.loginHint?.toLowerCase();
    const hinted = hint ? accounts.find((a) => a.user.upnLower === hint) : undefined;
    let chosen = hinted;
    if (request.prompt === 'none') {
      chosen ??= accounts.length === 1 && !hint ? accounts[0] : undefined;
      if (!chosen) return failRedirect(accounts.length > 1 && !hint ? aad.multipleAccounts() : aad.loginRequired());
    } else if (request.prompt === 'select_account' || (!hinted && accounts.length > 0)) {
      if (accounts.length === 0) return showSignIn(ctx, flow);
      const html = accountPickerPage({
        action: flowActions(ctx.cloud).pick,
        flowId: flow.id,
        accounts: accounts.map((a) => ({ userId: a.user.id, email: a.user.userPrincipalName, displayName: a.user.displayName })),
      });
      return { kind: 'page', status: 200, html };
    }
    if (!chosen) return showSignIn(ctx, flow);
    flow.tenantId = chosen.tenant.id;
    flow.userId = chosen.user.id;
    flow.authTimeMs = chosen.authTimeMs;
  }

  const tenant = state.directory.byId(flow.tenantId!);
  const user = tenant?.usersById.get(flow.userId!);
  if (!tenant || !user) {
    flow.userId = undefined;
    flow.askCredentials = true;
    return showSignIn(ctx, flow);
  }
  const interactive = request.prompt !== 'none';
  if (!user.accountEnabled) return interactive ? errorPageOutcome(ctx, aad.accountDisabled()) : failRedirect(aad.accountDisabled(), 'interaction_required');
  if (flow.pathTenantId && flow.pathTenantId !== tenant.id) {
    const pathTenant = state.directory.byId(flow.pathTenantId)!;
    const failure = aad.userNotInTenant(user.userPrincipalName, pathTenant.displayName, flow.app.clientId);
    return interactive ? errorPageOutcome(ctx, failure) : failRedirect(failure);
  }

  const requested = request.scopes.graph;
  const consented = state.consents.consentedScopes(tenant.id, flow.app.clientId, user.id);
  const missing = !state.consents.hasConsent(tenant.id, flow.app.clientId, user.id) || requested.some((s) => !consented.has(s));
  if ((missing || request.prompt === 'consent') && !flow.consented) {
    if (!interactive) return failRedirect(aad.consentMissing(flow.app.clientId, flow.app.displayName), 'consent_required');
    const isAdmin = tenant.canGrantTenantConsent(user);
    const tenantWide = state.consents.tenantScopes(tenant.id, flow.app.clientId);
    const adminOnlyMissing = requested.filter((s) => graphPermission(s)?.adminConsentRequired && !tenantWide.has(s));
    if (!isAdmin && adminOnlyMissing.length > 0) {
      const body = aadErrorBody(aad.adminApprovalNeeded(), state.clock.now(), state.urls(ctx.cloud).login);
      const html = adminApprovalPage({
        action: flowActions(ctx.cloud).adminApproval,
        flowId: flow.id,
        appName: flow.app.displayName,
        tenantName: tenant.displayName,
        userEmail: user.userPrincipalName,
        description: body.error_description.split('\r\n')[0],
      });
      return { kind: 'page', status: 200, html };
    }
    const lines = [
      ...request.scopes.oidc.map((s) => OIDC_SCOPES[s]),
      ...requested.map((s) => graphPermission(s)!.consentText),
    ];
    const html = consentPage({
      action: flowActions(ctx.cloud).consent,
      flowId: flow.id,
      appName: flow.app.displayName,
      tenantName: tenant.displayName,
      userEmail: user.userPrincipalName,
      lines: [...new Set(lines)],
      forOrganization: isAdmin,
    });
    return { kind: 'page', status: 200, html };
  }
  return issueCode(ctx, flow, tenant, user);
}

function issueCode(ctx: FlowContext, flow: AuthorizeFlow, tenant: Tenant, user: DirectoryUser): Outcome {
  const { state } = ctx;
  const { request } = flow;
  state.flows.delete(flow.id);
  const code = state.grants.issueCode({
    cloud: ctx.cloud,
    clientId: flow.app.clientId,
    redirectUri: request.redirectUri,
    tenantId: tenant.id,
    userId: user.id,
    oidcScopes: request.scopes.oidc,
    graphScopes: request.scopes.graph,
    nonce: request.nonce,
    codeChallenge: request.codeChallenge,
    issuedMs: state.clock.nowMs(),
    authTimeMs: flow.authTimeMs ?? state.clock.nowMs(),
    redeemed: false,
  });
  return { kind: 'redirect', location: appendQuery(request.redirectUri, { code, state: request.state, session_state: newGuid() }) };
}

/** POST of the sign-in form. */
export function submitSignIn(ctx: FlowContext, flow: AuthorizeFlow, email: string, password: string): Outcome {
  const { state } = ctx;
  const found = flow.pathTenantId
    ? (() => {
        const tenant = state.directory.byId(flow.pathTenantId)!;
        const user = tenant.usersByUpn.get(email.trim().toLowerCase());
        return user ? { tenant, user } : undefined;
      })()
    : state.directory.findUserByUpn(ctx.cloud, email.trim());
  flow.signInEmail = email;
  // Unknown account and wrong password answer the same, like Entra (AADSTS50126).
  if (!found || !secretsEqual(password, found.user.password)) {
    flow.signInError = 'Your account or password is incorrect. If you don\'t remember your password, reset it now. (AADSTS50126)';
    return showSignIn(ctx, flow);
  }
  if (!found.user.accountEnabled) {
    flow.signInError = 'AADSTS50057: The user account is disabled. Your account has been locked; contact your administrator to unlock it.';
    return showSignIn(ctx, flow);
  }
  const now = state.clock.nowMs();
  const session = state.sessions.signIn(ctx.cloud, ctx.session, { tenantId: found.tenant.id, userId: found.user.id, authTimeMs: now });
  const newSession = ctx.session ? undefined : session;
  flow.signInError = undefined;
  flow.askCredentials = false;
  flow.tenantId = found.tenant.id;
  flow.userId = found.user.id;
  flow.authTimeMs = now;
  const outcome = continueFlow({ ...ctx, session }, flow);
  return { ...outcome, newSession };
}

/** POST of the account picker: an account of the session, or "another". */
export function submitPickAccount(ctx: FlowContext, flow: AuthorizeFlow, account: string): Outcome {
  if (account === 'another') {
    flow.askCredentials = true;
    return continueFlow(ctx, flow);
  }
  const chosen = usableAccounts(ctx).find((a) => a.user.id === account);
  if (chosen) {
    flow.tenantId = chosen.tenant.id;
    flow.userId = chosen.user.id;
    flow.authTimeMs = chosen.authTimeMs;
  }
  return continueFlow(ctx, flow);
}

/** POST of the consent page: Accept records the grant (tenant-wide for a Global Administrator). */
export function submitConsent(ctx: FlowContext, flow: AuthorizeFlow, decision: string): Outcome {
  const { state } = ctx;
  if (!flow.userId) return continueFlow(ctx, flow);
  if (decision !== 'accept') {
    state.flows.delete(flow.id);
    return redirectError(ctx, flow.request.redirectUri, flow.request.state, aad.userDeclined());
  }
  const tenant = state.directory.byId(flow.tenantId!);
  const user = tenant?.usersById.get(flow.userId);
  if (!tenant || !user) return continueFlow(ctx, flow);
  const requested = flow.request.scopes.graph;
  if (tenant.canGrantTenantConsent(user)) {
    state.consents.grantTenant(tenant.id, flow.app.clientId, requested);
  } else {
    state.consents.grantUser(tenant.id, flow.app.clientId, user.id, requested.filter((s) => !graphPermission(s)?.adminConsentRequired));
  }
  flow.consented = true;
  return continueFlow(ctx, flow);
}

/** POST of "Need admin approval": back to the app with access_denied (AADSTS90094). */
export function submitAdminApproval(ctx: FlowContext, flow: AuthorizeFlow): Outcome {
  ctx.state.flows.delete(flow.id);
  return redirectError(ctx, flow.request.redirectUri, flow.request.state, aad.adminApprovalNeeded());
}

