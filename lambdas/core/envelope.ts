import { LIMITS, type EventErrorCode } from '../../contract';
import { BadRequestError, PayloadTooLargeError, UnsupportedMediaTypeError } from './errors';
import { canonicalId, firstJsonProblem, isWellFormedText, MAX_DETAILS_DEPTH, unsafeIntegerLiterals } from './json-bounds';

/**
 * The event envelope contract (README "API"): what a client may send, and the per-event error
 * codes for each rule. The limits are contract/limits.ts, shared with the documentation and the client.
 */

export const TYPE_PATTERN = /^[a-z0-9][a-z0-9_.:-]{0,99}$/;
/**
 * Types the service itself records (admin actions, core/audit-records.ts): a client sending one
 * gets `type_reserved`, so an audit record in a trail can only have come from the service.
 */
export const RESERVED_TYPE_PREFIX = 'activity-tracker.';
export const isReservedType = (type: unknown): boolean => typeof type === 'string' && type.startsWith(RESERVED_TYPE_PREFIX);
/** RFC 3339 date-time, as the validators parse it (the fields are checked for calendar validity too). */
export const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?([Zz]|[+-](\d{2}):(\d{2}))$/;

/** The fields a client may send, in the order they are documented. */
export const CLIENT_FIELDS: ReadonlySet<string> = new Set(['type', 'userId', 'occurredAt', 'target', 'idempotencyKey', 'details']);
/** Fields only the server sets; a client sending one is told so (mass assignment). */
export const SERVER_FIELDS: ReadonlySet<string> = new Set(['id', 'tenantId', 'tenant', 'receivedAt', 'deletedAt', 'source']);

export interface EventTarget {
  type: string;
  id: string;
}

/** An event as a client sends it, after validation. */
export interface ClientEvent {
  type: string;
  userId: string;
  occurredAt?: string;
  target?: EventTarget;
  idempotencyKey?: string;
  details?: Record<string, unknown>;
}

/** An event as it is stored and returned (plus its public id). */
export interface StoredEvent {
  type: string;
  userId: string;
  occurredAt: string;
  target?: EventTarget;
  details?: Record<string, unknown>;
  receivedAt: string;
  source: { ip?: string; userAgent?: string };
}

export interface EventError {
  code: EventErrorCode;
  message: string;
}

export type EventCheck = { ok: true; event: ClientEvent; occurredAtMs: number | undefined } | { ok: false; error: EventError };

const fail = (code: EventErrorCode, message: string): EventCheck => ({ ok: false, error: { code, message } });

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Parses an RFC 3339 timestamp strictly (calendar-valid fields); undefined if it is not one. */
export const parseRfc3339 = (text: string): number | undefined => {
  const match = RFC3339.exec(text);
  if (!match) return undefined;
  const [, year, month, day, hour, minute, second, , , offH, offM] = match.map((part) => part ?? '');
  const ms = Date.parse(text.toUpperCase());
  if (Number.isNaN(ms)) return undefined;
  // Date.parse rolls 2026-02-30 over to March; a round trip of the fields catches it.
  const local = new Date(Date.UTC(Number(year), Number(month) - 1, Number(day), Number(hour), Number(minute), Number(second)));
  if (
    local.getUTCFullYear() !== Number(year) ||
    local.getUTCMonth() !== Number(month) - 1 ||
    local.getUTCDate() !== Number(day) ||
    Number(hour) > 23 ||
    Number(minute) > 59 ||
    Number(second) > 59 ||
    (offH !== '' && (Number(offH) > 23 || Number(offM) > 59))
  ) {
    return undefined;
  }
  return ms < 0 ? undefined : ms;
};

export interface CheckOptions {
  /** The integer literals of the request body that lost digits when parsed (see json-bounds.ts). */
  readonly unsafeIntegers?: ReadonlySet<number>;
}

const NOT_UNICODE = 'is not valid Unicode text (it holds an unpaired UTF-16 surrogate)';

/**
 * Checks one event against every envelope rule; the first broken rule is reported. Every string is
 * checked for well-formed Unicode and `details` for depth and numbers before anything serializes
 * the event. The event returned carries `userId` and `target.id` in their canonical form (NFC).
 */
