import {
  BatchGetCommand,
  QueryCommand,
  type BatchGetCommandOutput,
  type DynamoDBDocumentClient,
  type QueryCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { backoffMs, sleep } from '../core/concurrency';
import type { ItemKey } from '../core/item-keys';

export interface DynamoStoreOptions {
  /** Attempts for UnprocessedItems of one BatchWriteItem chunk. */
  readonly maxBatchAttempts?: number;
  /** BatchWriteItem requests in flight at once for one putBatch. @default 8 */
  readonly batchConcurrency?: number;
  readonly wait?: (ms: number) => Promise<void>;
}

/** The events table and the reads every store on it shares: a small partition whole, a batch of keys. */
export abstract class DynamoTable {
  constructor(
    protected readonly doc: DynamoDBDocumentClient,
    protected readonly tableName: string,
    protected readonly options: DynamoStoreOptions = {},
  ) {}

  /** Every item of one partition (small partitions only: markers, work list, tenants, export jobs). */
  protected async queryAll<T>(input: Omit<QueryCommandInput, 'TableName' | 'ExclusiveStartKey'>): Promise<T[]> {
    const items: T[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const out = await this.doc.send(
        new QueryCommand({ TableName: this.tableName, ...input, ...(start && { ExclusiveStartKey: start }) }),
      );
      items.push(...((out.Items ?? []) as T[]));
      start = out.LastEvaluatedKey;
    } while (start);
    return items;
  }

  /** One BatchGetItem of at most 100 keys, retrying UnprocessedKeys; the items found, in no order. */
  protected async batchGet<T extends ItemKey>(keys: readonly ItemKey[], consistent: boolean, projection?: string): Promise<T[]> {
    const found: T[] = [];
    let request: Record<string, { Keys: Record<string, unknown>[]; ConsistentRead: boolean; ProjectionExpression?: string }> | undefined = {
      [this.tableName]: {
        Keys: keys.map((k) => ({ pk: k.pk, sk: k.sk })),
        ConsistentRead: consistent,
        ...(projection && { ProjectionExpression: projection }),
      },
    };
    for (let attempt = 0; request && attempt < 8; attempt++) {
      if (attempt > 0) await (this.options.wait ?? sleep)(backoffMs(attempt));
      const out: BatchGetCommandOutput = await this.doc.send(new BatchGetCommand({ RequestItems: request }));
      found.push(...((out.Responses?.[this.tableName] ?? []) as T[]));
      const left = out.UnprocessedKeys?.[this.tableName];
      request = left?.Keys?.length ? ({ [this.tableName]: left } as typeof request) : undefined;
    }
    if (request) throw new Error('BatchGetItem left keys unprocessed after retries');
    return found;
  }
}
