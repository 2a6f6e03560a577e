/**
 * The benchmarks that need the local stack (startLocal, in-process): the cost workload and the
 * naive baseline, end-to-end throughput and lag, and queries on a large tenant.
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { DynamoDBClient, QueryCommand, ScanCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { ENV, GSI_BY_USER } from '../contract';
import { DynamoEventStore } from '../lambdas/adapters/dynamo-store';
import { chunkForSqs, sqsMessageBytes } from '../lambdas/adapters/sqs-queue';
import { ingest } from '../lambdas/core/ingest';
import { parseKeyring } from '../lambdas/core/keyring';
import { userPartition, type EventItem } from '../lambdas/core/item-keys';
import { decodeMessage, type QueueMessage } from '../lambdas/core/message';
import { unpackItem } from '../lambdas/core/payload';
import { parseEventQuery, queryEvents } from '../lambdas/core/query';
import { startLocal, type LocalStats } from '../local/runtime';
import { startLocalStack } from '../test/integration/harness';
import { capacityModelFromTemplate, writeUnits, type TableCapacityModel } from './capacity';
import {
  accessLogBytesPerRequest,
  apiTelemetryFromTemplate,
  costPerMillion,
  LOG_EVENT_OVERHEAD,
  platformLogBytesPerInvocation,
  sqsBilled,
  STANDARD_ACCESS_LOG_FORMAT,
  tracedRequests,
  type ApiTelemetry,
  type CostReport,
  type Pricing,
  type WorkloadCounts,
} from './cost-model';
import type { Template } from './template';
import { chunks, makeEvents, percentile } from './workload';

const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };

export interface StackBenchOptions {
  readonly outDir: string;
  readonly costEvents: number;
  readonly naiveEvents: number;
  readonly e2eEvents: number;
  readonly lagSeconds: number;
  readonly lagEventsPerSecond: number;
  readonly queryEvents: number;
  readonly queryPages: number;
  readonly log: (line: string) => void;
}

export interface Stack {
  readonly baseUrl: string;
  token(opts: { tenant: string; scope: string }): string;
  stats(): Promise<LocalStats>;
  readonly ddb: DynamoDBClient;
  readonly sqs: SQSClient;
  /** The queues the writer consumes (DLQs excluded). */
  readonly queueUrls: string[];
  readonly tableName: string;
  readonly model: TableCapacityModel;
  /** The synthesized template the stack runs. */
  readonly template: Template;
  readonly memoryMb: Record<string, number>;
  readonly logBytes: Map<string, number>;
  readonly shardCount: number;
  stop(): Promise<void>;
}

const functionsOf = (template: Template) => {
  const memoryMb: Record<string, number> = {};
  let shardCount = 4;
  for (const [id, r] of Object.entries(template.Resources)) {
    if (r.Type !== 'AWS::Lambda::Function') continue;
    memoryMb[id] = Number(r.Properties?.MemorySize ?? 128);
    const sc = r.Properties?.Environment?.Variables?.[ENV.shardCount.name];
    if (typeof sc === 'string') shardCount = Number(sc);
  }
  return { memoryMb, shardCount };
};

/**
 * The same stack in a child process (what `npm start` runs): the load generator then does not
 * share the runtime's main thread, so end-to-end figures measure the stack, not the client.
 * Counters come from GET /_local/stats; function log bytes are not collected in this mode.
 */
export const startChildStack = async (outDir: string, template: Template): Promise<Stack> => {
  const local = await startLocalStack({ outDir, mode: 'child', env: { LOCAL_LOG_FORMAT: 'json' } });
  const { memoryMb, shardCount } = functionsOf(template);
  return {
    baseUrl: local.baseUrl,
    token: (opts) => local.token(opts),
    stats: () => local.stats(),
    ddb: local.ddb,
    sqs: local.sqs,
    queueUrls: consumedQueues(template, local.queues),
    tableName: Object.values(local.tables)[0]!,
    model: capacityModelFromTemplate(template),
    template,
    memoryMb,
    logBytes: new Map(),
    shardCount,
    stop: () => local.stop(),
  };
};

