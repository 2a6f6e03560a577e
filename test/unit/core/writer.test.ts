import { encodeMessage } from '../../../lambdas/core/message';
import { userPartition, type EventItem } from '../../../lambdas/core/item-keys';
import { BatchWriteError, writeBatch, type EventWriteStore } from '../../../lambdas/core/writer';
import { MemoryTable } from '../../support/fakes';

const item = (n: number, extra: Partial<EventItem> = {}): EventItem => ({
  pk: 'acme#0',
  sk: `0000000000000000000000${String(n).padStart(2, '0')}`,
  u: userPartition('acme', 'u'),
  t: 'acme#0#a',
  e: JSON.stringify({ type: 'a', userId: 'u', n }),
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
    const withReceipt = (n: number) =>
      item(n, { e: JSON.stringify({ type: 'a', userId: 'u', n, receivedAt: new Date(receivedAt).toISOString() }) });
    const table = new MemoryTable();
    const deps = { store: table, redeliveryAgeMs: 60_000 };
    const existing = jest.spyOn(table, 'existing');
    const putIfAbsent = jest.spyOn(table, 'putIfAbsent');
    // First delivery, younger than the threshold: a conditional put, no lookup.
    await writeBatch([record('m1', packed(withReceipt(1)))], { ...deps, now: () => receivedAt + 60_000 });
    expect(putIfAbsent).toHaveBeenCalledTimes(1);
    expect(existing).not.toHaveBeenCalled();
    putIfAbsent.mockClear();
    (table.items.get(table.key(withReceipt(1))) as EventItem).d = 123;
    // The message ends in the DLQ and is redriven an hour later: receive count 1 again, with a new event beside the stored one.
    const out = await writeBatch([record('m1', packed(withReceipt(1), withReceipt(2)))], { ...deps, now: () => receivedAt + 3_600_000 });
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
    const body = encodeMessage([{ item: item(5), idempotent: true }]);
    const out = await writeBatch([record('a', body), record('b', body)], { store: table });
    expect(out.batchItemFailures).toEqual([]);
    expect(putIfAbsent).toHaveBeenCalledTimes(1);
    expect(table.items.size).toBe(1);
  });

  it('reports the items left unprocessed after retries', async () => {
    const table = new MemoryTable();
    const store: EventWriteStore = {
      putIfAbsent: async (i) => {
        if (i.sk === item(2).sk) throw Object.assign(new Error('throttled'), { name: 'ProvisionedThroughputExceededException' });
        return table.putIfAbsent(i);
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
    const withReceipt = (n: number) => item(n, { e: JSON.stringify({ type: 'a', userId: 'u', n, receivedAt }) });
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
      existing: (keys) => table.existing(keys),
      putIfAbsent: async (i) => {
        if (refuse && i.sk === item(2).sk) throw new Error('throttled');
        return table.putIfAbsent(i);
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
    const put = table.putIfAbsent.bind(table);
    const putIfAbsent = jest
      .spyOn(table, 'putIfAbsent')
      .mockImplementation(async (i) => (i.sk === item(2).sk ? Promise.reject(new Error('throttled')) : put(i)));
    const existing = jest.spyOn(table, 'existing');
    const out = await writeBatch(
      [record('a', packed(item(1), item(2))), record('b', packed(item(2), item(3))), record('c', packed(item(4)))],
      { store: table },
    );
    // The event two messages carry may have been stored by an earlier copy: looked up, then put with a condition.
    expect(existing.mock.calls.map(([keys]) => keys.map((k) => k.sk))).toEqual([[item(2).sk]]);
    expect(putIfAbsent.mock.calls.filter(([i]) => i.sk === item(2).sk)).toHaveLength(1);
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
    // Found items are skipped; the rest (the missing one, and m2's first delivery) get the condition.
    expect(putIfAbsent.mock.calls.map(([i]) => i.sk)).toEqual([item(3).sk, item(4).sk]);
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

describe('writer hardening (issue 17)', () => {
  it('rejects as poison a message whose keys disagree with its tenant, and writes none of its items', async () => {
    const table = new MemoryTable();
    const log = jest.fn();
    const other = (extra: Partial<EventItem>) => item(9, extra);
    const out = await writeBatch(
      [
        record('pk', packed(item(1), other({ pk: 'evil#0' }))),
        record('u', packed(item(2), other({ u: userPartition('evil', 'u') }))),
        record('t', packed(other({ t: 'evil#0#a' }))),
        record('user', packed(other({ u: userPartition('acme', 'someone-else') }))),
        record('ok', packed(item(3))),
      ],
      { store: table, log },
    );
    expect(out.batchItemFailures.map((f) => f.itemIdentifier)).toEqual(['pk', 'u', 't', 'user']);
    expect(out.poison).toBe(4);
    expect(out.records.map((r) => r.outcome)).toEqual(['poison', 'poison', 'poison', 'poison', 'stored']);
    expect([...table.items.values()].map((i) => i.sk)).toEqual([item(3).sk]);
    expect(log).toHaveBeenCalledWith(
      'poison message',
      expect.objectContaining({ messageId: 'pk', reason: expect.stringContaining("'pk'") }),
    );
  });

  it('never overwrites an existing item on a first delivery (conditional put, no batch write)', async () => {
    const table = new MemoryTable();
    const planted = item(1, { e: JSON.stringify({ type: 'a', userId: 'u', n: 'original' }) });
    await table.putIfAbsent(planted);
    const out = await writeBatch([record('m1', packed(item(1), item(2)))], { store: table });
    expect(out).toMatchObject({ batchItemFailures: [], written: 1, alreadyStored: 1 });
    expect(table.items.get(table.key(item(1)))?.e).toBe(planted.e);
  });

  const keyed = (n: number, h: string) => item(1, { e: JSON.stringify({ type: 'a', userId: 'u', amount: n }), h });
  const idem = (i: EventItem) => encodeMessage([{ item: i, idempotent: true }]);

  it('reports an idempotency key replayed with another payload as a conflict and keeps the first payload', async () => {
    const table = new MemoryTable();
    const first = keyed(1, 'A'.repeat(22));
    await writeBatch([record('m1', idem(first))], { store: table });
    const replay = await writeBatch([record('m2', idem(keyed(1, 'A'.repeat(22))))], { store: table });
    expect(replay.conflicts).toEqual([]);
    const out = await writeBatch([record('m3', idem(keyed(999_999, 'B'.repeat(22))))], { store: table });
    expect(out).toMatchObject({ batchItemFailures: [], written: 0, alreadyStored: 1 });
    expect(out.conflicts).toEqual([{ tenant: 'acme', id: first.sk }]);
    expect(table.items.get(table.key(first))?.e).toBe(first.e);
  });

  it('finds the conflict when the store does not return the old item (emulators), by a lookup', async () => {
    const table = new MemoryTable();
    await table.putIfAbsent(keyed(1, 'A'.repeat(22)));
    const store: EventWriteStore = {
      putIfAbsent: async (i) => ((await table.putIfAbsent(i)).written ? { written: true } : { written: false }),
      existing: (keys) => table.existing(keys),
    };
    const out = await writeBatch([record('m', idem(keyed(999_999, 'B'.repeat(22))))], { store });
    expect(out.conflicts).toHaveLength(1);
  });

  it('finds conflicts within one batch and on redelivery lookups', async () => {
    const table = new MemoryTable();
    const out = await writeBatch([record('a', idem(keyed(1, 'A'.repeat(22)))), record('b', idem(keyed(2, 'B'.repeat(22))))], {
      store: table,
    });
    expect(out.conflicts).toHaveLength(1);
    expect(JSON.parse(table.all()[0]?.e ?? '{}').amount).toBe(1);
    const again = await writeBatch([record('c', idem(keyed(3, 'C'.repeat(22))), 2)], { store: table });
    expect(again).toMatchObject({ alreadyStored: 1, conflicts: [{ tenant: 'acme', id: item(1).sk }] });
  });
});
