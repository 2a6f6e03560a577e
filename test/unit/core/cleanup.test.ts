import { auditEntry, type AuditAction } from '../../../lambdas/core/audit-records';
import { runCleanup, SAFETY_MARGIN_MS, type CleanupDeps } from '../../../lambdas/core/cleanup';
import { requestErasure, getErasure, ERASURE_SWEEP_DAYS } from '../../../lambdas/core/erasure';
import { ingest } from '../../../lambdas/core/ingest';
import { decodeMessage } from '../../../lambdas/core/message';
import { purgePartition, type EventItem } from '../../../lambdas/core/item-keys';
import { parseEventQuery, queryEvents } from '../../../lambdas/core/query';
import { MemoryTable, RecordingQueue, testKeyring } from '../../support/fakes';

const DAY = 86_400_000;
const NOW = Date.parse('2026-11-21T12:00:00Z');
const keyring = testKeyring();

const seedDeleted = (table: MemoryTable, count: number, deletedAt: number, shard = 0): void => {
  for (let i = 0; i < count; i++) {
    const item: EventItem = {
      pk: `acme#${shard}`,
      sk: `D${String(deletedAt).padStart(15, '0')}${String(i).padStart(8, '0')}`,
      u: 'acme#u',
      t: `acme#${shard}#a`,
      e: JSON.stringify({ receivedAt: new Date(deletedAt).toISOString() }),
      x: 2_000_000_000,
      d: deletedAt,
      p: purgePartition(shard),
    };
    table.items.set(table.key(item), item);
  }
};

/** Stores events through the real ingest core, as the writer would, and registers the tenant. */
const seed = async (table: MemoryTable, tenant: string, events: object[], at = NOW, retention = 30): Promise<string[]> => {
  const queue = new RecordingQueue();
  const { sent } = queue;
  const out = await ingest(
    { tenant, body: JSON.stringify({ events }), contentType: 'application/json', source: {} },
    {
      queue,
      keyring,
      shardCount: 2,
      retentionDays: () => retention,
      now: () => at,
    },
  );
  await table.putBatch(sent.flatMap((m) => decodeMessage(m.body).map((d) => d.item)));
  await table.registerTenant(tenant);
  return out.results.map((r) => (r as { id: string }).id);
};

/** Ingests without storing: the items a queue would hold. */
const ingestOnly = async (tenant: string, events: object[], at: number): Promise<EventItem[]> => {
  const queue = new RecordingQueue();
  await ingest(
    { tenant, body: JSON.stringify({ events }), contentType: 'application/json', source: {} },
    { queue, keyring, shardCount: 2, retentionDays: () => 30, now: () => at },
  );
  return queue.sent.flatMap((m) => decodeMessage(m.body).map((d) => d.item));
};

const deps = (table: MemoryTable, over: Partial<CleanupDeps> = {}): CleanupDeps => ({
  store: table,
  shardCount: 2,
  deleteGraceDays: 30,
  retentionDays: () => 30,
  now: () => NOW,
  ...over,
});
const visible = async (table: MemoryTable, tenant: string, params: Record<string, string> = {}, now = NOW) =>
  (
    await queryEvents(tenant, parseEventQuery(Object.fromEntries(Object.entries(params).map(([k, v]) => [k, [v]]))), {
      store: table,
      keyring,
      shardCount: 2,
      now: () => now,
    })
  ).events;
const erasureDeps = (table: MemoryTable, now = NOW) => ({ store: table, keyring, maxOpenErasures: 3, now: () => now });
const erase = (table: MemoryTable, tenant: string, userId: string, now = NOW) =>
  requestErasure(tenant, { body: JSON.stringify({ userId }), contentType: 'application/json' }, erasureDeps(table, now));

describe('cleanup: purge of soft-deleted events', () => {
  it('purges items past the grace period and keeps younger ones and live ones', async () => {
    const table = new MemoryTable();
    seedDeleted(table, 5, NOW - 31 * DAY, 0);
    seedDeleted(table, 3, NOW - 31 * DAY, 1);
    seedDeleted(table, 4, NOW - 29 * DAY, 1);
    table.items.set('live', { pk: 'acme#0', sk: 'L', u: 'u', t: 't', e: '{}', x: 2_000_000_000 });
    const report = await runCleanup(deps(table, { chunkSize: 2 }));
    expect(report).toMatchObject({ purged: 8, skipped: 0, more: false });
    expect(table.items.size).toBe(5);
  });

  it('leaves an item restored between finding and deleting it', async () => {
    const table = new MemoryTable();
    seedDeleted(table, 2, NOW - 40 * DAY, 0);
    const find = table.findPurgeable.bind(table);
    table.findPurgeable = async (...args) => {
      const keys = await find(...args);
      const first = keys[0] && table.items.get(table.key(keys[0]));
      if (first) delete first.d; // restored meanwhile
      return keys;
    };
    const report = await runCleanup(deps(table, { shardCount: 1 }));
    expect(report.purged).toBe(1);
    expect(report.skipped).toBe(1);
  });
});

