/**
 * Errors of the Microsoft identity platform client. None of them ever carries a token, an authorization code,
 * a client secret or a PKCE verifier: messages are built from Microsoft's error code and a sanitised first line
 * of its description only, so they are safe to log and to serialise.
 */

/** Replaces anything that looks like a credential (long opaque strings, JWTs) with `[redacted]`. */
export function redactSecrets(text: string): string {
  return text
    .replace(/eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.?[A-Za-z0-9_-]*/g, '[redacted]')
    .replace(/[A-Za-z0-9_\-.~+/=]{40,}/g, '[redacted]');
}

/**
 * First line of Microsoft's `error_description`, without trace ids or credentials (the values sent in the
 * request, and anything token-shaped), at most 300 characters.
 */
export function summarizeDescription(description: unknown, sentSecrets: readonly string[] = []): string | undefined {
  if (typeof description !== 'string' || description.length === 0) return undefined;
  let firstLine = description.split(/\r?\n/)[0]?.trim() ?? '';
  for (const secret of sentSecrets) {
    if (secret.length >= 4) firstLine = firstLine.split(secret).join('[redacted]');
  }
  const clean = redactSecrets(firstLine);
  return clean.length > 300 ? `${clean.slice(0, 297)}...` : clean || undefined;
}

/** Reads error codes from `error_codes`, or from a leading `AADSTSnnnn` in the description. */
export function parseErrorCodes(errorCodes: unknown, description: unknown): number[] {
  if (Array.isArray(errorCodes)) {
    const codes = errorCodes
      .map((c) => (typeof c === 'number' ? c : typeof c === 'string' && /^\d+$/.test(c) ? Number(c) : NaN))
      .filter((c) => Number.isSafeInteger(c));
    if (codes.length > 0) return codes;
  }
  if (typeof description === 'string') {
    const match = /^\s*AADSTS(\d+)/.exec(description);
    if (match) return [Number(match[1])];
  }
  return [];
}

export interface MicrosoftTokenErrorInit {
  error: string;
  errorCodes: number[];
  suberror?: string;
  /** HTTP status of the token endpoint; 0 for an error returned on the authorization redirect. */
  status: number;
  description?: string;
  traceId?: string;
  correlationId?: string;
}

/**
 * Microsoft refused a token request for a reason that retrying will not fix (`invalid_grant`,
 * `interaction_required`, `consent_required`, `invalid_client`, ...). Branch on `error` and `errorCodes`.
 */
export class MicrosoftTokenError extends Error {
  override readonly name = 'MicrosoftTokenError';
  readonly error: string;
  readonly errorCodes: number[];
  readonly suberror?: string;
  readonly status: number;
  /** Sanitised first line of Microsoft's error_description. */
  readonly description?: string;
  readonly traceId?: string;
  readonly correlationId?: string;

  constructor(init: MicrosoftTokenErrorInit) {
    const codes = init.errorCodes.length > 0 ? ` (${init.errorCodes.map((c) => `AADSTS${c}`).join(', ')})` : '';
    super(`Microsoft token endpoint refused the request: ${init.error}${codes}`);
    this.error = init.error;
    this.errorCodes = [...init.errorCodes];
    if (init.suberror !== undefined) this.suberror = init.suberror;
    this.status = init.status;
    if (init.description !== undefined) this.description = init.description;
    if (init.traceId !== undefined) this.traceId = init.traceId;
    if (init.correlationId !== undefined) this.correlationId = init.correlationId;
  }

  hasCode(code: number): boolean {
    return this.errorCodes.includes(code);
  }

  toJSON(): Record<string, unknown> {
    return {
      name: this.name,
      message: this.message,
      error: this.error,
      errorCodes: this.errorCodes,
      suberror: this.suberror,
      status: this.status,
      description: this.description,
      traceId: this.traceId,
      correlationId: this.correlationId,
    };
  }
}

export type UnavailableReason = 'network' | 'timeout' | 'http' | 'bad_response';

/**
 * Microsoft could not be reached or answered with a transient failure (network error, timeout, 5xx, 429, or
 * a response that is not a Microsoft token response). Retry with backoff; never treat it as an expired grant.
 */
export class MicrosoftUnavailableError extends Error {
  override readonly name = 'MicrosoftUnavailableError';
  readonly reason: UnavailableReason;
  /** HTTP status, 0 when no response arrived. */
  readonly status: number;
  readonly retryAfterSeconds?: number;

  constructor(init: { reason: UnavailableReason; status: number; retryAfterSeconds?: number; detail?: string }) {
    const what =
      init.reason === 'network'
        ? 'could not be reached'
        : init.reason === 'timeout'
          ? 'did not answer in time'
          : init.reason === 'bad_response'
            ? `answered with an unexpected response (HTTP ${init.status})`
            : `is temporarily unavailable (HTTP ${init.status})`;
    super(`Microsoft identity platform ${what}${init.detail ? `: ${redactSecrets(init.detail)}` : ''}`);
    this.reason = init.reason;
    this.status = init.status;
    if (init.retryAfterSeconds !== undefined) this.retryAfterSeconds = init.retryAfterSeconds;
  }

  toJSON(): Record<string, unknown> {
    return {
      name: this.name,
      message: this.message,
      reason: this.reason,
      status: this.status,
      retryAfterSeconds: this.retryAfterSeconds,
    };
  }
}

export type IdTokenFailure =
  | 'missing'
  | 'malformed'
  | 'tenant_id'
  | 'tenant_mismatch'
  | 'issuer'
  | 'audience'
  | 'signature'
  | 'unknown_key'
  | 'algorithm'
  | 'expired'
  | 'not_yet_valid'
  | 'nonce'
  | 'claims';

/** The ID token in a token response could not be trusted. The sign-in must be started again. */
export class IdTokenValidationError extends Error {
  override readonly name = 'IdTokenValidationError';
  readonly reason: IdTokenFailure;

  constructor(reason: IdTokenFailure, detail: string) {
    super(`ID token rejected (${reason}): ${redactSecrets(detail)}`);
    this.reason = reason;
  }

  toJSON(): Record<string, unknown> {
    return { name: this.name, message: this.message, reason: this.reason };
  }
}

/** Parses a `Retry-After` header (delta seconds or an HTTP date) into whole seconds, if present. */
export function parseRetryAfter(value: string | null, now: number = Date.now()): number | undefined {
  if (value === null) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed);
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, Math.ceil((date - now) / 1000));
}

/** The redirect back from the authorize endpoint is not one this sign-in started, or it carries no code. */
export class AuthorizationResponseError extends Error {
  override readonly name = 'AuthorizationResponseError';
  readonly reason: 'state_mismatch' | 'missing_code';

  constructor(reason: 'state_mismatch' | 'missing_code') {
    super(
      reason === 'state_mismatch'
        ? 'The sign-in response does not belong to this sign-in (state mismatch)'
        : 'The sign-in response carries neither a code nor an error',
    );
    this.reason = reason;
  }

  toJSON(): Record<string, unknown> {
    return { name: this.name, message: this.message, reason: this.reason };
  }
}
