import { mapLimit } from './concurrency';
import { planCounters, pendingAfter, releaseExpiry, type ChangeRecord, type CounterUpdate } from './stats-counters';

/** The counter table operations the stream consumer needs (adapters/dynamo-stats-store.ts). */
export interface CounterWriteStore {
  /**
   * Adds `add` to the item's counters, sets its checkpoint to `lastSeq` and its expiry to
   * `expiresAt` (when given), only if the checkpoint is absent or below `below` (nothing of this
   * update applied yet) — or, with `equals`, exactly it. Resolves false when that condition fails.
   */
  apply(
    pk: string,
    sk: string,
    add: Readonly<Record<string, number>>,
    lastSeq: string,
    condition: { readonly below: string } | { readonly equals: string },
    expiresAt?: number,
  ): Promise<boolean>;
  /** The item's checkpoint (consistent read). */
  checkpoint(pk: string, sk: string): Promise<string | undefined>;
  /**
   * Reads the item (consistent); if every count in it is zero, moves its expiry to `expiresAt` (never
   * later), on condition that its checkpoint and counts are still the ones read. Resolves whether
   * this call moved it.
   */
  releaseIfEmpty(pk: string, sk: string, expiresAt: number): Promise<boolean>;
}

export interface CountBatchOutcome {
  readonly updates: number;
  /** Updates that found part or all of their records already applied (a retried batch). */
  readonly replays: number;
  /** The record to report as the first failure (Lambda retries from it), if any update failed. */
  readonly firstFailedRecord?: string;
  readonly failed: number;
  /** Emptied user items released to expire within days. */
  readonly released: number;
}

/** Applies one update exactly once: first optimistically, then from the item's checkpoint. */
const applyOnce = async (u: CounterUpdate, store: CounterWriteStore): Promise<'applied' | 'replayed'> => {
  const all = pendingAfter(u, undefined);
  if (!all) return 'applied';
  if (await store.apply(u.pk, u.sk, all.add, all.lastSeq, { below: all.firstSeq }, u.expiresAt)) return 'applied';
  // Some of these records were applied before (a retried batch): apply only what came after.
  for (let attempt = 0; attempt < 3; attempt++) {
    const applied = await store.checkpoint(u.pk, u.sk);
    const left = pendingAfter(u, applied);
    if (!left) return 'replayed';
    if (applied !== undefined && (await store.apply(u.pk, u.sk, left.add, left.lastSeq, { equals: applied }, u.expiresAt)))
      return 'replayed';
  }
  throw new Error(`counter ${u.pk} ${u.sk}: checkpoint kept moving`);
};

/**
 * Counts one stream batch: one conditional update per counter item (coalesced), in parallel. A
 * failed update reports its first record; Lambda checkpoints before it and retries from there,
 * and the checkpoints make the records already applied count once. Throws when every update failed.
 * A user item marked for release is released after its update if it holds only zeros (a retried
 * batch, or the half of a bisected one, releases it too).
 */
export const countBatch = async (
  records: readonly ChangeRecord[],
  store: CounterWriteStore,
  {
    concurrency = 16,
    log,
    now = Date.now,
  }: { concurrency?: number; log?: (message: string, fields: Record<string, unknown>) => void; now?: () => number } = {},
): Promise<CountBatchOutcome> => {
  const updates = planCounters(records);
  const order = new Map(records.map((r, i) => [r.sequenceNumber, i]));
  let replays = 0;
  let released = 0;
  const failures: CounterUpdate[] = [];
  let lastError: unknown;
  await mapLimit(updates, concurrency, async (u) => {
    try {
      if ((await applyOnce(u, store)) === 'replayed') replays++;
      if (u.releaseWhenEmpty && (await store.releaseIfEmpty(u.pk, u.sk, releaseExpiry(now())))) released++;
    } catch (e) {
      lastError = e;
      failures.push(u);
      log?.('counter update failed', { pk: u.pk, sk: u.sk, error: (e as Error).message });
    }
  });
  if (updates.length > 0 && failures.length === updates.length) throw lastError;
  const first = failures.map((f) => f.firstRecord).sort((a, b) => (order.get(a) ?? 0) - (order.get(b) ?? 0))[0];
  return { updates: updates.length, replays, released, failed: failures.length, ...(first !== undefined && { firstFailedRecord: first }) };
};
