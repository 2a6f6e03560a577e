import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoEventStore } from '../../../lambdas/adapters/dynamo-store';
import type { EventItem } from '../../../lambdas/core/item-keys';

const item = (n: number): EventItem => ({ pk: 'acme#0', sk: `S${String(n).padStart(4, '0')}`, u: 'u', t: 't', e: '{}', x: 1 });

const fakeDoc = (handler: (input: Record<string, any>, name: string) => unknown) => {
  const calls: { name: string; input: Record<string, any> }[] = [];
  const doc = {
    send: async (command: { constructor: { name: string }; input: Record<string, any> }) => {
      calls.push({ name: command.constructor.name, input: command.input });
      return handler(command.input, command.constructor.name);
    },
  } as unknown as DynamoDBDocumentClient;
  return { doc, calls };
};

describe('DynamoDB store adapter', () => {
  it('writes in chunks of 25 and retries UnprocessedItems until none are left', async () => {
    let first = true;
    const { doc, calls } = fakeDoc((input) => {
      const requests = input.RequestItems.T as { PutRequest: { Item: EventItem } }[];
      if (first && requests.length === 25) {
        first = false;
        return { UnprocessedItems: { T: requests.slice(0, 3) } };
      }
      return { UnprocessedItems: {} };
    });
    const store = new DynamoEventStore(doc, 'T', { wait: async () => undefined });
    const failed = await store.putBatch(Array.from({ length: 30 }, (_, i) => item(i)));
    expect(failed).toEqual([]);
    expect(calls.map((c) => c.input.RequestItems.T.length).sort((a: number, b: number) => a - b)).toEqual([3, 5, 25]);
  });

  it('returns what stays unprocessed after the last attempt, and a chunk whose request failed', async () => {
    const { doc } = fakeDoc((input) => {
      const requests = input.RequestItems.T as { PutRequest: { Item: EventItem } }[];
      if (requests.some((r) => r.PutRequest.Item.sk === item(30).sk)) throw new Error('throttled');
      return { UnprocessedItems: { T: requests.filter((r) => r.PutRequest.Item.sk === item(1).sk) } };
    });
    const store = new DynamoEventStore(doc, 'T', { wait: async () => undefined, maxBatchAttempts: 3 });
    const failed = await store.putBatch(Array.from({ length: 31 }, (_, i) => item(i)));
    expect(failed.map((i) => i.sk).sort()).toEqual([item(1).sk, ...Array.from({ length: 6 }, (_, i) => item(25 + i).sk)].sort());
  });

  it('treats a failed condition as already stored, and other errors as errors', async () => {
    const conditional = Object.assign(new Error('exists'), { name: 'ConditionalCheckFailedException' });
    const { doc, calls } = fakeDoc(() => {
      throw conditional;
    });
    const store = new DynamoEventStore(doc, 'T');
    await expect(store.putIfAbsent(item(1))).resolves.toEqual({ written: false });
    expect(calls[0]?.input.ConditionExpression).toBe('attribute_not_exists(pk)');
    expect(calls[0]?.input.ReturnValuesOnConditionCheckFailure).toBeUndefined();
    const broken = new DynamoEventStore(
      fakeDoc(() => {
        throw new Error('boom');
      }).doc,
      'T',
    );
    await expect(broken.putIfAbsent(item(1))).rejects.toThrow('boom');
  });

  it('asks for the stored item when an idempotency-keyed put finds one, and reads its digest (marshalled or not)', async () => {
    const keyed = { ...item(1), h: 'A'.repeat(22) };
    for (const stored of [{ h: { S: 'B'.repeat(22) } }, { h: 'B'.repeat(22) }]) {
      const { doc, calls } = fakeDoc(() => {
        throw Object.assign(new Error('exists'), { name: 'ConditionalCheckFailedException', Item: { pk: { S: 'acme#0' }, ...stored } });
      });
      await expect(new DynamoEventStore(doc, 'T').putIfAbsent(keyed)).resolves.toEqual({ written: false, stored: { h: 'B'.repeat(22) } });
      expect(calls[0]?.input).toMatchObject({ ReturnValuesOnConditionCheckFailure: 'ALL_OLD', Item: { h: 'A'.repeat(22) } });
    }
    const { doc } = fakeDoc(() => ({}));
    await expect(new DynamoEventStore(doc, 'T').putIfAbsent(keyed)).resolves.toEqual({ written: true });
  });

  it('looks up existing keys with their payload digests', async () => {
    const { doc, calls } = fakeDoc(() => ({ Responses: { T: [{ pk: 'acme#0', sk: 'S0001', h: 'A'.repeat(22) }] } }));
    await expect(new DynamoEventStore(doc, 'T').existing([item(1)])).resolves.toEqual([{ pk: 'acme#0', sk: 'S0001', h: 'A'.repeat(22) }]);
    expect(calls[0]?.input.RequestItems.T).toMatchObject({ ConsistentRead: true, ProjectionExpression: 'pk, sk, h' });
  });

  it('queries one partition with a key condition on the sort key range, never a scan', async () => {
    const { doc, calls } = fakeDoc((_, name) =>
      name === 'QueryCommand'
        ? { Items: [{ pk: 'acme#0', sk: 'S0001', u: 'u' }], LastEvaluatedKey: { pk: 'x' } }
        : { Responses: { T: [item(1)] } },
    );
    const store = new DynamoEventStore(doc, 'T');
    const out = await store.queryRange({ index: 'byUser', partition: 'acme#h', lower: 'A', upper: 'Z', order: 'desc', limit: 10 });
    expect(out).toEqual({ items: [item(1)], done: false });
    expect(calls[0]).toMatchObject({
      name: 'QueryCommand',
      input: {
        IndexName: 'byUser',
        KeyConditionExpression: '#p = :p AND sk BETWEEN :lo AND :hi',
        ExpressionAttributeNames: { '#p': 'u' },
        ScanIndexForward: false,
        Limit: 10,
      },
    });
  });

  it('fetches the items of a keys-only index page from the table, in the page order; a gone item comes back as a deleted stub', async () => {
    const entries = Array.from({ length: 150 }, (_, i) => ({ pk: 'acme#0', sk: item(i).sk, t: 't' }));
    const { doc, calls } = fakeDoc((input, name) => {
      if (name === 'QueryCommand') return { Items: entries };
      const keys = input.RequestItems.T.Keys as { sk: string }[];
      // Item 7 was deleted after the index listed it; item 120 is left unprocessed once.
      const found = keys
        .filter((k) => k.sk !== item(7).sk && !(k.sk === item(120).sk && keys.length > 1))
        .map((k) => ({ ...item(Number(k.sk.slice(1))) }));
      const left = keys.filter((k) => k.sk === item(120).sk && keys.length > 1);
      return { Responses: { T: found.reverse() }, ...(left.length > 0 && { UnprocessedKeys: { T: { Keys: left } } }) };
    });
    const store = new DynamoEventStore(doc, 'T', { wait: async () => undefined });
    const out = await store.queryRange({ index: 'byType', partition: 'acme#0#t', lower: 'A', upper: 'Z', order: 'asc', limit: 150 });
    expect(out.done).toBe(true);
    expect(out.items.map((i) => i.sk)).toEqual(entries.map((e) => e.sk));
    expect(out.items[3]).toEqual(item(3));
    expect(out.items[7]).toEqual({ pk: 'acme#0', sk: item(7).sk, t: 't', e: '{}', x: 0, d: 0 });
    const gets = calls.filter((c) => c.name === 'BatchGetCommand');
    expect(gets.map((c) => c.input.RequestItems.T.Keys.length).sort((a: number, b: number) => a - b)).toEqual([1, 50, 100]);
    expect(gets[0]?.input.RequestItems.T.ConsistentRead).toBe(false);
  });

  it("reads a digest's late items consistently, retrying unprocessed keys, and throws rather than leave one out", async () => {
    let attempts = 0;
    const { doc, calls } = fakeDoc((input) => {
      attempts++;
      const keys = input.RequestItems.T.Keys as { sk: string }[];
      // item 2 stays unprocessed once, item 3 for good.
      const left = keys.filter((k) => k.sk === item(3).sk || (k.sk === item(2).sk && attempts === 1));
      return {
        Responses: { T: keys.filter((k) => !left.includes(k)).map((k) => item(Number(k.sk.slice(1)))) },
        // As DynamoDB does: the unprocessed keys with the request's own ConsistentRead.
        ...(left.length > 0 && { UnprocessedKeys: { T: { ...input.RequestItems.T, Keys: left } } }),
      };
    });
    const store = new DynamoEventStore(doc, 'T', { wait: async () => undefined });
    await expect(store.getItems([item(1), item(2)])).resolves.toEqual([item(1), item(2)]);
    expect(calls.every((c) => c.input.RequestItems.T.ConsistentRead === true)).toBe(true);
    await expect(store.getItems([item(1), item(3)])).rejects.toThrow('unprocessed');
  });

  it('reads the tenant timeline from the table without a fetch', async () => {
    const { doc, calls } = fakeDoc(() => ({ Items: [item(1)] }));
    const out = await new DynamoEventStore(doc, 'T').queryRange({ partition: 'acme#0', lower: 'A', upper: 'Z', order: 'asc', limit: 10 });
    expect(out).toEqual({ items: [item(1)], done: true });
    expect(calls.map((c) => c.name)).toEqual(['QueryCommand']);
  });
});
