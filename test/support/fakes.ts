import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { ATTRIBUTES, INDEXES } from '../../contract';
import { parseKeyring, type Keyring } from '../../lambdas/core/keyring';
import {
  ERASURE_WORK_PARTITION,
  keyString,
  markerPartition,
  receiptPartition,
  TENANT_REGISTRY_PARTITION,
  type ErasureMarkerItem,
  type ErasureReceiptItem,
  type ErasureWorkItem,
  type EventItem,
  type ItemKey,
} from '../../lambdas/core/item-keys';
import type { EventReadStore, RangeRequest } from '../../lambdas/core/query';
import type { EventWriteStore, PutOutcome, StoredKey } from '../../lambdas/core/writer';
import type { CleanupStore } from '../../lambdas/core/cleanup';
import type { ErasureStore } from '../../lambdas/core/erasure';
import type { LifecycleStore } from '../../lambdas/core/lifecycle';
import type { EventQueue } from '../../lambdas/core/ingest';
import type { QueueMessage } from '../../lambdas/core/message';
import { digestHeadPartition, type DigestHead, type LateLogItem, type RemovalLogItem } from '../../lambdas/core/digest';
import type { DigestStore } from '../../lambdas/core/digest-seal';

export const SECRET_V1 = JSON.stringify({ current: '1', k1: `${'a'.repeat(40)}secret-one-for-tests` });
export const SECRET_V2 = JSON.stringify({ current: '2', k1: `${'a'.repeat(40)}secret-one-for-tests`, k2: `${'b'.repeat(40)}secret-two` });
export const testKeyring = (secret = SECRET_V1): Keyring => parseKeyring(secret);

/**
 * An item as a change stream's image reaches a handler: Lambda delivers the record as JSON (a
 * Binary attribute as `{"B": "<base64>"}`) and the handler unmarshalls it, so bytes arrive as a
 * base64 string.
 */
export const lambdaStreamImage = (item: object): Record<string, unknown> =>
  unmarshall(
    JSON.parse(
      JSON.stringify(marshall(item, { removeUndefinedValues: true }), function (this: Record<string, unknown>, key, value) {
        const raw = this[key];
        return raw instanceof Uint8Array ? Buffer.from(raw).toString('base64') : value;
      }),
    ),
  );

/** A queue that takes every message and keeps it in `sent`, in order. */
export class RecordingQueue implements EventQueue {
  readonly sent: QueueMessage[] = [];
  async send(messages: QueueMessage[]): Promise<Set<string>> {
    this.sent.push(...messages);
    return new Set();
  }
}

/**
 * An in-memory table with the same key layout and index semantics the core relies on: Query by
 * partition and inclusive sort-key range, in order, with a Limit; strongly consistent Get.
 */
export class MemoryTable implements EventReadStore, EventWriteStore, CleanupStore, LifecycleStore, ErasureStore, DigestStore {
  readonly items = new Map<string, EventItem>();
  reads = 0;
  queries: RangeRequest[] = [];

  key(item: ItemKey): string {
    return keyString(item);
  }

  /** Event items only (lifecycle items live in other partitions and have no `e`). */
  all(): EventItem[] {
    return [...this.items.values()].filter((item) => typeof item.e === 'string');
  }

  /** Any item, by partition. */
  partition<T>(pk: string): T[] {
    return [...this.items.values()].filter((item) => item.pk === pk).sort((a, b) => (a.sk < b.sk ? -1 : 1)) as unknown as T[];
  }

  private put(item: object): void {
    const typed = item as ItemKey;
    this.items.set(this.key(typed), { ...(item as EventItem) });
  }

  async queryRange(request: RangeRequest): Promise<{ items: EventItem[]; done: boolean }> {
    this.queries.push(request);
    const attribute = request.index ? INDEXES[request.index].partitionKey : ATTRIBUTES.partitionKey;
    const matching = this.all()
      .filter((item) => item[attribute] === request.partition && item.sk >= request.lower && item.sk <= request.upper)
      .sort((a, b) => (a.sk < b.sk ? -1 : 1));
    if (request.order === 'desc') matching.reverse();
    const items = matching.slice(0, request.limit);
    this.reads += items.length;
    return { items: items.map((item) => ({ ...item })), done: matching.length <= request.limit };
  }

