import { ingest } from '../../../lambdas/core/ingest';
import { restore, softDelete } from '../../../lambdas/core/lifecycle';
import { decodeMessage } from '../../../lambdas/core/message';
import { getEvent } from '../../../lambdas/core/query';
import { MemoryTable, RecordingQueue, testKeyring } from '../../support/fakes';

const DAY = 86_400_000;
const NOW = Date.parse('2026-11-21T12:00:00Z');
const keyring = testKeyring();

const seedOne = async (table: MemoryTable, tenant = 'acme'): Promise<string> => {
  const queue = new RecordingQueue();
  const { sent } = queue;
  const out = await ingest(
    { tenant, body: JSON.stringify({ type: 'a', userId: 'u' }), contentType: 'application/json', source: {} },
    {
      queue,
      keyring,
      shardCount: 2,
      retentionDays: () => 365,
      now: () => NOW,
    },
  );
  await table.putBatch(sent.flatMap((m) => decodeMessage(m.body).map((d) => d.item)));
  return (out.results[0] as { id: string }).id;
};
const deps = (table: MemoryTable, now = NOW) => ({ store: table, keyring, deleteGraceDays: 30, now: () => now });
const read = (table: MemoryTable, id: string, tenant = 'acme', now = NOW) =>
  getEvent(tenant, id, { store: table, keyring, shardCount: 2, now: () => now });

describe('soft delete and restore', () => {
  it('hides a deleted event at once and brings it back on restore', async () => {
    const table = new MemoryTable();
    const id = await seedOne(table);
    await softDelete('acme', id, deps(table));
    await expect(read(table, id)).rejects.toMatchObject({ status: 404 });
    const restored = await restore('acme', id, deps(table, NOW + DAY));
    expect(restored.id).toBe(id);
    expect((await read(table, id)).id).toBe(id);
  });

  it('makes a second delete harmless and a restore of a live event a no-op', async () => {
    const table = new MemoryTable();
    const id = await seedOne(table);
    const first = await softDelete('acme', id, deps(table));
    // The first delete's time, also for a repeated one: its audit record is keyed by it.
    await expect(softDelete('acme', id, { ...deps(table), now: () => first.deletedAt + 5000 })).resolves.toEqual(first);
    await restore('acme', id, deps(table));
    await expect(restore('acme', id, deps(table))).resolves.toMatchObject({ id });
  });

  it('refuses a restore after the grace period', async () => {
    const table = new MemoryTable();
    const id = await seedOne(table);
    await softDelete('acme', id, deps(table));
    await expect(restore('acme', id, deps(table, NOW + 31 * DAY))).rejects.toMatchObject({ status: 404 });
  });

  it('answers 404 to another tenant for delete and restore, and changes nothing', async () => {
    const table = new MemoryTable();
    const id = await seedOne(table);
    await expect(softDelete('globex', id, deps(table))).rejects.toMatchObject({ status: 404 });
    await expect(restore('globex', id, deps(table))).rejects.toMatchObject({ status: 404 });
    expect((await read(table, id)).id).toBe(id);
  });

  it('records the purge partition so the cleanup finds the item', async () => {
    const table = new MemoryTable();
    const id = await seedOne(table);
    await softDelete('acme', id, deps(table));
    const [item] = table.all();
    expect(item?.d).toBe(NOW);
    expect(item?.p).toMatch(/^D#[01]$/);
  });
});
