import { GetCommand, PutCommand, QueryCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { exportPartition, type ExportJobItem, type ExportProgress, type ExportStore } from '../core/exports';
import type { ErasureMarkerItem } from '../core/item-keys';
import { conditionally } from './dynamo-client';
import { DynamoTable } from './dynamo-table';

/** Export jobs in the events table (partition `<tenant>#J`, no index attribute: one write unit per update). */
export class DynamoExportStore extends DynamoTable implements ExportStore {
  constructor(
    doc: DynamoDBDocumentClient,
    tableName: string,
    private readonly markers: { listMarkers(tenant: string): Promise<ErasureMarkerItem[]> },
  ) {
    super(doc, tableName);
  }

  async putJob(job: ExportJobItem): Promise<void> {
    await this.doc.send(new PutCommand({ TableName: this.tableName, Item: job, ConditionExpression: 'attribute_not_exists(pk)' }));
  }

  async getJob(tenant: string, jobId: string): Promise<ExportJobItem | undefined> {
    const out = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: { pk: exportPartition(tenant), sk: jobId }, ConsistentRead: true }),
    );
    return out.Item as ExportJobItem | undefined;
  }

  /** The tenant's job partition holds its jobs of the last expiry period only (TTL): a short read. */
  async countPending(tenant: string, nowSeconds: number, atMost: number): Promise<number> {
    let count = 0;
    let start: Record<string, unknown> | undefined;
    do {
      const out = await this.doc.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk',
          FilterExpression: 's = :pending AND x > :now',
          ExpressionAttributeValues: { ':pk': exportPartition(tenant), ':pending': 'pending', ':now': nowSeconds },
          Select: 'COUNT',
          ConsistentRead: true,
          ExclusiveStartKey: start,
        }),
      );
      count += out.Count ?? 0;
      start = out.LastEvaluatedKey;
    } while (start && count < atMost);
    return count;
  }

  saveProgress(tenant: string, jobId: string, expectedParts: number, p: ExportProgress): Promise<boolean> {
    return conditionally(
      this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: exportPartition(tenant), sk: jobId },
          UpdateExpression: `SET up = :up, pt = :pt, np = :np, fin = :fin, n = :n, b = :b${p.cu === undefined ? ' REMOVE cu' : ', cu = :cu'}`,
          ConditionExpression: 's = :pending AND np = :expected AND (attribute_not_exists(up) OR up = :up)',
          ExpressionAttributeValues: {
            ':up': p.up,
            ':pt': p.pt,
            ':np': p.pt.length,
            ':fin': p.fin,
            ':n': p.n,
            ':b': p.b,
            ':pending': 'pending',
            ':expected': expectedParts,
            ...(p.cu !== undefined && { ':cu': p.cu }),
          },
        }),
      ),
    );
  }

  finish(
    tenant: string,
    jobId: string,
    from: ExportJobItem['s'],
    to: { s: 'completed' | 'failed'; why?: ExportJobItem['why']; ca: number; q: string },
  ): Promise<boolean> {
    return conditionally(
      this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: exportPartition(tenant), sk: jobId },
          UpdateExpression: `SET s = :to, ca = :ca, q = :q${to.why === undefined ? '' : ', why = :why'}`,
          ConditionExpression: 's = :from',
          ExpressionAttributeValues: {
            ':to': to.s,
            ':ca': to.ca,
            ':q': to.q,
            ':from': from,
            ...(to.why !== undefined && { ':why': to.why }),
          },
        }),
      ),
    );
  }

  listJobs(tenant: string): Promise<ExportJobItem[]> {
    return this.queryAll<ExportJobItem>({
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': exportPartition(tenant) },
      ConsistentRead: true,
    });
  }

  listMarkers(tenant: string): Promise<ErasureMarkerItem[]> {
    return this.markers.listMarkers(tenant);
  }
}
