import { AUDIT_ACTIONS, SERVICE_ACTOR, type AuditRecorder } from './audit-records';
import { mapLimit } from './concurrency';
import type { StoredEvent } from './envelope';
import { coveredBy, ERASURE_SWEEP_DAYS, isErasedUser } from './erasure';
import { highestIdAt, MAX_ID, MIN_ID, adjacentId } from './ids';
import { GSI_BY_USER } from '../../contract';
import { removalLogPartition, timeKey, type RemovalLogItem, type RemovalReason } from './digest';
import {
  parseTenantPartition,
  purgePartition,
  shardRange,
  tenantPartition,
  type ErasureWorkItem,
  type EventItem,
  type ItemKey,
} from './item-keys';
import type { RangeRequest } from './query';

const DAY_MS = 86_400_000;
/** Events may claim to occur up to this far after they were received (envelope rule). */
const FUTURE_SKEW_MS = 5 * 60_000;

/** The storage port of the cleanup. */
export interface PurgeStore {
  /** Keys of soft-deleted items deleted before `cutoffMs`, oldest first (sparse GSI byPurge). */
  findPurgeable(partition: string, cutoffMs: number, limit: number): Promise<ItemKey[]>;
  /** Deletes the item only if it is still soft-deleted before the cutoff; false if it was not. */
  deleteIfDeletedBefore(key: ItemKey, cutoffMs: number): Promise<boolean>;
}

export interface CleanupStore extends PurgeStore {
  queryRange(request: RangeRequest): Promise<{ items: EventItem[]; done: boolean }>;
  /** Deletes the item if it exists; false if it was already gone (nothing counted twice). */
  deleteIfExists(key: ItemKey): Promise<boolean>;
  /** Deletes the item if its expiry (x, epoch s) is at or before `nowSeconds`. */
  deleteIfExpired(key: ItemKey, nowSeconds: number): Promise<boolean>;
  /** The erasure work list, oldest request first. */
  listErasureWork(): Promise<ErasureWorkItem[]>;
  /** Which of these items exist now (strongly consistent; an index may still list deleted ones). */
  existing(keys: readonly ItemKey[]): Promise<ItemKey[]>;
  /** Write-ahead: records the chunk about to be deleted on the work item. */
  beginChunk(work: ErasureWorkItem, keys: readonly ItemKey[]): Promise<void>;
  /** Adds the chunk to the erased count and clears it, in one write; copies the count to the receipt. */
  endChunk(work: ErasureWorkItem, count: number): Promise<void>;
  /** Completes receipt and marker (cutoff = completedAt) and turns the work item into a sweep. */
  completeErasure(work: ErasureWorkItem, completedAtMs: number, sweepUntilMs: number): Promise<void>;
  /** Ends the sweep: removes the work item and the marker. */
  finishErasure(work: ErasureWorkItem): Promise<void>;
  /** Tenants that have stored events. */
  listTenants(): Promise<string[]>;
  /** Writes removal log entries ahead of the deletes (core/digest.ts: a later signed digest records them). */
  logRemovals?(entries: readonly RemovalLogItem[]): Promise<void>;
}

/**
 * Days the cleanup leaves an expired event to DynamoDB TTL, which deletes it for free (a delete by
 * the cleanup is billed in the table and in each index: as much as writing the event). TTL usually
 * deletes within a day or two of the expiry; reads hide expired events meanwhile, and the cleanup
 * deletes what TTL has not deleted by then.
 */
export const RETENTION_TTL_GRACE_DAYS = 3;

/** How long a removal log entry is kept: long enough for the sealer to have sealed it. */
const REMOVAL_LOG_DAYS = 30;

/** Removal log entries for these keys (written before they are deleted). */
const removalEntries = (keys: readonly ItemKey[], reason: RemovalReason, at: number, receipt?: string): RemovalLogItem[] =>
  keys.flatMap((key) => {
    const parts = parseTenantPartition(key.pk);
    if (!parts) return [];
    return [
      {
        pk: removalLogPartition(parts.tenant),
        sk: `${timeKey(at)}#${parts.shard}#${key.sk}`,
        r: reason,
        ...(receipt !== undefined && { rc: receipt }),
        sh: parts.shard,
        id: key.sk,
        at,
        x: Math.floor(at / 1000) + REMOVAL_LOG_DAYS * 86_400,
      },
    ];
  });

export interface CleanupDeps {
  readonly store: CleanupStore;
  readonly shardCount: number;
  readonly deleteGraceDays: number;
  readonly retentionDays: (tenant: string) => number;
  /** Days past its expiry before the cleanup deletes an event itself (TTL's turn first). @default 0 */
  readonly ttlGraceDays?: number;
  readonly now?: () => number;
  /** Milliseconds left before the function must stop; work stops early enough to report. */
  readonly remainingMs?: () => number;
  /** Items per chunk. @default 100 */
  readonly chunkSize?: number;
  /** Chunks per run at most; the next run continues. @default unlimited */
  readonly maxChunks?: number;
  /** Records erasure completions in the tenant's trail (core/audit-records.ts). @default none */
  readonly audit?: AuditRecorder;
}

