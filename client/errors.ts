/** A whole request failed: the API's `{"error":{"code","message"}}`, or a network failure (status 0). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
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
    readonly code: string,
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