export const startStack = async (outDir: string, template: Template): Promise<Stack> => {
  const logBytes = new Map<string, number>();
  const runtime = await startLocal({
    outDir,
    port: 0,
    schedules: false,
    log: () => {},
    functionLog: (id, line) => logBytes.set(id, (logBytes.get(id) ?? 0) + Buffer.byteLength(line) + LOG_EVENT_OVERHEAD),
  });
  const tableName = Object.values(runtime.tables)[0]!;
  const ddb = new DynamoDBClient({ region: runtime.region, endpoint: runtime.endpoints.dynamodb, credentials: LOCAL_CREDENTIALS });
  const sqs = new SQSClient({ region: runtime.region, endpoint: runtime.endpoints.sqs, credentials: LOCAL_CREDENTIALS });
  const { memoryMb, shardCount } = functionsOf(template);
  return {
    baseUrl: runtime.baseUrl,
    token: (opts) => runtime.token(opts),
    stats: async () => runtime.stats(),
    ddb,
    sqs,
    queueUrls: consumedQueues(template, runtime.queues),
    tableName,
    model: capacityModelFromTemplate(template),
    template,
    memoryMb,
    logBytes,
    shardCount,
    stop: async () => {
      ddb.destroy();
      sqs.destroy();
      await runtime.stop();
    },
  };
};

const fnName = (logicalId: string) => logicalId.replace(/^Functions/, '').replace(/[0-9A-F]{8}$/, '');

/** Requests sent again after a network error (reported with the figures). */
export let networkRetries = 0;

/** POST batches with limited concurrency; returns the 202 timestamps per request. */
const postAll = async (stack: Stack, tenant: string, bodies: string[], concurrency: number): Promise<number[]> => {
  const token = stack.token({ tenant, scope: 'events:write events:read' });
  const done: number[] = new Array(bodies.length);
  let next = 0;
  const worker = async () => {
    while (next < bodies.length) {
      const i = next++;
      for (let attempt = 0; ; attempt++) {
        let res: Response;
        try {
          res = await fetch(`${stack.baseUrl}/v1/events`, {
            method: 'POST',
            headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'user-agent': 'bench/1.0 (node)' },
            body: bodies[i],
          });
        } catch (error) {
          // A kept-alive socket the server closed meanwhile: the request never reached it; send again.
          if (attempt >= 5) throw error;
          networkRetries++;
          await new Promise((r) => setTimeout(r, 100 * (attempt + 1)));
          continue;
        }
        const text = await res.text();
        if (res.status === 202) {
          const parsed = JSON.parse(text) as { rejected: number };
          if (parsed.rejected > 0) throw new Error(`events rejected: ${text.slice(0, 300)}`);
          break;
        }
        if (attempt >= 5 || res.status < 500) throw new Error(`POST /v1/events: ${res.status} ${text.slice(0, 300)}`);
      }
      done[i] = performance.now();
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return done;
};

/** The queues an event source mapping consumes, by URL. */
const consumedQueues = (
  template: Template,
  queues: Record<string, { readonly url: string; readonly arn: string }>,
): string[] =>
  Object.values(template.Resources)
    .filter((r) => r.Type === 'AWS::Lambda::EventSourceMapping')
    .map((r) => r.Properties?.EventSourceArn?.['Fn::GetAtt']?.[0] as string)
    .flatMap((id) => (queues[id] ? [queues[id].url] : []));

/**
 * Waits until every message is consumed: the poller deletes a message only after the writer stored
 * all of its events, so empty queues (nothing visible, nothing in flight) mean everything sent
 * before is queryable. Messages carry a varying number of events, so records are not counted.
 */
const waitForDrained = async (stack: Stack, timeoutMs: number, pollMs = 20): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let left = 0;
    for (const url of stack.queueUrls) {
      const out = await stack.sqs.send(
        new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }),
      );
      left += Number(out.Attributes?.ApproximateNumberOfMessages ?? 0) + Number(out.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0);
    }
    if (left === 0) return;
    if (Date.now() > deadline) throw new Error(`${left} messages still queued after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, pollMs));
  }
};

/**
 * Log bytes by source: the functions' own lines (measured), plus what local mode does not print,
 * modelled per invocation and per API request: Lambda's START/END/REPORT lines and the API's
 * access log line.
 */
const logBytesOf = (functionBytes: number, invocations: number, apiRequests: number, telemetry: ApiTelemetry): Record<string, number> => ({
  'function logs': functionBytes,
  'Lambda platform lines': invocations * platformLogBytesPerInvocation(),
  'API access logs': apiRequests * accessLogBytesPerRequest(telemetry.accessLogFormat),
});

/**
 * A workload's counts: what it measured, plus what local mode does not print or trace, modelled
 * per invocation and per API request from the API's telemetry settings.
 */
const countsOf = (
  measured: Omit<WorkloadCounts, 'readUnits' | 'logBytes' | 'tracedRequests'> & { readonly functionLogBytes: number },
  telemetry: ApiTelemetry,
): WorkloadCounts => {
  const { functionLogBytes, ...counts } = measured;
  const invocations = Object.values(counts.functions).reduce((s, f) => s + f.invocations, 0);
  return {
    ...counts,
    readUnits: 0,
    logBytes: logBytesOf(functionLogBytes, invocations, counts.apiRequests, telemetry),
    tracedRequests: tracedRequests(telemetry.traceSampleRate, counts.apiRequests),
  };
};

/** Every event item of a tenant, straight from the table. */
const scanTenant = async (stack: Stack, tenant: string): Promise<Record<string, unknown>[]> => {
  const items: Record<string, unknown>[] = [];
  let start: Record<string, AttributeValue> | undefined;
  do {
    const page = await stack.ddb.send(
      new ScanCommand({
        TableName: stack.tableName,
        FilterExpression: 'begins_with(pk, :p) AND (attribute_exists(e) OR attribute_exists(z))',
        ExpressionAttributeValues: { ':p': { S: `${tenant}#` } },
        ...(start && { ExclusiveStartKey: start }),
      }),
    );
    for (const raw of page.Items ?? []) items.push(unmarshall(raw));
    start = page.LastEvaluatedKey;
  } while (start);
  return items;
};

