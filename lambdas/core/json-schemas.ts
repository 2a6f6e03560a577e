import { LIMITS, QUERY_LIMITS, VIEWER_LIMITS } from '../../contract';
import { CLIENT_FIELDS, RESERVED_TYPE_PREFIX, RFC3339, SERVER_FIELDS, TYPE_PATTERN } from './envelope';
import { MAX_DETAILS_DEPTH } from './json-bounds';

/**
 * The JSON Schemas (draft 2020-12) of the API's request and response bodies, built from the
 * constants the validators use (LIMITS, TYPE_PATTERN, RFC3339, QUERY_LIMITS, the field lists).
 * The OpenAPI document (./schema.ts) lists them under `components.schemas` and refers to them.
 */

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export const ref = (name: string): JsonObject => ({ $ref: `#/components/schemas/${name}` });

const dateTime = (description: string): JsonObject => ({
  type: 'string',
  format: 'date-time',
  pattern: RFC3339.source,
  description,
  examples: ['2026-11-21T10:00:00Z'],
});

const eventType = (description: string): JsonObject => ({
  type: 'string',
  pattern: TYPE_PATTERN.source,
  minLength: 1,
  maxLength: 100,
  description,
  examples: ['customer.billed'],
});

export const boundedString = (max: number, description: string, min = 1): JsonObject => ({
  type: 'string',
  minLength: min,
  maxLength: max,
  description,
});

/** Per-field schemas of the client event; the keys must be exactly CLIENT_FIELDS (checked below). */
const clientFieldSchemas: Record<string, JsonObject> = {
  type: {
    ...eventType(
      `What happened: lower-case, 1-100 characters of a-z, 0-9, \`_\`, \`.\`, \`:\`, \`-\`, starting with a letter or digit. The list of types is open, except the prefix \`${RESERVED_TYPE_PREFIX}\` (the service's audit records; \`type_reserved\`).`,
    ),
    not: { pattern: `^${RESERVED_TYPE_PREFIX.replace('.', '\\.')}` },
  },
  userId: boundedString(
    LIMITS.maxUserIdLength,
    'Who did it. Valid Unicode text (an unpaired UTF-16 surrogate is `userId_invalid`), stored in Unicode NFC: NFC and NFD spellings are one user.',
  ),
  occurredAt: dateTime(
    `When it happened (RFC 3339). Default: the time the API received it. At most ${LIMITS.maxFutureSkewMs / 60_000} minutes in the future (\`occurredAt_in_future\`). Required with \`idempotencyKey\`.`,
  ),
  target: ref('EventTarget'),
  idempotencyKey: boundedString(
    LIMITS.maxIdempotencyKeyLength,
    'The same key with the same `occurredAt` from the same tenant always yields the same event id and one stored event.',
  ),
  details: {
    type: 'object',
    description: `Any JSON object that can be stored faithfully: at most ${MAX_DETAILS_DEPTH} levels of objects and arrays (\`details_too_deep\`); finite numbers, integers within ±(2^53 − 1) (\`number_invalid\`: send larger ones as strings); strings and keys of valid Unicode text (\`string_invalid\`).`,
    additionalProperties: true,
  },
};

for (const field of CLIENT_FIELDS) {
  if (!clientFieldSchemas[field]) throw new Error(`schema: no schema for client field '${field}'`);
}
for (const field of Object.keys(clientFieldSchemas)) {
  if (!CLIENT_FIELDS.has(field)) throw new Error(`schema: '${field}' is not a client field`);
}

