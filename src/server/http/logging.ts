import { LogController, type FastifyReply, type FastifyRequest, type FastifyServerOptions } from 'fastify';
import { oncePerWindow } from '../security/once-per-window';

/** Query parameters that carry secrets or one-time values; their values never reach a log line. */
const SECRET_QUERY_PARAMS = /([?&](?:code|state|session_state|token|id_token|access_token|refresh_token|client_secret|code_verifier)=)[^&#]*/gi;

/**
 * Paths that carry a single-use token: a consent link's `/consent/:token` (and `/continue` after it). The
 * outcome page `/consent/done` carries no secret and stays readable.
 */
const SECRET_PATH_SEGMENTS = /^(\/consent\/)(?!done(?:[/?#]|$))[^/?#]+/;

export const redactUrl = (url: string): string => url.replace(SECRET_PATH_SEGMENTS, '$1[REDACTED]').replace(SECRET_QUERY_PARAMS, '$1[REDACTED]');

/** Names whose values never reach a log line, at the top of a log entry or one level down (`{ body: { password } }`). */
const SECRET_NAMES = ['password', 'newPassword', 'refreshToken', 'refresh_token', 'accessToken', 'access_token', 'idToken', 'id_token', 'clientSecret', 'client_secret', 'codeVerifier', 'token', 'csrfToken'];
/** Headers that carry credentials, wherever a logged value has `headers`. */
const SECRET_HEADERS = ['authorization', 'cookie', 'x-csrf-token', 'set-cookie'];
const CENSOR = '[REDACTED]';

/**
 * Censors secrets in a log entry before it is written. Written here rather than with pino's `redact`, whose
 * wildcard paths cost 16 µs per line (measured: 18 µs a request line with them, 2 µs without), as much as a
 * whole bare request: this checks the same names with a few property reads and copies only what it censors.
 */
export function redactSecrets(entry: Record<string, unknown>): Record<string, unknown> {
  let out = entry;
  for (const key of Object.keys(entry)) {
    // Requests and replies are written by serializers that pick their few safe fields (no headers).
    if (key === 'req' || key === 'res') continue;
    const value = entry[key];
    const censored = SECRET_NAMES.includes(key) ? CENSOR : censorOneLevel(value);
    if (censored === value) continue;
    if (out === entry) out = { ...entry };
    out[key] = censored;
  }
  return out;
}

function censorOneLevel(value: unknown): unknown {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
  const record = value as Record<string, unknown>;
  let out: Record<string, unknown> | undefined;
  const copy = () => (out ??= value instanceof Error ? { type: value.name, message: value.message, stack: value.stack, ...record } : { ...record });
  for (const name of SECRET_NAMES) if (record[name] !== undefined) copy()[name] = CENSOR;
  const headers = record.headers;
  if (headers !== null && typeof headers === 'object' && SECRET_HEADERS.some((h) => (headers as Record<string, unknown>)[h] !== undefined)) {
    const safe: Record<string, unknown> = { ...(headers as Record<string, unknown>) };
    for (const h of SECRET_HEADERS) if (safe[h] !== undefined) safe[h] = CENSOR;
    copy().headers = safe;
  }
  return out ?? value;
}

export function loggerOptions(level: string, stream?: NodeJS.WritableStream): FastifyServerOptions['logger'] {
  return {
    level,
    ...(stream ? { stream } : {}),
    formatters: { log: redactSecrets },
    serializers: {
      req: (req: { method: string; url: string; ip?: string; id?: string }) => ({ method: req.method, url: redactUrl(req.url), remoteAddress: req.ip }),
    },
  };
}

/** Refusals a flood produces by the thousand (the per-address 429, the hashing gate's 503): see OneLinePerRequest. */
const pacedRefusals = new WeakSet<FastifyRequest>();
export const markPacedRefusal = (request: FastifyRequest): void => void pacedRefusals.add(request);

/** A read slower than this is logged at info even when it succeeded. */
export const SLOW_REQUEST_MS = 1000;

/**
 * One line per request, when it is answered (with method, path, status and time); Fastify's "incoming
 * request" line repeated half of it and cost as much to write and redact. Every change, every failure
 * (4xx, 5xx) and every slow request is logged at info; a read that succeeded quickly at debug: writing a
 * line for each was a fifth of the CPU of a signed-in read, and reads are counted in the metrics
 * (`tenantgate_http_request_duration_seconds`) and by the reverse proxy's access log. LOG_LEVEL=debug shows them.
 * A paced refusal is logged at info once a minute per address and route, then at debug: a flood must not become
 * a flood of log lines (the metrics count every one).
 */
export class OneLinePerRequest extends LogController {
  constructor(private readonly slowMs = SLOW_REQUEST_MS) {
    super();
  }

  private readonly firstRefusal = oncePerWindow(60_000);

  override incomingRequest(): void {}

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    if (error) return reply.log.error({ req: request, res: reply, err: error, responseTime: reply.elapsedTime }, 'request errored');
    const entry = { req: request, res: reply, responseTime: reply.elapsedTime };
    const quietRead = (request.method === 'GET' || request.method === 'HEAD') && reply.statusCode < 400 && reply.elapsedTime < this.slowMs;
    const quietRefusal = pacedRefusals.has(request) && !this.firstRefusal(`${request.ip} ${request.method} ${request.routeOptions.url ?? ''}`);
    if (quietRead || quietRefusal) reply.log.debug(entry, 'request completed');
    else reply.log.info(entry, 'request completed');
  }
}