interface Snapshot {
  readonly stats: LocalStats;
  readonly logs: Map<string, number>;
}
const snapshot = async (stack: Stack): Promise<Snapshot> => ({ stats: await stack.stats(), logs: new Map(stack.logBytes) });

const functionDeltas = (stack: Stack, before: Snapshot, after: Snapshot) => {
  const out: Record<string, { invocations: number; durationMs: number; memoryMb: number; logBytes: number }> = {};
  for (const [id, f] of Object.entries(after.stats.functions)) {
    const b = before.stats.functions[id];
    const invocations = f.invocations - (b?.invocations ?? 0);
    if (invocations === 0) continue;
    const durationMs = ((f as { durationMs?: number }).durationMs ?? 0) - ((b as { durationMs?: number } | undefined)?.durationMs ?? 0);
    out[fnName(id)] = { invocations, durationMs, memoryMb: stack.memoryMb[id] ?? 128, logBytes: (after.logs.get(id) ?? 0) - (before.logs.get(id) ?? 0) };
  }
  return out;
};

const pollerDelta = (before: Snapshot, after: Snapshot) => {
  let records = 0;
  let ok = 0;
  let batches = 0;
  for (const [id, p] of Object.entries(after.stats.pollers)) {
    const b = before.stats.pollers[id];
    records += p.records - (b?.records ?? 0);
    ok += p.succeededRecords - (b?.succeededRecords ?? 0);
    batches += p.batches - (b?.batches ?? 0);
  }
  return { records, succeeded: ok, batches };
};

