import type { ErrorCode, EventErrorCode } from '../contract';

/**
 * The codes an error of this client carries: the API's (contract/errors.ts), and the client's own
 * for no answer at all (`network_error`), an error answer without a code (`http_<status>`), and a
 * batch answer without this event's slot (`missing_result`).
 */
export type ApiErrorCode = ErrorCode | 'network_error' | 'missing_result' | `http_${number}`;

/** A whole request failed: the API's `{"error":{"code","message"}}`, or a network failure (status 0). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: ApiErrorCode,
    message: string,
    /** How long the API asked to wait (Retry-After), in ms. */
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** One tracked event was rejected by the API (its slot in the batch answer held an error). */
export class EventRejectedError extends Error {
  constructor(
    readonly code: EventErrorCode | 'missing_result' | 'network_error',
    message: string,
    /** The event as it was sent (with its idempotencyKey and occurredAt). */
    readonly event: object,
  ) {
    super(message);
    this.name = 'EventRejectedError';
  }
}

/** Statuses worth retrying: throttling and server-side failures. */
export const isRetryableStatus = (status: number): boolean => status === 0 || status === 408 || status === 429 || status >= 500;
