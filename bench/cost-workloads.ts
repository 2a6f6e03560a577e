/**
 * The cost workloads: our configuration and the naive baseline, each counted through the real
 * API and functions on the local stack and priced with the cost model.
 */
import { randomUUID } from 'node:crypto';
import { chunkForSqs, sqsMessageBytes } from '../lambdas/adapters/sqs-queue';
import { ingest } from '../lambdas/core/ingest';
import { parseKeyring } from '../lambdas/core/keyring';
import type { QueueMessage } from '../lambdas/core/message';
import { unpackItem } from '../lambdas/core/payload';
import { writeUnits, type TableCapacityModel } from './capacity';
import {
  accessLogBytesPerRequest,
  apiTelemetryFromTemplate,
  costPerMillion,
  platformLogBytesPerInvocation,
  sqsBilled,
  STANDARD_ACCESS_LOG_FORMAT,
  tracedRequests,
  type ApiTelemetry,
  type CostReport,
  type Pricing,
  type WorkloadCounts,
} from './cost-model';
import { deployedSettings } from './lifetime';
import { unitPrices } from './lifetime-model';
import { lateEntries, measureWorkload, pollerDelta, scanTenant } from './load';
import type { Stack } from './stack';
import { chunks, makeEvents } from './workload';

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

export interface CostRun {
  readonly label: string;
  readonly eventsPerRequest: number;
  readonly counts: WorkloadCounts;
  readonly report: CostReport;
  readonly writeUnitsPerEvent: number;
  readonly itemBytesMean: number;
  readonly writeUnitsByTarget: Record<string, number>;
  /** The items as the table stores them (for the lifetime model's footprint). */
  readonly items: readonly Record<string, unknown>[];
}

/**
 * Our configuration: `events` 1 KB events, 50 per request, through the real API, ingest, SQS,
 * poller and writer. Counts come from the runtime (requests, invocations, durations, log bytes),
 * the poller (records) and the stored items (sizes → write units per table and index).
 */
export const runCostWorkload = async (
  stack: Stack,
  pricing: Pricing,
  events: number,
  perRequest = 50,
  tenant = `cost${perRequest}`,
): Promise<CostRun> => {
  // Idempotency keys on every event, as the official client sends them.
  const bodies = chunks(makeEvents(events, { seed: 7, idempotencyKeys: true }), perRequest).map((list) => JSON.stringify({ events: list }));
  // One request in flight: a Lambda sandbox runs one invocation at a time, while concurrent local
  // invocations share two cores and would bill each other's waiting (the e2e bench measures load).
  const { before, after, fns } = await measureWorkload(stack, tenant, bodies, 1);
  const poll = pollerDelta(before, after);
  const items = await scanTenant(stack, tenant);
  if (items.length !== events) throw new Error(`${tenant}: ${items.length} items stored, expected ${events}`);
  const late = await lateEntries(stack, tenant);
  if (late > 0)
    throw new Error(`${tenant}: ${late} late-log entries written (events stored over 10 min after occurredAt): the model prices none`);

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
      {
        tenant,
        body,
        contentType: 'application/json',
        source: { ip: '127.0.0.1', userAgent: 'bench/1.0 (node)' },
        correlationId: randomUUID(),
      },
      {
        queue: {
          send: async (m) => {
            messages.push(...m);
            return new Set();
          },
        },
        keyring,
        shardCount: stack.shardCount,
        retentionDays: () => 90,
      },
    );
    for (const batch of chunkForSqs(messages)) {
      const bytes = batch.reduce((sum, m) => sum + sqsMessageBytes(m), 0);
      send += sqsBilled(pricing, bytes);
      messageBytes += bytes;
    }
    messageCount += messages.length;
  }
  if (poll.succeeded !== messageCount)
    throw new Error(`${tenant}: the poller deleted ${poll.succeeded} messages, the model expects ${messageCount}`);
  // Lambda's pollers receive at most 10 messages per ReceiveMessage (billed per 64 KB received) and delete in batches of 10.
  const receive = Math.ceil(poll.records / 10) * sqsBilled(pricing, (messageBytes / messageCount) * 10);
  const del = Math.ceil(poll.succeeded / 10);
  const counts = countsOf(
    {
      events,
      apiRequests: bodies.length,
      functions: Object.fromEntries(
        Object.entries(fns).map(([k, f]) => [k, { invocations: f.invocations, durationMs: f.durationMs, memoryMb: f.memoryMb }]),
      ),
      sqsRequests: { SendMessageBatch: send, ReceiveMessage: receive, DeleteMessageBatch: del },
      writeUnits: units,
      functionLogBytes: Object.values(fns).reduce((s, f) => s + f.logBytes, 0),
    },
    telemetry,
  );
  const total = Object.values(units).reduce((a, b) => a + b, 0);
  return {
    label: `ours: ${perRequest} events/request with idempotency keys (the client's path), 3 timelines indexed`,
    eventsPerRequest: perRequest,
    counts,
    // The deployed table's class and capacity mode price its write units.
    report: costPerMillion(
      counts,
      pricing,
      unitPrices(pricing, deployedSettings(stack.template, 'ttl').tableClass, { mode: 'on-demand' }).write,
    ),
    writeUnitsPerEvent: total / events,
    itemBytesMean: bytes / events,
    items,
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

export const NAIVE_MODEL: TableCapacityModel = {
  keys: ['PK', 'SK'],
  indexes: [
    { name: 'GSI1', keys: ['GSI1PK', 'GSI1SK'], projection: 'ALL' },
    { name: 'GSI2', keys: ['GSI2PK', 'GSI2SK'], projection: 'ALL' },
  ],
};

/** The sample's API: standard access log fields, X-Ray's default sampling rule. */
const naiveTelemetry = (pricing: Pricing): ApiTelemetry => ({
  accessLogFormat: STANDARD_ACCESS_LOG_FORMAT,
  traceSampleRate: pricing.xraySampling.fixedRate,
});

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
  const naiveItems: Record<string, unknown>[] = [];
  for (const item of items) {
    const stored = JSON.parse(String(unpackItem(item).e)) as Record<string, unknown>;
    const naive = naiveItem(tenant, stored);
    naiveItems.push(naive);
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
    ...(ingestFn && {
      [ingestFn[0]]: { invocations: ingestFn[1].invocations, durationMs: ingestFn[1].durationMs, memoryMb: ingestFn[1].memoryMb },
    }),
    ...(writerFn && {
      [writerFn[0]]: { invocations: Math.ceil(events / naiveBatch), durationMs: writerMsPerEvent * events, memoryMb: writerFn[1].memoryMb },
    }),
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
    items: naiveItems,
    writeUnitsByTarget: Object.fromEntries(Object.entries(units).map(([k, v]) => [k, v / events])),
  };
};