export interface CleanupReport {
  /** Erasure requests completed in this run. */
  readonly erasuresCompleted: number;
  /** Events deleted for erasure requests (including late arrivals swept after completion). */
  readonly erased: number;
  /** Soft-deleted events purged after their grace period. */
  readonly purged: number;
  /** Events deleted because their retention ran out. */
  readonly expired: number;
  /** Items found but left alone (restored meanwhile, or not expired after all). */
  readonly skipped: number;
  /** True when the budget ran out with work left; the next run continues it. */
  readonly more: boolean;
}

/** Stop starting chunks when less than this is left of the invocation. */
export const SAFETY_MARGIN_MS = 10_000;

class OutOfBudget extends Error {}

interface Budget {
  check(): void;
  spend(): void;
}

/**
 * The daily cleanup: completes erasure requests, purges soft-deleted events past the grace
 * period, deletes events past retention. Every phase is resumable and idempotent: progress lives
 * in the table itself (what is deleted is gone; the erased count is added per chunk), deletes are
 * conditional (a restore wins, an item is counted once), and a run stops between chunks when its
 * budget runs out — the next run finishes the job with nothing missed.
 */
export const runCleanup = async (deps: CleanupDeps): Promise<CleanupReport> => {
  const now = deps.now ?? Date.now;
  const chunk = deps.chunkSize ?? 100;
  const remaining = deps.remainingMs ?? (() => Number.POSITIVE_INFINITY);
  let chunks = 0;
  const counts = { erasuresCompleted: 0, erased: 0, purged: 0, expired: 0, skipped: 0 };

  /**
   * Called before each chunk: throws when this run must stop. Only chunks that found work count
   * against maxChunks (spend), so a run always gets through an idle pass over every partition.
   */
  const budget: Budget = {
    check: () => {
      if (remaining() < SAFETY_MARGIN_MS || (deps.maxChunks !== undefined && chunks >= deps.maxChunks)) throw new OutOfBudget();
    },
    spend: () => {
      chunks++;
    },
  };

  try {
    const work = await deps.store.listErasureWork();
    await eraseUsers(
      deps,
      work.filter((w) => w.su === undefined),
      chunk,
      budget,
      now,
      counts,
    );
    await purgeSoftDeleted(deps, chunk, budget, now, counts);
    await expireEvents(deps, chunk, budget, now, counts);
    // Sweeps of completed erasures (late arrivals) come last: they must not starve the rest.
    await eraseUsers(
      deps,
      work.filter((w) => w.su !== undefined),
      chunk,
      budget,
      now,
      counts,
    );
  } catch (error) {
    if (error instanceof OutOfBudget) return { ...counts, more: true };
    throw error;
  }
  return { ...counts, more: false };
};

type Counts = { erasuresCompleted: number; erased: number; purged: number; expired: number; skipped: number };

/** Pages through one partition's sort-key range in ascending order, a chunk at a time. */
const forEachChunk = async (
  store: CleanupStore,
  request: Omit<RangeRequest, 'lower' | 'order' | 'limit'> & { lower?: string },
  chunk: number,
  budget: Budget,
  handle: (items: EventItem[]) => Promise<void>,
): Promise<void> => {
  let lower: string | undefined = request.lower ?? MIN_ID;
  while (lower !== undefined && lower <= request.upper) {
    budget.check();
    const page = await store.queryRange({ ...request, lower, order: 'asc', limit: chunk });
    if (page.items.length > 0) {
      budget.spend();
      await handle(page.items);
    }
    const last = page.items[page.items.length - 1];
    if (page.done || !last) return;
    lower = adjacentId(last.sk, 1);
  }
};

/**
 * The events of this work item's user among items of its user partition: the stored userId must
 * have the request's digest (the partition is a 132-bit hash prefix, and one an ill-formed userId
 * could share), and the event have been received up to the request (never an audit record).
 */
const erasable = (work: ErasureWorkItem, item: EventItem): boolean => {
  const event = JSON.parse(item.e) as StoredEvent;
  return isErasedUser(event, work.uh) && coveredBy(event, work.ra);
};

