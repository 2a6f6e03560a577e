/**
 * `npx tsx bench/stats.ts`: what the stats counters cost, from the real planning and counting code
 * (lambdas/core/stats-*.ts) over an in-memory table that charges like DynamoDB on-demand:
 *
 * - write units per counter update = ceil(max(item size before, after) / 1 KB), item size by
 *   DynamoDB's rules (attribute names + values); the checkpoint reads of replays are not counted
 *   (none happen without retries);
 * - read units of a query = per Query page, ceil(bytes read / 4 KB) / 2 (eventually consistent);
 * - Lambda: one consumer invocation per stream batch, its duration estimated as its counter
 *   updates in rounds of 16 in flight × 8 ms per UpdateItem round trip, at 512 MB.
 *
 * Workload: EVENTS events of one tenant over 30 days, SHARDS event shards, 40 types × 5 target
 * types (Zipf-like), users in sessions of ~10 events, stream batches of BATCH records; then the
 * same events removed at their expiry (TTL), which counts them down in the month items alone: they
 * left the other counts with their expiry day (lambdas/core/stats-counters.ts).
 */
import { countBatch, type CounterWriteStore } from '../lambdas/core/stats-consumer';
import type { ChangeRecord } from '../lambdas/core/stats-counters';
import { parseStatsQuery, queryStats, type CounterReadStore } from '../lambdas/core/stats-query';
import { itemSize } from './capacity';
import { loadPricing } from './cost-model';
import { STATS_BATCH_SIZE } from '../lib/constructs/stats';

const SHARDS = 4;
/** The deployed consumer's batch size. */
const BATCH = STATS_BATCH_SIZE;
/** Each event's expiry: stored for a year (the default retention). */
const RETENTION_DAYS = 365;
const DAY = 86_400_000;

const sizeOf = (item: Record<string, unknown>) =>
  Object.entries(item).reduce((n, [k, v]) => n + Buffer.byteLength(k) + (typeof v === 'number' ? 21 : Buffer.byteLength(String(v))), 0);

class MeteredCounters implements CounterWriteStore, CounterReadStore {
  items = new Map<string, Record<string, unknown>>();
  writeUnits = 0;
  updates = 0;
  readUnits = 0;
  itemsRead = 0;
  async apply(
    pk: string,
    sk: string,
    add: Readonly<Record<string, number>>,
    lastSeq: string,
    c: { below: string } | { equals: string },
    expiresAt?: number,
  ) {
    const key = `${pk}\u0000${sk}`;
    const before = this.items.get(key);
    const q = before?.q as string | undefined;
    if (!('below' in c ? q === undefined || q < c.below : q === c.equals)) return false;
    const after: Record<string, unknown> = { ...(before ?? { pk, sk }), q: lastSeq, ...(expiresAt !== undefined && { x: expiresAt }) };
    for (const [a, d] of Object.entries(add)) after[a] = ((after[a] as number | undefined) ?? 0) + d;
    this.writeUnits += Math.ceil(Math.max(before ? sizeOf(before) : 0, sizeOf(after)) / 1024);
    this.updates++;
    this.items.set(key, after);
    return true;
  }
  async checkpoint(pk: string, sk: string) {
    return this.items.get(`${pk}\u0000${sk}`)?.q as string | undefined;
  }
  /** Erasures release emptied user items; the workload has none, so this never runs in the bench. */
  async releaseIfEmpty(): Promise<boolean> {
    throw new Error('the stats bench has no erasures');
  }
  async readCounters(pk: string, from: string, to: string) {
    const found = [...this.items.values()].filter((i) => i.pk === pk && (i.sk as string) >= from && (i.sk as string) <= to);
    const bytes = found.reduce((n, i) => n + sizeOf(i), 0);
    // One page per MB; at least half a unit per Query.
    this.readUnits += Math.max(0.5, Math.ceil(bytes / 4096) / 2);
    this.itemsRead += found.length;
    return found;
  }
}