export interface CostRun {
  readonly label: string;
  readonly eventsPerRequest: number;
  readonly counts: WorkloadCounts;
  readonly report: CostReport;
  readonly writeUnitsPerEvent: number;
  readonly itemBytesMean: number;
  readonly writeUnitsByTarget: Record<string, number>;
}

/** Posts the bodies, waits until the writer has stored `events` more records, and returns the counters around it. */
const measureWorkload = async (stack: Stack, tenant: string, bodies: string[], concurrency: number) => {
  const before = await snapshot(stack);
  await postAll(stack, tenant, bodies, concurrency);
  await waitForDrained(stack, 300_000);
  await new Promise((r) => setTimeout(r, 200));
  const after = await snapshot(stack);
  return { before, after, fns: functionDeltas(stack, before, after) };
};

/**
 * Our configuration: `events` 1 KB events, 50 per request, through the real API, ingest, SQS,
 * poller and writer. Counts come from the runtime (requests, invocations, durations, log bytes),
 * the poller (records) and the stored items (sizes → write units per table and index).
 */
export const runCostWorkload = async (stack: Stack, pricing: Pricing, events: number, perRequest = 50, tenant = `cost${perRequest}`): Promise<CostRun> => {
  const bodies = chunks(makeEvents(events, { seed: 7 }), perRequest).map((list) => JSON.stringify({ events: list }));
  // One request in flight: a Lambda sandbox runs one invocation at a time, while concurrent local
  // invocations share two cores and would bill each other's waiting (the e2e bench measures load).
  const { before, after, fns } = await measureWorkload(stack, tenant, bodies, 1);
  const poll = pollerDelta(before, after);
  const items = await scanTenant(stack, tenant);
  if (items.length !== events) throw new Error(`${tenant}: ${items.length} items stored, expected ${events}`);

  const units: Record<string, number> = { table: 0 };
  let bytes = 0;
  for (const item of items) {
    const w = writeUnits(stack.model, item);
    units.table! += w.table;
    for (const [name, u] of Object.entries(w.indexes)) if (u > 0) units[`index ${name}`] = (units[`index ${name}`] ?? 0) + u;
    bytes += w.itemBytes;
  }
  const telemetry = apiTelemetryFromTemplate(stack.template, pricing);
  // SQS from the real messages: the ingest core packs each body again (same sizes: ids and times
  // have fixed lengths; the correlation id is a 36-character request id), and each request's
  // messages go out in SendMessageBatch calls split by chunkForSqs, billed per started 64 KB.
  const keyring = parseKeyring(JSON.stringify({ current: '1', k1: 'bench-secret-'.repeat(4) }));
  let send = 0;
  let messageCount = 0;
  let messageBytes = 0;
  for (const body of bodies) {
    const messages: QueueMessage[] = [];
    await ingest(
      { tenant, body, contentType: 'application/json', source: { ip: '127.0.0.1', userAgent: 'bench/1.0 (node)' }, correlationId: randomUUID() },
      { queue: { send: async (m) => (messages.push(...m), new Set()) }, keyring, shardCount: stack.shardCount, retentionDays: () => 90 },
    );
    for (const batch of chunkForSqs(messages)) {
      const bytes = batch.reduce((sum, m) => sum + sqsMessageBytes(m), 0);
      send += sqsBilled(pricing, bytes);
      messageBytes += bytes;
    }
    messageCount += messages.length;
  }
  if (poll.succeeded !== messageCount) throw new Error(`${tenant}: the poller deleted ${poll.succeeded} messages, the model expects ${messageCount}`);
  // Lambda's pollers receive at most 10 messages per ReceiveMessage (billed per 64 KB received) and delete in batches of 10.
  const receive = Math.ceil(poll.records / 10) * sqsBilled(pricing, (messageBytes / messageCount) * 10);
  const del = Math.ceil(poll.succeeded / 10);
  const counts = countsOf(
    {
      events,
      apiRequests: bodies.length,
      functions: Object.fromEntries(Object.entries(fns).map(([k, f]) => [k, { invocations: f.invocations, durationMs: f.durationMs, memoryMb: f.memoryMb }])),
      sqsRequests: { SendMessageBatch: send, ReceiveMessage: receive, DeleteMessageBatch: del },
      writeUnits: units,
      functionLogBytes: Object.values(fns).reduce((s, f) => s + f.logBytes, 0),
    },
    telemetry,
  );
  const total = Object.values(units).reduce((a, b) => a + b, 0);
  return {
    label: `ours: ${perRequest} events/request, batched writes, 3 timelines indexed`,
    eventsPerRequest: perRequest,
    counts,
    report: costPerMillion(counts, pricing),
    writeUnitsPerEvent: total / events,
    itemBytesMean: bytes / events,
    writeUnitsByTarget: Object.fromEntries(Object.entries(units).map(([k, v]) => [k, v / events])),
  };
};