const eraseUsers = async (
  deps: CleanupDeps,
  list: readonly ErasureWorkItem[],
  chunk: number,
  budget: Budget,
  now: () => number,
  counts: Counts,
): Promise<void> => {
  for (const work of list) {
    /**
     * One chunk, exactly counted even if the run dies in the middle: the keys are written ahead on
     * the work item, then deleted, then counted and cleared in one write. A run that finds a chunk
     * written ahead finishes it first: every key in it existed when it was planned and is gone after.
     */
    const eraseChunk = async (keys: readonly ItemKey[]): Promise<void> => {
      await deps.store.beginChunk(work, keys);
      await deps.store.logRemovals?.(removalEntries(keys, 'erasure', now(), work.pid));
      await mapLimit(keys, 16, (key) => deps.store.deleteIfExists(key));
      await deps.store.endChunk(work, keys.length);
      counts.erased += keys.length;
    };
    if (work.ck && work.ck.length > 0) {
      budget.check();
      budget.spend();
      await eraseChunk(work.ck);
    }
    // Passes over the user's timeline until one finds nothing left to delete.
    for (;;) {
      let found = 0;
      await forEachChunk(deps.store, { index: GSI_BY_USER, partition: work.uk, upper: MAX_ID }, chunk, budget, async (items) => {
        const doomed = items.filter((item) => erasable(work, item));
        if (doomed.length === 0) return;
        const keys = await deps.store.existing(doomed.map((item) => ({ pk: item.pk, sk: item.sk })));
        if (keys.length === 0) return;
        found += keys.length;
        await eraseChunk(keys);
      });
      if (found === 0) break;
    }
    const at = now();
    if (work.su === undefined) {
      await deps.store.completeErasure(work, at, at + ERASURE_SWEEP_DAYS * DAY_MS);
      counts.erasuresCompleted++;
      await recordCompletion(deps, work, at);
    } else {
      // Again on every sweep: a run that died between completing and recording still records it (once: idempotent).
      if (work.c !== undefined) await recordCompletion(deps, work, work.c);
      if (at > work.su) await deps.store.finishErasure(work);
    }
  }
};

/** The audit record of a completed erasure: its receipt, never the erased userId. */
const recordCompletion = (deps: CleanupDeps, work: ErasureWorkItem, completedAtMs: number): Promise<void> =>
  deps.audit?.(work.tn, {
    action: AUDIT_ACTIONS.erasureCompleted,
    actor: SERVICE_ACTOR,
    target: { type: 'erasure', id: work.pid },
    details: { requestedAt: new Date(work.ra).toISOString() },
    idempotencyKey: work.pid,
    at: completedAtMs,
  }) ?? Promise.resolve();

const purgeSoftDeleted = async (deps: CleanupDeps, chunk: number, budget: Budget, now: () => number, counts: Counts): Promise<void> => {
  const cutoffMs = now() - deps.deleteGraceDays * DAY_MS;
  for (const shard of shardRange(deps.shardCount)) {
    for (;;) {
      budget.check();
      const keys = await deps.store.findPurgeable(purgePartition(shard), cutoffMs, chunk);
      if (keys.length === 0) break;
      budget.spend();
      await deps.store.logRemovals?.(removalEntries(keys, 'purge', now()));
      const deleted = (await mapLimit(keys, 16, (key) => deps.store.deleteIfDeletedBefore(key, cutoffMs))).filter(Boolean).length;
      counts.purged += deleted;
      counts.skipped += keys.length - deleted;
      // A chunk in which nothing could be deleted would be found again (the index lags): next run.
      if (deleted === 0 || keys.length < chunk) break;
    }
  }
};

/**
 * Retention: an event expires `retentionDays` after it was received (its `x`). Candidates are
 * found by key range — events that occurred before the cutoff — and each is deleted only if its
 * own expiry has passed (a backfilled event with an old occurredAt may still be young) by
 * `ttlGraceDays`: until then it is TTL's to delete, for free (reads hide it already).
 */
const expireEvents = async (deps: CleanupDeps, chunk: number, budget: Budget, now: () => number, counts: Counts): Promise<void> => {
  const nowMs = now() - (deps.ttlGraceDays ?? 0) * DAY_MS;
  const nowSeconds = Math.floor(nowMs / 1000);
  const logged = new Set<string>();
  for (const tenant of await deps.store.listTenants()) {
    const upper = highestIdAt(nowMs - deps.retentionDays(tenant) * DAY_MS + FUTURE_SKEW_MS);
    for (const shard of shardRange(deps.shardCount)) {
      await forEachChunk(deps.store, { partition: tenantPartition(tenant, shard), upper }, chunk, budget, async (items) => {
        const expired = items.filter((item) => item.x <= nowSeconds);
        if (expired.length > 0 && !logged.has(tenant)) {
          // One signed record per tenant and run (core/digest.ts), written ahead: "expired through now".
          logged.add(tenant);
          await deps.store.logRemovals?.([
            {
              pk: removalLogPartition(tenant),
              sk: `${timeKey(nowMs)}#retention`,
              r: 'retention',
              sh: -1,
              id: '',
              th: nowSeconds,
              at: nowMs,
              x: nowSeconds + REMOVAL_LOG_DAYS * 86_400,
            },
          ]);
        }
        const deleted = (
          await mapLimit(expired, 16, (item) => deps.store.deleteIfExpired({ pk: item.pk, sk: item.sk }, nowSeconds))
        ).filter(Boolean).length;
        counts.expired += deleted;
        counts.skipped += items.length - deleted;
      });
    }
  }
};