/** Reusable JSON Schemas of the API's bodies (OpenAPI `components.schemas`). */
export const SCHEMAS: Record<string, JsonObject> = {
  EventTarget: {
    type: 'object',
    description: 'What the event was about.',
    required: ['type', 'id'],
    additionalProperties: false,
    properties: {
      type: eventType('Kind of the target, like an event type.'),
      id: boundedString(LIMITS.maxTargetIdLength, 'Id of the target. Valid Unicode text, stored in NFC like `userId`.'),
    },
  },
  EventInput: {
    type: 'object',
    description: `An event as a client sends it. Unknown fields are rejected (\`unknown_field\`), and so are fields the server sets (${[
      ...SERVER_FIELDS,
    ]
      .map((f) => `\`${f}\``)
      .join(', ')}: \`forbidden_field\`). At most ${LIMITS.maxEventBytes} bytes serialized (\`event_too_large\`).`,
    required: ['type', 'userId'],
    additionalProperties: false,
    properties: clientFieldSchemas,
    dependentRequired: { idempotencyKey: ['occurredAt'] },
    'x-max-serialized-bytes': LIMITS.maxEventBytes,
  },
  EventBatch: {
    type: 'object',
    description: `Up to ${LIMITS.maxEventsPerRequest} events in one request (a deployment may set a lower cap).`,
    required: ['events'],
    additionalProperties: false,
    properties: {
      // Items are not constrained here: an invalid event gets an error in its slot, not a 400.
      events: { type: 'array', minItems: 1, maxItems: LIMITS.maxEventsPerRequest, items: ref('EventInput') },
    },
  },
  EventSource: {
    type: 'object',
    description: 'Where the request came from, as the API saw it.',
    additionalProperties: false,
    properties: {
      ip: { type: 'string' },
      userAgent: { type: 'string', maxLength: LIMITS.maxUserAgentLength },
    },
  },
  Event: {
    type: 'object',
    description: 'A stored event. The internal id and the tenant are never returned.',
    required: ['id', 'type', 'userId', 'occurredAt', 'receivedAt', 'source'],
    additionalProperties: false,
    properties: {
      id: { type: 'string', minLength: 1, description: 'Opaque public id.' },
      type: eventType(
        `What happened. Types starting with \`${RESERVED_TYPE_PREFIX}\` are the service's audit records (admin actions: \`userId\` is the actor, \`details.clientId\` its client).`,
      ),
      userId: clientFieldSchemas.userId as JsonObject,
      occurredAt: dateTime('When it happened (the receipt time when the client sent none).'),
      target: ref('EventTarget'),
      details: clientFieldSchemas.details as JsonObject,
      receivedAt: dateTime('When the API received it.'),
      source: ref('EventSource'),
    },
  },
  EventResult: {
    description: 'The outcome of one event of a POST, in request order: its id, or why it was rejected.',
    oneOf: [
      { type: 'object', required: ['id'], additionalProperties: false, properties: { id: { type: 'string', minLength: 1 } } },
      { type: 'object', required: ['error'], additionalProperties: false, properties: { error: ref('ErrorDetail') } },
    ],
  },
  IngestResponse: {
    type: 'object',
    required: ['results', 'accepted', 'rejected'],
    additionalProperties: false,
    properties: {
      results: { type: 'array', maxItems: LIMITS.maxEventsPerRequest, items: ref('EventResult') },
      accepted: { type: 'integer', minimum: 0, maximum: LIMITS.maxEventsPerRequest },
      rejected: { type: 'integer', minimum: 0, maximum: LIMITS.maxEventsPerRequest },
    },
  },
  EventPage: {
    type: 'object',
    required: ['events', 'nextCursor'],
    additionalProperties: false,
    properties: {
      events: { type: 'array', maxItems: QUERY_LIMITS.maxLimit, items: ref('Event') },
      nextCursor: {
        type: ['string', 'null'],
        description: 'Pass as `cursor` for the next page; null on the last page. A page may be short and still have a cursor.',
      },
    },
  },
  ErasureRequest: {
    type: 'object',
    required: ['userId'],
    additionalProperties: false,
    properties: { userId: clientFieldSchemas.userId as JsonObject },
  },
  ErasureReceipt: {
    type: 'object',
    description: 'An erasure receipt: it holds no personal data (not even the userId).',
    required: ['id', 'status', 'erased', 'requestedAt', 'completedAt'],
    additionalProperties: false,
    properties: {
      id: { type: 'string', minLength: 1 },
      status: { type: 'string', enum: ['pending', 'completed'] },
      erased: { type: 'integer', minimum: 0, description: 'Events deleted so far.' },
      requestedAt: { type: 'string', format: 'date-time' },
      completedAt: { type: ['string', 'null'], format: 'date-time' },
    },
  },
  ExportRequest: {
    type: 'object',
    required: ['format'],
    additionalProperties: false,
    properties: {
      format: { type: 'string', enum: ['ndjson', 'csv'] },
      userId: clientFieldSchemas.userId as JsonObject,
      type: { type: 'string', description: 'Only events of this type.' },
      from: { type: 'string', format: 'date-time', description: 'Inclusive lower bound on occurredAt.' },
      to: { type: 'string', format: 'date-time', description: 'Exclusive upper bound on occurredAt.' },
    },
  },
  ExportAccepted: {
    type: 'object',
    required: ['id', 'status', 'requestedAt'],
    additionalProperties: false,
    properties: {
      id: { type: 'string', minLength: 1 },
      status: { type: 'string', enum: ['pending'] },
      requestedAt: { type: 'string', format: 'date-time' },
    },
  },
  Export: {
    type: 'object',
    description: 'An export job. `url` (completed jobs only) downloads the gzip file until `expiresAt`; each GET signs a new one.',
    required: ['id', 'status', 'format', 'events', 'bytes', 'requestedAt', 'completedAt', 'url', 'expiresAt'],
    additionalProperties: false,
    properties: {
      id: { type: 'string', minLength: 1 },
      status: { type: 'string', enum: ['pending', 'completed', 'failed'] },
      reason: { type: 'string', enum: ['erased', 'error'], description: 'Why a job failed: `erased` when the user was erased meanwhile.' },
      format: { type: 'string', enum: ['ndjson', 'csv'] },
      events: { type: 'integer', minimum: 0, description: 'Events written so far.' },
      bytes: { type: 'integer', minimum: 0, description: 'Bytes of the gzip file so far.' },
      requestedAt: { type: 'string', format: 'date-time' },
      completedAt: { type: ['string', 'null'], format: 'date-time' },
      url: { type: ['string', 'null'], format: 'uri' },
      expiresAt: { type: ['string', 'null'], format: 'date-time', description: 'When `url` stops working.' },
    },
  },
  ViewerSessionRequest: {
    type: 'object',
    additionalProperties: false,
    properties: {
      userId: { ...(clientFieldSchemas.userId as JsonObject), description: "Restricts the token to this user's events." },
      ttlSeconds: {
        type: 'integer',
        minimum: VIEWER_LIMITS.minTtlSeconds,
        maximum: VIEWER_LIMITS.maxTtlSeconds,
        default: VIEWER_LIMITS.defaultTtlSeconds,
      },
    },
  },
  ViewerSession: {
    type: 'object',
    required: ['token', 'expiresAt'],
    additionalProperties: false,
    properties: {
      token: {
        type: 'string',
        minLength: 1,
        description: 'A read-only bearer token for the viewer: GET /v1/events, GET /v1/events/{id}, GET /v1/stats only.',
      },
      expiresAt: { type: 'string', format: 'date-time' },
    },
  },
  ErrorDetail: {
    type: 'object',
    required: ['code', 'message'],
    additionalProperties: false,
    properties: {
      code: { type: 'string', pattern: '^[A-Za-z0-9_]+$', description: 'Stable, machine-readable.', examples: ['type_invalid'] },
      message: { type: 'string', description: 'For humans; may change.' },
    },
  },
  Error: {
    type: 'object',
    required: ['error'],
    additionalProperties: false,
    properties: { error: ref('ErrorDetail') },
  },
};
