/**
 * The error codes of the API (`{"error":{"code","message"}}`), stable and machine-readable.
 * Per-event codes appear in a batch answer's slot for one event (and as the request's code when
 * the body was a single event); request codes answer a whole request.
 */
export const EVENT_ERROR_CODES = [
  'invalid_event',
  'forbidden_field',
  'unknown_field',
  'type_required',
  'type_invalid',
  'type_reserved',
  'userId_required',
  'userId_invalid',
  'occurredAt_invalid',
  'occurredAt_in_future',
  'occurredAt_required',
  'target_invalid',
  'details_invalid',
  'details_too_deep',
  'number_invalid',
  'string_invalid',
  'idempotencyKey_invalid',
  'event_too_large',
  'enqueue_failed',
] as const;
export type EventErrorCode = (typeof EVENT_ERROR_CODES)[number];

const REQUEST_ERROR_CODES = [
  // 400
  'bad_request',
  'invalid_json',
  'invalid_body',
  'invalid_parameter',
  'invalid_query',
  'unknown_parameter',
  'invalid_cursor',
  // 401, 403, 404
  'unauthorized',
  'forbidden',
  'audit_record_immutable',
  'not_found',
  // 413, 415
  'payload_too_large',
  'too_many_events',
  'unsupported_media_type',
  // 429
  'throttled',
  'rate_limited',
  'too_many_erasures',
  'too_many_exports',
  // 5xx
  'internal_error',
  'auth_unavailable',
  'keys_unavailable',
] as const;
export type RequestErrorCode = (typeof REQUEST_ERROR_CODES)[number];

export type ErrorCode = EventErrorCode | RequestErrorCode;

/** Where a setting comes from: CDK context at deploy time, or a function's environment at run time. */
export type ConfigSource = 'context' | 'environment';

/** An invalid or missing setting, deploy-time or run-time; the message names the setting. */
export class ConfigError extends Error {
  constructor(
    /** The context key or the environment variable. */
    readonly key: string,
    /** What is wrong with it. */
    readonly reason: string,
    readonly source: ConfigSource = 'context',
  ) {
    super(source === 'context' ? `Invalid context "${key}": ${reason}` : `environment variable ${key} ${reason}`);
    this.name = 'ConfigError';
  }
}
