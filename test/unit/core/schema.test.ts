import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LIMITS, PUBLIC_ROUTES, QUERY_LIMITS, ROUTE_SCOPES, type Route } from '../../../contract';
import { checkEvent } from '../../../lambdas/core/envelope';
import { parseEventQuery } from '../../../lambdas/core/query';
import { openApiDocument } from '../../../lambdas/core/schema';
import { renderOpenApi } from '../../../scripts/openapi-render';
import { createResponseChecker, loadOpenApi } from '../../support/openapi';

const ROOT = join(__dirname, '..', '..', '..');

describe('openapi.yaml', () => {
  it('is exactly what `npm run openapi` generates from lambdas/core/schema.ts', () => {
    expect(readFileSync(join(ROOT, 'openapi.yaml'), 'utf8')).toBe(renderOpenApi());
  });

  it('is a valid OpenAPI 3.1 document (@seriousme/openapi-schema-validator)', () => {
    const run = spawnSync(process.execPath, [join(ROOT, 'scripts', 'validate-openapi.mjs')], { encoding: 'utf8' });
    expect(run.stderr).toBe('');
    expect(run.stdout.trim()).toBe('valid OpenAPI 3.1');
    expect(run.status).toBe(0);
  });

  it('has schemas that compile under ajv strict mode (draft 2020-12), responses and requests alike', () => {
    const checker = createResponseChecker();
    const doc = loadOpenApi();
    let compiled = 0;
    for (const { operation } of checker.operations) {
      const op = operation as unknown as {
        requestBody?: { content: Record<string, { schema: object }> };
        responses: Record<string, { content?: Record<string, { schema: object }> }>;
      };
      for (const media of [
        op.requestBody?.content['application/json'],
        ...Object.values(op.responses).map((r) => r.content?.['application/json']),
      ]) {
        if (!media) continue;
        checker.ajv.compile(checker.rewriteRefs(media.schema) as object);
        compiled++;
      }
    }
    expect(compiled).toBeGreaterThan(20);
    expect(Object.keys(doc.paths).sort()).toEqual([
      '/v1/erasures',
      '/v1/erasures/{id}',
      '/v1/events',
      '/v1/events/{id}',
      '/v1/events/{id}/restore',
      '/v1/exports',
      '/v1/exports/{id}',
      '/v1/stats',
      '/v1/viewer-sessions',
      '/viewer/{file}',
    ]);
  });

  it('names one scope per operation, the one of ROUTE_SCOPES, and no security on the public routes', () => {
    const checker = createResponseChecker();
    expect(checker.operations.map((o) => o.route).sort()).toEqual([...Object.keys(ROUTE_SCOPES), ...PUBLIC_ROUTES].sort());
    for (const { route, operation } of checker.operations) {
      expect(operation.security).toEqual(PUBLIC_ROUTES.has(route) ? [] : [{ bearerAuth: [ROUTE_SCOPES[route as Route]] }]);
    }
  });

  it('carries the limits of the code', () => {
    const doc = openApiDocument() as any;
    const schemas = doc.components.schemas;
    expect(schemas.EventBatch.properties.events.maxItems).toBe(LIMITS.maxEventsPerRequest);
    expect(schemas.EventInput.properties.userId.maxLength).toBe(LIMITS.maxUserIdLength);
    expect(schemas.EventInput.properties.idempotencyKey.maxLength).toBe(LIMITS.maxIdempotencyKeyLength);
    expect(doc.paths['/v1/events'].post['x-max-body-bytes']).toBe(LIMITS.maxBodyBytes);
    const limit = doc.paths['/v1/events'].get.parameters.find((p: { name: string }) => p.name === 'limit');
    expect(limit.schema).toMatchObject({ maximum: QUERY_LIMITS.maxLimit, default: QUERY_LIMITS.defaultLimit });
  });
});