describe('cleanup: budget and resume', () => {
  it('stops between chunks when the time budget runs out, and the next run finishes the job', async () => {
    const table = new MemoryTable();
    seedDeleted(table, 10, NOW - 40 * DAY, 0);
    seedDeleted(table, 10, NOW - 40 * DAY, 1);
    let budget = 3; // chunks allowed in the first run
    const first = await runCleanup(deps(table, { chunkSize: 4, remainingMs: () => (budget-- > 0 ? SAFETY_MARGIN_MS + 1 : 0) }));
    expect(first).toMatchObject({ more: true, purged: 10 }); // shard 0 in three chunks, then out of time
    const second = await runCleanup(deps(table, { chunkSize: 4 }));
    expect(second).toMatchObject({ more: false, purged: 10 });
    expect(table.items.size).toBe(0);
  });

  it('ends in the same state whether it ran through, ran one chunk at a time, or crashed midway', async () => {
    const scenario = async () => {
      const table = new MemoryTable();
      await seed(
        table,
        'acme',
        Array.from({ length: 25 }, (_, i) => ({ type: 'a', userId: i % 5 === 0 ? 'gone' : 'kept' })),
      );
      await seed(table, 'globex', [{ type: 'a', userId: 'gone' }]);
      await seed(table, 'acme', [{ type: 'old', userId: 'kept' }], NOW - 40 * DAY);
      seedDeleted(table, 7, NOW - 40 * DAY, 1);
      const receipt = await erase(table, 'acme', 'gone');
      return { table, receipt };
    };
    /** What is left, independent of the random ids: events by tenant, type and user, and the receipt. */
    const snapshot = async (table: MemoryTable, receiptId: string) => {
      const { id: _id, ...receipt } = await getErasure('acme', receiptId, { store: table, keyring });
      return {
        events: table
          .all()
          .map((item) => `${item.pk.split('#')[0]} ${JSON.parse(item.e).type} ${JSON.parse(item.e).userId} ${item.d ?? ''}`)
          .sort(),
        receipt,
        markers: (await table.listMarkers('acme')).map((m) => m.c),
      };
    };

    const straight = await scenario();
    expect(await runCleanup(deps(straight.table))).toMatchObject({ more: false, erased: 5, erasuresCompleted: 1, purged: 7, expired: 1 });
    const expected = await snapshot(straight.table, straight.receipt.id);
    expect(expected.receipt).toMatchObject({ status: 'completed', erased: 5 });

    const stepwise = await scenario();
    let runs = 0;
    // One chunk of work per run: many runs, each cut short after its first chunk.
    for (let more = true; more && runs < 50; runs++) more = (await runCleanup(deps(stepwise.table, { chunkSize: 2, maxChunks: 1 }))).more;
    expect(runs).toBeGreaterThan(5);
    expect(runs).toBeLessThan(50);
    expect(await snapshot(stepwise.table, stepwise.receipt.id)).toEqual(expected);

    const crashing = await scenario();
    const realDelete = crashing.table.deleteIfExists.bind(crashing.table);
    let calls = 0;
    crashing.table.deleteIfExists = async (key) => {
      if (++calls === 3) throw new Error('killed');
      return realDelete(key);
    };
    await expect(runCleanup(deps(crashing.table, { chunkSize: 2 }))).rejects.toThrow('killed');
    const partial = await getErasure('acme', crashing.receipt.id, { store: crashing.table, keyring });
    expect(partial).toMatchObject({ status: 'pending', erased: 2 });
    expect(await runCleanup(deps(crashing.table, { chunkSize: 2 }))).toMatchObject({ more: false });
    expect(await snapshot(crashing.table, crashing.receipt.id)).toEqual(expected);
  });
});

