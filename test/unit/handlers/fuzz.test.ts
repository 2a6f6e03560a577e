import type { SQSEvent } from 'aws-lambda';
import fc from 'fast-check';
import type { EventQueue } from '../../../lambdas/core/ingest';
import { decodeMessage } from '../../../lambdas/core/message';
import { MemoryTable, RecordingQueue, testKeyring } from '../../support/fakes';
import { validEventArb } from '../../support/arbitraries';
import { configureHandlerEnv, fakeAuthenticate, lambdaContext, proxyEvent } from '../../support/handler-env';

/**
 * Property-based tests of the API handlers with fakes: no input of any shape is a 5xx, a rejected
 * event is never queued, an event the queue did not take never gets an id, and every accepted
 * event reads back unchanged after the writer stored it.
 */
configureHandlerEnv({
  POWERTOOLS_METRICS_NAMESPACE: 'Test',
  POWERTOOLS_DEV: 'true',
  POWERTOOLS_LOG_LEVEL: 'SILENT',
});

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { createIngestHandler } = require('../../../lambdas/handlers/ingest') as typeof import('../../../lambdas/handlers/ingest');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { createQueryHandler } = require('../../../lambdas/handlers/query') as typeof import('../../../lambdas/handlers/query');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { createWriterHandler } = require('../../../lambdas/handlers/writer') as typeof import('../../../lambdas/handlers/writer');

const RUNS = Number(process.env.FUZZ_UNIT_RUNS ?? 1000);
const HOSTILE_RUNS = Math.min(RUNS, 300);
const keyring = testKeyring();
const context = lambdaContext();

const authenticate = fakeAuthenticate;

const apiEvent = proxyEvent;

const recentIso = fc.integer({ min: 0, max: 86_400_000 }).map((ago) => new Date(Date.now() - ago).toISOString());
const typeArb = fc.oneof(fc.stringMatching(/^[a-z0-9][a-z0-9_.:-]{0,30}$/), fc.string(), fc.jsonValue());
const wildEventArb = fc.record(
  {
    type: typeArb,
    userId: fc.oneof(fc.string({ minLength: 1, maxLength: 40 }), fc.string({ maxLength: 300 }), fc.jsonValue()),
    occurredAt: fc.oneof(
      recentIso,
      fc.string(),
      fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
    ),
    target: fc.oneof(fc.record({ type: typeArb, id: fc.string({ maxLength: 300 }) }), fc.jsonValue()),
    idempotencyKey: fc.oneof(fc.string({ minLength: 1, maxLength: 140 }), fc.jsonValue()),
    details: fc.oneof(fc.dictionary(fc.string(), fc.jsonValue({ maxDepth: 3 })), fc.jsonValue()),
    extra: fc.jsonValue(),
    receivedAt: fc.string(),
  },
  { requiredKeys: [] },
);
const eventArb = fc.oneof({ weight: 3, arbitrary: validEventArb }, { weight: 2, arbitrary: wildEventArb });
/** Bodies of every shape: single events, batches, any JSON, any bytes, with or without a JSON media type. */
const requestArb = fc.oneof(
  {
    weight: 4,
    arbitrary: eventArb.map((e) => ({ body: JSON.stringify(e) as string | null, contentType: 'application/json', base64: false })),
  },
  {
    weight: 3,
    arbitrary: fc
      .array(eventArb, { minLength: 0, maxLength: 8 })
      .map((events) => ({ body: JSON.stringify({ events }) as string | null, contentType: 'application/json', base64: false })),
  },
  {
    weight: 2,
    arbitrary: fc
      .jsonValue()
      .map((v) => ({ body: (JSON.stringify(v) ?? null) as string | null, contentType: 'application/json', base64: false })),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      body: fc.option(fc.string({ unit: 'binary' }), { nil: null }),
      contentType: fc.constantFrom('application/json', 'application/problem+json', 'text/plain', '', 'application/json; charset=latin1'),
      base64: fc.boolean(),
    }),
  },
);

