import {
  BatchWriteCommand,
  DeleteCommand,
  GetCommand,
  PutCommand,
  QueryCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import { backoffMs, sleep } from '../core/concurrency';
import type { PurgeStore } from '../core/cleanup';
import { GSI_BY_PURGE, type EventItem, type ItemKey } from '../core/keys';
import type { EventReadStore, RangeRequest } from '../core/query';
import type { EventWriteStore } from '../core/writer';

export const BATCH_WRITE_MAX = 25;

export interface DynamoStoreOptions {
  /** Attempts for UnprocessedItems of one BatchWriteItem chunk. */
  readonly maxBatchAttempts?: number;
  readonly wait?: (ms: number) => Promise<void>;
}

const isConditionFailure = (error: unknown): boolean => (error as { name?: string }).name === 'ConditionalCheckFailedException';

/** The events table behind the core's storage ports. */
export class DynamoEventStore implements EventWriteStore, EventReadStore, PurgeStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly options: DynamoStoreOptions = {},
  ) {}

  async putBatch(items: readonly EventItem[]): Promise<EventItem[]> {
    const failed: EventItem[] = [];
    const chunks: EventItem[][] = [];
    for (let i = 0; i < items.length; i += BATCH_WRITE_MAX) chunks.push(items.slice(i, i + BATCH_WRITE_MAX));
    await Promise.all(
      chunks.map(async (chunk) => {
        try {
          failed.push(...(await this.writeChunk(chunk)));
        } catch {
          // The request itself failed after the SDK's retries: the whole chunk is unwritten.
          failed.push(...chunk);
        }
      }),
    );
    return failed;
  }

  private async writeChunk(chunk: EventItem[]): Promise<EventItem[]> {
    const maxAttempts = this.options.maxBatchAttempts ?? 6;
    const wait = this.options.wait ?? sleep;
    const byKey = new Map(chunk.map((item) => [`${item.pk}\u0000${item.sk}`, item]));
    let pending = chunk;
    for (let attempt = 0; attempt < maxAttempts && pending.length > 0; attempt++) {
      if (attempt > 0) await wait(backoffMs(attempt));
      const out = await this.doc.send(
        new BatchWriteCommand({ RequestItems: { [this.tableName]: pending.map((item) => ({ PutRequest: { Item: item } })) } }),
      );
      const unprocessed = out.UnprocessedItems?.[this.tableName] ?? [];
      pending = unprocessed
        .map((request) => request.PutRequest?.Item as EventItem | undefined)
        .map((item) => (item ? byKey.get(`${item.pk}\u0000${item.sk}`) : undefined))
        .filter((item): item is EventItem => item !== undefined);
    }
    return pending;
  }

  async putIfAbsent(item: EventItem): Promise<boolean> {
    try {
      await this.doc.send(new PutCommand({ TableName: this.tableName, Item: item, ConditionExpression: 'attribute_not_exists(pk)' }));
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  async queryRange(request: RangeRequest): Promise<{ items: EventItem[]; done: boolean }> {
    const partitionAttribute = request.index === 'byUser' ? 'u' : request.index === 'byType' ? 't' : 'pk';
    const out = await this.doc.send(
      new QueryCommand({
        TableName: this.tableName,
        ...(request.index && { IndexName: request.index }),
        KeyConditionExpression: '#p = :p AND sk BETWEEN :lo AND :hi',
        ExpressionAttributeNames: { '#p': partitionAttribute },
        ExpressionAttributeValues: { ':p': request.partition, ':lo': request.lower, ':hi': request.upper },
        ScanIndexForward: request.order === 'asc',
        Limit: request.limit,
      }),
    );
    return { items: (out.Items ?? []) as EventItem[], done: out.LastEvaluatedKey === undefined };
  }

  async get(pk: string, sk: string): Promise<EventItem | undefined> {
    const out = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: { pk, sk }, ConsistentRead: true }));
    return out.Item as EventItem | undefined;
  }

  async findPurgeable(partition: string, cutoffMs: number, limit: number): Promise<ItemKey[]> {
    const out = await this.doc.send(
      new QueryCommand({
        TableName: this.tableName,
        IndexName: GSI_BY_PURGE,
        KeyConditionExpression: 'p = :p AND d < :cutoff',
        ExpressionAttributeValues: { ':p': partition, ':cutoff': cutoffMs },
        ScanIndexForward: true,
        Limit: limit,
      }),
    );
    return (out.Items ?? []).map((item) => ({ pk: item.pk as string, sk: item.sk as string }));
  }

  async deleteIfDeletedBefore(key: ItemKey, cutoffMs: number): Promise<boolean> {
    try {
      await this.doc.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: { pk: key.pk, sk: key.sk },
          ConditionExpression: 'd < :cutoff',
          ExpressionAttributeValues: { ':cutoff': cutoffMs },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }
}
