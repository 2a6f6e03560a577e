import { mapLimit } from './concurrency';
import { keyString, parseTenantPartition, type EventItem, type ItemKey } from './item-keys';
import { receivedAtOfItem } from './lag';
import { decodeMessage, type MessageEntry } from './message';

/** One SQS record as the writer sees it. */
export interface WriterRecord {
  readonly messageId: string;
  readonly body: string;
  /** SQS ApproximateReceiveCount: above 1 the item may already be stored. */
  readonly receiveCount: number;
}

/** The storage port of the writer. */
export interface EventWriteStore {
  /** Unconditional batch write (BatchWriteItem with retries); resolves with the items it could not write. */
  putBatch(items: readonly EventItem[]): Promise<EventItem[]>;
  /** Conditional put: writes unless an item with that key exists. Resolves false when one did. */
  putIfAbsent(item: EventItem): Promise<boolean>;
  /** The keys that exist, by consistent reads (BatchGetItem, 100 keys per request). */
  existing?(keys: readonly ItemKey[]): Promise<ItemKey[]>;
}

export interface WriterDeps {
  readonly store: EventWriteStore;
  readonly log?: (message: string, fields: Record<string, unknown>) => void;
  /** Conditional puts in flight at once. */
  readonly concurrency?: number;
  /** Records the tenants that have stored events (retention finds them there); failures are logged, not fatal. */
  readonly registerTenants?: (tenants: string[]) => Promise<void>;
  /**
   * Age (ms since the API received a message's events) from which a first delivery is handled as
   * a redelivery. A message redriven from the DLQ starts over at receive count 1, though an earlier
   * delivery may have stored some of its events, and one may have been soft-deleted since; it has
   * waited out at least a few visibility timeouts, so the handler passes the queue's visibility
   * timeout. Unset: only the receive count counts.
   */
  readonly redeliveryAgeMs?: number;
  /** Clock for the age above. */
  readonly now?: () => number;
}

/** What happened to one record (one message, holding one or more events). */
export interface RecordOutcome {
  readonly messageId: string;
  readonly outcome: 'stored' | 'failed' | 'poison';
  /** Events the message carries (0 for a poison message). */
  readonly events: number;
  /** When the API received the message's events (epoch ms), for the end-to-end lag. */
  readonly receivedAt?: number;
}

export interface WriteOutcome {
  readonly batchItemFailures: { itemIdentifier: string }[];
  readonly records: RecordOutcome[];
  /** Events newly stored. */
  readonly written: number;
  readonly alreadyStored: number;
  readonly poison: number;
  /** Records handled as redeliveries: received before, or older than `redeliveryAgeMs`. */
  readonly redelivered: number;
}

/** Thrown when no record of the batch could be written for reasons other than its own content. */
export class BatchWriteError extends Error {
  constructor(readonly failed: number) {
    super(`no record of the batch could be written (${failed} failed)`);
    this.name = 'BatchWriteError';
  }
}

/** A record whose body decoded: its events, and whether an earlier delivery may have stored some. */
interface DecodedRecord {
  readonly messageId: string;
  readonly entries: readonly MessageEntry[];
  readonly redelivered: boolean;
  readonly receivedAt?: number;
}

/**
 * One item to write and the records that carry it (duplicates in one batch share one write):
 * `idempotent` items are always written with a condition; `maybeStored` ones (in a redelivered
 * message, or carried twice) are looked up first.
 */
interface PendingWrite {
  readonly item: EventItem;
  idempotent: boolean;
  maybeStored: boolean;
  readonly messageIds: string[];
}

/** What a write step did: items newly stored, items found stored, writes that failed. */
interface WriteResult {
  readonly written: number;
  readonly alreadyStored: number;
  readonly failed: readonly PendingWrite[];
}

