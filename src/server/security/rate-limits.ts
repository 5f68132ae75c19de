import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AuditLog } from '../audit/store';
import { TooManyRequestsError } from '../http/errors';
import { addressKey } from './address-key';
import { oncePerWindow } from './once-per-window';

/**
 * Per-address limits on every route that answers without a session (sign-up, sign-in, activation, the
 * Microsoft round trips, ...). They are the coarse first gate, before any body parsing, database write
 * or password hash; the sign-in limiter (in the database) adds the per-account rules behind it.
 *
 * Counters live in the process, not the database: writing a row per anonymous request would itself be
 * the cost being limited. With several instances behind a load balancer each counts on its own, so an
 * address gets at most (instances x limit); the resource protected (CPU and memory for hashing, rows
 * per request) is per instance too, and the database-backed sign-in limiter stays shared.
 */
export interface AnonymousRateLimits {
  /** Requests per minute and address to routes that hash a password. */
  passwordPerMinute: number;
  /** Requests per minute and address to every other unauthenticated route. */
  otherPerMinute: number;
}

/** Routes that run a password hash: the most expensive thing an anonymous caller can ask for. */
const PASSWORD_ROUTES = new Set(['POST /api/signup', 'POST /api/session', 'POST /api/activate']);
/** Probes and the web app's files stay unlimited; every other public route is counted. */
const COUNTED_PREFIXES = ['/api/', '/auth/', '/consent/'];
const MINUTE = 60_000;

export async function registerAnonymousRateLimits(app: FastifyInstance, limits: AnonymousRateLimits, audit: AuditLog): Promise<void> {
  // Must run before the plugin's own onRoute hook, which reads `config.rateLimit`.
  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    if (route.config?.access !== 'public' || !COUNTED_PREFIXES.some((p) => route.url.startsWith(p))) return;
    if (methods.every((m) => m === 'HEAD')) return;
    const hashes = methods.some((m) => PASSWORD_ROUTES.has(`${m} ${route.url}`));
    route.config = {
      ...route.config,
      rateLimit: hashes
        ? { max: limits.passwordPerMinute, timeWindow: MINUTE, groupId: 'password' }
        : { max: limits.otherPerMinute, timeWindow: MINUTE, groupId: 'anonymous' },
    };
  });

  // At most one audit entry per address, group and window, so a flood does not become a flood of rows.
  const firstInWindow = oncePerWindow(MINUTE);
  const auditOnce = (request: FastifyRequest, key: string) => {
    if (!firstInWindow(key)) return;
    void audit
      .record({
        partnerId: null,
        actor: { userId: null, email: null },
        action: 'request.rate_limited',
        target: { type: 'route', id: null, name: `${request.method} ${request.routeOptions.url ?? ''}` },
        outcome: 'failure',
        clientAddress: request.ip,
        details: { reason: 'rate_limited' },
      })
      .catch((error: unknown) => request.log.warn({ err: error }, 'could not audit a rate-limited request'));
  };

  await app.register(rateLimit, {
    global: false,
    // One IPv6 client holds a whole /64: counted by its prefix, or it could take a fresh address per request.
    keyGenerator: (request) => addressKey(request.ip),
    onExceeded: auditOnce,
    // The shared 429 of every limit: the error handler answers it with details.retryAfterSeconds and Retry-After,
  // after the refusal hold (paced), so a client flooding from one address is slowed to a wave per hold.
    errorResponseBuilder: (_request, context) => new TooManyRequestsError(`Too many requests from this address. Try again in ${context.after}.`, Math.max(1, Math.ceil(context.ttl / 1000)), undefined, true),
  });
}
