import { adjacentId } from './ids';
import type { RangeRequest } from './query';

/**
 * The k-way merge behind a sharded timeline: each shard is read ahead a page at a time, and the
 * merge always takes the head that comes first in the page's order, so the result is in exact
 * sort-key order across shards. What to keep and when to stop are the caller's (./query.ts).
 */

interface SortedItem {
  readonly sk: string;
}

/** One shard's items in sort-key order, read ahead a page at a time, within the page's range. */
export class ShardReader<T extends SortedItem> {
  private readonly buffer: T[] = [];
  /** The last sort key read: the next read starts past it. */
  private bound: string | undefined;
  private done = false;
  private read = 0;

  constructor(
    private readonly queryRange: (request: RangeRequest) => Promise<{ items: T[]; done: boolean }>,
    private readonly request: Omit<RangeRequest, 'limit'>,
  ) {}

  /** Items read from the table so far. */
  get itemsRead(): number {
    return this.read;
  }

  get head(): T | undefined {
    return this.buffer[0];
  }

  /** Buffer empty, more in the table: must refill before the next pick, to keep the order exact. */
  get dry(): boolean {
    return this.buffer.length === 0 && !this.done;
  }

  get exhausted(): boolean {
    return this.buffer.length === 0 && this.done;
  }

  take(): T {
    return this.buffer.shift() as T;
  }

  /** Reads up to `limit` more items past the last one read. */
  async refill(limit: number): Promise<void> {
    const desc = this.request.order === 'desc';
    let { lower, upper } = this.request;
    if (this.bound !== undefined) {
      const next = adjacentId(this.bound, desc ? -1 : 1);
      if (next === undefined) {
        this.done = true;
        return;
      }
      if (desc) upper = next;
      else lower = next;
    }
    if (lower > upper) {
      this.done = true;
      return;
    }
    const page = await this.queryRange({ ...this.request, lower, upper, limit });
    this.read += page.items.length;
    this.buffer.push(...page.items);
    const last = page.items[page.items.length - 1];
    if (last) this.bound = last.sk;
    this.done = page.done || page.items.length === 0;
  }
}

export interface MergeProgress {
  /** Items kept so far. */
  readonly matched: number;
  /** Items taken from the shards so far, kept or not. */
  readonly examined: number;
}

export interface MergePolicy {
  readonly limit: number;
  readonly order: 'asc' | 'desc';
  /** How many items to read from a shard that ran dry. */
  readonly readSize: (progress: MergeProgress) => number;
  /** Whether the work bound is reached; checked before each item. */
  readonly stop: (progress: MergeProgress) => boolean;
}

/**
 * Takes the shards' items in order, keeping what `select` returns, until `limit` are kept, the
 * shards run out, or `stop` says so. `lastExamined` is where a next page starts.
 */
export const mergeShards = async <T extends SortedItem, R>(
  shards: readonly ShardReader<T>[],
  { limit, order, readSize, stop }: MergePolicy,
  select: (item: T) => R | undefined,
): Promise<{ selected: R[]; lastExamined?: string }> => {
  const selected: R[] = [];
  let examined = 0;
  let lastExamined: string | undefined;
  while (selected.length < limit) {
    const progress = { matched: selected.length, examined };
    if (stop(progress)) break;
    const dry = shards.filter((shard) => shard.dry);
    if (dry.length > 0) await Promise.all(dry.map((shard) => shard.refill(readSize(progress))));
    const next = nextInOrder(shards, order);
    if (!next) break;
    const item = next.take();
    lastExamined = item.sk;
    examined++;
    const kept = select(item);
    if (kept !== undefined) selected.push(kept);
  }
  return { selected, ...(lastExamined !== undefined && { lastExamined }) };
};

/** The shard whose head comes first in the order. */
const nextInOrder = <T extends SortedItem>(shards: readonly ShardReader<T>[], order: MergePolicy['order']): ShardReader<T> | undefined => {
  let best: ShardReader<T> | undefined;
  for (const shard of shards) {
    const head = shard.head;
    if (!head) continue;
    const bestSk = best?.head?.sk;
    if (bestSk === undefined || (order === 'desc' ? head.sk > bestSk : head.sk < bestSk)) best = shard;
  }
  return best;
};
