import type { ErrorCode } from '../../contract';

/**
 * Errors are types with a code (contract/errors.ts). One mapper (shared/http.ts) turns them into an HTTP status
 * and a JSON body; anything that is not an AppError becomes a 500 that says nothing inside.
 */
export abstract class AppError extends Error {
  abstract readonly status: number;
  constructor(
    readonly code: ErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

export class BadRequestError extends AppError {
  readonly status = 400;
}

export class UnauthorizedError extends AppError {
  readonly status = 401;
  constructor(message = 'the bearer token is missing or invalid') {
    super('unauthorized', message);
  }
}

export class ForbiddenError extends AppError {
  readonly status = 403;
  constructor(message: string, code: ErrorCode = 'forbidden') {
    super(code, message);
  }
}

export class NotFoundError extends AppError {
  readonly status = 404;
  constructor(message = 'not found') {
    super('not_found', message);
  }
}

export class PayloadTooLargeError extends AppError {
  readonly status = 413;
}

export class UnsupportedMediaTypeError extends AppError {
  readonly status = 415;
  constructor(message = 'the body must be JSON (Content-Type: application/json)') {
    super('unsupported_media_type', message);
  }
}

export class TooManyRequestsError extends AppError {
  readonly status = 429;
  constructor(
    code: ErrorCode,
    message: string,
    /** Whole seconds the client should wait (the `Retry-After` header), when known. */
    readonly retryAfterSeconds?: number,
  ) {
    super(code, message);
  }
}

/** A dependency we cannot do without is down; the client may retry. */
export class ServiceUnavailableError extends AppError {
  readonly status = 503;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}
