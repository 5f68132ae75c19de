/**
 * Typed domain errors with stable codes. Services throw these; one error handler maps them to HTTP
 * with the request id, in the error shape of the API document (`GET /api/openapi.json`, see README.md, API).
 */
export class AppError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export class BadRequestError extends AppError {
  constructor(code: string, message: string, details?: Record<string, unknown>) {
    super(400, code, message, details);
  }
}

/** Bad input in one field: the field is named in `details.field`. */
export class FieldError extends BadRequestError {
  constructor(field: string, message: string, code = 'VALIDATION_FAILED') {
    super(code, message, { field });
  }
}

export class UnauthorizedError extends AppError {
  constructor(message = 'Sign in to continue.', code = 'UNAUTHENTICATED') {
    super(401, code, message);
  }
}

export class ForbiddenError extends AppError {
  constructor(message = 'You do not have permission to do this.', code = 'FORBIDDEN') {
    super(403, code, message);
  }
}

export class NotFoundError extends AppError {
  constructor(what = 'The item', code = 'NOT_FOUND') {
    super(404, code, `${what} was not found.`);
  }
}

export class ConflictError extends AppError {
  constructor(code: string, message: string, details?: Record<string, unknown>) {
    super(409, code, message, details);
  }
}

export class TooManyRequestsError extends AppError {
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
    code = 'TOO_MANY_REQUESTS',
    /** Answered after the refusal hold (security/refusal-hold.ts): the per-address limit paces floods so. */
    readonly paced = false,
  ) {
    super(429, code, message, { retryAfterSeconds });
  }
}