describe('ingest and query handlers, property-based', () => {
  it(`answer ${RUNS} generated bodies with 202/400/413/415 JSON; queue only accepted events, which read back unchanged`, async () => {
    const queue = new RecordingQueue();
    const sent = queue.sent;
    const ingest = createIngestHandler({ authenticate, queue, keyring: async () => keyring, shardCount: 2, retentionDays: () => 30 });
    const statuses = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(requestArb, async ({ body, contentType, base64 }) => {
        sent.length = 0;
        const table = new MemoryTable();
        const res = await ingest(
          apiEvent({
            httpMethod: 'POST',
            headers: { authorization: 'Bearer acme events:write', ...(contentType && { 'Content-Type': contentType }) },
            body,
            isBase64Encoded: base64,
          }),
          context,
        );
        statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
        expect([202, 400, 413, 415]).toContain(res.statusCode);
        const answer = JSON.parse(res.body);
        if (res.statusCode !== 202) {
          expect(typeof answer.error.code).toBe('string');
          expect(typeof answer.error.message).toBe('string');
          expect(sent).toHaveLength(0);
          return;
        }
        const results = answer.results as ({ id: string } | { error: { code: string; message: string } })[];
        const ids = results.filter((r): r is { id: string } => 'id' in r).map((r) => r.id);
        expect(answer.accepted).toBe(ids.length);
        expect(answer.rejected).toBe(results.length - ids.length);
        // One queued entry per distinct accepted event (copies of an idempotent event share one).
        expect(sent.flatMap((m) => decodeMessage(m.body))).toHaveLength(new Set(ids).size);

        // The writer stores what was queued; the query returns each accepted event as sent.
        const writer = createWriterHandler(table);
        const sqsEvent = {
          Records: sent.map((m, i) => ({ messageId: `m${i}`, body: m.body, attributes: { ApproximateReceiveCount: '1' } })),
        } as unknown as SQSEvent;
        expect((await writer(sqsEvent, context)).batchItemFailures).toEqual([]);
        expect(table.all()).toHaveLength(new Set(ids).size);
        const query = createQueryHandler({ authenticate, store: table, keyring: async () => keyring, shardCount: 2 });
        const raw = JSON.parse(base64 ? Buffer.from(body ?? '', 'base64').toString('utf8') : (body ?? ''));
        const events = (Array.isArray(raw.events) ? raw.events : [raw]) as Record<string, unknown>[];
        for (const [i, result] of results.entries()) {
          if (!('id' in result)) continue;
          const got = await query(
            apiEvent({
              headers: { authorization: 'Bearer acme events:read' },
              path: `/v1/events/${result.id}`,
              pathParameters: { id: result.id },
            }),
            context,
          );
          expect(got.statusCode).toBe(200);
          const stored = JSON.parse(got.body);
          const event = events[i]!;
          // Copies of one idempotent event: the first one in the request is the one stored.
          const first =
            events.find(
              (e) => e.idempotencyKey !== undefined && e.idempotencyKey === event.idempotencyKey && e.occurredAt === event.occurredAt,
            ) ?? event;
          // userId and target.id are stored in their canonical form (NFC).
          const canonical: Record<string, unknown> = {
            ...first,
            ...(typeof first.userId === 'string' && { userId: first.userId.normalize('NFC') }),
            ...(first.target !== undefined && {
              target: { ...(first.target as object), id: String((first.target as { id: string }).id).normalize('NFC') },
            }),
          };
          for (const key of ['type', 'userId', 'occurredAt', 'target', 'details'] as const) {
            if (canonical[key] !== undefined) expect(JSON.stringify(stored[key])).toBe(JSON.stringify(canonical[key]));
          }
        }
      }),
      { numRuns: RUNS },
    );
    console.log(`ingest handler fuzz: ${RUNS} bodies, statuses ${JSON.stringify(Object.fromEntries(statuses))}, 5xx 0`);
  }, 120_000);

  it(`answers ${HOSTILE_RUNS} hostile bodies (deep nesting, huge numbers, lone surrogates) without a 5xx or an exception`, async () => {
    const queue = new RecordingQueue();
    const ingest = createIngestHandler({ authenticate, queue, keyring: async () => keyring, shardCount: 2, retentionDays: () => 30 });
    const nesting = fc
      .tuple(fc.integer({ min: 1, max: 20_000 }), fc.constantFrom<[string, string]>(['[', ']'], ['{"a":', '}']))
      .map(([n, [open, close]]) => `${open.repeat(n)}1${close.repeat(n)}`);
    const hugeNumber = fc.constantFrom(
      '1e400',
      '-1e999',
      '9007199254740993',
      '-9007199254740993',
      '123456789012345678901234567890',
      '1e-400',
    );
    const loneSurrogate = fc
      .tuple(fc.string({ maxLength: 4 }), fc.constantFrom('\\ud800', '\\udfff', '\\udc00\\ud800', '\\ud83d'), fc.string({ maxLength: 4 }))
      .map(([a, s, b]) => `${JSON.stringify(a).slice(0, -1)}${s}${JSON.stringify(b).slice(1)}`);
    const value = fc.oneof(nesting, hugeNumber, loneSurrogate);
    const event = fc
      .tuple(value, loneSurrogate, fc.constantFrom('details', 'detailsKey', 'userId', 'type', 'target', 'idempotencyKey', 'extra'))
      .map(([v, s, where]) => {
        const base = { type: '"a"', userId: '"u"', details: `{"ok":1}` } as Record<string, string>;
        if (where === 'details') base.details = `{"x":${v}}`;
        else if (where === 'detailsKey') base.details = `{${s}:1}`;
        else if (where === 'target') base.target = `{"type":"doc","id":${v}}`;
        else if (where === 'idempotencyKey') Object.assign(base, { idempotencyKey: v, occurredAt: '"2026-01-01T00:00:00Z"' });
        else base[where === 'extra' ? 'extra' : where] = v;
        return `{${Object.entries(base)
          .map(([k, text]) => `"${k}":${text}`)
          .join(',')}}`;
      });
    const body = fc.oneof(
      event,
      fc
        .array(fc.oneof(event, fc.constant('{"type":"a","userId":"u"}'), value), { minLength: 1, maxLength: 4 })
        .map((events) => `{"events":[${events.join(',')}]}`),
      value,
    );
    const statuses = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(body, async (text) => {
        queue.sent.length = 0;
        const res = await ingest(
          apiEvent({
            httpMethod: 'POST',
            headers: { authorization: 'Bearer acme events:write', 'content-type': 'application/json' },
            body: text,
          }),
          context,
        );
        statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
        expect([202, 400, 413]).toContain(res.statusCode);
        const answer = JSON.parse(res.body);
        if (res.statusCode !== 202) return;
        // What was accepted is stored and reads back: nothing downstream chokes either.
        const table = new MemoryTable();
        const writer = createWriterHandler(table);
        const sqsEvent = {
          Records: queue.sent.map((m, i) => ({ messageId: `m${i}`, body: m.body, attributes: { ApproximateReceiveCount: '1' } })),
        } as unknown as SQSEvent;
        expect((await writer(sqsEvent, context)).batchItemFailures).toEqual([]);
        expect(table.all()).toHaveLength(answer.accepted);
      }),
      { numRuns: HOSTILE_RUNS },
    );
    console.log(`hostile body fuzz: statuses ${JSON.stringify(Object.fromEntries(statuses))}, 5xx 0, exceptions 0`);
  }, 120_000);

  it('never acknowledges an event the queue did not take', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 0, max: 12_000 }),
        fc.array(fc.boolean(), { minLength: 40, maxLength: 40 }),
        async (n, detailBytes, fails) => {
          /** Users of the events in messages the queue took, and in those it refused. */
          const queued = new Set<string>();
          const refused = new Set<string>();
          let messages = 0;
          const queue: EventQueue = {
            send: async (batch) => {
              const failed = new Set(batch.filter((_, i) => fails[messages + i]).map((m) => m.id));
              messages += batch.length;
              for (const m of batch) {
                for (const { item } of decodeMessage(m.body)) (failed.has(m.id) ? refused : queued).add(JSON.parse(item.e).userId);
              }
              return failed;
            },
          };
          const ingest = createIngestHandler({ authenticate, queue, keyring: async () => keyring, shardCount: 2, retentionDays: () => 30 });
          const events = Array.from({ length: n }, (_, i) => ({ type: 'a', userId: `u${i}`, details: { blob: 'x'.repeat(detailBytes) } }));
          const res = await ingest(
            apiEvent({
              httpMethod: 'POST',
              headers: { authorization: 'Bearer acme events:write', 'content-type': 'application/json' },
              body: JSON.stringify({ events }),
            }),
            context,
          );
          if (queued.size === 0) {
            expect(res.statusCode).toBe(503);
            return;
          }
          expect(res.statusCode).toBe(202);
          const results = JSON.parse(res.body).results as ({ id: string } | { error: { code: string } })[];
          results.forEach((r, i) => {
            if (refused.has(`u${i}`)) expect(r).toEqual({ error: expect.objectContaining({ code: 'enqueue_failed' }) });
            else expect(queued.has(`u${i}`) && 'id' in r).toBe(true);
          });
          expect(queued.size + refused.size).toBe(n);
          expect(results.filter((r) => 'id' in r)).toHaveLength(queued.size);
        },
      ),
      { numRuns: 200 },
    );
  });

  it(`answers ${RUNS} generated query strings with 200 or 400, never a 5xx`, async () => {
    const table = new MemoryTable();
    const query = createQueryHandler({ authenticate, store: table, keyring: async () => keyring, shardCount: 2 });
    const names = fc.oneof(
      fc.constantFrom(
        'userId',
        'type',
        'targetId',
        'from',
        'to',
        'order',
        'limit',
        'cursor',
        'details.amount',
        'details.',
        'details',
        'x',
        '__proto__',
        'constructor',
        'toString',
        'details.__proto__',
      ),
      fc.string({ maxLength: 12 }),
    );
    const values = fc.oneof(
      fc.string(),
      fc.string({ unit: 'binary', maxLength: 40 }),
      fc.integer().map(String),
      fc.constantFrom('asc', 'desc', '0', '1', '1000', '1001', '-1', '1e3', '2026-11-21T10:00:00Z', '2026-02-30T00:00:00Z', ''),
      fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
    );
    const statuses = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(fc.dictionary(names, fc.array(values, { minLength: 1, maxLength: 3 }), { maxKeys: 6 }), async (params) => {
        const single = Object.fromEntries(Object.entries(params).map(([k, v]) => [k, v[v.length - 1]!]));
        const res = await query(
          apiEvent({
            headers: { authorization: 'Bearer acme events:read' },
            queryStringParameters: single,
            multiValueQueryStringParameters: params,
          }),
          context,
        );
        statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
        expect([200, 400]).toContain(res.statusCode);
        const body = JSON.parse(res.body);
        if (res.statusCode === 400) expect(typeof body.error.code).toBe('string');
        else expect(Array.isArray(body.events)).toBe(true);
      }),
      { numRuns: RUNS },
    );
    console.log(`query handler fuzz: ${RUNS} query strings, statuses ${JSON.stringify(Object.fromEntries(statuses))}, 5xx 0`);
  });
});
