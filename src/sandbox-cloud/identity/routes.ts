import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { CLOUD_NAMES, type SandboxCloudName } from '../clouds';
import { readCookie, setCookie, stringParams } from '../http';
import type { SandboxState } from '../state';
import { AadError, aadErrorBody } from './aad-errors';
import {
  continueFlow,
  errorPageOutcome,
  findFlow,
  startAuthorize,
  submitAdminApproval,
  submitConsent,
  submitPickAccount,
  submitSignIn,
  type FlowContext,
  type Outcome,
} from './authorize-flow';
import { discoveryDocument, keysDocument } from './discovery';
import { postLogoutTarget } from './logout';
import { signedOutPage, errorPage } from './pages';
import { sessionCookieName } from './sessions';
import { handleTokenRequest } from './token-endpoint';

type TenantParams = { tenant: string };

/** Registers the identity platform (v2.0 endpoints and the sign-in pages) for both clouds. */
export function registerIdentityRoutes(app: FastifyInstance, state: SandboxState): void {
  for (const cloud of CLOUD_NAMES) registerCloud(app, state, cloud);
}

function registerCloud(app: FastifyInstance, state: SandboxState, cloud: SandboxCloudName): void {
  const prefix = `/${cloud}/login`;
  const cookiePath = prefix;

  const context = (request: FastifyRequest): FlowContext => ({
    state,
    cloud,
    session: state.sessions.find(cloud, readCookie(request, sessionCookieName(cloud))),
  });

  const send = (reply: FastifyReply, outcome: Outcome) => {
    if (outcome.newSession) setCookie(reply, sessionCookieName(cloud), outcome.newSession.id, cookiePath);
    reply.header('cache-control', 'no-store');
    if (outcome.kind === 'redirect') return reply.redirect(outcome.location, 302);
    return reply.code(outcome.status).type('text/html; charset=utf-8').send(outcome.html);
  };

  const jsonError = (reply: FastifyReply, failure: AadError) =>
    reply.code(failure.status).header('cache-control', 'no-store').send(aadErrorBody(failure, state.clock.now(), state.urls(cloud).login));

  app.get<{ Params: TenantParams }>(`${prefix}/:tenant/v2.0/.well-known/openid-configuration`, async (request, reply) => {
    try {
      return discoveryDocument(state, cloud, request.params.tenant);
    } catch (error) {
      if (error instanceof AadError) return jsonError(reply, error);
      throw error;
    }
  });

  app.get<{ Params: TenantParams }>(`${prefix}/:tenant/discovery/v2.0/keys`, async (request, reply) => {
    try {
      return keysDocument(state, cloud, request.params.tenant);
    } catch (error) {
      if (error instanceof AadError) return jsonError(reply, error);
      throw error;
    }
  });

  app.get<{ Params: TenantParams }>(`${prefix}/:tenant/oauth2/v2.0/authorize`, async (request, reply) =>
    send(reply, startAuthorize(context(request), request.params.tenant, stringParams(request.query))),
  );

  const flowStep = (path: string, step: (ctx: FlowContext, form: Record<string, string>) => Outcome) => {
    app.post(`${prefix}/_flow/${path}`, async (request, reply) => {
      const ctx = context(request);
      const form = stringParams(request.body);
      const flow = findFlow(ctx, form.flow);
      if (!flow) return send(reply, errorPageOutcome(ctx, new AadError('invalid_request', 90009, 'The sign-in request expired or is unknown. Go back to the application and start again.')));
      return send(reply, step(ctx, form));
    });
  };
  flowStep('sign-in', (ctx, form) => submitSignIn(ctx, findFlow(ctx, form.flow)!, form.email ?? '', form.password ?? ''));
  flowStep('pick-account', (ctx, form) => submitPickAccount(ctx, findFlow(ctx, form.flow)!, form.account ?? ''));
  flowStep('consent', (ctx, form) => submitConsent(ctx, findFlow(ctx, form.flow)!, form.decision ?? ''));
  flowStep('admin-approval', (ctx, form) => submitAdminApproval(ctx, findFlow(ctx, form.flow)!));
  // A flow page reloaded by GET (e.g. browser refresh) shows its current step again.
  app.get<{ Querystring: { flow?: string } }>(`${prefix}/_flow/:step`, async (request, reply) => {
    const ctx = context(request);
    const flow = findFlow(ctx, request.query.flow);
    if (!flow) return send(reply, errorPageOutcome(ctx, new AadError('invalid_request', 90009, 'The sign-in request expired or is unknown.')));
    return send(reply, continueFlow(ctx, flow));
  });

  app.post<{ Params: TenantParams }>(`${prefix}/:tenant/oauth2/v2.0/token`, async (request, reply) => {
    if (!String(request.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')) {
      return jsonError(reply, new AadError('invalid_request', 900144, "The request body must contain the following parameter: 'grant_type'."));
    }
    const pathTenant = state.directory.resolve(cloud, request.params.tenant);
    if (pathTenant) state.traffic.countToken(pathTenant.id, 'request');
    const fault = pathTenant ? state.traffic.takeTokenFault(pathTenant.id) : null;
    if (fault?.delayMs) await new Promise((resolve) => setTimeout(resolve, fault.delayMs));
    if (fault?.status) {
      // An outage of the identity platform, as Entra answers one: transient, with Retry-After.
      return reply
        .code(fault.status)
        .header('retry-after', String(fault.retryAfterSeconds))
        .send({ error: 'temporarily_unavailable', error_description: 'AADSTS90033: A transient error has occurred. Please try again.', error_codes: [90033] });
    }
    try {
      const form = stringParams(request.body);
      const body = await handleTokenRequest(state, cloud, request.params.tenant, form, request.headers.authorization);
      if (pathTenant && form.grant_type === 'refresh_token') state.traffic.countToken(pathTenant.id, 'refreshed');
      return reply.header('cache-control', 'no-store').header('pragma', 'no-cache').send(body);
    } catch (error) {
      if (error instanceof AadError) return jsonError(reply, error);
      throw error;
    }
  });

  const logout = async (request: FastifyRequest<{ Params: TenantParams }>, reply: FastifyReply) => {
    const sessionId = readCookie(request, sessionCookieName(cloud));
    if (sessionId) state.sessions.end(sessionId);
    setCookie(reply, sessionCookieName(cloud), '', cookiePath, 0);
    const params = { ...stringParams(request.query), ...stringParams(request.body) };
    const target = postLogoutTarget(state, params);
    reply.header('cache-control', 'no-store');
    if (target) return reply.redirect(target, 302);
    return reply.type('text/html; charset=utf-8').send(signedOutPage());
  };
  app.get(`${prefix}/:tenant/oauth2/v2.0/logout`, logout);
  app.post(`${prefix}/:tenant/oauth2/v2.0/logout`, logout);

  app.get<{ Querystring: { code?: string } }>(`${prefix}/error`, async (request, reply) => {
    const code = Number(request.query.code) || 0;
    const html = errorPage({ code, message: `See the error_description returned with AADSTS${code}.`, correlationId: '', timestamp: '' });
    return reply.type('text/html; charset=utf-8').send(html);
  });
}