  async get(pk: string, sk: string): Promise<EventItem | undefined> {
    const item = this.items.get(this.key({ pk, sk }));
    return item && { ...item };
  }

  async putBatch(items: readonly EventItem[]): Promise<EventItem[]> {
    for (const item of items) this.items.set(this.key(item), { ...item });
    return [];
  }

  async putIfAbsent(item: EventItem): Promise<PutOutcome> {
    const stored = this.items.get(this.key(item));
    // Like DynamoDB with ReturnValuesOnConditionCheckFailure: the item found, for idempotency-keyed puts.
    if (stored) return item.h === undefined ? { written: false } : { written: false, stored: { h: stored.h } };
    this.items.set(this.key(item), { ...item });
    return { written: true };
  }

  async findPurgeable(partition: string, cutoffMs: number, limit: number): Promise<ItemKey[]> {
    return this.all()
      .filter((item) => item.p === partition && item.d !== undefined && item.d < cutoffMs)
      .sort((a, b) => (a.d as number) - (b.d as number))
      .slice(0, limit)
      .map(({ pk, sk }) => ({ pk, sk }));
  }

  async deleteIfDeletedBefore(key: ItemKey, cutoffMs: number): Promise<boolean> {
    const item = this.items.get(this.key(key));
    if (!item || item.d === undefined || item.d >= cutoffMs) return false;
    this.items.delete(this.key(key));
    return true;
  }

  async deleteIfExists(key: ItemKey): Promise<boolean> {
    return this.items.delete(this.key(key));
  }

  async deleteIfExpired(key: ItemKey, nowSeconds: number): Promise<boolean> {
    const item = this.items.get(this.key(key));
    if (!item || item.x > nowSeconds) return false;
    return this.items.delete(this.key(key));
  }

  async markDeleted(key: ItemKey, deletedAtMs: number, purgePartition: string): Promise<boolean> {
    const item = this.items.get(this.key(key));
    if (!item || item.d !== undefined) return false;
    item.d = deletedAtMs;
    item.p = purgePartition;
    return true;
  }

  async unmarkDeleted(key: ItemKey, cutoffMs: number): Promise<boolean> {
    const item = this.items.get(this.key(key));
    if (!item || item.d === undefined || item.d < cutoffMs) return false;
    delete item.d;
    delete item.p;
    return true;
  }

  async listMarkers(tenant: string): Promise<ErasureMarkerItem[]> {
    return this.partition<ErasureMarkerItem>(markerPartition(tenant)).map((m) => ({ ...m }));
  }

  async getReceipt(tenant: string, receiptId: string): Promise<ErasureReceiptItem | undefined> {
    const item = this.items.get(this.key({ pk: receiptPartition(tenant), sk: receiptId }));
    return item && ({ ...item } as unknown as ErasureReceiptItem);
  }

  async createErasure(receipt: ErasureReceiptItem, work: ErasureWorkItem, marker: ErasureMarkerItem): Promise<void> {
    this.put(receipt);
    this.put(work);
    this.put(marker);
  }

  async listErasureWork(): Promise<ErasureWorkItem[]> {
    return this.partition<ErasureWorkItem>(ERASURE_WORK_PARTITION).map((w) => ({ ...w }));
  }

  async existing(keys: readonly ItemKey[]): Promise<StoredKey[]> {
    return keys.flatMap((key) => {
      const stored = this.items.get(this.key(key));
      return stored ? [{ pk: key.pk, sk: key.sk, ...(stored.h !== undefined && { h: stored.h }) }] : [];
    });
  }

