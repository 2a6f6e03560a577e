import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoStatsStore } from '../../../lambdas/adapters/dynamo-stats-store';

/** A document client that answers GetItem with `item` and records every command. */
const fakeDoc = (item: Record<string, unknown> | undefined, update: () => unknown = () => ({})) => {
  const calls: { name: string; input: Record<string, any> }[] = []; // eslint-disable-line @typescript-eslint/no-explicit-any
  const doc = {
    send: async (command: { constructor: { name: string }; input: Record<string, unknown> }) => {
      calls.push({ name: command.constructor.name, input: command.input });
      return command.constructor.name === 'GetCommand' ? { Item: item } : update();
    },
  } as unknown as DynamoDBDocumentClient;
  return { doc, calls };
};

const FAR = 4_102_444_800;
const SOON = 1_800_000_000;
const zeros = { pk: 'acme#1#U#d', sk: '2027-01-09', 'c:["a",null]': 0, 'c:["b","invoice"]': 0, q: '0042', x: FAR };

describe('DynamoStatsStore.releaseIfEmpty', () => {
  it('moves the expiry of an all-zero item on condition that its checkpoint and counts are still the ones read', async () => {
    const { doc, calls } = fakeDoc(zeros);
    await expect(new DynamoStatsStore(doc, 'C').releaseIfEmpty('acme#1#U#d', '2027-01-09', SOON)).resolves.toBe(true);
    expect(calls[0]).toMatchObject({ name: 'GetCommand', input: { Key: { pk: 'acme#1#U#d', sk: '2027-01-09' }, ConsistentRead: true } });
    expect(calls[1]).toMatchObject({
      name: 'UpdateCommand',
      input: {
        UpdateExpression: 'SET #x = :x',
        ConditionExpression: '#q = :q AND #c0 = :zero AND #c1 = :zero',
        ExpressionAttributeNames: { '#x': 'x', '#q': 'q', '#c0': 'c:["a",null]', '#c1': 'c:["b","invoice"]' },
        ExpressionAttributeValues: { ':x': SOON, ':q': '0042', ':zero': 0 },
      },
    });
  });

  it('leaves an item that still counts an event, one already expiring sooner, and a missing one', async () => {
    for (const item of [{ ...zeros, 'c:["b","invoice"]': 1 }, { ...zeros, x: SOON - 1 }, undefined]) {
      const { doc, calls } = fakeDoc(item);
      await expect(new DynamoStatsStore(doc, 'C').releaseIfEmpty('acme#1#U#d', '2027-01-09', SOON)).resolves.toBe(false);
      expect(calls.map((c) => c.name)).toEqual(['GetCommand']);
    }
  });

  it('reports a change since the read (a failed condition) as not released, and other errors as errors', async () => {
    const failed = fakeDoc(zeros, () => {
      throw Object.assign(new Error('changed'), { name: 'ConditionalCheckFailedException' });
    });
    await expect(new DynamoStatsStore(failed.doc, 'C').releaseIfEmpty('acme#1#U#d', '2027-01-09', SOON)).resolves.toBe(false);
    const broken = fakeDoc(zeros, () => {
      throw new Error('throttled');
    });
    await expect(new DynamoStatsStore(broken.doc, 'C').releaseIfEmpty('acme#1#U#d', '2027-01-09', SOON)).rejects.toThrow('throttled');
  });
});