export const checkEvent = (raw: unknown, nowMs: number, { unsafeIntegers }: CheckOptions = {}): EventCheck => {
  if (!isPlainObject(raw)) return fail('invalid_event', 'an event must be a JSON object');
  for (const key of Object.keys(raw)) {
    if (SERVER_FIELDS.has(key)) return fail('forbidden_field', `field '${key}' is set by the server and must not be sent`);
    if (!CLIENT_FIELDS.has(key))
      return fail('unknown_field', `unknown field '${truncate(key)}'; allowed: ${[...CLIENT_FIELDS].join(', ')}`);
  }
  const { type, userId: rawUserId, occurredAt, target, idempotencyKey, details } = raw;

  if (type === undefined) return fail('type_required', "'type' is required");
  if (typeof type !== 'string' || !TYPE_PATTERN.test(type)) {
    return fail('type_invalid', "'type' must be 1-100 characters of a-z, 0-9, '_', '.', ':' or '-', starting with a letter or digit");
  }
  if (isReservedType(type))
    return fail('type_reserved', `types starting with '${RESERVED_TYPE_PREFIX}' are reserved for the service's audit records`);
  if (rawUserId === undefined) return fail('userId_required', "'userId' is required");
  if (typeof rawUserId === 'string' && !isWellFormedText(rawUserId)) return fail('userId_invalid', `'userId' ${NOT_UNICODE}`);
  const userId = typeof rawUserId === 'string' ? (canonicalId(rawUserId) as string) : undefined;
  if (userId === undefined || userId.length < 1 || userId.length > LIMITS.maxUserIdLength) {
    return fail('userId_invalid', `'userId' must be a string of 1-${LIMITS.maxUserIdLength} characters`);
  }

  let occurredAtMs: number | undefined;
  if (occurredAt !== undefined) {
    occurredAtMs = typeof occurredAt === 'string' ? parseRfc3339(occurredAt) : undefined;
    if (occurredAtMs === undefined) {
      return fail('occurredAt_invalid', "'occurredAt' must be an RFC 3339 timestamp such as 2026-11-21T10:00:00Z");
    }
    if (occurredAtMs > nowMs + LIMITS.maxFutureSkewMs) {
      return fail('occurredAt_in_future', "'occurredAt' is more than 5 minutes in the future");
    }
  }

  let canonicalTarget: EventTarget | undefined;
  if (target !== undefined) {
    if (isPlainObject(target) && typeof target.id === 'string' && !isWellFormedText(target.id)) {
      return fail('target_invalid', `'target.id' ${NOT_UNICODE}`);
    }
    const targetId = isPlainObject(target) && typeof target.id === 'string' ? canonicalId(target.id) : undefined;
    if (
      !isPlainObject(target) ||
      Object.keys(target).some((key) => key !== 'type' && key !== 'id') ||
      typeof target.type !== 'string' ||
      !TYPE_PATTERN.test(target.type) ||
      targetId === undefined ||
      targetId.length < 1 ||
      targetId.length > LIMITS.maxTargetIdLength
    ) {
      return fail(
        'target_invalid',
        `'target' must be an object {type, id}: type like an event type, id a string of 1-${LIMITS.maxTargetIdLength} characters`,
      );
    }
    canonicalTarget = { type: target.type, id: targetId };
  }

  if (details !== undefined) {
    if (!isPlainObject(details)) return fail('details_invalid', "'details' must be a JSON object");
    const problem = firstJsonProblem(details, "'details'", { maxDepth: MAX_DETAILS_DEPTH, unsafeIntegers });
    if (problem) return fail(problem.code, problem.message);
  }

  if (idempotencyKey !== undefined) {
    if (typeof idempotencyKey !== 'string' || idempotencyKey.length < 1 || idempotencyKey.length > LIMITS.maxIdempotencyKeyLength) {
      return fail('idempotencyKey_invalid', `'idempotencyKey' must be a string of 1-${LIMITS.maxIdempotencyKeyLength} characters`);
    }
    if (!isWellFormedText(idempotencyKey)) return fail('idempotencyKey_invalid', `'idempotencyKey' ${NOT_UNICODE}`);
    if (occurredAt === undefined) {
      return fail(
        'occurredAt_required',
        "an event with 'idempotencyKey' must also carry 'occurredAt' (a retry arrives at a different time)",
      );
    }
  }

  const event: ClientEvent = {
    ...(raw as unknown as ClientEvent),
    userId,
    ...(canonicalTarget && { target: canonicalTarget }),
  };
  return { ok: true, event, occurredAtMs };
};

const truncate = (text: string): string => (text.length > 64 ? `${text.slice(0, 64)}…` : text);

const JSON_MEDIA_TYPE = /^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i;

/**
 * Turns a request body into the list of raw events it carries: one event object, or
 * `{"events":[...]}`. Whole-request problems are thrown as 400/413/415; size is checked
 * before parsing so a huge body costs no parse.
 */
export const parseEventsBody = (
  body: string | null | undefined,
  contentType: string | undefined,
  isBase64Encoded = false,
  /** The deployment's cap on events per request (an abuse limit), at most the contract's 500. */
  maxEvents: number = LIMITS.maxEventsPerRequest,
): { events: unknown[]; batch: boolean; unsafeIntegers: ReadonlySet<number> } => {
  if (!contentType || !JSON_MEDIA_TYPE.test(contentType)) throw new UnsupportedMediaTypeError();
  if (body === null || body === undefined || body.length === 0) throw new BadRequestError('invalid_body', 'the body is empty');
  // UTF-8 never has fewer bytes than UTF-16 code units, so a long string is too large before
  // any decoding; base64 carries 3 bytes per 4 characters.
  if (body.length > (isBase64Encoded ? Math.ceil(LIMITS.maxBodyBytes / 3) * 4 : LIMITS.maxBodyBytes)) tooLarge();
  const text = isBase64Encoded ? Buffer.from(body, 'base64').toString('utf8') : body;
  if (Buffer.byteLength(text, 'utf8') > LIMITS.maxBodyBytes) tooLarge();

  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new BadRequestError('invalid_json', 'the body is not valid JSON');
  }
  if (!isPlainObject(parsed)) {
    throw new BadRequestError('invalid_body', 'the body must be one event object or {"events":[...]}');
  }
  // The body text is scanned once for integer literals that lost digits in JSON.parse.
  const unsafeIntegers = unsafeIntegerLiterals(text);
  if (!('events' in parsed)) return { events: [parsed], batch: false, unsafeIntegers };

  const { events } = parsed;
  if (Object.keys(parsed).length !== 1 || !Array.isArray(events)) {
    throw new BadRequestError('invalid_body', 'a batch must be exactly {"events":[...]} with an array of events');
  }
  if (events.length === 0) throw new BadRequestError('invalid_body', "'events' must hold at least one event");
  const cap = Math.min(maxEvents, LIMITS.maxEventsPerRequest);
  if (events.length > cap) {
    throw new PayloadTooLargeError('too_many_events', `at most ${cap} events per request (got ${events.length})`);
  }
  return { events, batch: true, unsafeIntegers };
};

const tooLarge = (): never => {
  throw new PayloadTooLargeError('payload_too_large', `the body must be at most ${LIMITS.maxBodyBytes} bytes`);
};
