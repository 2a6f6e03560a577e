import { EXPORT_LIMITS, LIMITS, QUERY_LIMITS, ROUTE_SCOPES, SCOPES, type Route } from '../../contract';
import { RFC3339, TYPE_PATTERN } from './envelope';
import { boundedString, ref, SCHEMAS, type Json, type JsonObject } from './json-schemas';
import { QUERY_PARAMETERS } from './query';
import { STATS_QUERY_PARAMETERS, STATS_SCHEMAS } from './stats-schema';

/**
 * The API contract as JSON Schema (draft 2020-12) and OpenAPI 3.1, built from the same constants
 * the validators use (LIMITS, TYPE_PATTERN, RFC3339, QUERY_LIMITS, the field lists), so the
 * document cannot drift from the code: `npm run openapi` writes openapi.yaml from here, and a test
 * fails when the committed file differs. Rules JSON Schema cannot say (occurredAt at most 5 minutes
 * ahead, 32 KiB per serialized event, 1 MiB per body) are stated in descriptions and as
 * `x-` extensions. The bodies' schemas are in ./json-schemas.ts; this file assembles the document.
 */

const ERROR_RESPONSES: Record<string, { description: string; headers?: JsonObject }> = {
  '400': {
    description:
      'Malformed request: `invalid_json`, `invalid_body`, `invalid_parameter`, `unknown_parameter`, `invalid_query` (parameters that contradict each other, e.g. `from` not before `to`), `invalid_cursor`, or (single event) the code of the rule it broke.',
  },
  '401': {
    description: 'Missing, invalid or expired bearer token (`unauthorized`).',
    headers: { 'WWW-Authenticate': { description: '`Bearer error="invalid_token"`', schema: { type: 'string' } } },
  },
  '403': {
    description:
      'The token lacks the scope this route needs (`forbidden`); or (delete, restore) the event is an audit record of the service, which cannot be deleted or restored (`audit_record_immutable`).',
  },
  '404': { description: 'Not found (`not_found`): unknown ids, ids of another tenant, deleted, expired or erased events.' },
  '413': {
    description: `Too large (\`payload_too_large\`: more than ${LIMITS.maxBodyBytes} bytes; \`too_many_events\`: more than ${LIMITS.maxEventsPerRequest} events; \`event_too_large\`).`,
  },
  '415': { description: 'The body is not JSON (`unsupported_media_type`): send `Content-Type: application/json`.' },
  '429': {
    description: `Throttled by the gateway (\`throttled\`), over the tenant's requests or events per second (\`rate_limited\`, always with \`Retry-After\`), too many pending erasures (\`too_many_erasures\`), or too many pending exports (\`too_many_exports\`: at most ${EXPORT_LIMITS.maxPending} per tenant). Retry later.`,
    headers: {
      'Retry-After': {
        description: "Whole seconds to wait; sent with `rate_limited`, absent on the gateway's `throttled`.",
        schema: { type: 'string' },
      },
    },
  },
  '500': { description: 'Internal error (`internal_error`); never carries internals. Safe to retry with the same body.' },
  '502': { description: 'The function behind the route failed (`internal_error`, from the gateway). Safe to retry with the same body.' },
  '504': { description: 'The function behind the route timed out (`internal_error`, from the gateway). Safe to retry with the same body.' },
  '503': {
    description: 'A dependency is unavailable (`enqueue_failed`, `auth_unavailable`, `keys_unavailable`); safe to retry.',
    headers: { 'Retry-After': { description: 'Seconds to wait.', schema: { type: 'string' } } },
  },
};

const jsonContent = (schema: JsonObject, example?: Json): JsonObject => ({
  'application/json': { schema, ...(example !== undefined && { example }) },
});

const errorResponses = (statuses: readonly string[]): JsonObject =>
  Object.fromEntries(
    statuses.map((status) => {
      const r = ERROR_RESPONSES[status] as { description: string; headers?: JsonObject };
      return [status, { description: r.description, ...(r.headers && { headers: r.headers }), content: jsonContent(ref('Error')) }];
    }),
  );

const COMMON_ERRORS = ['401', '403', '429', '500', '502', '503', '504'] as const;
const idParameter = (what: string): JsonObject => ({
  name: 'id',
  in: 'path',
  required: true,
  description: `Public id of the ${what}.`,
  schema: { type: 'string', minLength: 1 },
});