/** The item a typical sample stores: the event's fields as attributes with descriptive names, two GSIs with ALL. */
const naiveItem = (tenant: string, stored: Record<string, unknown>) => {
  const id = randomUUID();
  const occurredAt = String(stored.occurredAt);
  return {
    PK: `TENANT#${tenant}`,
    SK: `EVENT#${occurredAt}#${id}`,
    GSI1PK: `TENANT#${tenant}#USER#${String(stored.userId)}`,
    GSI1SK: `${occurredAt}#${id}`,
    GSI2PK: `TENANT#${tenant}#TYPE#${String(stored.type)}`,
    GSI2SK: `${occurredAt}#${id}`,
    id,
    tenantId: tenant,
    ...stored,
    ttl: Math.floor(Date.now() / 1000) + 90 * 86_400,
  };
};

const NAIVE_MODEL: TableCapacityModel = {
  keys: ['PK', 'SK'],
  indexes: [
    { name: 'GSI1', keys: ['GSI1PK', 'GSI1SK'], projection: 'ALL' },
    { name: 'GSI2', keys: ['GSI2PK', 'GSI2SK'], projection: 'ALL' },
  ],
};

/** The sample's API: standard access log fields, X-Ray's default sampling rule. */
const naiveTelemetry = (pricing: Pricing): ApiTelemetry => ({ accessLogFormat: STANDARD_ACCESS_LOG_FORMAT, traceSampleRate: pricing.xraySampling.fixedRate });

/**
 * The naive baseline, from its own counts: the same 1 KB events sent one per request through the
 * real API and ingest (requests, invocations, durations and logs measured); a writer that does
 * one PutItem per event, fed by a batch-size-10 event source; one SendMessage per event; the
 * sample's item (descriptive attribute names, two full-projection GSIs) sized from the stored events.
 */