describe('cleanup: erasure', () => {
  it('hides the user at once, deletes every event of that user in the tenant, and completes the receipt', async () => {
    const table = new MemoryTable();
    await seed(table, 'acme', [
      { type: 'a', userId: 'alice' },
      { type: 'b', userId: 'alice' },
      { type: 'a', userId: 'bob' },
    ]);
    await seed(table, 'globex', [{ type: 'a', userId: 'alice' }]);
    const receipt = await erase(table, 'acme', 'alice');
    expect(receipt).toMatchObject({ status: 'pending', erased: 0, completedAt: null });
    expect((await visible(table, 'acme')).map((e) => e.userId)).toEqual(['bob']);
    expect(await visible(table, 'acme', { userId: 'alice' })).toEqual([]);

    const report = await runCleanup(deps(table));
    expect(report).toMatchObject({ erasuresCompleted: 1, erased: 2 });
    expect(await getErasure('acme', receipt.id, { store: table, keyring })).toMatchObject({
      status: 'completed',
      erased: 2,
      completedAt: new Date(NOW).toISOString(),
    });
    expect(
      table
        .all()
        .filter((i) => i.pk.startsWith('acme#'))
        .map((i) => JSON.parse(i.e).userId),
    ).toEqual(['bob']);
    expect((await visible(table, 'globex')).map((e) => e.userId)).toEqual(['alice']);
  });

  it('erases events received up to the request, and keeps events received after it, even while it is pending', async () => {
    const table = new MemoryTable();
    await seed(table, 'acme', [{ type: 'before', userId: 'alice' }], NOW - 1000);
    await seed(table, 'acme', [{ type: 'same-ms', userId: 'alice' }], NOW - 500);
    await erase(table, 'acme', 'alice', NOW - 500);
    await seed(table, 'acme', [{ type: 'after', userId: 'alice' }], NOW - 499);
    expect((await visible(table, 'acme')).map((e) => e.type)).toEqual(['after']);
    expect(await runCleanup(deps(table))).toMatchObject({ erased: 2, erasuresCompleted: 1 });
    await seed(table, 'acme', [{ type: 'later', userId: 'alice' }], NOW + 1000);
    expect((await visible(table, 'acme', {}, NOW + 2000)).map((e) => e.type)).toEqual(['later', 'after']);
  });

  it('sweeps an event received before the request that was still in the queue, then forgets the user', async () => {
    const table = new MemoryTable();
    // Received (and queued) before the request, stored only after the erasure completed.
    const queued = await ingestOnly('acme', [{ type: 'straggler', userId: 'alice' }], NOW - 2000);
    await erase(table, 'acme', 'alice', NOW - 1000);
    await runCleanup(deps(table));
    await table.putBatch(queued);
    expect(await visible(table, 'acme', {}, NOW + 1000)).toEqual([]);
    expect(await runCleanup(deps(table, { now: () => NOW + DAY }))).toMatchObject({ erased: 1 });
    const later = NOW + (ERASURE_SWEEP_DAYS + 1) * DAY;
    await runCleanup(deps(table, { now: () => later }));
    expect(await table.listErasureWork()).toEqual([]);
    expect(await table.listMarkers('acme')).toEqual([]);
  });

  it('keeps an event received after the request that was still in the queue when the erasure completed', async () => {
    const table = new MemoryTable();
    await erase(table, 'acme', 'alice', NOW - 1000);
    const queued = await ingestOnly('acme', [{ type: 'new', userId: 'alice' }], NOW - 900);
    await runCleanup(deps(table));
    await table.putBatch(queued);
    expect((await visible(table, 'acme', {}, NOW + 1000)).map((e) => e.type)).toEqual(['new']);
    expect(await runCleanup(deps(table, { now: () => NOW + DAY }))).toMatchObject({ erased: 0 });
  });

  it('never erases audit records, not even those of the erased user as actor, and records the completion', async () => {
    const table = new MemoryTable();
    const recorded: { tenant: string; action: AuditAction }[] = [];
    const audit = async (tenant: string, action: AuditAction) => {
      recorded.push({ tenant, action });
      await table.putBatch([auditEntry(tenant, action, { shardCount: 2, retentionDays: () => 30, now: () => NOW }).item]);
    };
    await audit('acme', { action: 'event.deleted', actor: { subject: 'alice' }, target: { type: 'event', id: 'x' }, at: NOW - 2000 });
    await seed(table, 'acme', [{ type: 'a', userId: 'alice' }], NOW - 2000);
    const receipt = await erase(table, 'acme', 'alice', NOW - 1000);
    expect((await visible(table, 'acme')).map((e) => e.type)).toEqual(['activity-tracker.event.deleted']);
    expect(await runCleanup(deps(table, { audit }))).toMatchObject({ erased: 1 });
    expect(recorded.at(-1)).toMatchObject({
      tenant: 'acme',
      action: { action: 'erasure.completed', target: { type: 'erasure', id: receipt.id }, idempotencyKey: receipt.id, at: NOW },
    });
    // Sweeps record it again under the same key and time: one stored record.
    await runCleanup(deps(table, { audit, now: () => NOW + DAY }));
    const types = (await visible(table, 'acme', {}, NOW + DAY)).map((e) => e.type).sort();
    expect(types).toEqual(['activity-tracker.erasure.completed', 'activity-tracker.event.deleted']);
    expect(JSON.stringify(recorded.at(-1))).not.toContain('alice');
  });

  it('returns the pending receipt for a repeated request, caps open requests per tenant, and keeps receipts tenant-bound', async () => {
    const table = new MemoryTable();
    const first = await erase(table, 'acme', 'alice');
    expect((await erase(table, 'acme', 'alice')).id).toBe(first.id);
    await erase(table, 'acme', 'bob');
    await erase(table, 'acme', 'carol');
    await expect(erase(table, 'acme', 'dave')).rejects.toMatchObject({ status: 429, code: 'too_many_erasures' });
    await expect(getErasure('globex', first.id, { store: table, keyring })).rejects.toMatchObject({ status: 404 });
    const receipt = table.partition<Record<string, unknown>>('acme#E')[0];
    expect(JSON.stringify(receipt)).not.toContain('alice');
  });

  it('rejects a malformed erasure request', async () => {
    const table = new MemoryTable();
    const bad = (body: string, contentType = 'application/json') => requestErasure('acme', { body, contentType }, erasureDeps(table));
    await expect(bad('{}')).rejects.toMatchObject({ status: 400, code: 'userId_required' });
    await expect(bad('{"userId":""}')).rejects.toMatchObject({ status: 400, code: 'userId_invalid' });
    await expect(bad('{"userId":"a","tenantId":"x"}')).rejects.toMatchObject({ status: 400, code: 'unknown_field' });
    await expect(bad('nope')).rejects.toMatchObject({ status: 400, code: 'invalid_json' });
    await expect(bad('{"userId":"a"}', 'text/plain')).rejects.toMatchObject({ status: 415 });
  });
});

