/**
 * Delivery guarantees under faults and bad input, against the local stack with its fault proxy
 * (local/faults.ts) between the functions and DynamoDB / SQS:
 *
 * - the set test: every acknowledged event is stored exactly once, nothing unacknowledged appears,
 *   while throttles, unprocessed items, 5xx, dropped connections, timeouts and writer crashes are
 *   injected at random (SET_TEST_EVENTS events; `npm run test:soak` runs 100,000);
 * - the same idempotencyKey sent 50 times at once → one item;
 * - a writer killed after its write and before it returns → the redelivery stores nothing twice;
 * - a message the writer cannot store → DLQ after maxReceiveCount, batch-mates stored, redrive
 *   stores it once;
 * - fuzzing: generated bodies and query strings over HTTP → never a 5xx; rejected events are not
 *   stored, accepted ones read back unchanged.
 */
import { join } from 'node:path';
import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { GetQueueAttributesCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import fc from 'fast-check';
import { redrive, redrivePairs } from '@activity-tracker/local';
import { faultStats, setFaults, type FaultRule } from '../support/faults';
import { REPO_ROOT, startLocalStack, storedEvent, synthOnce, type LocalStack } from './harness';
import { validEventArb } from '../support/arbitraries';
import { eventually, request, uniqueTenant } from './http';

/** Fast redelivery: visibility timeout = 6 × 2 s; one receive per batch of 10. */
/** Per-tenant fairness limits far above the set test's load: these tests are about delivery, not fairness. */
const CONTEXT = {
  writerBatchSize: 10,
  writerBatchWindowSeconds: 0,
  writerTimeoutSeconds: 2,
  logLevel: 'ERROR',
  tenantRequestsPerSecond: 10_000,
  tenantEventsPerSecond: 1_000_000,
};
const SET_EVENTS = Number(process.env.SET_TEST_EVENTS ?? 2_000);

let stack: LocalStack;
let table: string;
let mainQueue: { url: string; arn: string };
let deadLetterQueue: { url: string; arn: string };

beforeAll(async () => {
  const outDir = await synthOnce(join(REPO_ROOT, 'cdk.out.test', 'guarantees'), CONTEXT);
  stack = await startLocalStack({ outDir, env: { LOCAL_FAULTS: '1' } });
  table = Object.values(stack.tables)[0]!;
  const [pair] = await redrivePairs(stack.sqs, stack.queues);
  mainQueue = pair!.source;
  deadLetterQueue = pair!.dlq;
}, 180_000);

afterAll(async () => {
  await stack?.stop();
});

afterEach(async () => {
  await setFaults(stack.baseUrl, []);
});

interface StoredRow {
  pk: string;
  sk: string;
  e: Record<string, any>;
}

/** Every event item of a tenant, read from DynamoDB directly (not through the API). */
const scanTenant = async (tenant: string): Promise<StoredRow[]> => {
  const rows: StoredRow[] = [];
  let start: Record<string, any> | undefined;
  do {
    const out = await stack.ddb.send(
      new ScanCommand({
        TableName: table,
        // An item holds the event as `e`, or deflated as `y` (older items: `z`) (lambdas/core/payload.ts).
        FilterExpression: 'begins_with(pk, :p) AND (attribute_exists(e) OR attribute_exists(y) OR attribute_exists(z))',
        ExpressionAttributeValues: { ':p': { S: `${tenant}#` } },
        ...(start && { ExclusiveStartKey: start }),
      }),
    );
    for (const item of out.Items ?? []) {
      rows.push({ pk: item.pk!.S!, sk: item.sk!.S!, e: storedEvent(item) });
    }
    start = out.LastEvaluatedKey;
  } while (start);
  return rows;
};

const depth = async (url: string): Promise<number> => {
  const { Attributes = {} } = await stack.sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: url,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible', 'ApproximateNumberOfMessagesDelayed'],
    }),
  );
  return (
    Number(Attributes.ApproximateNumberOfMessages ?? 0) +
    Number(Attributes.ApproximateNumberOfMessagesNotVisible ?? 0) +
    Number(Attributes.ApproximateNumberOfMessagesDelayed ?? 0)
  );
};

/** Waits until the events queue is empty (nothing waiting, nothing in flight) twice in a row. */
const drained = (timeoutMs: number) =>
  eventually(
    async () => {
      if ((await depth(mainQueue.url)) > 0) return undefined;
      await new Promise((r) => setTimeout(r, 300));
      return (await depth(mainQueue.url)) === 0 ? true : undefined;
    },
    timeoutMs,
    'the events queue to drain',
  );