export const runNaiveWorkload = async (stack: Stack, pricing: Pricing, events: number): Promise<CostRun> => {
  const tenant = 'naive';
  const telemetry = naiveTelemetry(pricing);
  const bodies = makeEvents(events, { seed: 7 }).map((e) => JSON.stringify(e));
  // One request in flight, as for our configuration (runCostWorkload).
  const { before, after, fns } = await measureWorkload(stack, tenant, bodies, 1);
  const items = await scanTenant(stack, tenant);
  const units: Record<string, number> = { table: 0 };
  let bytes = 0;
  let messageBytes = 0;
  for (const item of items) {
    const stored = JSON.parse(String(unpackItem(item).e)) as Record<string, unknown>;
    const naive = naiveItem(tenant, stored);
    const w = writeUnits(NAIVE_MODEL, naive);
    units.table! += w.table;
    for (const [name, u] of Object.entries(w.indexes)) units[`index ${name}`] = (units[`index ${name}`] ?? 0) + u;
    bytes += w.itemBytes;
    messageBytes += Buffer.byteLength(JSON.stringify(naive));
  }
  const ingestFn = Object.entries(fns).find(([k]) => /ingest/i.test(k));
  const writerFn = Object.entries(fns).find(([k]) => /writer/i.test(k));
  // One PutItem per event: the writer's measured time per record, in invocations of 10 records.
  const writerMsPerEvent = writerFn ? writerFn[1].durationMs / Math.max(1, pollerDelta(before, after).records) : 0;
  const naiveBatch = 10;
  const functions = {
    ...(ingestFn && { [ingestFn[0]]: { invocations: ingestFn[1].invocations, durationMs: ingestFn[1].durationMs, memoryMb: ingestFn[1].memoryMb } }),
    ...(writerFn && { [writerFn[0]]: { invocations: Math.ceil(events / naiveBatch), durationMs: writerMsPerEvent * events, memoryMb: writerFn[1].memoryMb } }),
  };
  const counts = countsOf(
    {
      events,
      apiRequests: bodies.length,
      functions,
      sqsRequests: {
        SendMessage: events * sqsBilled(pricing, messageBytes / events),
        ReceiveMessage: Math.ceil(events / naiveBatch) * sqsBilled(pricing, (messageBytes / events) * naiveBatch),
        DeleteMessageBatch: Math.ceil(events / naiveBatch),
      },
      writeUnits: units,
      functionLogBytes: Object.values(fns).reduce((s, f) => s + f.logBytes, 0),
    },
    telemetry,
  );
  const total = Object.values(units).reduce((a, b) => a + b, 0);
  return {
    label: 'naive: 1 event/request, one PutItem per event, 2 full-projection GSIs',
    eventsPerRequest: 1,
    counts,
    report: costPerMillion(counts, pricing),
    writeUnitsPerEvent: total / events,
    itemBytesMean: bytes / events,
    writeUnitsByTarget: Object.fromEntries(Object.entries(units).map(([k, v]) => [k, v / events])),
  };
};

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
export const runThroughput = async (stack: Stack, events: number): Promise<E2eResult> => {
  const bodies = chunks(makeEvents(events, { seed: 11 }), 50).map((list) => JSON.stringify({ events: list }));
  const before = await snapshot(stack);
  const t0 = performance.now();
  await postAll(stack, 'e2e', bodies, 8);
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
}

/**
 * Lag at a steady rate: 50-event requests paced to `rate` events/s; every second request carries
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
  const t0 = performance.now();
  for (let i = 0; i < requests; i++) {
    const due = t0 + i * intervalMs;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const sampled = i % 2 === 0;
    const userId = sampled ? `lag-${i}-${randomUUID()}` : undefined;
    const body = JSON.stringify({ events: makeEvents(perRequest, { seed: 100 + i, ...(userId && { userId }) }) });
    pending.push(
      (async () => {
        const res = await fetch(`${stack.baseUrl}/v1/events`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body,
        });
        await res.text();
        if (res.status !== 202) throw new Error(`POST: ${res.status}`);
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
          if (performance.now() - accepted > 120_000) throw new Error('event not queryable after 120 s');
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
  };
};

export interface QueryRow {
  readonly filter: string;
  readonly pages: number;
  readonly returned: number;
  readonly itemsRead: number;
  readonly readAmplification: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
}

export interface QueryResult {
  readonly tenantEvents: number;
  readonly loadSeconds: number;
  readonly rows: QueryRow[];
  /** Items read per item returned over the single-filter paths: tenant, user, type, time range. */
  readonly queryReadAmplification: number;
}

/**
 * Queries on a tenant holding `events` events: items built by the real ingest core, written with
 * BatchWriteItem straight to the emulator (a read benchmark; loading through the API would only
 * measure the write path again). Read amplification from the query core's own `itemsRead`;
 * latency of 100-event pages over HTTP (API → query function → emulator).
 */