describe('cleanup: retention', () => {
  it('deletes events past retention, by receipt time, and keeps a young event with an old occurredAt', async () => {
    const table = new MemoryTable();
    await seed(table, 'acme', [{ type: 'old', userId: 'u', occurredAt: '2026-09-01T00:00:00Z' }], NOW - 40 * DAY);
    await seed(table, 'acme', [{ type: 'backfill', userId: 'u', occurredAt: '2026-09-01T00:00:00Z' }], NOW - DAY);
    await seed(table, 'acme', [{ type: 'new', userId: 'u' }], NOW - DAY);
    expect((await visible(table, 'acme')).map((e) => e.type).sort()).toEqual(['backfill', 'new']);
    const report = await runCleanup(deps(table));
    expect(report).toMatchObject({ expired: 1, more: false });
    expect(
      table
        .all()
        .map((i) => JSON.parse(i.e).type)
        .sort(),
    ).toEqual(['backfill', 'new']);
  });

  it('leaves an event to TTL for the grace days past its expiry, then deletes it itself', async () => {
    const table = new MemoryTable();
    await seed(table, 'acme', [{ type: 'ttl-turn', userId: 'u' }], NOW - 31 * DAY);
    await seed(table, 'acme', [{ type: 'overdue', userId: 'u' }], NOW - 34 * DAY);
    expect(await visible(table, 'acme')).toEqual([]);
    const report = await runCleanup(deps(table, { ttlGraceDays: 3 }));
    expect(report.expired).toBe(1);
    expect(table.all().map((i) => JSON.parse(i.e).type)).toEqual(['ttl-turn']);
  });

  it('applies a per-tenant retention', async () => {
    const table = new MemoryTable();
    await seed(table, 'short', [{ type: 'a', userId: 'u' }], NOW - 10 * DAY, 7);
    await seed(table, 'long', [{ type: 'a', userId: 'u' }], NOW - 10 * DAY, 30);
    const report = await runCleanup(deps(table, { retentionDays: (tenant) => (tenant === 'short' ? 7 : 30) }));
    expect(report.expired).toBe(1);
    expect(table.all().map((i) => i.pk.split('#')[0])).toEqual(['long']);
  });
});