const writerPoller = async () => Object.entries((await stack.stats()).pollers).find(([id]) => id.includes('Writer'))![1];

/** Runs `fn` over items with at most `limit` in flight. */
const mapLimit = async <T, R>(items: readonly T[], limit: number, fn: (item: T, i: number) => Promise<R>): Promise<R[]> => {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i] as T, i);
      }
    }),
  );
  return out;
};

/**
 * Faults on everything the ingest and writer functions call. Rates are per request to the emulator;
 * the SDK's own retries absorb most of them, the rest fail entries, batches or invocations.
 */
const RANDOM_FAULTS: FaultRule[] = [
  // Writer → DynamoDB (every event is one conditional PutItem; redeliveries look up with BatchGetItem)
  { service: 'dynamodb', functions: ['Writer'], operations: ['PutItem'], kind: 'kill-after', rate: 0.004 },
  { service: 'dynamodb', functions: ['Writer'], kind: 'throttle', rate: 0.03 },
  { service: 'dynamodb', functions: ['Writer'], kind: 'error', rate: 0.02 },
  { service: 'dynamodb', functions: ['Writer'], kind: 'drop', rate: 0.01 },
  { service: 'dynamodb', functions: ['Writer'], kind: 'drop-after', rate: 0.01 },
  // Longer than the writer's timeout: the invocation times out and its batch comes back.
  { service: 'dynamodb', functions: ['Writer'], kind: 'hang', rate: 0.002, hangMs: 3000 },
  // Ingest → SQS
  { service: 'sqs', functions: ['Ingest'], kind: 'partial', rate: 0.1 },
  { service: 'sqs', functions: ['Ingest'], kind: 'throttle', rate: 0.05 },
  { service: 'sqs', functions: ['Ingest'], kind: 'error', rate: 0.03 },
  { service: 'sqs', functions: ['Ingest'], kind: 'drop', rate: 0.02 },
  { service: 'sqs', functions: ['Ingest'], kind: 'drop-after', rate: 0.02 },
  // Shorter than the API's timeout: the SDK gives up on the connection and retries.
  { service: 'sqs', functions: ['Ingest'], kind: 'hang', rate: 0.002, hangMs: 1000 },
];

