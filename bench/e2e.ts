/** End-to-end figures on the local stack: sustained throughput, and lag at a steady rate. */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { spawn } from 'node:child_process';
import { Agent, request as httpRequest } from 'node:http';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { QueryCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { emulatorRequestHeaders } from '../local/stream-capture';
import { mapLimit } from '../lambdas/core/concurrency';
import { GSI_BY_USER } from '../contract';
import { userPartition } from '../lambdas/core/item-keys';
import { functionDeltas, postAll, snapshot, waitForDrained } from './load';
import { REPO_ROOT, type Stack } from './stack';
import type { Template } from './template';
import { chunks, makeEvents, percentile } from './workload';

export interface E2eResult {
  readonly events: number;
  readonly acceptedPerSec: number;
  readonly e2eEventsPerSec: number;
  readonly writerInvocations: number;
  readonly meanWriterBatch: number;
  readonly writerMsPerEvent: number;
  readonly ingestMsPerRequest: number;
}

/** Sustained events/s from the first POST to the last event stored (queryable). */
export const runThroughput = async (stack: Stack, events: number, { idempotencyKeys = true } = {}): Promise<E2eResult> => {
  const bodies = chunks(makeEvents(events, { seed: 11, idempotencyKeys }), 50).map((list) => JSON.stringify({ events: list }));
  const before = await snapshot(stack);
  const t0 = performance.now();
  await postAll(stack, idempotencyKeys ? 'e2e' : 'e2eplain', bodies, 8);
  const accepted = performance.now();
  await waitForDrained(stack, 600_000);
  const t1 = performance.now();
  const after = await snapshot(stack);
  const fns = functionDeltas(stack, before, after);
  const writer = Object.entries(fns).find(([k]) => /writer/i.test(k))?.[1];
  const ing = Object.entries(fns).find(([k]) => /ingest/i.test(k))?.[1];
  return {
    events,
    acceptedPerSec: events / ((accepted - t0) / 1000),
    e2eEventsPerSec: events / ((t1 - t0) / 1000),
    writerInvocations: writer?.invocations ?? 0,
    meanWriterBatch: writer ? events / writer.invocations : 0,
    writerMsPerEvent: writer ? writer.durationMs / events : 0,
    ingestMsPerRequest: ing ? ing.durationMs / ing.invocations : 0,
  };
};

export interface LagResult {
  readonly targetEventsPerSec: number;
  readonly achievedEventsPerSec: number;
  readonly samples: number;
  readonly lagP50Ms: number;
  readonly lagP99Ms: number;
  readonly lagMaxMs: number;
  /**
   * Requests still answered 5xx after the client's retries (an overloaded local stack: the API's
   * 29 s timeout): not acknowledged, so not in the lag figures — counted, not thrown, so the run
   * reports what it measured.
   */
  readonly failedRequests: number;
  /** Sampled requests whose events were still not all queryable `NOT_QUERYABLE_AFTER_MS` after the 202 (left out of the percentiles). */
  readonly notQueryable: number;
}

/** How long the lag run waits for a sampled request's events to become queryable. */
export const NOT_QUERYABLE_AFTER_MS = 180_000;

/**
 * Lag at a steady rate (every event with an idempotency key, as the client sends): 50-event requests paced to `rate` events/s; every second request carries
 * one fresh user, and a checker polls the byUser index (straight at the emulator, so checking
 * costs the stack nothing) until all 50 events are there.
 */
export const runLag = async (stack: Stack, rate: number, seconds: number): Promise<LagResult> => {
  const perRequest = 50;
  const requests = Math.max(2, Math.round((rate * seconds) / perRequest));
  const intervalMs = (perRequest / rate) * 1000;
  const token = stack.token({ tenant: 'lag', scope: 'events:write' });
  const lags: number[] = [];
  const pending: Promise<void>[] = [];
  let failedRequests = 0;
  let notQueryable = 0;
  const t0 = performance.now();
  for (let i = 0; i < requests; i++) {
    const due = t0 + i * intervalMs;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const sampled = i % 2 === 0;
    const userId = sampled ? `lag-${i}-${randomUUID()}` : undefined;
    const body = JSON.stringify({ events: makeEvents(perRequest, { seed: 100 + i, idempotencyKeys: true, ...(userId && { userId }) }) });
    pending.push(
      (async () => {
        // As the client does: a 5xx is sent again, with the same idempotency keys (stored once).
        for (let attempt = 0; ; attempt++) {
          const res = await fetch(`${stack.baseUrl}/v1/events`, {
            method: 'POST',
            headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
            body,
          });
          const text = await res.text();
          if (res.status === 202) break;
          if (res.status < 500) throw new Error(`POST /v1/events: ${res.status} ${text.slice(0, 300)}`);
          if (attempt >= 5) {
            failedRequests++;
            return;
          }
          await new Promise((r) => setTimeout(r, 100 * (attempt + 1)));
        }
        const accepted = performance.now();
        if (!userId) return;
        const u = userPartition('lag', userId);
        for (;;) {
          const page = await stack.ddb.send(
            new QueryCommand({
              TableName: stack.tableName,
              IndexName: GSI_BY_USER,
              KeyConditionExpression: 'u = :u',
              ExpressionAttributeValues: { ':u': { S: u } },
              Select: 'COUNT',
            }),
          );
          if ((page.Count ?? 0) >= perRequest) break;
          if (performance.now() - accepted > NOT_QUERYABLE_AFTER_MS) {
            notQueryable++;
            return;
          }
          await new Promise((r) => setTimeout(r, 25));
        }
        lags.push(performance.now() - accepted);
      })(),
    );
  }
  const sentSeconds = (performance.now() - t0) / 1000;
  await Promise.all(pending);
  return {
    targetEventsPerSec: rate,
    achievedEventsPerSec: (requests * perRequest) / sentSeconds,
    samples: lags.length,
    lagP50Ms: percentile(lags, 50),
    lagP99Ms: percentile(lags, 99),
    lagMaxMs: Math.max(...lags),
    failedRequests,
    notQueryable,
  };
};

/**
 * The emulator's own write rates, without our code: a dynalite of its own in a child process (a
 * fresh in-memory store with a thread of its own, the client in this process; the stack's one sits
 * behind the stream capture and wakes the stream consumers on every write), with the events table's key schema and indexes from the template. `n`
 * conditional PutItems (attribute_not_exists, as the writer sends them), 16 in flight, then `n`
 * items by BatchWriteItem (25 per request, 4 in flight), sent as raw HTTP (no SDK in the way), ~1 KB items with both timeline keys (so
 * the indexes are maintained as for events).
 */
export const runEmulatorWriteRates = async (
  template: Template,
  n: number,
): Promise<{ conditionalPutsPerSec: number; batchWriteItemsPerSec: number }> => {
  const table = Object.values(template.Resources).find(
    (r) =>
      r.Type === 'AWS::DynamoDB::Table' &&
      r.Properties?.GlobalSecondaryIndexes?.some((g: { IndexName: string }) => g.IndexName === GSI_BY_USER),
  )?.Properties;
  if (!table) throw new Error('no events table in the template');
  const emulator = await startDynalite();
  const url = new URL(emulator.endpoint);
  const agent = new Agent({ keepAlive: true, maxSockets: 16 });
  const tableName = 'emulator-alone';
  try {
    await rawCall(
      agent,
      url,
      'CreateTable',
      JSON.stringify({
        TableName: tableName,
        BillingMode: 'PAY_PER_REQUEST',
        KeySchema: table.KeySchema,
        AttributeDefinitions: table.AttributeDefinitions,
        GlobalSecondaryIndexes: table.GlobalSecondaryIndexes.map((g: Record<string, unknown>) => ({
          IndexName: g.IndexName,
          KeySchema: g.KeySchema,
          Projection: g.Projection,
        })),
      }),
    );
    return await emulatorWriteRates(agent, url, tableName, n);
  } finally {
    agent.destroy();
    emulator.stop();
  }
};

/** dynalite in a process of its own (as the stack's has a thread of its own), on a free port of 127.0.0.1. */
const startDynalite = async (): Promise<{ endpoint: string; stop: () => void }> => {
  const script = "const s = require('dynalite')({ createTableMs: 0 }); s.listen(0, '127.0.0.1', () => console.log(s.address().port));";
  const child = spawn(process.execPath, ['-e', script], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  const [line] = (await once(createInterface({ input: child.stdout! }), 'line')) as [string];
  return { endpoint: `http://127.0.0.1:${Number(line)}`, stop: () => child.kill() };
};

/** One emulator request as raw HTTP: the client's own cost kept to building a body, so the figure is the emulator's. */
const rawCall = (agent: Agent, endpoint: URL, operation: string, body: string): Promise<Record<string, unknown>> =>
  new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        agent,
        host: endpoint.hostname,
        port: endpoint.port,
        method: 'POST',
        path: '/',
        headers: { ...emulatorRequestHeaders(operation), 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        const parts: Buffer[] = [];
        res.on('data', (d: Buffer) => parts.push(d));
        res.on('end', () => {
          const out = JSON.parse(Buffer.concat(parts).toString('utf8') || '{}') as Record<string, unknown>;
          if (res.statusCode !== 200) reject(new Error(`${operation}: ${res.statusCode} ${JSON.stringify(out)}`));
          else resolve(out);
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });

const emulatorWriteRates = async (
  agent: Agent,
  url: URL,
  tableName: string,
  n: number,
): Promise<{ conditionalPutsPerSec: number; batchWriteItemsPerSec: number }> => {
  const item = (prefix: string, i: number): Record<string, AttributeValue> => ({
    pk: { S: `emulator#${i % 4}` },
    sk: { S: `${prefix}${String(i).padStart(8, '0')}` },
    u: { S: `emulator#user${i % 97}` },
    t: { S: `emulator#${i % 4}#type${i % 8}` },
    e: { S: 'x'.repeat(700) },
    x: { N: '4102444800' },
  });
  const ids = Array.from({ length: n }, (_, i) => i);
  const puts = ids.map((i) =>
    JSON.stringify({ TableName: tableName, Item: item('P', i), ConditionExpression: 'attribute_not_exists(pk)' }),
  );
  let t0 = performance.now();
  await mapLimit(puts, 16, (body) => rawCall(agent, url, 'PutItem', body));
  const conditionalPutsPerSec = n / ((performance.now() - t0) / 1000);
  const batches = chunks(ids, 25).map((chunk) => chunk.map((i) => ({ PutRequest: { Item: item('B', i) } })));
  t0 = performance.now();
  await mapLimit(batches, 4, async (batch) => {
    let requests = batch;
    while (requests.length > 0) {
      const out = (await rawCall(agent, url, 'BatchWriteItem', JSON.stringify({ RequestItems: { [tableName]: requests } }))) as {
        UnprocessedItems?: Record<string, typeof requests>;
      };
      requests = out.UnprocessedItems?.[tableName] ?? [];
    }
  });
  return { conditionalPutsPerSec, batchWriteItemsPerSec: n / ((performance.now() - t0) / 1000) };
};