/**
 * Stores a batch of queued events and reports exactly the records that were not stored. A record
 * carries one or more events; it counts as stored only when every one of its events is.
 *
 * Idempotence: ids are fixed before enqueue, so a redelivered message targets the same item.
 * A first delivery of an event without an idempotency key cannot exist yet and goes through the
 * cheap BatchWriteItem. A redelivery (a receive count above 1, or a message older than
 * `redeliveryAgeMs`: one redriven from the DLQ) or an idempotency-keyed event is written with a
 * condition (attribute_not_exists), so it never overwrites what is stored — not even a soft delete
 * made since — and never creates a second item; a redelivery first looks up which of its events
 * are stored and skips them.
 */
export const writeBatch = async (records: readonly WriterRecord[], deps: WriterDeps): Promise<WriteOutcome> => {
  const { decoded, poison } = decodeRecords(records, (deps.now ?? Date.now)(), deps);
  const writes = mergeByItemKey(decoded);
  const { firstWrites, guardedWrites, alreadyStored } = await splitByLookup(writes, deps);
  const results = [await writeUnconditionally(firstWrites, deps), await writeConditionally(guardedWrites, deps)];
  const failedWrites = results.flatMap((r) => r.failed);
  const failed = new Set([...poison, ...failedWrites.flatMap((w) => w.messageIds)]);
  if (records.length > 0 && failed.size === records.length && failedWrites.length > 0) throw new BatchWriteError(failed.size);
  await registerTenants(writes, failed, deps);
  return {
    ...collectOutcomes(records, decoded, failed),
    written: results.reduce((sum, r) => sum + r.written, 0),
    alreadyStored: results.reduce((sum, r) => sum + r.alreadyStored, alreadyStored),
    poison: poison.length,
    redelivered: decoded.filter((r) => r.redelivered).length,
  };
};

/** Step 1: decode each record; one that does not decode is poison: reported failed, so the DLQ ends up with it. */
const decodeRecords = (records: readonly WriterRecord[], now: number, deps: WriterDeps): { decoded: DecodedRecord[]; poison: string[] } => {
  const decoded: DecodedRecord[] = [];
  const poison: string[] = [];
  for (const record of records) {
    let entries: ReturnType<typeof decodeMessage>;
    try {
      entries = decodeMessage(record.body);
    } catch (error) {
      poison.push(record.messageId);
      deps.log?.('poison message', { messageId: record.messageId, reason: (error as Error).message });
      continue;
    }
    const receivedAt = receivedAtOfItem((entries[0] as (typeof entries)[number]).item);
    // Without a receipt time the age is unknown: a lookup is the safe side.
    const old = deps.redeliveryAgeMs !== undefined && (receivedAt === undefined || now - receivedAt > deps.redeliveryAgeMs);
    const redelivered = record.receiveCount > 1 || old;
    decoded.push({ messageId: record.messageId, entries, redelivered, ...(receivedAt !== undefined && { receivedAt }) });
  }
  return { decoded, poison };
};

/** Step 2: one pending write per item key; an item carried twice may already be stored. */
const mergeByItemKey = (decoded: readonly DecodedRecord[]): PendingWrite[] => {
  const byKey = new Map<string, PendingWrite>();
  for (const record of decoded) {
    for (const { item, idempotent } of record.entries) {
      const key = keyString(item);
      const pending = byKey.get(key);
      if (pending) {
        if (!pending.messageIds.includes(record.messageId)) pending.messageIds.push(record.messageId);
        pending.maybeStored = true;
        pending.idempotent ||= idempotent;
      } else {
        byKey.set(key, { item, idempotent, maybeStored: record.redelivered, messageIds: [record.messageId] });
      }
    }
  }
  return [...byKey.values()];
};

/**
 * Step 3: first deliveries without an idempotency key go to the batch write; the rest get a
 * condition. Items an earlier delivery may have stored (a failed attempt wrote most of its batch)
 * are looked up with batched consistent reads, at a fifth of a write's price, and skipped when
 * found. Those not found still get a condition: another copy of the message may store one between
 * lookup and write. A failed lookup only costs the saving.
 */
const splitByLookup = async (
  writes: readonly PendingWrite[],
  deps: WriterDeps,
): Promise<{ firstWrites: PendingWrite[]; guardedWrites: PendingWrite[]; alreadyStored: number }> => {
  const unsure = writes.filter((w) => w.maybeStored);
  const missing = await notStored(unsure, deps);
  return {
    firstWrites: writes.filter((w) => !w.maybeStored && !w.idempotent),
    guardedWrites: [...writes.filter((w) => !w.maybeStored && w.idempotent), ...missing],
    alreadyStored: unsure.length - missing.length,
  };
};