describe('the set test', () => {
  it(
    `stores every acknowledged event exactly once under random faults (${SET_EVENTS} events)`,
    async () => {
      const tenant = uniqueTenant('set');
      const token = stack.token({ tenant, scope: 'events:write events:read', ttlSeconds: 3600 });
      const base = Date.now() - 3_600_000;
      // Every other event carries an idempotency key (its id derived from the key); the rest have
      // random ids. The writer stores both with conditional puts.
      const keyed = (n: number) => n % 2 === 0;
      const eventOf = (n: number) => ({
        type: 'set.test',
        userId: `u${n % 97}`,
        occurredAt: new Date(base + n).toISOString(),
        ...(keyed(n) && { idempotencyKey: `set-${n}` }),
        details: { n },
      });
      const before = await faultStats(stack.baseUrl);
      await setFaults(stack.baseUrl, RANDOM_FAULTS);
      const started = Date.now();

      /** Sequence number → the id the API acknowledged (a retry must get the same one). */
      const acknowledged = new Map<number, string>();
      const counts = { requests: 0, serverErrors: 0, enqueueFailed: 0, idChanged: 0, unexpected: 0 };
      let pending = Array.from({ length: SET_EVENTS }, (_, n) => n);
      // The client retries what was not acknowledged (keyed events with their idempotency key).
      for (let round = 0; pending.length > 0 && round < 30; round++) {
        const chunks: number[][] = [];
        for (let i = 0; i < pending.length; i += 250) chunks.push(pending.slice(i, i + 250));
        const retry: number[] = [];
        await mapLimit(chunks, 4, async (chunk) => {
          counts.requests++;
          let res: Awaited<ReturnType<typeof request>>;
          try {
            res = await request(stack.baseUrl, 'POST', '/v1/events', { token, body: { events: chunk.map(eventOf) } });
          } catch {
            retry.push(...chunk);
            return;
          }
          if (res.status >= 500) {
            counts.serverErrors++;
            retry.push(...chunk);
            return;
          }
          if (res.status !== 202) {
            counts.unexpected++;
            throw new Error(`unexpected ${res.status}: ${res.text}`);
          }
          (res.body.results as ({ id: string } | { error: { code: string } })[]).forEach((result, i) => {
            const n = chunk[i]!;
            if ('id' in result) {
              const earlier = acknowledged.get(n);
              if (earlier !== undefined && earlier !== result.id && keyed(n)) counts.idChanged++;
              acknowledged.set(n, result.id);
            } else {
              expect(result.error.code).toBe('enqueue_failed');
              counts.enqueueFailed++;
              retry.push(n);
            }
          });
        });
        pending = retry.filter((n) => !acknowledged.has(n));
        if (pending.length > 0) await new Promise((r) => setTimeout(r, 200));
      }
      const sentMs = Date.now() - started;

      // Faults stay on while the writer drains the queue; whatever exhausted its receives is redriven.
      await drained(Math.max(300_000, SET_EVENTS * 150));
      const writerFaults = await faultStats(stack.baseUrl);
      await setFaults(stack.baseUrl, []);
      let redriven = 0;
      for (let i = 0; i < 3 && (await depth(deadLetterQueue.url)) > 0; i++) {
        redriven += (await redrive(stack.sqs, deadLetterQueue.url, mainQueue.url)).moved;
        await drained(120_000);
      }

      const rows = await scanTenant(tenant);
      const perEvent = new Map<number, number>();
      let unacknowledged = 0;
      let altered = 0;
      for (const row of rows) {
        const n = row.e.details?.n as number;
        perEvent.set(n, (perEvent.get(n) ?? 0) + 1);
        if (!acknowledged.has(n)) unacknowledged++;
        const sent = eventOf(n);
        if (row.e.type !== sent.type || row.e.userId !== sent.userId || row.e.occurredAt !== sent.occurredAt) altered++;
      }
      let lost = 0;
      for (const n of acknowledged.keys()) if (!perEvent.has(n)) lost++;
      const duplicates = [...perEvent.values()].reduce((sum, c) => sum + c - 1, 0);
      const faults = writerFaults.total - before.total;
      const byKind = Object.entries(writerFaults.faults)
        .map(([kind, k]) => `${kind} ${k - (before.faults[kind] ?? 0)}`)
        .join(', ');

      console.log(`acknowledged ${acknowledged.size}, stored ${rows.length}, lost ${lost}, duplicates ${duplicates}, faults ${faults}`);
      console.log(
        `set test: ${SET_EVENTS} events in ${counts.requests} requests (${counts.serverErrors} answered 5xx, ${counts.enqueueFailed} event results enqueue_failed, all retried); ` +
          `faults by kind: ${byKind}; redriven from the DLQ ${redriven}; unacknowledged stored ${unacknowledged}; sent in ${(sentMs / 1000).toFixed(1)} s, ` +
          `stored after ${((Date.now() - started) / 1000).toFixed(1)} s`,
      );

      // Some acknowledged ids read back through the API (the public id of a retry is stable).
      const sample = [...acknowledged.entries()].filter((_, i) => i % Math.ceil(acknowledged.size / 25) === 0);
      for (const [n, id] of sample) {
        const res = await request(stack.baseUrl, 'GET', `/v1/events/${id}`, { token });
        expect(res.status).toBe(200);
        expect(res.body.details).toEqual({ n });
      }

      expect(acknowledged.size).toBe(SET_EVENTS);
      expect(counts.idChanged).toBe(0);
      expect(rows.length).toBe(acknowledged.size);
      expect(lost).toBe(0);
      expect(duplicates).toBe(0);
      expect(unacknowledged).toBe(0);
      expect(altered).toBe(0);
      expect(faults).toBeGreaterThan(0);
    },
    Math.max(900_000, SET_EVENTS * 100),
  );
});

