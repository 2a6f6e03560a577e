import { encodeMessage } from '../../../lambdas/core/message';
import type { EventItem } from '../../../lambdas/core/keys';
import { BatchWriteError, writeBatch, type EventWriteStore } from '../../../lambdas/core/writer';
import { MemoryTable } from '../../support/fakes';

const item = (n: number, extra: Partial<EventItem> = {}): EventItem => ({
  pk: 'acme#0',
  sk: `0000000000000000000000${String(n).padStart(2, '0')}`,
  u: 'acme#u',
  t: 'acme#0#a',
  e: JSON.stringify({ n }),
  x: 2_000_000_000,
  ...extra,
});
const record = (id: string, body: string, receiveCount = 1) => ({ messageId: id, body, receiveCount });

describe('writer', () => {
  it('stores every record and reports no failure', async () => {
    const table = new MemoryTable();
    const out = await writeBatch([record('m1', encodeMessage(item(1), false)), record('m2', encodeMessage(item(2), false))], { store: table });
    expect(out.batchItemFailures).toEqual([]);
    expect(table.items.size).toBe(2);
  });

  it('reports exactly the poison message and stores its batch-mates', async () => {
    const table = new MemoryTable();
    const out = await writeBatch(
      [record('m1', encodeMessage(item(1), false)), record('bad', '{"v":1,"pk":"x"}'), record('m3', encodeMessage(item(3), false))],
      { store: table },
    );
    expect(out.batchItemFailures).toEqual([{ itemIdentifier: 'bad' }]);
    expect(out.poison).toBe(1);
    expect(table.items.size).toBe(2);
  });

  it('does not overwrite on redelivery: a soft delete made since survives', async () => {
    const table = new MemoryTable();
    await writeBatch([record('m1', encodeMessage(item(1), false))], { store: table });
    const stored = table.items.get(table.key(item(1))) as EventItem;
    stored.d = 123;
    const out = await writeBatch([record('m1', encodeMessage(item(1), false), 2)], { store: table });
    expect(out.batchItemFailures).toEqual([]);
    expect(out.alreadyStored).toBe(1);
    expect(table.items.get(table.key(item(1)))?.d).toBe(123);
    expect(table.items.size).toBe(1);
  });

  it('writes idempotency-keyed events conditionally, and duplicates within a batch once', async () => {
    const table = new MemoryTable();
    const putIfAbsent = jest.spyOn(table, 'putIfAbsent');
    const putBatch = jest.spyOn(table, 'putBatch');
    const body = encodeMessage(item(5), true);
    const out = await writeBatch([record('a', body), record('b', body)], { store: table });
    expect(out.batchItemFailures).toEqual([]);
    expect(putIfAbsent).toHaveBeenCalledTimes(1);
    expect(putBatch).not.toHaveBeenCalled();
    expect(table.items.size).toBe(1);
  });

  it('reports the items left unprocessed after retries', async () => {
    const table = new MemoryTable();
    const store: EventWriteStore = {
      putIfAbsent: (i) => table.putIfAbsent(i),
      putBatch: async (items) => {
        await table.putBatch(items.filter((i) => i.sk !== item(2).sk));
        return items.filter((i) => i.sk === item(2).sk);
      },
    };
    const out = await writeBatch([record('m1', encodeMessage(item(1), false)), record('m2', encodeMessage(item(2), false))], { store });
    expect(out.batchItemFailures).toEqual([{ itemIdentifier: 'm2' }]);
  });

  it('throws when nothing of the batch could be written because the store failed', async () => {
    const store: EventWriteStore = {
      putBatch: async () => {
        throw Object.assign(new Error('throttled'), { name: 'ProvisionedThroughputExceededException' });
      },
      putIfAbsent: async () => {
        throw new Error('down');
      },
    };
    await expect(
      writeBatch([record('m1', encodeMessage(item(1), false)), record('m2', encodeMessage(item(2), true))], { store }),
    ).rejects.toBeInstanceOf(BatchWriteError);
  });

  it('never returns an empty failure list after a failure: all-poison batches list every record', async () => {
    const out = await writeBatch([record('a', 'nope'), record('b', '{}')], { store: new MemoryTable() });
    expect(out.batchItemFailures).toEqual([{ itemIdentifier: 'a' }, { itemIdentifier: 'b' }]);
  });
});
