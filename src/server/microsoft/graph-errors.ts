/** Errors of Microsoft Graph calls, parsed from Graph's `{"error":{"code","message","innerError"}}` body. */
import { redactSecrets } from './errors';

export interface GraphErrorInit {
  /** HTTP status; 0 when no response arrived (network error or timeout). */
  status: number;
  /** Graph's error code (`Authorization_RequestDenied`, `InvalidAuthenticationToken`, ...) or `network`. */
  code: string;
  message: string;
  retryAfterSeconds?: number;
  requestId?: string;
}

export class GraphError extends Error {
  override readonly name = 'GraphError';
  readonly status: number;
  readonly code: string;
  readonly retryAfterSeconds?: number;
  readonly requestId?: string;

  constructor(init: GraphErrorInit) {
    super(redactSecrets(init.message));
    this.status = init.status;
    this.code = init.code;
    if (init.retryAfterSeconds !== undefined) this.retryAfterSeconds = init.retryAfterSeconds;
    if (init.requestId !== undefined) this.requestId = init.requestId;
  }

  /** Throttled, unavailable or unreachable: worth retrying later. */
  get transient(): boolean {
    return this.status === 0 || this.status === 429 || this.status >= 500;
  }

  toJSON(): Record<string, unknown> {
    return {
      name: this.name,
      status: this.status,
      code: this.code,
      message: this.message,
      retryAfterSeconds: this.retryAfterSeconds,
      requestId: this.requestId,
    };
  }
}

/** Builds a GraphError from a response body (already read as text) and status. */
export function graphErrorFromBody(status: number, bodyText: string, retryAfterSeconds?: number): GraphError {
  let code = `http_${status}`;
  let message = `Microsoft Graph answered HTTP ${status}`;
  let requestId: string | undefined;
  try {
    const parsed = JSON.parse(bodyText) as unknown;
    const error = (parsed as { error?: unknown } | null)?.error;
    if (error !== null && typeof error === 'object') {
      const e = error as { code?: unknown; message?: unknown; innerError?: unknown };
      if (typeof e.code === 'string' && e.code.length > 0) code = e.code;
      if (typeof e.message === 'string' && e.message.length > 0) message = e.message.slice(0, 500);
      const inner = e.innerError as Record<string, unknown> | undefined;
      if (inner && typeof inner['request-id'] === 'string') requestId = inner['request-id'];
    }
  } catch {
    // Not JSON (a proxy page, an empty body): keep the generic code and message.
  }
  return new GraphError({
    status,
    code,
    message,
    ...(retryAfterSeconds !== undefined ? { retryAfterSeconds } : {}),
    ...(requestId !== undefined ? { requestId } : {}),
  });
}

/** Codes Graph answers a delta query with when its token is stale: start a full synchronisation. */
const RESYNC_CODES = new Set(['resyncrequired', 'syncstatenotfound', 'syncstateinvalid']);

export function isResyncRequired(error: unknown): boolean {
  return error instanceof GraphError && (RESYNC_CODES.has(error.code.toLowerCase()) || error.status === 410);
}
