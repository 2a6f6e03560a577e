import { GetCommand, QueryCommand, UpdateCommand, type DynamoDBDocumentClient, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import type { CounterWriteStore } from '../core/stats-consumer';
import { parseCounterAttribute } from '../core/stats-counters';
import { conditionally } from './dynamo-client';
import type { CounterReadStore } from '../core/stats-query';

/**
 * The stats counters table (core/stats-counters.ts has the layout): conditional counter updates
 * for the stream consumer, range reads for GET /v1/stats. Kept apart from dynamo-store.ts: the
 * counters never share a table, a read path or a scan with the events.
 */
export class DynamoStatsStore implements CounterWriteStore, CounterReadStore {
  /** Read capacity consumed by readCounters since construction (the bench reports it). */
  readUnits = 0;

  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async apply(
    pk: string,
    sk: string,
    add: Readonly<Record<string, number>>,
    lastSeq: string,
    condition: { readonly below: string } | { readonly equals: string },
    expiresAt?: number,
  ): Promise<boolean> {
    const names: Record<string, string> = { '#q': 'q' };
    const values: Record<string, unknown> = { ':last': lastSeq };
    let set = '#q = :last';
    if (expiresAt !== undefined) {
      names['#x'] = 'x';
      values[':x'] = expiresAt;
      set += ', #x = :x';
    }
    const adds = Object.entries(add).map(([attribute, delta], i) => {
      names[`#a${i}`] = attribute;
      values[`:a${i}`] = delta;
      return `#a${i} :a${i}`;
    });
    let conditionExpression: string;
    if ('below' in condition) {
      values[':seq'] = condition.below;
      conditionExpression = 'attribute_not_exists(#q) OR #q < :seq';
    } else {
      values[':seq'] = condition.equals;
      conditionExpression = '#q = :seq';
    }
    return conditionally(
      this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk, sk },
          UpdateExpression: `SET ${set}${adds.length ? ` ADD ${adds.join(', ')}` : ''}`,
          ConditionExpression: conditionExpression,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
        }),
      ),
    );
  }

  async checkpoint(pk: string, sk: string): Promise<string | undefined> {
    const out = await this.client.send(
      new GetCommand({
        TableName: this.tableName,
        Key: { pk, sk },
        ConsistentRead: true,
        ProjectionExpression: '#q',
        ExpressionAttributeNames: { '#q': 'q' },
      }),
    );
    const q = out.Item?.q;
    return typeof q === 'string' ? q : undefined;
  }

  async releaseIfEmpty(pk: string, sk: string, expiresAt: number): Promise<boolean> {
    const out = await this.client.send(new GetCommand({ TableName: this.tableName, Key: { pk, sk }, ConsistentRead: true }));
    const item = out.Item;
    if (!item) return false;
    const counts = Object.keys(item).filter((name) => parseCounterAttribute(name) !== undefined);
    if (counts.some((name) => item[name] !== 0)) return false;
    if (typeof item.x === 'number' && item.x <= expiresAt) return false;
    // A count moves the checkpoint; the recount's repair adds without moving it, so the counts are checked too.
    const names: Record<string, string> = { '#x': 'x', '#q': 'q' };
    const values: Record<string, unknown> = { ':x': expiresAt };
    const conditions = [typeof item.q === 'string' ? '#q = :q' : 'attribute_not_exists(#q)'];
    if (typeof item.q === 'string') values[':q'] = item.q;
    if (counts.length > 0) values[':zero'] = 0;
    counts.forEach((name, i) => {
      names[`#c${i}`] = name;
      conditions.push(`#c${i} = :zero`);
    });
    return conditionally(
      this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk, sk },
          UpdateExpression: 'SET #x = :x',
          ConditionExpression: conditions.join(' AND '),
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
        }),
      ),
    );
  }

  async readCounters(pk: string, fromSk: string, toSk: string): Promise<Record<string, unknown>[]> {
    const items: Record<string, unknown>[] = [];
    let start: QueryCommandInput['ExclusiveStartKey'];
    do {
      const out = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
          ExpressionAttributeValues: { ':pk': pk, ':from': fromSk, ':to': toSk },
          ReturnConsumedCapacity: 'TOTAL',
          ...(start && { ExclusiveStartKey: start }),
        }),
      );
      this.readUnits += out.ConsumedCapacity?.CapacityUnits ?? 0;
      items.push(...(out.Items ?? []));
      start = out.LastEvaluatedKey;
    } while (start);
    return items;
  }
}
