import { DeleteCommand, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { ErasureStore } from '../core/erasure';
import {
  ERASURE_WORK_PARTITION,
  markerPartition,
  receiptPartition,
  type ErasureMarkerItem,
  type ErasureReceiptItem,
  type ErasureWorkItem,
  type ItemKey,
} from '../core/item-keys';
import { conditionally } from './dynamo-client';
import { DynamoTable } from './dynamo-table';

/**
 * GDPR erasure's items in the events table (core/erasure.ts has their life): receipts, markers and
 * the work list, and the chunked progress the cleanup writes ahead on a work item.
 */
export class DynamoErasureStore extends DynamoTable implements ErasureStore {
  /**
   * A tenant's erasure markers; `consistent: false` reads at half the price where a marker written a
   * moment ago may be missed (the bus publisher: an event stored while an erasure is pending is
   * covered by `erasure.completed` anyway).
   */
  listMarkers(tenant: string, consistent = true): Promise<ErasureMarkerItem[]> {
    return this.queryAll<ErasureMarkerItem>({
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': markerPartition(tenant) },
      ConsistentRead: consistent,
    });
  }

  async getReceipt(tenant: string, receiptId: string): Promise<ErasureReceiptItem | undefined> {
    const out = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: { pk: receiptPartition(tenant), sk: receiptId }, ConsistentRead: true }),
    );
    return out.Item as ErasureReceiptItem | undefined;
  }

  async createErasure(receipt: ErasureReceiptItem, work: ErasureWorkItem, marker: ErasureMarkerItem): Promise<void> {
    await Promise.all([receipt, work].map((Item) => this.doc.send(new PutCommand({ TableName: this.tableName, Item }))));
    await this.doc.send(new PutCommand({ TableName: this.tableName, Item: marker }));
  }

  listErasureWork(): Promise<ErasureWorkItem[]> {
    return this.queryAll<ErasureWorkItem>({
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': ERASURE_WORK_PARTITION },
      ConsistentRead: true,
    });
  }

  async beginChunk(work: ErasureWorkItem, keys: readonly ItemKey[]): Promise<void> {
    await this.doc.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { pk: work.pk, sk: work.sk },
        UpdateExpression: 'SET ck = :ck',
        ExpressionAttributeValues: { ':ck': keys.map((k) => ({ pk: k.pk, sk: k.sk })) },
      }),
    );
  }

  async endChunk(work: ErasureWorkItem, count: number): Promise<void> {
    const out = await this.doc.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { pk: work.pk, sk: work.sk },
        UpdateExpression: 'SET n = if_not_exists(n, :zero) + :c REMOVE ck',
        ExpressionAttributeValues: { ':c': count, ':zero': 0 },
        ReturnValues: 'UPDATED_NEW',
      }),
    );
    // The receipt shows progress; it takes the work item's count as is, so repeating this is harmless.
    await this.doc.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { pk: receiptPartition(work.tn), sk: work.rs },
        UpdateExpression: 'SET n = :n',
        ExpressionAttributeValues: { ':n': out.Attributes?.n as number },
      }),
    );
  }

  async completeErasure(work: ErasureWorkItem, completedAtMs: number, sweepUntilMs: number): Promise<void> {
    await this.doc.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { pk: receiptPartition(work.tn), sk: work.rs },
        UpdateExpression: 'SET s = :s, ca = :ca',
        ExpressionAttributeValues: { ':s': 'completed', ':ca': completedAtMs },
      }),
    );
    // The marker may belong to a newer request for the same user by now: then it stays pending.
    await conditionally(
      this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: markerPartition(work.tn), sk: work.uk },
          UpdateExpression: 'SET c = :c, x = :x',
          ConditionExpression: 'r = :r',
          ExpressionAttributeValues: { ':c': completedAtMs, ':x': Math.ceil(sweepUntilMs / 1000), ':r': work.rs },
        }),
      ),
    );
    await this.doc.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { pk: work.pk, sk: work.sk },
        UpdateExpression: 'SET c = :c, su = :su',
        ExpressionAttributeValues: { ':c': completedAtMs, ':su': sweepUntilMs },
      }),
    );
  }

  async finishErasure(work: ErasureWorkItem): Promise<void> {
    await conditionally(
      this.doc.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: { pk: markerPartition(work.tn), sk: work.uk },
          ConditionExpression: 'r = :r',
          ExpressionAttributeValues: { ':r': work.rs },
        }),
      ),
    );
    await this.doc.send(new DeleteCommand({ TableName: this.tableName, Key: { pk: work.pk, sk: work.sk } }));
  }
}