describe('the EventInput schema and checkEvent agree', () => {
  const checker = createResponseChecker();
  const validate = checker.ajv.compile({ $ref: `${checker.schemaId}#/$defs/EventInput` });
  const now = Date.parse('2026-11-21T12:00:00Z');
  const long = (n: number) => 'x'.repeat(n);
  const cases: [string, unknown][] = [
    ['minimal', { type: 'user.login', userId: 'u' }],
    [
      'full',
      {
        type: 'customer.billed',
        userId: 'u-42',
        occurredAt: '2026-11-21T10:00:00Z',
        target: { type: 'invoice', id: 'inv-9' },
        idempotencyKey: 'k',
        details: { a: 1 },
      },
    ],
    ['offset time', { type: 'a', userId: 'u', occurredAt: '2026-11-21T10:00:00.123+02:00' }],
    ['type upper case', { type: 'User.Login', userId: 'u' }],
    ['type too long', { type: long(101), userId: 'u' }],
    ['type longest', { type: long(100), userId: 'u' }],
    ['type starts with dot', { type: '.a', userId: 'u' }],
    ['no type', { userId: 'u' }],
    ['no userId', { type: 'a' }],
    ['empty userId', { type: 'a', userId: '' }],
    ['userId longest', { type: 'a', userId: long(LIMITS.maxUserIdLength) }],
    ['userId too long', { type: 'a', userId: long(LIMITS.maxUserIdLength + 1) }],
    ['userId number', { type: 'a', userId: 7 }],
    ['bad time', { type: 'a', userId: 'u', occurredAt: 'yesterday' }],
    ['time without zone', { type: 'a', userId: 'u', occurredAt: '2026-11-21T10:00:00' }],
    ['target without id', { type: 'a', userId: 'u', target: { type: 'x' } }],
    ['target extra field', { type: 'a', userId: 'u', target: { type: 'x', id: 'y', z: 1 } }],
    ['target bad type', { type: 'a', userId: 'u', target: { type: 'X', id: 'y' } }],
    ['details array', { type: 'a', userId: 'u', details: [1] }],
    ['key without time', { type: 'a', userId: 'u', idempotencyKey: 'k' }],
    [
      'key too long',
      { type: 'a', userId: 'u', occurredAt: '2026-11-21T10:00:00Z', idempotencyKey: long(LIMITS.maxIdempotencyKeyLength + 1) },
    ],
    ['key empty', { type: 'a', userId: 'u', occurredAt: '2026-11-21T10:00:00Z', idempotencyKey: '' }],
    ['unknown field', { type: 'a', userId: 'u', colour: 'red' }],
    ['server field', { type: 'a', userId: 'u', receivedAt: '2026-11-21T10:00:00Z' }],
    ['not an object', 'user.login'],
  ];
  it.each(cases)('%s', (_name, event) => {
    expect(validate(event)).toBe(checkEvent(event, now).ok);
  });
});

describe('the GET /v1/events parameters and parseEventQuery agree', () => {
  const doc = openApiDocument() as any;
  const params: { name: string; schema: object }[] = doc.paths['/v1/events'].get.parameters;
  const checker = createResponseChecker();
  const valid = (name: string, value: string): boolean => {
    const schema = params.find((p) => p.name === name)?.schema as { type?: string };
    const v = checker.ajv.compile(schema);
    return v(schema.type === 'integer' && /^-?\d+$/.test(value) ? Number(value) : value);
  };
  const parses = (name: string, value: string): boolean => {
    try {
      parseEventQuery({ [name]: [value] });
      return true;
    } catch {
      return false;
    }
  };
  const cases: [string, string][] = [
    ['limit', '1'],
    ['limit', '1000'],
    ['limit', '0'],
    ['limit', '1001'],
    ['limit', 'ten'],
    ['order', 'asc'],
    ['order', 'up'],
    ['type', 'a.b'],
    ['type', 'A'],
    ['userId', 'x'.repeat(256)],
    ['userId', 'x'.repeat(257)],
    ['from', '2026-11-21T10:00:00Z'],
    ['from', 'today'],
  ];
  it.each(cases.map(([name, value]) => [`${name}=${value.length > 20 ? `<${value.length} characters>` : value}`, name, value]))(
    '%s',
    (_label, name, value) => {
      expect(valid(name, value)).toBe(parses(name, value));
    },
  );
});