const notStored = async (unsure: PendingWrite[], deps: WriterDeps): Promise<PendingWrite[]> => {
  if (!deps.store.existing || unsure.length === 0) return unsure;
  try {
    const found = new Set((await deps.store.existing(unsure.map((w) => w.item))).map(keyString));
    return unsure.filter((w) => !found.has(keyString(w.item)));
  } catch (error) {
    deps.log?.('existence check failed', { items: unsure.length, reason: (error as Error).name });
    return unsure;
  }
};

/** Step 4a: the cheap BatchWriteItem; what it could not write (or all of it, if it threw) failed. */
const writeUnconditionally = async (writes: readonly PendingWrite[], deps: WriterDeps): Promise<WriteResult> => {
  if (writes.length === 0) return { written: 0, alreadyStored: 0, failed: [] };
  let unprocessed: Set<EventItem>;
  try {
    unprocessed = new Set(await deps.store.putBatch(writes.map((w) => w.item)));
  } catch (error) {
    deps.log?.('batch write failed', { items: writes.length, reason: (error as Error).name });
    unprocessed = new Set(writes.map((w) => w.item));
  }
  const failed = writes.filter((w) => unprocessed.has(w.item));
  return { written: writes.length - failed.length, alreadyStored: 0, failed };
};

/** Step 4b: conditional puts (attribute_not_exists), `concurrency` in flight at once. */
const writeConditionally = async (writes: readonly PendingWrite[], deps: WriterDeps): Promise<WriteResult> => {
  const results = await mapLimit(writes, deps.concurrency ?? 16, async (w): Promise<'written' | 'alreadyStored' | 'failed'> => {
    try {
      return (await deps.store.putIfAbsent(w.item)) ? 'written' : 'alreadyStored';
    } catch (error) {
      deps.log?.('conditional write failed', { messageIds: w.messageIds, reason: (error as Error).name });
      return 'failed';
    }
  });
  return {
    written: results.filter((r) => r === 'written').length,
    alreadyStored: results.filter((r) => r === 'alreadyStored').length,
    failed: writes.filter((_, index) => results[index] === 'failed'),
  };
};

/** Step 5: the tenants with a stored record (retention finds them there); a failure is logged, not fatal. */
const registerTenants = async (writes: readonly PendingWrite[], failed: ReadonlySet<string>, deps: WriterDeps): Promise<void> => {
  if (!deps.registerTenants) return;
  const tenants = new Set<string>();
  for (const w of writes) {
    const parts = parseTenantPartition(w.item.pk);
    if (parts && !w.messageIds.some((id) => failed.has(id))) tenants.add(parts.tenant);
  }
  try {
    await deps.registerTenants([...tenants]);
  } catch (error) {
    deps.log?.('tenant registration failed', { reason: (error as Error).name });
  }
};

/** Step 6: one outcome per record, in the order the batch gave them, and the failed ones for SQS. */
const collectOutcomes = (
  records: readonly WriterRecord[],
  decoded: readonly DecodedRecord[],
  failed: ReadonlySet<string>,
): Pick<WriteOutcome, 'batchItemFailures' | 'records'> => {
  const byId = new Map(decoded.map((r) => [r.messageId, r]));
  return {
    batchItemFailures: records.filter((record) => failed.has(record.messageId)).map((record) => ({ itemIdentifier: record.messageId })),
    records: records.map((record) => {
      const decodedRecord = byId.get(record.messageId);
      const outcome = decodedRecord === undefined ? 'poison' : failed.has(record.messageId) ? 'failed' : 'stored';
      const receivedAt = decodedRecord?.receivedAt;
      return {
        messageId: record.messageId,
        outcome,
        events: decodedRecord?.entries.length ?? 0,
        ...(receivedAt !== undefined && { receivedAt }),
      };
    }),
  };
};
