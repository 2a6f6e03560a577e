import { BatchWriteCommand, DeleteCommand, GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { ATTRIBUTES, GSI_BY_PURGE, INDEXES } from '../../contract';
import { backoffMs, mapLimit, sleep } from '../core/concurrency';
import type { CleanupStore } from '../core/cleanup';
import { digestHeadPartition, type DigestHead, type LateLogItem, type RemovalLogItem } from '../core/digest';
import type { DigestStore } from '../core/digest-seal';
import type { ErasureStore } from '../core/erasure';
import { keyString, TENANT_REGISTRY_PARTITION, type EventItem, type ItemKey } from '../core/item-keys';
import type { LifecycleStore } from '../core/lifecycle';
import { packItem, unpackItem } from '../core/payload';
import type { EventReadStore, RangeRequest } from '../core/query';
import type { EventWriteStore, PutOutcome, StoredKey } from '../core/writer';
import { conditionally, isConditionFailure } from './dynamo-client';
import { DynamoErasureStore } from './dynamo-erasure-store';

export const BATCH_WRITE_MAX = 25;

/** A string attribute as the document client gives it, or marshalled (`{S}`), as an exception's `Item` carries it. */
const digestOf = (value: unknown): string | undefined =>
  typeof value === 'string' ? value : typeof (value as { S?: unknown })?.S === 'string' ? (value as { S: string }).S : undefined;

/**
 * The events table behind the core's storage ports: events written, read, deleted and restored,
 * the cleanup's deletes, the tenant registry and the digests' logs and head. The erasure items are
 * dynamo-erasure-store.ts.
 */
export class DynamoEventStore
  extends DynamoErasureStore
  implements EventWriteStore, EventReadStore, CleanupStore, LifecycleStore, ErasureStore, DigestStore
{
  /**
   * Unconditional BatchWriteItem in chunks of 25, retrying UnprocessedItems; resolves with the items
   * it could not write. It overwrites, so the writer never uses it: only loaders (bench) do.
   */
  async putBatch(items: readonly EventItem[]): Promise<EventItem[]> {
    const failed: EventItem[] = [];
    const chunks: EventItem[][] = [];
    for (let i = 0; i < items.length; i += BATCH_WRITE_MAX) chunks.push(items.slice(i, i + BATCH_WRITE_MAX));
    await mapLimit(chunks, this.options.batchConcurrency ?? 8, async (chunk) => {
      try {
        failed.push(...(await this.writeChunk(chunk)));
      } catch {
        // The request itself failed after the SDK's retries: the whole chunk is unwritten.
        failed.push(...chunk);
      }
    });
    return failed;
  }

  private async writeChunk(chunk: EventItem[]): Promise<EventItem[]> {
    const maxAttempts = this.options.maxBatchAttempts ?? 6;
    const wait = this.options.wait ?? sleep;
    const byKey = new Map(chunk.map((item) => [keyString(item), item]));
    let pending = chunk;
    for (let attempt = 0; attempt < maxAttempts && pending.length > 0; attempt++) {
      if (attempt > 0) await wait(backoffMs(attempt));
      const out = await this.doc.send(
        new BatchWriteCommand({ RequestItems: { [this.tableName]: pending.map((item) => ({ PutRequest: { Item: packItem(item) } })) } }),
      );
      const unprocessed = out.UnprocessedItems?.[this.tableName] ?? [];
      pending = unprocessed
        .map((request) => request.PutRequest?.Item as EventItem | undefined)
        .map((item) => (item ? byKey.get(keyString(item)) : undefined))
        .filter((item): item is EventItem => item !== undefined);
    }
    return pending;
  }

  /**
   * A conditional PutItem. For an idempotency-keyed item (one with a payload digest) a failed
   * condition returns the stored item (ReturnValuesOnConditionCheckFailure, no extra read or
   * capacity), so the writer can compare digests; emulators that ignore the parameter make the
   * writer look the digest up instead.
   */
  async putIfAbsent(item: EventItem): Promise<PutOutcome> {
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: packItem(item),
          ConditionExpression: 'attribute_not_exists(pk)',
          ...(item.h !== undefined && { ReturnValuesOnConditionCheckFailure: 'ALL_OLD' }),
        }),
      );
      return { written: true };
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      const old = (error as { Item?: Record<string, unknown> }).Item;
      return old === undefined ? { written: false } : { written: false, stored: { h: digestOf(old.h) } };
    }
  }

  async queryRange(request: RangeRequest): Promise<{ items: EventItem[]; done: boolean }> {
    const partitionAttribute = request.index ? INDEXES[request.index].partitionKey : ATTRIBUTES.partitionKey;
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
    const items = (out.Items ?? []) as EventItem[];
    const done = out.LastEvaluatedKey === undefined;
    const projection: string | undefined = request.index && INDEXES[request.index].projection;
    if (projection === undefined || projection === 'ALL') return { items: items.map((item) => unpackItem(item)), done };
    return { items: await this.fetchEntries(items), done };
  }

  /**
   * The items behind a keys-only index page, in the page's order (BatchGetItem, eventually
   * consistent like the index itself). An entry whose item is gone (the index lags a delete) comes
   * back as a deleted stub holding only its keys, so callers hide it and still page past its key.
   */
  private async fetchEntries(entries: readonly EventItem[]): Promise<EventItem[]> {
    const found = new Map<string, EventItem>();
    const chunks: ItemKey[][] = [];
    for (let i = 0; i < entries.length; i += 100) chunks.push(entries.slice(i, i + 100).map((e) => ({ pk: e.pk, sk: e.sk })));
    await mapLimit(chunks, 4, async (keys) => {
      for (const item of await this.batchGet<EventItem>(keys, false)) found.set(keyString(item), unpackItem(item));
    });
    return entries.map((entry) => found.get(keyString(entry)) ?? { ...entry, e: '{}', x: 0, d: 0 });
  }

  async get(pk: string, sk: string): Promise<EventItem | undefined> {
    const out = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: { pk, sk }, ConsistentRead: true }));
    return out.Item ? unpackItem(out.Item as EventItem) : undefined;
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

  deleteIfDeletedBefore(key: ItemKey, cutoffMs: number): Promise<boolean> {
    return conditionally(
      this.doc.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: { pk: key.pk, sk: key.sk },
          ConditionExpression: 'd < :cutoff',
          ExpressionAttributeValues: { ':cutoff': cutoffMs },
        }),
      ),
    );
  }

  deleteIfExists(key: ItemKey): Promise<boolean> {
    return conditionally(
      this.doc.send(
        new DeleteCommand({ TableName: this.tableName, Key: { pk: key.pk, sk: key.sk }, ConditionExpression: 'attribute_exists(pk)' }),
      ),
    );
  }

  deleteIfExpired(key: ItemKey, nowSeconds: number): Promise<boolean> {
    return conditionally(
      this.doc.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: { pk: key.pk, sk: key.sk },
          ConditionExpression: 'x <= :now',
          ExpressionAttributeValues: { ':now': nowSeconds },
        }),
      ),
    );
  }

  markDeleted(key: ItemKey, deletedAtMs: number, purgePartition: string): Promise<boolean> {
    return conditionally(
      this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: key.pk, sk: key.sk },
          UpdateExpression: 'SET d = :d, p = :p',
          ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(d)',
          ExpressionAttributeValues: { ':d': deletedAtMs, ':p': purgePartition },
        }),
      ),
    );
  }

  unmarkDeleted(key: ItemKey, cutoffMs: number): Promise<boolean> {
    return conditionally(
      this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: key.pk, sk: key.sk },
          UpdateExpression: 'REMOVE d, p',
          ConditionExpression: 'd >= :cutoff',
          ExpressionAttributeValues: { ':cutoff': cutoffMs },
        }),
      ),
    );
  }

  /** Which keys exist (with the payload digest `h` of idempotency-keyed items), by consistent BatchGetItem. */
  async existing(keys: readonly ItemKey[]): Promise<StoredKey[]> {
    const found: StoredKey[] = [];
    for (let i = 0; i < keys.length; i += 100) found.push(...(await this.batchGet<StoredKey>(keys.slice(i, i + 100), true, 'pk, sk, h')));
    return found;
  }

  async listTenants(): Promise<string[]> {
    const items = await this.queryAll<{ sk: string }>({
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': TENANT_REGISTRY_PARTITION },
    });
    return items.map((item) => item.sk);
  }

  async registerTenant(tenant: string): Promise<void> {
    await this.doc.send(new PutCommand({ TableName: this.tableName, Item: { pk: TENANT_REGISTRY_PARTITION, sk: tenant } }));
  }

  async putLateEntry(entry: LateLogItem): Promise<void> {
    await this.doc.send(new PutCommand({ TableName: this.tableName, Item: entry }));
  }

  async logRemovals(entries: readonly RemovalLogItem[]): Promise<void> {
    await mapLimit(entries, 16, (Item) => this.doc.send(new PutCommand({ TableName: this.tableName, Item })));
  }

  listLog<T extends LateLogItem | RemovalLogItem>(partition: string, fromKey: string, toKey: string): Promise<T[]> {
    // BETWEEN is inclusive; the keys end in '#…' after the time, so toKey (a bare time) sorts before any entry at that time.
    return this.queryAll<T>({
      KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
      ExpressionAttributeValues: { ':pk': partition, ':from': fromKey, ':to': toKey },
      ConsistentRead: true,
    });
  }

  /** The items that exist among these keys, consistent; throws rather than leave keys unread. */
  async getItems(keys: readonly ItemKey[]): Promise<EventItem[]> {
    const found: EventItem[] = [];
    for (let i = 0; i < keys.length; i += 100) {
      found.push(...(await this.batchGet<EventItem>(keys.slice(i, i + 100), true)).map((item) => unpackItem(item)));
    }
    return found;
  }

  async getDigestHead(tenant: string): Promise<DigestHead | undefined> {
    const out = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: { pk: digestHeadPartition(tenant), sk: 'head' }, ConsistentRead: true }),
    );
    const item = out.Item as (DigestHead & Record<string, unknown>) | undefined;
    return item && { to: item.to, key: item.key, hash: item.hash, sequence: item.sequence };
  }

  async putDigestHead(tenant: string, head: DigestHead, previousTo: number | undefined): Promise<void> {
    await this.doc.send(
      new PutCommand({
        TableName: this.tableName,
        Item: { pk: digestHeadPartition(tenant), sk: 'head', ...head },
        ...(previousTo === undefined
          ? { ConditionExpression: 'attribute_not_exists(pk)' }
          : {
              ConditionExpression: '#to = :previous',
              ExpressionAttributeNames: { '#to': 'to' },
              ExpressionAttributeValues: { ':previous': previousTo },
            }),
      }),
    );
  }
}