export const runQueries = async (stack: Stack, events: number, pagesPerFilter: number): Promise<QueryResult> => {
  const tenant = 'big';
  const keyring = parseKeyring(JSON.stringify({ current: '1', k1: 'bench-secret-'.repeat(4) }));
  const users = Math.max(10, Math.round(events / 100));
  const startMs = Date.now() - 3 * 86_400_000;
  const stepMs = Math.floor((2 * 86_400_000) / events);
  const doc = DynamoDBDocumentClient.from(stack.ddb);
  const store = new DynamoEventStore(doc, stack.tableName, { maxBatchAttempts: 10 });
  const t0 = performance.now();
  const loadChunk = 500;
  const writes: Promise<void>[] = [];
  for (let offset = 0; offset < events; offset += loadChunk) {
    const list = makeEvents(Math.min(loadChunk, events - offset), { seed: 1000 + offset, users, startMs: startMs + offset * stepMs, stepMs });
    const items: EventItem[] = [];
    for (const batch of chunks(list, 500)) {
      await ingest(
        { tenant, body: JSON.stringify({ events: batch }), contentType: 'application/json', source: { ip: '203.0.113.7', userAgent: 'bench/1.0' } },
        {
          queue: { send: async (messages) => (messages.forEach((m) => items.push(...decodeMessage(m.body).map((d) => d.item))), new Set()) },
          keyring,
          shardCount: stack.shardCount,
          retentionDays: () => 90,
        },
      );
    }
    writes.push(
      (async () => {
        let left = items;
        for (let attempt = 0; left.length > 0; attempt++) {
          if (attempt === 5) throw new Error(`${left.length} items not loaded`);
          if (attempt > 0) await new Promise((r) => setTimeout(r, 500 * attempt));
          left = await store.putBatch(left);
        }
      })(),
    );
    if (writes.length >= 4) await writes.shift();
  }
  await Promise.all(writes);
  const loadSeconds = (performance.now() - t0) / 1000;

  const filters: { name: string; params: (i: number) => Record<string, string> }[] = [
    { name: 'tenant timeline', params: () => ({}) },
    { name: 'userId', params: (i) => ({ userId: `user-${(i * 37) % users}@example.com` }) },
    { name: 'type', params: (i) => ({ type: ['user.login', 'page.viewed', 'api.called', 'customer.billed'][i % 4]! }) },
    {
      name: 'time range (from/to)',
      params: (i) => {
        const from = startMs + ((i * 7919) % Math.max(1, events - 1000)) * stepMs;
        return { from: new Date(from).toISOString(), to: new Date(from + 1000 * stepMs).toISOString() };
      },
    },
    // Two filters: one access path (the user's) narrowed by the other; reported apart from the headline.
    { name: 'userId + type', params: (i) => ({ userId: `user-${(i * 13) % users}@example.com`, type: 'page.viewed' }) },
  ];
  const token = stack.token({ tenant, scope: 'events:read' });
  const rows: QueryRow[] = [];
  let allRead = 0;
  let allReturned = 0;
  for (const f of filters) {
    let returned = 0;
    let itemsRead = 0;
    const latencies: number[] = [];
    for (let i = 0; i < pagesPerFilter; i++) {
      const params = { ...f.params(i), limit: '100' };
      const query = parseEventQuery(Object.fromEntries(Object.entries(params).map(([k, v]) => [k, [v]])));
      const page = await queryEvents(tenant, query, { store, keyring, shardCount: stack.shardCount });
      returned += page.events.length;
      itemsRead += page.itemsRead;
      const started = performance.now();
      const res = await fetch(`${stack.baseUrl}/v1/events?${new URLSearchParams(params).toString()}`, { headers: { authorization: `Bearer ${token}` } });
      const body = (await res.json()) as { events?: unknown[] };
      latencies.push(performance.now() - started);
      if (res.status !== 200 || (body.events?.length ?? 0) !== page.events.length) throw new Error(`GET ${f.name}: ${res.status}, ${body.events?.length} events vs ${page.events.length}`);
    }
    if (f.name !== 'userId + type') {
      allRead += itemsRead;
      allReturned += returned;
    }
    rows.push({
      filter: f.name,
      pages: pagesPerFilter,
      returned,
      itemsRead,
      readAmplification: itemsRead / Math.max(1, returned),
      p50Ms: percentile(latencies, 50),
      p99Ms: percentile(latencies, 99),
    });
  }
  return { tenantEvents: events, loadSeconds, rows, queryReadAmplification: allRead / Math.max(1, allReturned) };
};