  async beginChunk(work: ErasureWorkItem, keys: readonly ItemKey[]): Promise<void> {
    const stored = this.items.get(this.key(work)) as unknown as ErasureWorkItem;
    stored.ck = keys.map((k) => ({ ...k }));
  }

  async endChunk(work: ErasureWorkItem, count: number): Promise<void> {
    const stored = this.items.get(this.key(work)) as unknown as ErasureWorkItem;
    stored.n = (stored.n ?? 0) + count;
    delete stored.ck;
    const receipt = this.items.get(this.key({ pk: receiptPartition(work.tn), sk: work.rs })) as unknown as ErasureReceiptItem;
    receipt.n = stored.n;
  }

  async completeErasure(work: ErasureWorkItem, completedAtMs: number, sweepUntilMs: number): Promise<void> {
    const receipt = this.items.get(this.key({ pk: receiptPartition(work.tn), sk: work.rs })) as unknown as ErasureReceiptItem;
    receipt.s = 'completed';
    receipt.ca = completedAtMs;
    const marker = this.items.get(this.key({ pk: markerPartition(work.tn), sk: work.uk })) as unknown as ErasureMarkerItem | undefined;
    if (marker && marker.r === work.rs) {
      marker.c = completedAtMs;
      marker.x = Math.ceil(sweepUntilMs / 1000);
    }
    const stored = this.items.get(this.key(work)) as unknown as ErasureWorkItem;
    stored.c = completedAtMs;
    stored.su = sweepUntilMs;
  }

  async finishErasure(work: ErasureWorkItem): Promise<void> {
    const markerKey = this.key({ pk: markerPartition(work.tn), sk: work.uk });
    const marker = this.items.get(markerKey) as unknown as ErasureMarkerItem | undefined;
    if (marker && marker.r === work.rs) this.items.delete(markerKey);
    this.items.delete(this.key(work));
  }

  async listTenants(): Promise<string[]> {
    return this.partition<ItemKey>(TENANT_REGISTRY_PARTITION).map((item) => item.sk);
  }

  async registerTenant(tenant: string): Promise<void> {
    this.put({ pk: TENANT_REGISTRY_PARTITION, sk: tenant });
  }

  /** The digests' late and removal logs, apart from `items` (which tests count). */
  readonly logs = new Map<string, LateLogItem | RemovalLogItem>();

  async putLateEntry(entry: LateLogItem): Promise<void> {
    this.logs.set(this.key(entry), { ...entry });
  }

  async logRemovals(entries: readonly RemovalLogItem[]): Promise<void> {
    for (const entry of entries) this.logs.set(this.key(entry), { ...entry });
  }

  async listLog<T extends LateLogItem | RemovalLogItem>(partition: string, fromKey: string, toKey: string): Promise<T[]> {
    return [...this.logs.values()]
      .filter((item) => item.pk === partition && item.sk >= fromKey && item.sk < toKey)
      .sort((a, b) => (a.sk < b.sk ? -1 : 1)) as T[];
  }

  async getItems(keys: readonly ItemKey[]): Promise<EventItem[]> {
    return keys.flatMap((key) => {
      const item = this.items.get(this.key(key));
      return item ? [{ ...item }] : [];
    });
  }

  async getDigestHead(tenant: string): Promise<DigestHead | undefined> {
    const item = this.items.get(this.key({ pk: digestHeadPartition(tenant), sk: 'head' })) as unknown as (DigestHead & ItemKey) | undefined;
    return item && { to: item.to, key: item.key, hash: item.hash, sequence: item.sequence };
  }

  async putDigestHead(tenant: string, head: DigestHead, previousTo: number | undefined): Promise<void> {
    if ((await this.getDigestHead(tenant))?.to !== previousTo) throw new Error('the digest head moved');
    this.put({ pk: digestHeadPartition(tenant), sk: 'head', ...head });
  }
}

/** A bucket in memory: key → body. */
export class MemoryBucket {
  readonly objects = new Map<string, string>();
  async put(key: string, body: string): Promise<void> {
    this.objects.set(key, body);
  }
}
