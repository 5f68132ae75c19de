import { randomUUID } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { isUniqueViolation } from '../db/database';
import { isDatabaseUnavailable } from '../db/violations';
import { HashingBusyError } from '../security/hash-gate';
import type { RefusalHold } from '../security/refusal-hold';
import { AppError, TooManyRequestsError } from './errors';
import { markPacedRefusal } from './logging';

export interface ErrorBody {
  error: { code: string; message: string; details?: Record<string, unknown> };
  requestId: string;
}

export function sendError(reply: FastifyReply, request: FastifyRequest, status: number, code: string, message: string, details?: Record<string, unknown>) {
  const body: ErrorBody = { error: { code, message, ...(details ? { details } : {}) }, requestId: String(request.id) };
  return reply.code(status).type('application/json').send(body);
}

/** Fastify's own client-error codes, each answered 400 with a code the client can act on. */
const FASTIFY_CLIENT_ERRORS: Record<string, { code: string; message: string }> = {
  FST_ERR_CTP_INVALID_JSON_BODY: { code: 'INVALID_JSON', message: 'The request body is not valid JSON.' },
  FST_ERR_CTP_EMPTY_JSON_BODY: { code: 'INVALID_JSON', message: 'The request body is empty but JSON was declared.' },
  FST_ERR_CTP_BODY_TOO_LARGE: { code: 'BODY_TOO_LARGE', message: 'The request body is too large.' },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { code: 'UNSUPPORTED_MEDIA_TYPE', message: 'Send the request body as application/json.' },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { code: 'INVALID_CONTENT_LENGTH', message: 'The Content-Length header does not match the body.' },
  FST_ERR_CTP_INVALID_TYPE: { code: 'UNSUPPORTED_MEDIA_TYPE', message: 'The Content-Type header is not valid.' },
  FST_ERR_VALIDATION: { code: 'VALIDATION_FAILED', message: 'The request is not valid.' },
};

function validationDetails(error: FastifyError): { field: string; message: string; issues: unknown[] } {
  const issues = (error.validation ?? []) as { instancePath?: string; message?: string; params?: { issue?: { path?: unknown[]; message?: string } } }[];
  const first = issues[0];
  const path = first?.params?.issue?.path ?? first?.instancePath?.split('/').filter(Boolean) ?? [];
  const context = (error as { validationContext?: string }).validationContext ?? 'body';
  const field = path.length ? path.map(String).join('.') : context;
  const message = first?.params?.issue?.message ?? first?.message ?? 'is not valid';
  return {
    field,
    message: `${field}: ${message.replace(/^Invalid input: /, '')}`,
    issues: issues.map((i) => ({ path: i.params?.issue?.path ?? i.instancePath, message: i.params?.issue?.message ?? i.message })),
  };
}

/**
 * One mapping from errors to answers. Refusals that a flood produces by the thousand (the per-address limit's
 * 429, the password-hash gate's 503) go out after the refusal hold, which paces the flooding client.
 */
export function installErrorHandling(app: FastifyInstance, refusalHold: RefusalHold): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (error instanceof AppError) {
      if (error instanceof TooManyRequestsError) {
        reply.header('retry-after', String(error.retryAfterSeconds));
        if (error.paced) {
          markPacedRefusal(request);
          return refusalHold.wait().then(() => sendError(reply, request, error.status, error.code, error.message, error.details));
        }
      }
      return sendError(reply, request, error.status, error.code, error.message, error.details);
    }
    if (error instanceof HashingBusyError) {
      reply.header('retry-after', String(error.retryAfterSeconds));
      markPacedRefusal(request);
      return refusalHold.wait().then(() => sendError(reply, request, 503, 'SERVER_BUSY', error.message));
    }
    if (hasZodFastifySchemaValidationErrors(error) || error.validation) {
      const { field, message, issues } = validationDetails(error);
      return sendError(reply, request, 400, 'VALIDATION_FAILED', message, { field, issues });
    }
    const known = error.code ? FASTIFY_CLIENT_ERRORS[error.code] : undefined;
    if (known) return sendError(reply, request, 400, known.code, known.message);
    if (isDatabaseUnavailable(error)) {
      request.log.warn({ err: error }, 'database unavailable');
      reply.header('retry-after', '5');
      return sendError(reply, request, 503, 'DATABASE_UNAVAILABLE', 'The database is not reachable right now. Try again in a few seconds.');
    }
    if (isUniqueViolation(error)) {
      return sendError(reply, request, 409, 'CONFLICT', 'This conflicts with an existing item.');
    }
    if (error.statusCode && error.statusCode >= 400 && error.statusCode < 500) {
      if (error.statusCode === 429) return sendError(reply, request, 429, 'TOO_MANY_REQUESTS', 'Too many requests. Wait a moment and try again.');
      return sendError(reply, request, 400, 'BAD_REQUEST', 'The request is not valid.');
    }
    request.log.error({ err: error }, 'unhandled error');
    return sendError(reply, request, 500, 'INTERNAL_ERROR', 'Something went wrong on our side. Try again; if it keeps happening, give us the request id.');
  });
}

/**
 * Addresses the router refuses before any route runs (a path parameter past its length limit, bad
 * percent-encoding): a 400 in the error shape instead of Fastify's own body (and its 414).
 */
export function answerRouterError(error: FastifyError, request: FastifyRequest, reply: FastifyReply) {
  const message = error.code === 'FST_ERR_MAX_PARAM_LENGTH' ? 'A part of the address is too long.' : 'The address is not valid.';
  return sendError(reply, request, 400, 'BAD_URL', message);
}

/**
 * Requests Node's HTTP parser refuses before any route sees them (headers or URL past 16 KiB, a broken
 * request line) are answered in the same error shape as every other refusal, not in Fastify's own.
 */
export function answerUnparsableRequest(error: Error & { code?: string }, socket: Socket): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const tooLarge = error.code === 'HPE_HEADER_OVERFLOW';
  const status = tooLarge ? 431 : error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
  const body: ErrorBody = {
    error: tooLarge ? { code: 'HEADERS_TOO_LARGE', message: 'The request headers or address are too long.' } : { code: 'BAD_REQUEST', message: 'The request is not valid HTTP.' },
    requestId: randomUUID(),
  };
  const json = JSON.stringify(body);
  socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(json)}\r\nConnection: close\r\n\r\n${json}`);
}
