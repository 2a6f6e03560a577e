/** Queries on a large tenant: read amplification from the query core, latency over HTTP. */
import { performance } from 'node:perf_hooks';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoEventStore } from '../lambdas/adapters/dynamo-store';
import { ingest } from '../lambdas/core/ingest';
import { parseKeyring } from '../lambdas/core/keyring';
import type { EventItem } from '../lambdas/core/item-keys';
import { decodeMessage } from '../lambdas/core/message';
import { parseEventQuery, queryEvents } from '../lambdas/core/query';
import type { Stack } from './stack';
import { chunks, makeEvents, percentile } from './workload';

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
    const list = makeEvents(Math.min(loadChunk, events - offset), {
      seed: 1000 + offset,
      users,
      startMs: startMs + offset * stepMs,
      stepMs,
    });
    const items: EventItem[] = [];
    for (const batch of chunks(list, 500)) {
      await ingest(
        {
          tenant,
          body: JSON.stringify({ events: batch }),
          contentType: 'application/json',
          source: { ip: '203.0.113.7', userAgent: 'bench/1.0' },
        },
        {
          queue: {
            send: async (messages) => {
              for (const m of messages) items.push(...decodeMessage(m.body).map((d) => d.item));
              return new Set();
            },
          },
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
      const res = await fetch(`${stack.baseUrl}/v1/events?${new URLSearchParams(params).toString()}`, {
        headers: { authorization: `Bearer ${token}` },
      });
      const body = (await res.json()) as { events?: unknown[] };
      latencies.push(performance.now() - started);
      if (res.status !== 200 || (body.events?.length ?? 0) !== page.events.length)
        throw new Error(
          `GET ${f.name}: ${res.status}, ${body.events?.length} events vs ${page.events.length}: ${JSON.stringify(body).slice(0, 300)}`,
        );
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