const operation = (route: Route, spec: JsonObject & { responses: JsonObject }, errors: readonly string[]): JsonObject => ({
  ...spec,
  security: [{ bearerAuth: [ROUTE_SCOPES[route]] }],
  'x-scope': ROUTE_SCOPES[route],
  responses: { ...spec.responses, ...errorResponses([...errors, ...COMMON_ERRORS].sort()) },
});

const queryParameters = (): JsonObject[] => {
  const schemas: Record<(typeof QUERY_PARAMETERS)[number], JsonObject> = {
    userId: {
      description: "One user's history (compared in Unicode NFC, like the stored userId).",
      schema: boundedString(QUERY_LIMITS.maxFilterLength, 'userId'),
    },
    type: { description: 'Only events of this type.', schema: { type: 'string', pattern: TYPE_PATTERN.source } },
    targetId: { description: 'Only events whose target has this id.', schema: boundedString(QUERY_LIMITS.maxFilterLength, 'targetId') },
    from: { description: 'occurredAt at or after (inclusive).', schema: { type: 'string', format: 'date-time', pattern: RFC3339.source } },
    to: {
      description: 'occurredAt before (exclusive). Must be after `from` when both are given (`invalid_query`).',
      schema: { type: 'string', format: 'date-time', pattern: RFC3339.source },
    },
    order: { description: 'Newest first (default) or oldest first.', schema: { type: 'string', enum: ['desc', 'asc'], default: 'desc' } },
    limit: {
      description: 'Most events per page.',
      schema: { type: 'integer', minimum: 1, maximum: QUERY_LIMITS.maxLimit, default: QUERY_LIMITS.defaultLimit },
    },
    cursor: {
      description: 'The `nextCursor` of the previous page, with the same filters (400 `invalid_cursor` otherwise).',
      schema: { type: 'string', minLength: 1 },
    },
  };
  const params: JsonObject[] = QUERY_PARAMETERS.map((name) => ({ name, in: 'query', required: false, ...schemas[name] }));
  params.push({
    name: 'details',
    in: 'query',
    required: false,
    description:
      `Equality filters on details: \`details.<key>=<value>\` (key 1-${QUERY_LIMITS.maxDetailKeyLength} characters, value at most ${QUERY_LIMITS.maxDetailValueLength}, at most ${QUERY_LIMITS.maxDetailFilters} filters). ` +
      'The value is compared with the JSON value as text: `details.amount=1200` matches 1200.',
    style: 'form',
    explode: true,
    schema: {
      type: 'object',
      maxProperties: QUERY_LIMITS.maxDetailFilters,
      propertyNames: { pattern: `^details\\..{1,${QUERY_LIMITS.maxDetailKeyLength}}$` },
      additionalProperties: { type: 'string', maxLength: QUERY_LIMITS.maxDetailValueLength },
    },
  });
  return params;
};

