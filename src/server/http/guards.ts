import type { Config } from '../config';
import type { FastifyBaseLogger, FastifyInstance, FastifyReply, FastifyRequest, RouteOptions } from 'fastify';
import type { SessionStore } from '../partners/session-store';
import type { AuthContext } from './context';
import { safeEqual } from '../security/random';
import { ForbiddenError, UnauthorizedError } from './errors';

export const SESSION_COOKIE = 'tg_session';
const CHANGING_METHODS = new Set(['POST', 'PATCH', 'PUT', 'DELETE']);

export type SessionCookieSettings = Pick<Config, 'secureCookies' | 'sessionIdleTimeoutMs' | 'sessionAbsoluteLifetimeMs'>;

/** Sign-ins whose browser came with another session's cookie: that session ends when the answer goes out. */
const replacedSessions = new WeakMap<FastifyReply, string>();

/**
 * The session cookie expires when the server's session would if left idle (never after its absolute
 * end); Secure behind https. A sign-in always gets a new session: the one the browser had before (a
 * fixated or an old one) ends.
 */
export function setSessionCookie(reply: FastifyReply, token: string, settings: SessionCookieSettings): void {
  const previous = reply.request.cookies[SESSION_COOKIE];
  if (previous && previous !== token) replacedSessions.set(reply, previous);
  writeSessionCookie(reply, token, settings.secureCookies, Math.min(settings.sessionIdleTimeoutMs, settings.sessionAbsoluteLifetimeMs));
}

function writeSessionCookie(reply: FastifyReply, token: string, secure: boolean, lifetimeMs: number): void {
  reply.setCookie(SESSION_COOKIE, token, {
    httpOnly: true,
    sameSite: 'lax',
    secure,
    path: '/',
    maxAge: Math.max(0, Math.floor(lifetimeMs / 1000)),
  });
}

export function clearSessionCookie(reply: FastifyReply, secure: boolean): void {
  reply.clearCookie(SESSION_COOKIE, { httpOnly: true, sameSite: 'lax', secure, path: '/' });
}

/**
 * One hook resolves the session, then enforces the route's declared access and CSRF protection, so
 * no route can forget them. Order: unauthenticated 401, then CSRF 403, then role 403.
 */
export function installGuards(app: FastifyInstance, sessions: SessionStore, options: { publicUrl: string; secureCookies: boolean }): void {
  app.decorateRequest('auth', null);
  requireAccessRules(app);
  const allowedOrigin = new URL(options.publicUrl).origin;

  // Before validation: who may call a route is decided before anything is said about the input.
  app.addHook('preValidation', async (request: FastifyRequest, reply: FastifyReply) => {
    const config = request.routeOptions.config;
    const access = config.access ?? 'public';
    const changing = CHANGING_METHODS.has(request.method);
    // The session is looked up only where it matters, not for static files, health probes or sign-up.
    const token = request.cookies[SESSION_COOKIE];
    const needsSession = access !== 'public' || config.readsSession || (changing && !config.csrfExempt);
    const resolved = token && needsSession ? await sessions.resolve(token) : null;
    request.auth = resolved;
    if (resolved) bindLogContext(request, resolved);
    // The server moved the session's idle deadline: the cookie follows, so both end together.
    if (token && resolved?.renewedUntil) writeSessionCookie(reply, token, options.secureCookies, resolved.renewedUntil.getTime() - Date.now());

    if (access !== 'public' && !request.auth) throw new UnauthorizedError();

    if (changing) {
      if (config.csrfExempt) {
        const origin = request.headers.origin;
        if (origin && origin !== allowedOrigin && origin !== requestOrigin(request)) {
          throw new ForbiddenError('This request came from another site.', 'ORIGIN_NOT_ALLOWED');
        }
      } else if (token) {
        const sent = request.headers['x-csrf-token'];
        if (!request.auth || typeof sent !== 'string' || !safeEqual(sent, request.auth.csrfToken)) {
          throw new ForbiddenError('The request is missing a valid CSRF token. Reload the page and try again.', 'CSRF_TOKEN_INVALID');
        }
      }
    }

    if (access === 'admin' && request.auth?.user.role !== 'administrator') {
      throw new ForbiddenError('Only Administrators can do this.');
    }
  });

  app.addHook('onSend', (_request, reply, payload, done) => {
    const previous = replacedSessions.get(reply);
    if (!previous) return done(null, payload);
    sessions.destroyToken(previous).then(() => done(null, payload), done);
  });
}

/**
 * Every route must declare who may call it: one registered without `config.access` stops start-up
 * (checked once all plugins have added their routes) instead of quietly becoming public.
 */
function requireAccessRules(app: FastifyInstance): void {
  const routes: RouteOptions[] = [];
  app.addHook('onRoute', (route) => {
    routes.push(route);
  });
  app.addHook('onReady', async () => {
    const missing = routes.filter((route) => !route.config?.access).map((route) => `${[route.method].flat().join(',')} ${route.url}`);
    if (missing.length) throw new Error(`Routes registered without an access rule (config.access): ${[...new Set(missing)].join('; ')}`);
  });
}

function requestOrigin(request: FastifyRequest): string {
  return `${request.protocol}://${request.host}`;
}

/**
 * Every later line of this request (its "request completed" line included) names the partner and
 * user, and the app profile for /api/app-profiles/:id routes; the request id is already on it.
 */
function bindLogContext(request: FastifyRequest, auth: AuthContext): void {
  const bindings: Record<string, string> = { partnerId: auth.partner.id, userId: auth.user.id };
  const profileId = (request.params as { id?: unknown } | undefined)?.id;
  if (request.routeOptions.url?.startsWith('/api/app-profiles/:id') && typeof profileId === 'string') bindings.profileId = profileId;
  // Added to the request's own logger (request.log and reply.log are one): a child logger per request cost as
  // much as a tenth of a signed-in read.
  (request.log as FastifyBaseLogger & { setBindings(bindings: Record<string, string>): void }).setBindings(bindings);
}
