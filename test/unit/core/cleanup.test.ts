import { purgeSoftDeleted, SAFETY_MARGIN_MS } from '../../../lambdas/core/cleanup';
import { purgePartition, type EventItem } from '../../../lambdas/core/keys';
import { MemoryTable } from '../../support/fakes';

const DAY = 86_400_000;
const NOW = Date.parse('2026-11-21T12:00:00Z');

const seedDeleted = (table: MemoryTable, count: number, deletedAt: number, shard = 0): void => {
  for (let i = 0; i < count; i++) {
    const item: EventItem = {
      pk: `acme#${shard}`,
      sk: `D${String(deletedAt).padStart(15, '0')}${String(i).padStart(8, '0')}`,
      u: 'acme#u',
      t: `acme#${shard}#a`,
      e: '{}',
      x: 2_000_000_000,
      d: deletedAt,
      p: purgePartition(shard),
    };
    table.items.set(table.key(item), item);
  }
};

describe('cleanup: purge of soft-deleted events', () => {
  it('purges items past the grace period and keeps younger ones and live ones', async () => {
    const table = new MemoryTable();
    seedDeleted(table, 5, NOW - 31 * DAY, 0);
    seedDeleted(table, 3, NOW - 31 * DAY, 2);
    seedDeleted(table, 4, NOW - 29 * DAY, 1);
    table.items.set('live', { pk: 'acme#0', sk: 'L', u: 'u', t: 't', e: '{}', x: 2_000_000_000 });
    const report = await purgeSoftDeleted({ store: table, shardCount: 4, deleteGraceDays: 30, now: () => NOW, chunkSize: 2 });
    expect(report).toEqual({ purged: 8, skipped: 0, more: false });
    expect(table.items.size).toBe(5);
  });

  it('stops before the time budget runs out and a second run finishes the same job', async () => {
    const table = new MemoryTable();
    seedDeleted(table, 10, NOW - 40 * DAY, 0);
    seedDeleted(table, 10, NOW - 40 * DAY, 1);
    let budget = 3; // chunks allowed in the first run
    const remainingMs = () => (budget-- > 0 ? SAFETY_MARGIN_MS + 1 : 0);
    const first = await purgeSoftDeleted({ store: table, shardCount: 2, deleteGraceDays: 30, now: () => NOW, chunkSize: 4, remainingMs });
    expect(first.more).toBe(true);
    expect(first.purged).toBe(10); // shard 0 done in three chunks, then the budget ran out
    const second = await purgeSoftDeleted({ store: table, shardCount: 2, deleteGraceDays: 30, now: () => NOW, chunkSize: 4 });
    expect(second).toEqual({ purged: 10, skipped: 0, more: false });
    expect(table.items.size).toBe(0);
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
    const report = await purgeSoftDeleted({ store: table, shardCount: 1, deleteGraceDays: 30, now: () => NOW });
    expect(report.purged).toBe(1);
    expect(report.skipped).toBe(1);
    expect(table.items.size).toBe(1);
  });
});
