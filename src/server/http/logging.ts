import { LogController, type FastifyReply, type FastifyRequest, type FastifyServerOptions } from 'fastify';

/** Query parameters that carry secrets or one-time values; their values never reach a log line. */
const SECRET_QUERY_PARAMS = /([?&](?:code|state|session_state|token|id_token|access_token|refresh_token|client_secret|code_verifier)=)[^&#]*/gi;

/**
 * Paths that carry a single-use token: a consent link's `/consent/:token` (and `/continue` after it). The
 * outcome page `/consent/done` carries no secret and stays readable.
 */
const SECRET_PATH_SEGMENTS = /^(\/consent\/)(?!done(?:[/?#]|$))[^/?#]+/;

export const redactUrl = (url: string): string => url.replace(SECRET_PATH_SEGMENTS, '$1[REDACTED]').replace(SECRET_QUERY_PARAMS, '$1[REDACTED]');

export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-csrf-token"]',
  'res.headers["set-cookie"]',
  '*.password',
  '*.newPassword',
  '*.refreshToken',
  '*.refresh_token',
  '*.accessToken',
  '*.access_token',
  '*.idToken',
  '*.id_token',
  '*.clientSecret',
  '*.client_secret',
  '*.codeVerifier',
  '*.token',
  '*.csrfToken',
];

export function loggerOptions(level: string, stream?: NodeJS.WritableStream): FastifyServerOptions['logger'] {
  return {
    level,
    ...(stream ? { stream } : {}),
    redact: { paths: REDACT_PATHS, censor: '[REDACTED]' },
    serializers: {
      req: (req: { method: string; url: string; ip?: string; id?: string }) => ({ method: req.method, url: redactUrl(req.url), remoteAddress: req.ip }),
    },
  };
}

/**
 * One line per request, when it is answered (with method, path, status and time); Fastify's "incoming
 * request" line repeated half of it and cost as much to write and redact.
 */
export class OneLinePerRequest extends LogController {
  override incomingRequest(): void {}

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    if (error) reply.log.error({ req: request, res: reply, err: error, responseTime: reply.elapsedTime }, 'request errored');
    else reply.log.info({ req: request, res: reply, responseTime: reply.elapsedTime }, 'request completed');
  }
}