describe('the producer', () => {
  it('answers enqueue_failed (never an id) for events SQS did not take, 503 when it took none; a retry with the key stores each once', async () => {
    const tenant = uniqueTenant('enqueue');
    const token = stack.token({ tenant, scope: 'events:write' });
    const occurredAt = new Date().toISOString();
    // 20 KB events: three share a 64 KB message, so the request sends ten messages that can fail apart.
    const pad = 'x'.repeat(20 * 1024);
    const events = Array.from({ length: 30 }, (_, i) => ({
      type: 'enqueue.test',
      userId: `u${i}`,
      occurredAt,
      idempotencyKey: `k${i}`,
      details: { i, pad },
    }));

    // Every SendMessageBatch fails: nothing is acknowledged, nothing is stored.
    await setFaults(stack.baseUrl, [{ service: 'sqs', functions: ['Ingest'], operations: ['SendMessageBatch'], kind: 'error', rate: 1 }]);
    const none = await request(stack.baseUrl, 'POST', '/v1/events', { token, body: { events } });
    expect(none.status).toBe(503);
    expect(none.body.error.code).toBe('enqueue_failed');

    // Every SendMessageBatch leaves some entries out, at each of the adapter's attempts.
    await setFaults(stack.baseUrl, [{ service: 'sqs', functions: ['Ingest'], operations: ['SendMessageBatch'], kind: 'partial', rate: 1 }]);
    const some = await request(stack.baseUrl, 'POST', '/v1/events', { token, body: { events } });
    expect(some.status).toBe(202);
    const results = some.body.results as ({ id: string } | { error: { code: string } })[];
    const failed = results.flatMap((r, i) => ('error' in r ? [i] : []));
    for (const i of failed) expect((results[i] as { error: { code: string } }).error.code).toBe('enqueue_failed');
    await drained(60_000);
    const partly = await scanTenant(tenant);
    expect(partly.map((r) => r.e.details.i).sort((a, b) => a - b)).toEqual(results.flatMap((r, i) => ('id' in r ? [i] : [])));

    // The client retries the whole request with the same keys: every event stored once, same ids.
    await setFaults(stack.baseUrl, []);
    const retry = await request(stack.baseUrl, 'POST', '/v1/events', { token, body: { events } });
    expect(retry.body.accepted).toBe(30);
    results.forEach((r, i) => {
      if ('id' in r) expect(retry.body.results[i].id).toBe(r.id);
    });
    await drained(60_000);
    const rows = await scanTenant(tenant);
    console.log(
      `producer: all sends failing → ${none.status}; partial sends → accepted ${results.length - failed.length}, enqueue_failed ${failed.length}, stored ${partly.length}; after the retry stored ${rows.length} of 30`,
    );
    expect(rows).toHaveLength(30);
    expect(new Set(rows.map((r) => r.e.details.i)).size).toBe(30);
  }, 120_000);
});

describe('idempotency and crashes', () => {
  it('stores one item for the same idempotencyKey sent 50 times concurrently', async () => {
    const tenant = uniqueTenant('idem');
    const token = stack.token({ tenant, scope: 'events:write' });
    const event = {
      type: 'invoice.paid',
      userId: 'u1',
      occurredAt: new Date().toISOString(),
      idempotencyKey: 'pay-42',
      details: { amount: 7 },
    };
    const answers = await Promise.all(
      Array.from({ length: 50 }, () => request(stack.baseUrl, 'POST', '/v1/events', { token, body: event })),
    );
    expect(answers.map((a) => a.status)).toEqual(Array(50).fill(202));
    const ids = new Set(answers.map((a) => a.body.results[0].id as string));
    await drained(60_000);
    const rows = await scanTenant(tenant);
    console.log(`idempotency: 50 concurrent requests, ${ids.size} distinct id(s), ${rows.length} item(s) stored`);
    expect(ids.size).toBe(1);
    expect(rows).toHaveLength(1);
  }, 90_000);

  it('creates no duplicate when the writer is killed after its write and before it returns', async () => {
    const tenant = uniqueTenant('crash');
    const token = stack.token({ tenant, scope: 'events:write' });
    const pollerBefore = await writerPoller();
    await setFaults(stack.baseUrl, [
      { service: 'dynamodb', functions: ['Writer'], operations: ['PutItem'], kind: 'kill-after', rate: 1, limit: 1 },
    ]);
    // No idempotency keys: random ids, each event one conditional PutItem; the kill comes after the first.
    const res = await request(stack.baseUrl, 'POST', '/v1/events', {
      token,
      body: { events: Array.from({ length: 10 }, (_, i) => ({ type: 'crash.test', userId: `u${i}`, details: { i } })) },
    });
    expect(res.body.accepted).toBe(10);
    await eventually(async () => ((await faultStats(stack.baseUrl)).rules[0]!.fired === 1 ? true : undefined), 20_000, 'the kill');
    // Written but not acknowledged: the items exist while the messages wait for redelivery. (The rule
    // counts as fired when it matches, before the proxy has forwarded the write: wait for the write.)
    const afterKill = await eventually(
      async () => {
        const found = await scanTenant(tenant);
        return found.length > 0 ? found : undefined;
      },
      10_000,
      'the write before the kill',
    );
    await drained(60_000);
    const rows = await scanTenant(tenant);
    const pollerAfter = await writerPoller();
    // The ten events travel in one message: every record past the first is a redelivery.
    const redelivered = pollerAfter.records - pollerBefore.records - 1;
    console.log(
      `crash after write: killed 1 writer, items after the kill ${afterKill.length}, function errors ${pollerAfter.functionErrors - pollerBefore.functionErrors}, ` +
        `records redelivered ${redelivered}, stored ${rows.length}, duplicates ${rows.length - new Set(rows.map((r) => r.e.details.i)).size}`,
    );
    expect(afterKill.length).toBeGreaterThan(0);
    expect(pollerAfter.functionErrors - pollerBefore.functionErrors).toBeGreaterThanOrEqual(1);
    expect(redelivered).toBeGreaterThanOrEqual(1);
    expect(rows).toHaveLength(10);
    expect(new Set(rows.map((r) => r.e.details.i)).size).toBe(10);
  }, 90_000);
});