/** Runs the workload and prints its figures (also part of `npm run bench`). */
export const runStatsBench = async (EVENTS: number, log: (line: string) => void = console.log) => {
  const pricing = loadPricing();
  const store = new MeteredCounters();
  const start = Date.UTC(2026, 10, 1);
  const types = Array.from({ length: 40 }, (_, i) => `type.${i}`);
  const targets = ['invoice', 'page', 'project', 'user', 'file'];
  const zipf = (n: number) => Math.min(n - 1, Math.floor(n * Math.random() ** 3));
  let seq = 0;
  let batch: ChangeRecord[] = [];
  let invocations = 0;
  let durationMs = 0;
  const flush = async () => {
    if (batch.length === 0) return;
    const before = store.updates;
    await countBatch(batch, store);
    invocations++;
    durationMs += Math.ceil((store.updates - before) / 16) * 8 + 20;
    batch = [];
  };
  const images: Record<string, unknown>[] = [];
  // ~50 sessions open at a time, each ~10 events of one user.
  const sessions: { user: string; left: number }[] = [];
  for (let i = 0; i < EVENTS; i++) {
    while (sessions.length < 50)
      sessions.push({ user: `u-${Math.floor(Math.random() * 20_000)}`, left: 5 + Math.floor(Math.random() * 10) });
    const s = sessions[Math.floor(Math.random() * sessions.length)]!;
    if (--s.left <= 0) sessions.splice(sessions.indexOf(s), 1);
    const occurredAt = new Date(start + Math.floor((i / EVENTS) * 30 * DAY)).toISOString();
    const type = types[zipf(types.length)]!;
    const image = {
      pk: `acme#${Math.floor(Math.random() * SHARDS)}`,
      sk: String(i),
      e: JSON.stringify({ type, userId: s.user, occurredAt, target: { type: targets[zipf(targets.length)], id: 'x' } }),
      x: Math.floor(Date.parse(occurredAt) / 1000) + RETENTION_DAYS * 86_400,
    };
    images.push(image);
    batch.push({ sequenceNumber: String(++seq), newImage: image });
    if (batch.length === BATCH) await flush();
  }
  await flush();
  // What counting up cost; the end of retention adds to the same store (and to the Lambda figures).
  const up = { updates: store.updates, writeUnits: store.writeUnits };
  // Kept for the retention: the items as the inserts left them (the end of retention zeroes the month items, same size).
  const counterBytes = [...store.items.values()].reduce((n, i) => n + itemSize(i) + 100, 0);

  store.readUnits = 0;
  store.itemsRead = 0;
  const query = parseStatsQuery({
    from: ['2026-11-01T00:00:00Z'],
    to: ['2026-12-01T00:00:00Z'],
    groupBy: ['type'],
    interval: ['day'],
    limit: ['10'],
  });
  const top = await queryStats('acme', query, { store, shardCount: SHARDS });

  // The end of retention: every event removed by TTL at its expiry, in stream batches.
  for (let i = 0; i < images.length; i += BATCH) {
    batch = images
      .slice(i, i + BATCH)
      .map((image): ChangeRecord => ({ sequenceNumber: String(++seq), atMs: (image.x as number) * 1000, oldImage: image }));
    await flush();
  }

  const perMillion = 1e6 / EVENTS;
  const writePrice = pricing.dynamoDbOnDemandPerMillionWriteUnits / 1e6;
  const writeCost = up.writeUnits * perMillion * writePrice;
  const expiryWriteCost = (store.writeUnits - up.writeUnits) * perMillion * writePrice;
  const lambdaCost =
    invocations * perMillion * (pricing.lambdaPerMillionRequests / 1e6) +
    (durationMs / 1000) * 0.5 * perMillion * pricing.lambdaArmPerGbSecond;
  const figures = {
    events: EVENTS,
    counterUpdatesPerEvent: Number((up.updates / EVENTS).toFixed(3)),
    writeUnitsPerEvent: Number((up.writeUnits / EVENTS).toFixed(3)),
    /** Counting up: the events stored. */
    counterWritesPerMillionUsd: Number(writeCost.toFixed(3)),
    /** The end of retention: the same events removed at their expiry (counted down in the month items alone). */
    counterUpdatesAtExpiryPerEvent: Number(((store.updates - up.updates) / EVENTS).toFixed(3)),
    writeUnitsAtExpiryPerEvent: Number(((store.writeUnits - up.writeUnits) / EVENTS).toFixed(3)),
    counterWritesAtExpiryPerMillionUsd: Number(expiryWriteCost.toFixed(3)),
    /** Both phases' invocations. */
    consumerLambdaPerMillionUsd: Number(lambdaCost.toFixed(3)),
    countersPerMillionUsd: Number((writeCost + expiryWriteCost + lambdaCost).toFixed(3)),
    /** Counter items' bytes per event counted (DynamoDB's 100 bytes of overhead per item included): what keeping them costs. */
    counterBytesPerEvent: Number((counterBytes / EVENTS).toFixed(2)),
    goalPerMillionUsd: 0.4,
    top10Over30Days: { readUnits: store.readUnits, itemsRead: store.itemsRead, total: top.total, first: top.groups[0] },
  };
  log(
    `stats counters at ${EVENTS} events (1 tenant, ${SHARDS} shards, 40 types x 5 target types, sessions of ~10 events, stream batches of ${BATCH}):`,
  );
  log(
    `  counter updates per event ${figures.counterUpdatesPerEvent}, write units per event ${figures.writeUnitsPerEvent}, counter bytes stored per event ${figures.counterBytesPerEvent}`,
  );
  log(
    `  per million events: counter writes $${figures.counterWritesPerMillionUsd} + at the end of retention $${figures.counterWritesAtExpiryPerMillionUsd} (${figures.counterUpdatesAtExpiryPerEvent} updates per event) + consumer Lambda $${figures.consumerLambdaPerMillionUsd} = $${figures.countersPerMillionUsd} (goal <= $0.40)`,
  );
  log(
    `  30-day top-10 types (interval=day): ${figures.top10Over30Days.readUnits} read units, ${figures.top10Over30Days.itemsRead} counter items read`,
  );
  return figures;
};

if (process.argv[1]?.endsWith('stats.ts')) {
  void runStatsBench(Number(process.env.STATS_BENCH_EVENTS ?? 200_000)).then((figures) => console.log(JSON.stringify({ stats: figures })));
}
