import { parseKeyring, type Keyring } from '../../lambdas/core/keyring';
import type { EventItem, ItemKey } from '../../lambdas/core/keys';
import type { EventReadStore, RangeRequest } from '../../lambdas/core/query';
import type { EventWriteStore } from '../../lambdas/core/writer';
import type { PurgeStore } from '../../lambdas/core/cleanup';

export const SECRET_V1 = JSON.stringify({ current: '1', k1: 'a'.repeat(40) + 'secret-one-for-tests' });
export const SECRET_V2 = JSON.stringify({ current: '2', k1: 'a'.repeat(40) + 'secret-one-for-tests', k2: 'b'.repeat(40) + 'secret-two' });
export const testKeyring = (secret = SECRET_V1): Keyring => parseKeyring(secret);

/**
 * An in-memory table with the same key layout and index semantics the core relies on: Query by
 * partition and inclusive sort-key range, in order, with a Limit; strongly consistent Get.
 */
export class MemoryTable implements EventReadStore, EventWriteStore, PurgeStore {
  readonly items = new Map<string, EventItem>();
  reads = 0;
  queries: RangeRequest[] = [];

  key(item: ItemKey): string {
    return `${item.pk}\u0000${item.sk}`;
  }

  all(): EventItem[] {
    return [...this.items.values()];
  }

  async queryRange(request: RangeRequest): Promise<{ items: EventItem[]; done: boolean }> {
    this.queries.push(request);
    const attribute = request.index === 'byUser' ? 'u' : request.index === 'byType' ? 't' : 'pk';
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

  async putIfAbsent(item: EventItem): Promise<boolean> {
    if (this.items.has(this.key(item))) return false;
    this.items.set(this.key(item), { ...item });
    return true;
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
}