describe('poison messages and redrive', () => {
  it('moves a message the writer cannot store to the DLQ, stores its batch-mates, and stores it once after a redrive that keeps a soft delete made meanwhile', async () => {
    const tenant = uniqueTenant('redrive');
    const token = stack.token({ tenant, scope: 'events:write events:read events:delete' });
    const { Attributes } = await stack.sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: mainQueue.url, AttributeNames: ['RedrivePolicy'] }),
    );
    const maxReceiveCount = Number(JSON.parse(Attributes!.RedrivePolicy!).maxReceiveCount);
    // The stuck event's put fails every time (it alone carries "stuck"): it cannot be stored, its batch-mates can.
    await setFaults(stack.baseUrl, [
      { service: 'dynamodb', functions: ['Writer'], operations: ['PutItem'], kind: 'error', rate: 1, bodyIncludes: 'stuck' },
    ]);
    const stuck = {
      type: 'stuck',
      userId: 'u0',
      occurredAt: new Date().toISOString(),
      idempotencyKey: 'stuck-1',
      details: { stuck: true },
    };
    const res = await request(stack.baseUrl, 'POST', '/v1/events', {
      token,
      body: { events: [{ type: 'mate', userId: 'u1' }, stuck, { type: 'mate', userId: 'u2' }, { type: 'mate', userId: 'u3' }] },
    });
    expect(res.body.accepted).toBe(4);
    const stuckId = res.body.results[1].id as string;
    const mateId = res.body.results[0].id as string;

    await eventually(
      async () => ((await depth(deadLetterQueue.url)) > 0 ? true : undefined),
      (maxReceiveCount + 2) * 15_000,
      'the message in the DLQ',
    );
    const before = await scanTenant(tenant);
    expect(before.map((r) => r.e.type).sort()).toEqual(['mate', 'mate', 'mate']);
    expect(await depth(mainQueue.url)).toBe(0);

    // Meanwhile a batch-mate is deleted. The redriven message starts over at receive count 1, but
    // it is older than the visibility timeout: the writer must not write the mate over again.
    expect((await request(stack.baseUrl, 'DELETE', `/v1/events/${mateId}`, { token })).status).toBe(204);
    // The cause is fixed (faults off); the operator redrives, twice by mistake: still one item.
    await setFaults(stack.baseUrl, []);
    const first = await redrive(stack.sqs, deadLetterQueue.url, mainQueue.url);
    await drained(60_000);
    const second = await redrive(stack.sqs, deadLetterQueue.url, mainQueue.url);
    const rows = await scanTenant(tenant);
    const got = await request(stack.baseUrl, 'GET', `/v1/events/${stuckId}`, { token });
    console.log(
      `poison: DLQ after ${maxReceiveCount} receives, batch-mates stored ${before.length}, redriven ${first.moved} (+${second.moved}), stored ${rows.length}`,
    );
    expect(first.moved).toBe(1);
    expect(rows.filter((r) => r.e.type === 'stuck')).toHaveLength(1);
    // The 4 events, and the audit record of the DELETE (core/audit-records.ts).
    expect(rows.filter((r) => !r.e.type.startsWith('activity-tracker.'))).toHaveLength(4);
    expect(rows.filter((r) => r.e.type === 'activity-tracker.event.deleted')).toHaveLength(1);
    expect(got.status).toBe(200);
    expect(got.body.details).toEqual({ stuck: true });
    expect((await request(stack.baseUrl, 'GET', `/v1/events/${mateId}`, { token })).status).toBe(404);
    const left = await stack.sqs.send(new ReceiveMessageCommand({ QueueUrl: deadLetterQueue.url, WaitTimeSeconds: 0 }));
    expect(left.Messages ?? []).toHaveLength(0);
  }, 180_000);
});

