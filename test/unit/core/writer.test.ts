import { encodeMessage } from '../../../lambdas/core/message';
import type { EventItem } from '../../../lambdas/core/item-keys';
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
const packed = (...items: EventItem[]) => encodeMessage(items.map((i) => ({ item: i, idempotent: false })));

describe('writer', () => {
  it('stores every record and reports no failure', async () => {
    const table = new MemoryTable();
    const out = await writeBatch(
      [
        record('m1', encodeMessage([{ item: item(1), idempotent: false }])),
        record('m2', encodeMessage([{ item: item(2), idempotent: false }])),
      ],
      { store: table },
    );
    expect(out.batchItemFailures).toEqual([]);
    expect(table.items.size).toBe(2);
  });

  it('reports exactly the poison message and stores its batch-mates', async () => {
    const table = new MemoryTable();
    const out = await writeBatch(
      [
        record('m1', encodeMessage([{ item: item(1), idempotent: false }])),
        record('bad', '{"v":1,"pk":"x"}'),
        record('m3', encodeMessage([{ item: item(3), idempotent: false }])),
      ],
      { store: table },
    );
    expect(out.batchItemFailures).toEqual([{ itemIdentifier: 'bad' }]);
    expect(out.poison).toBe(1);
    expect(table.items.size).toBe(2);
  });

  it('does not overwrite on redelivery: a soft delete made since survives', async () => {
    const table = new MemoryTable();
    await writeBatch([record('m1', encodeMessage([{ item: item(1), idempotent: false }]))], { store: table });
    const stored = table.items.get(table.key(item(1))) as EventItem;
    stored.d = 123;
    const out = await writeBatch([record('m1', encodeMessage([{ item: item(1), idempotent: false }]), 2)], { store: table });
    expect(out.batchItemFailures).toEqual([]);
    expect(out.alreadyStored).toBe(1);
    expect(table.items.get(table.key(item(1)))?.d).toBe(123);
    expect(table.items.size).toBe(1);
  });

  it('handles a first delivery older than redeliveryAgeMs (a message redriven from the DLQ) as a redelivery: a soft delete survives', async () => {
    const receivedAt = Date.parse('2026-11-21T12:00:00.000Z');
    const withReceipt = (n: number) => item(n, { e: JSON.stringify({ n, receivedAt: new Date(receivedAt).toISOString() }) });
    const table = new MemoryTable();
    const deps = { store: table, redeliveryAgeMs: 60_000 };
    const putBatch = jest.spyOn(table, 'putBatch');
    const existing = jest.spyOn(table, 'existing');
    const putIfAbsent = jest.spyOn(table, 'putIfAbsent');
    // First delivery, younger than the threshold: the cheap unconditional batch write, no lookup.
    await writeBatch([record('m1', packed(withReceipt(1)))], { ...deps, now: () => receivedAt + 60_000 });
    expect(putBatch).toHaveBeenCalledTimes(1);
    expect(existing).not.toHaveBeenCalled();
    (table.items.get(table.key(withReceipt(1))) as EventItem).d = 123;
    // The message ends in the DLQ and is redriven an hour later: receive count 1 again, with a new event beside the stored one.
    const out = await writeBatch([record('m1', packed(withReceipt(1), withReceipt(2)))], { ...deps, now: () => receivedAt + 3_600_000 });
    expect(putBatch).toHaveBeenCalledTimes(1);
    expect(existing).toHaveBeenCalledTimes(1);
    expect(putIfAbsent.mock.calls.map(([i]) => i.sk)).toEqual([withReceipt(2).sk]);
    expect(out).toMatchObject({ batchItemFailures: [], written: 1, alreadyStored: 1, redelivered: 1 });
    expect(table.items.get(table.key(withReceipt(1)))?.d).toBe(123);
    expect(table.items.size).toBe(2);
    // Without a receipt time the age is unknown: looked up too.
    await writeBatch([record('m2', packed(item(7)))], { ...deps, now: () => receivedAt });
    expect(existing).toHaveBeenCalledTimes(2);
  });

  it('does not overwrite a stored event between lookup and write: what the lookup missed still gets a condition', async () => {
    const table = new MemoryTable();
    // Another copy of the message stores the event, and the client deletes it, while this one looks up.
    jest.spyOn(table, 'existing').mockImplementationOnce(async () => {
      await table.putBatch([item(1)]);
      (table.items.get(table.key(item(1))) as EventItem).d = 42;
      return [];
    });
    const out = await writeBatch([record('m1', packed(item(1)), 2)], { store: table });
    expect(out).toMatchObject({ batchItemFailures: [], written: 0, alreadyStored: 1 });
    expect(table.items.get(table.key(item(1)))?.d).toBe(42);
  });

  it('writes idempotency-keyed events conditionally, and duplicates within a batch once', async () => {
    const table = new MemoryTable();
    const putIfAbsent = jest.spyOn(table, 'putIfAbsent');
    const putBatch = jest.spyOn(table, 'putBatch');
    const body = encodeMessage([{ item: item(5), idempotent: true }]);
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
    const out = await writeBatch(
      [
        record('m1', encodeMessage([{ item: item(1), idempotent: false }])),
        record('m2', encodeMessage([{ item: item(2), idempotent: false }])),
      ],
      { store },
    );
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
      writeBatch(
        [
          record('m1', encodeMessage([{ item: item(1), idempotent: false }])),
          record('m2', encodeMessage([{ item: item(2), idempotent: true }])),
        ],
        { store },
      ),
    ).rejects.toBeInstanceOf(BatchWriteError);
  });

  it('never returns an empty failure list after a failure: all-poison batches list every record', async () => {
    const out = await writeBatch([record('a', 'nope'), record('b', '{}')], { store: new MemoryTable() });
    expect(out.batchItemFailures).toEqual([{ itemIdentifier: 'a' }, { itemIdentifier: 'b' }]);
  });

  it('stores every event of a packed message and reports the record with its event count and receipt time', async () => {
    const table = new MemoryTable();
    const receivedAt = '2026-11-21T12:00:00.000Z';
    const withReceipt = (n: number) => item(n, { e: JSON.stringify({ n, receivedAt }) });
    const out = await writeBatch([record('m1', packed(withReceipt(1), withReceipt(2), withReceipt(3))), record('bad', 'nope')], {
      store: table,
    });
    expect(table.items.size).toBe(3);
    expect(out.written).toBe(3);
    expect(out.records).toEqual([
      { messageId: 'm1', outcome: 'stored', events: 3, receivedAt: Date.parse(receivedAt) },
      { messageId: 'bad', outcome: 'poison', events: 0 },
    ]);
  });

  it('fails a whole record when one of its events was not written; the redelivery writes only what is missing', async () => {
    const table = new MemoryTable();
    let refuse = true;
    const store: EventWriteStore = {
      putIfAbsent: (i) => table.putIfAbsent(i),
      putBatch: async (items) => {
        const refused = refuse ? items.filter((i) => i.sk === item(2).sk) : [];
        await table.putBatch(items.filter((i) => !refused.includes(i)));
        return refused;
      },
    };
    const body = packed(item(1), item(2), item(3));
    const first = await writeBatch([record('m1', body), record('m2', packed(item(4)))], { store });
    expect(first.batchItemFailures).toEqual([{ itemIdentifier: 'm1' }]);
    expect(first.records.map((r) => r.outcome)).toEqual(['failed', 'stored']);
    expect(table.items.size).toBe(3);

    // The soft delete of an event stored by the first attempt survives the redelivery.
    (table.items.get(table.key(item(1))) as EventItem).d = 99;
    refuse = false;
    const again = await writeBatch([record('m1', body, 2)], { store });
    expect(again.batchItemFailures).toEqual([]);
    expect(again.written).toBe(1);
    expect(again.alreadyStored).toBe(2);
    expect(table.items.size).toBe(4);
    expect(table.items.get(table.key(item(1)))?.d).toBe(99);
  });

  it('writes an event that two messages of a batch carry once, and fails both messages if that write fails', async () => {
    const table = new MemoryTable();
    const putIfAbsent = jest.spyOn(table, 'putIfAbsent').mockRejectedValueOnce(new Error('throttled'));
    const existing = jest.spyOn(table, 'existing');
    const out = await writeBatch(
      [record('a', packed(item(1), item(2))), record('b', packed(item(2), item(3))), record('c', packed(item(4)))],
      { store: table },
    );
    // The event two messages carry may have been stored by an earlier copy: looked up, then put with a condition.
    expect(existing.mock.calls.map(([keys]) => keys.map((k) => k.sk))).toEqual([[item(2).sk]]);
    expect(putIfAbsent).toHaveBeenCalledTimes(1);
    expect(out.batchItemFailures).toEqual([{ itemIdentifier: 'a' }, { itemIdentifier: 'b' }]);
    expect([...table.items.values()].map((i) => i.sk).sort()).toEqual([item(1).sk, item(3).sk, item(4).sk]);
  });

  it('on redelivery looks up which events are stored and writes only the missing ones', async () => {
    const table = new MemoryTable();
    await table.putBatch([item(1), item(2)]);
    const existing = jest.spyOn(table, 'existing');
    const putIfAbsent = jest.spyOn(table, 'putIfAbsent');
    const out = await writeBatch([record('m1', packed(item(1), item(2), item(3)), 2), record('m2', packed(item(4)))], { store: table });
    expect(out.batchItemFailures).toEqual([]);
    expect(existing).toHaveBeenCalledTimes(1);
    expect((existing.mock.calls[0]?.[0] ?? []).map((k) => k.sk)).toEqual([item(1).sk, item(2).sk, item(3).sk]);
    expect(putIfAbsent.mock.calls.map(([i]) => i.sk)).toEqual([item(3).sk]);
    expect(out).toMatchObject({ written: 2, alreadyStored: 2 });
    expect(table.items.size).toBe(4);
  });

  it('falls back to conditional puts when the lookup fails', async () => {
    const table = new MemoryTable();
    await table.putBatch([item(1)]);
    (table.items.get(table.key(item(1))) as EventItem).d = 5;
    jest.spyOn(table, 'existing').mockRejectedValueOnce(new Error('throttled'));
    const out = await writeBatch([record('m1', packed(item(1), item(2)), 3)], { store: table });
    expect(out).toMatchObject({ batchItemFailures: [], written: 1, alreadyStored: 1 });
    expect(table.items.get(table.key(item(1)))?.d).toBe(5);
  });
});
