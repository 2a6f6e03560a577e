import { mapLimit } from './concurrency';
import { purgePartition, shardRange, type ItemKey } from './keys';

/** The storage port of the cleanup. */
export interface PurgeStore {
  /** Keys of soft-deleted items deleted before `cutoffMs`, oldest first (sparse GSI byPurge). */
  findPurgeable(partition: string, cutoffMs: number, limit: number): Promise<ItemKey[]>;
  /** Deletes the item only if it is still soft-deleted before the cutoff; false if it was not. */
  deleteIfDeletedBefore(key: ItemKey, cutoffMs: number): Promise<boolean>;
}

export interface CleanupDeps {
  readonly store: PurgeStore;
  readonly shardCount: number;
  readonly deleteGraceDays: number;
  readonly now?: () => number;
  /** Milliseconds left before the function must stop; work stops early enough to report. */
  readonly remainingMs?: () => number;
  readonly chunkSize?: number;
}

export interface CleanupReport {
  readonly purged: number;
  /** Items found but restored in the meantime: left alone. */
  readonly skipped: number;
  /** True when the time budget ran out with work left; the next run continues it. */
  readonly more: boolean;
}

/** Stop starting chunks when less than this is left of the invocation. */
export const SAFETY_MARGIN_MS = 10_000;

/**
 * Purges soft-deleted items whose grace period is over. The sparse index is the progress: what
 * is purged leaves it, so a run killed at any point is continued by the next one with nothing
 * missed, and a delete is conditional on the item still being soft-deleted (a restore wins).
 */
export const purgeSoftDeleted = async (deps: CleanupDeps): Promise<CleanupReport> => {
  const now = deps.now ?? Date.now;
  const cutoffMs = now() - deps.deleteGraceDays * 86_400_000;
  const chunk = deps.chunkSize ?? 100;
  const remaining = deps.remainingMs ?? (() => Number.POSITIVE_INFINITY);
  let purged = 0;
  let skipped = 0;

  for (const shard of shardRange(deps.shardCount)) {
    const partition = purgePartition(shard);
    for (;;) {
      if (remaining() < SAFETY_MARGIN_MS) return { purged, skipped, more: true };
      const keys = await deps.store.findPurgeable(partition, cutoffMs, chunk);
      if (keys.length === 0) break;
      const deleted = await mapLimit(keys, 16, (key) => deps.store.deleteIfDeletedBefore(key, cutoffMs));
      const count = deleted.filter(Boolean).length;
      purged += count;
      skipped += keys.length - count;
      // A chunk in which nothing could be deleted would be found again: the index lags; next run.
      if (count === 0 || keys.length < chunk) break;
    }
  }
  return { purged, skipped, more: false };
};