describe('fuzzing over HTTP', () => {
  const SEED = Number(process.env.FUZZ_SEED ?? Date.now() % 1_000_000);
  const RUNS = Number(process.env.FUZZ_RUNS ?? 1000);
  const nowIso = () => new Date(Date.now() - 60_000).toISOString();

  const typeArb = fc.oneof(fc.stringMatching(/^[a-z0-9][a-z0-9_.:-]{0,20}$/), fc.string(), fc.jsonValue());
  const wildEventArb = fc.record(
    {
      type: typeArb,
      userId: fc.oneof(fc.string({ minLength: 1, maxLength: 40 }), fc.string({ unit: 'grapheme', maxLength: 300 }), fc.jsonValue()),
      occurredAt: fc.oneof(
        fc.constant(undefined).map(() => nowIso()),
        fc.string(),
        fc.date().map((d) => (Number.isNaN(d.getTime()) ? 'x' : d.toISOString())),
      ),
      target: fc.oneof(fc.record({ type: typeArb, id: fc.string({ maxLength: 300 }) }), fc.jsonValue()),
      idempotencyKey: fc.oneof(fc.string({ minLength: 1, maxLength: 140 }), fc.jsonValue()),
      details: fc.oneof(fc.dictionary(fc.string(), fc.jsonValue({ maxDepth: 3 })), fc.jsonValue()),
      extra: fc.jsonValue(),
      id: fc.string(),
    },
    { requiredKeys: [] },
  );
  const eventArb = fc.oneof({ weight: 3, arbitrary: validEventArb }, { weight: 2, arbitrary: wildEventArb });
  const bodyArb = fc.oneof(
    { weight: 4, arbitrary: eventArb.map((e) => ({ body: JSON.stringify(e), contentType: 'application/json' })) },
    {
      weight: 3,
      arbitrary: fc
        .array(eventArb, { minLength: 1, maxLength: 6 })
        .map((events) => ({ body: JSON.stringify({ events }), contentType: 'application/json' })),
    },
    {
      weight: 2,
      arbitrary: fc.jsonValue().map((v) => ({ body: JSON.stringify(v) ?? 'null', contentType: 'application/json; charset=utf-8' })),
    },
    {
      weight: 1,
      arbitrary: fc.record({
        body: fc.string({ unit: 'binary' }),
        contentType: fc.constantFrom('application/json', 'text/plain', 'application/x-www-form-urlencoded', 'application/vnd.api+json', ''),
      }),
    },
  );

  /** Percent-encodes any string; a lone surrogate becomes the bytes of an (invalid) UTF-8 surrogate. */
  const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
  const encode = (text: string) => text.split(LONE_SURROGATE).map(encodeURIComponent).join('%ED%A0%80');
  const QUERY_NAMES = [
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
    'x',
    '',
    '__proto__',
    'constructor',
    'toString',
    'details.__proto__',
  ];
  const valueArb = fc.oneof(
    fc.string(),
    fc.string({ unit: 'binary', maxLength: 30 }),
    fc.integer().map(String),
    fc.constantFrom(
      'asc',
      'desc',
      '0',
      '1000',
      '1001',
      '-1',
      '1e3',
      '2026-11-21T10:00:00Z',
      '2026-02-30T00:00:00Z',
      'null',
      '%zz',
      '%',
      '%E0%A4%A',
    ),
    fc.date().map((d) => (Number.isNaN(d.getTime()) ? '' : d.toISOString())),
  );
  const queryArb = fc
    .array(fc.tuple(fc.oneof(fc.constantFrom(...QUERY_NAMES), fc.string({ maxLength: 12 })), valueArb, fc.boolean()), { maxLength: 6 })
    .map((pairs) =>
      pairs
        // Some values are sent raw (broken percent-encoding included), the rest encoded.
        .map(([name, value, raw]) => `${encode(name)}=${raw ? value.replace(/[^A-Za-z0-9%._~:+-]/gu, (c) => encode(c)) : encode(value)}`)
        .join('&'),
    );

  it(`answers ${RUNS} generated bodies and ${RUNS} generated query strings without a 5xx; stores exactly what it accepted, unchanged`, async () => {
    const tenant = uniqueTenant('fuzz');
    const token = stack.token({ tenant, scope: 'events:write events:read', ttlSeconds: 3600 });
    const bodies = fc.sample(bodyArb, { numRuns: RUNS, seed: SEED });
    const queries = fc.sample(queryArb, { numRuns: RUNS, seed: SEED + 1 });
    const statuses = new Map<number, number>();
    const count = (status: number) => statuses.set(status, (statuses.get(status) ?? 0) + 1);
    const serverErrors: string[] = [];
    /** Accepted id → the events sent for it (one, or several sharing an idempotency key and time: the first stored wins). */
    const accepted = new Map<string, Record<string, unknown>[]>();

    await mapLimit(bodies, 8, async ({ body, contentType }) => {
      const headers: Record<string, string> = { authorization: `Bearer ${token}` };
      if (contentType) headers['content-type'] = contentType;
      const res = await fetch(`${stack.baseUrl}/v1/events`, { method: 'POST', headers, body });
      const text = await res.text();
      count(res.status);
      if (res.status >= 500) serverErrors.push(`POST ${res.status} ${body.slice(0, 200)} → ${text}`);
      if (res.status !== 202) return;
      const parsed = JSON.parse(body) as Record<string, unknown>;
      const sent = (Array.isArray(parsed.events) ? parsed.events : [parsed]) as Record<string, unknown>[];
      (JSON.parse(text).results as { id?: string }[]).forEach((r, i) => {
        if (r.id) accepted.set(r.id, [...(accepted.get(r.id) ?? []), sent[i]!]);
      });
    });
    await mapLimit(queries, 8, async (query) => {
      const res = await fetch(`${stack.baseUrl}/v1/events?${query}`, { headers: { authorization: `Bearer ${token}` } });
      await res.text();
      count(res.status);
      if (res.status >= 500 || (res.status !== 200 && res.status !== 400)) serverErrors.push(`GET ?${query} → ${res.status}`);
    });

    await drained(60_000);
    const rows = await scanTenant(tenant);
    let unchanged = 0;
    const mismatches: string[] = [];
    await mapLimit([...accepted.entries()], 8, async ([id, versions]) => {
      const res = await request(stack.baseUrl, 'GET', `/v1/events/${id}`, { token });
      const got = res.body as Record<string, unknown>;
      const expectations = versions.map((sent) => {
        // Ids are stored in their canonical form, Unicode NFC (docs/api.md); everything else as sent.
        const nfc = (text: unknown) => (typeof text === 'string' ? text.normalize('NFC') : text);
        const expected: Record<string, unknown> = { type: sent.type, userId: nfc(sent.userId) };
        if (sent.occurredAt !== undefined) expected.occurredAt = sent.occurredAt;
        const target = sent.target as { type: string; id: string } | undefined;
        if (target !== undefined) expected.target = { ...target, id: nfc(target.id) };
        if (sent.details !== undefined) expected.details = sent.details;
        return expected;
      });
      const same =
        res.status === 200 &&
        expectations.some((expected) => Object.entries(expected).every(([k, v]) => JSON.stringify(got[k]) === JSON.stringify(v)));
      if (same) unchanged++;
      else
        mismatches.push(
          `${id}: sent ${JSON.stringify(expectations[0]).slice(0, 200)} got ${res.status} ${JSON.stringify(got).slice(0, 200)}`,
        );
    });
    const distinctAccepted = new Set(accepted.keys()).size;
    console.log(
      `fuzzing (seed ${SEED}): ${RUNS} bodies + ${RUNS} query strings, 5xx ${serverErrors.length}; statuses ${JSON.stringify(Object.fromEntries(statuses))}; ` +
        `accepted ${distinctAccepted}, stored ${rows.length}, read back unchanged ${unchanged}`,
    );
    expect(serverErrors).toEqual([]);
    expect(mismatches).toEqual([]);
    expect(rows).toHaveLength(distinctAccepted);
    expect(distinctAccepted).toBeGreaterThan(0);
  }, 300_000);
});