/** The OpenAPI 3.1 document of the API (what `npm run openapi` writes to openapi.yaml). */
export const openApiDocument = (version = '1.0.0'): JsonObject => ({
  openapi: '3.1.0',
  info: {
    title: 'Activity Tracker API',
    version,
    summary: 'Multi-tenant activity and audit trail: record, query, delete and erase what users do.',
    description:
      'Every /v1 route needs `Authorization: Bearer <JWT>` (GET /viewer/{file}, a static module, needs none). The tenant comes from a token claim (`tenant_id` by default), never from the request. ' +
      'Errors are `{"error":{"code","message"}}`. Generated from lambdas/core/schema.ts by `npm run openapi`; do not edit by hand.',
    license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
  },
  jsonSchemaDialect: 'https://spec.openapis.org/oas/3.1/dialect/base',
  servers: [
    {
      url: 'https://{restApiId}.execute-api.{region}.amazonaws.com/{stage}',
      description: 'A deployed stack (the `ApiUrl` stack output).',
      variables: { restApiId: { default: 'abc123' }, region: { default: 'eu-west-1' }, stage: { default: 'prod' } },
    },
    { url: 'http://127.0.0.1:3000', description: 'Local mode (`npm start`).' },
  ],
  security: [{ bearerAuth: [] }],
  tags: [
    { name: 'events', description: 'Record and read events.' },
    { name: 'lifecycle', description: 'Delete, restore, erase.' },
    { name: 'stats', description: 'Counts: top types, histograms.' },
  ],
  paths: {
    '/v1/events': {
      post: operation(
        'POST /v1/events',
        {
          operationId: 'trackEvents',
          tags: ['events'],
          summary: 'Record one event or a batch',
          description:
            `One event object, or \`{"events":[...]}\` with 1-${LIMITS.maxEventsPerRequest} events; the body at most ${LIMITS.maxBodyBytes} bytes (1 MiB). ` +
            'Answered 202 once the events are durably queued; each event gets its id or its error, in request order. ' +
            "A single event that breaks a rule is answered 400 (413 if too large) with that rule's code.",
          'x-max-body-bytes': LIMITS.maxBodyBytes,
          requestBody: {
            required: true,
            content: { 'application/json': { schema: { oneOf: [ref('EventInput'), ref('EventBatch')] } } },
          },
          responses: {
            '202': {
              description: 'Queued: per-event results in request order.',
              content: jsonContent(ref('IngestResponse'), {
                results: [{ id: 'AbC…' }, { error: { code: 'type_invalid', message: '…' } }],
                accepted: 1,
                rejected: 1,
              }),
            },
          },
        },
        ['400', '413', '415'],
      ),
      get: operation(
        'GET /v1/events',
        {
          operationId: 'listEvents',
          tags: ['events'],
          summary: "Query a tenant's events",
          description: 'One page of events, newest first by default. Deleted, expired and erased events are never returned.',
          parameters: queryParameters(),
          responses: { '200': { description: 'A page of events.', content: jsonContent(ref('EventPage')) } },
        },
        ['400'],
      ),
    },
    '/v1/events/{id}': {
      parameters: [idParameter('event')],
      get: operation(
        'GET /v1/events/{id}',
        {
          operationId: 'getEvent',
          tags: ['events'],
          summary: 'One event',
          responses: { '200': { description: 'The event.', content: jsonContent(ref('Event')) } },
        },
        ['404'],
      ),
      delete: operation(
        'DELETE /v1/events/{id}',
        {
          operationId: 'deleteEvent',
          tags: ['lifecycle'],
          summary: 'Soft-delete an event',
          description: 'Hidden from every read at once; restorable within the grace period; purged after it. Deleting again is harmless.',
          responses: { '204': { description: 'Deleted.' } },
        },
        ['404'],
      ),
    },
    '/v1/events/{id}/restore': {
      parameters: [idParameter('event')],
      post: operation(
        'POST /v1/events/{id}/restore',
        {
          operationId: 'restoreEvent',
          tags: ['lifecycle'],
          summary: 'Restore a soft-deleted event',
          responses: { '200': { description: 'Restored (or was not deleted).', content: jsonContent(ref('Event')) } },
        },
        ['404'],
      ),
    },
    '/v1/erasures': {
      post: operation(
        'POST /v1/erasures',
        {
          operationId: 'createErasure',
          tags: ['lifecycle'],
          summary: 'Erase every event of a user (GDPR)',
          description:
            'Every event of that user in the tenant is hidden at once and deleted by the next cleanup. A second request while one is pending returns the pending receipt.',
          requestBody: { required: true, content: jsonContent(ref('ErasureRequest')) },
          responses: { '202': { description: 'Accepted: the receipt.', content: jsonContent(ref('ErasureReceipt')) } },
        },
        ['400', '415'],
      ),
    },
    '/v1/erasures/{id}': {
      parameters: [idParameter('erasure request')],
      get: operation(
        'GET /v1/erasures/{id}',
        {
          operationId: 'getErasure',
          tags: ['lifecycle'],
          summary: 'An erasure receipt',
          responses: { '200': { description: 'The receipt.', content: jsonContent(ref('ErasureReceipt')) } },
        },
        ['404'],
      ),
    },
    '/v1/stats': {
      get: operation(
        'GET /v1/stats',
        {
          operationId: 'getStats',
          tags: ['stats'],
          summary: 'Top event types and activity histograms',
          description:
            'Counts of visible events by occurredAt, from counters kept off the change stream (no scan): the total, the top groups and, with `interval`, every bucket of the range (zero-filled). ' +
            '400 `invalid_query` names the parameter for an unknown parameter, a bad or misaligned time, `from` not before `to`, a span too long or an unsupported combination.',
          parameters: STATS_QUERY_PARAMETERS,
          responses: {
            '200': {
              description: 'The counts.',
              content: jsonContent(ref('Stats'), {
                from: '2026-11-01T00:00:00.000Z',
                to: '2026-12-01T00:00:00.000Z',
                interval: null,
                groupBy: 'type',
                total: 1234,
                groups: [
                  { key: 'page.view', count: 900 },
                  { key: 'user.login', count: 334 },
                ],
                buckets: [],
              }),
            },
          },
        },
        ['400'],
      ),
    },
    '/v1/exports': {
      post: operation(
        'POST /v1/exports',
        {
          operationId: 'createExport',
          tags: ['exports'],
          summary: "Export a user's or the tenant's events as a gzip file (GDPR access and portability)",
          description:
            'Without `userId`, every visible event of the tenant in the range. The export runs in the background; poll GET /v1/exports/{id}.',
          requestBody: { required: true, content: jsonContent(ref('ExportRequest')) },
          responses: { '202': { description: 'Accepted.', content: jsonContent(ref('ExportAccepted')) } },
        },
        ['400', '415'],
      ),
    },
    '/v1/exports/{id}': {
      parameters: [idParameter('export')],
      get: operation(
        'GET /v1/exports/{id}',
        {
          operationId: 'getExport',
          tags: ['exports'],
          summary: 'An export job, with a short-lived download URL once completed',
          responses: { '200': { description: 'The job.', content: jsonContent(ref('Export')) } },
        },
        ['404'],
      ),
    },
    '/viewer/{file}': {
      get: {
        operationId: 'getViewerModule',
        tags: ['viewer'],
        summary: 'The <activity-log> web component, an ES module (docs/viewer.md)',
        description:
          'Public: no token (a `<script type="module">` sends none) and no data. `activity-log.js` is the current version, cached 5 minutes; ' +
          '`activity-log.<hash>.js` (the content hash: docs/viewer.md names the current one) never changes and is cached a year. Any origin may load it (`Access-Control-Allow-Origin: *`).',
        security: [],
        parameters: [
          {
            name: 'file',
            in: 'path',
            required: true,
            description: '`activity-log.js` or `activity-log.<hash>.js`.',
            schema: { type: 'string', pattern: '^activity-log(\\.[0-9a-f]{12})?\\.js$' },
          },
        ],
        responses: {
          '200': {
            description: 'The module.',
            headers: {
              'Cache-Control': {
                description: '`public, max-age=300`, or a year and `immutable` for the versioned name.',
                schema: { type: 'string' },
              },
              'Access-Control-Allow-Origin': { description: '`*`', schema: { type: 'string' } },
            },
            content: { 'text/javascript': { schema: { type: 'string' } } },
          },
          '404': { description: 'No such file (`not_found`).', content: jsonContent(ref('Error')) },
          ...errorResponses(['429', '500', '502', '504']),
        },
      },
    },
    '/v1/viewer-sessions': {
      post: operation(
        'POST /v1/viewer-sessions',
        {
          operationId: 'createViewerSession',
          tags: ['viewer'],
          summary: 'Mint a short-lived, read-only token for the embedded viewer',
          description:
            "Bound to the caller's tenant and, with `userId`, to that user's events. It opens only GET /v1/events, GET /v1/events/{id} and GET /v1/stats; a user-bound token must pass `userId=<that user>` to the list and stats routes. A viewer token cannot call this route.",
          requestBody: { required: false, content: jsonContent(ref('ViewerSessionRequest')) },
          responses: { '201': { description: 'The token.', content: jsonContent(ref('ViewerSession')) } },
        },
        ['400', '415'],
      ),
    },
  },
  components: {
    schemas: { ...SCHEMAS, ...STATS_SCHEMAS },
    securitySchemes: {
      bearerAuth: {
        type: 'http',
        scheme: 'bearer',
        bearerFormat: 'JWT',
        description:
          'An access token (RS256 or ES256) from the configured issuer: Cognito client-credentials (`TokenUrl` stack output; scopes are prefixed `activity-tracker/`) or your OIDC provider. ' +
          `It carries the tenant claim and, in \`scope\`, the scopes a route needs: ${SCOPES.map((s) => `\`${s}\``).join(', ')}. ` +
          'The scope each operation needs is listed in its security requirement and in `x-scope`.',
      },
    },
  },
});
