import { mapLimit } from './concurrency';
import { keyString, parseTenantPartition, type EventItem, type ItemKey } from './item-keys';
import { receivedAtOfItem } from './lag';
import { decodeMessage } from './message';

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
  const failed = new Set<string>();
  let poison = 0;
  let infraFailures = 0;
  /**
   * Events per item key (duplicates in one batch share one write): `idempotent` events are always
   * written with a condition; `maybeStored` ones (in a redelivered message, or carried twice) are
   * looked up first.
   */
  const byKey = new Map<string, { item: EventItem; idempotent: boolean; maybeStored: boolean; messageIds: string[] }>();

  const decodedRecords = new Map<string, { events: number; receivedAt?: number }>();
  const now = (deps.now ?? Date.now)();
  let redeliveredRecords = 0;

  for (const record of records) {
    let decoded;
    try {
      decoded = decodeMessage(record.body);
    } catch (error) {
      poison++;
      failed.add(record.messageId);
      deps.log?.('poison message', { messageId: record.messageId, reason: (error as Error).message });
      continue;
    }
    const receivedAt = receivedAtOfItem((decoded[0] as (typeof decoded)[number]).item);
    decodedRecords.set(record.messageId, { events: decoded.length, ...(receivedAt !== undefined && { receivedAt }) });
    // Without a receipt time the age is unknown: a lookup is the safe side.
    const old = deps.redeliveryAgeMs !== undefined && (receivedAt === undefined || now - receivedAt > deps.redeliveryAgeMs);
    const redelivered = record.receiveCount > 1 || old;
    if (redelivered) redeliveredRecords++;
    for (const { item, idempotent } of decoded) {
      const key = keyString(item);
      const entry = byKey.get(key);
      if (entry) {
        if (!entry.messageIds.includes(record.messageId)) entry.messageIds.push(record.messageId);
        entry.maybeStored = true;
        entry.idempotent ||= idempotent;
      } else {
        byKey.set(key, { item, idempotent, maybeStored: redelivered, messageIds: [record.messageId] });
      }
    }
  }

  const entries = [...byKey.values()];
  let written = 0;
  let alreadyStored = 0;

  const markFailed = (entry: { messageIds: string[] }): void => {
    infraFailures++;
    for (const id of entry.messageIds) failed.add(id);
  };

  // Events an earlier delivery may have stored (a failed attempt wrote most of its batch): find
  // those with batched consistent reads, at a fifth of a write's price, and skip them. The rest
  // still get a condition: another copy of the message may store one between lookup and write.
  // A failed lookup only costs the saving.
  let unsure = entries.filter((entry) => entry.maybeStored);
  if (deps.store.existing && unsure.length > 0) {
    try {
      const found = new Set((await deps.store.existing(unsure.map((e) => e.item))).map(keyString));
      const missing = unsure.filter((entry) => !found.has(keyString(entry.item)));
      alreadyStored += unsure.length - missing.length;
      unsure = missing;
    } catch (error) {
      deps.log?.('existence check failed', { items: unsure.length, reason: (error as Error).name });
    }
  }
  const plain = entries.filter((entry) => !entry.maybeStored && !entry.idempotent);
  const conditional = [...entries.filter((entry) => !entry.maybeStored && entry.idempotent), ...unsure];

  if (plain.length > 0) {
    let unprocessed: Set<EventItem>;
    try {
      unprocessed = new Set(await deps.store.putBatch(plain.map((entry) => entry.item)));
    } catch (error) {
      deps.log?.('batch write failed', { items: plain.length, reason: (error as Error).name });
      unprocessed = new Set(plain.map((entry) => entry.item));
    }
    for (const entry of plain) {
      if (unprocessed.has(entry.item)) markFailed(entry);
      else written++;
    }
  }

  await mapLimit(conditional, deps.concurrency ?? 16, async (entry) => {
    try {
      if (await deps.store.putIfAbsent(entry.item)) written++;
      else alreadyStored++;
    } catch (error) {
      deps.log?.('conditional write failed', { messageIds: entry.messageIds, reason: (error as Error).name });
      markFailed(entry);
    }
  });

  if (records.length > 0 && failed.size === records.length && infraFailures > 0) throw new BatchWriteError(failed.size);
  if (deps.registerTenants) {
    const tenants = new Set<string>();
    for (const entry of entries) {
      const parts = parseTenantPartition(entry.item.pk);
      if (parts && !entry.messageIds.some((id) => failed.has(id))) tenants.add(parts.tenant);
    }
    try {
      await deps.registerTenants([...tenants]);
    } catch (error) {
      deps.log?.('tenant registration failed', { reason: (error as Error).name });
    }
  }
  return {
    batchItemFailures: records.filter((record) => failed.has(record.messageId)).map((record) => ({ itemIdentifier: record.messageId })),
    records: records.map((record) => {
      const decoded = decodedRecords.get(record.messageId);
      const outcome = decoded === undefined ? 'poison' : failed.has(record.messageId) ? 'failed' : 'stored';
      return { messageId: record.messageId, outcome, events: decoded?.events ?? 0, ...(decoded?.receivedAt !== undefined && { receivedAt: decoded.receivedAt }) };
    }),
    written,
    alreadyStored,
    poison,
    redelivered: redeliveredRecords,
  };
};
