import { mapLimit } from './concurrency';
import { isInternalId, pooledRandomBytes, timeOfInternalId } from './ids';
import { LATE_AFTER_MS, lateLogPartition, timeKey, type LateLogItem } from './digest';
import { keyString, parseTenantPartition, typePartition, userPartition, type EventItem, type ItemKey } from './item-keys';
import { receivedAtOfItem } from './lag';
import { decodeMessage, type MessageEntry } from './message';

/** One SQS record as the writer sees it. */
export interface WriterRecord {
  readonly messageId: string;
  readonly body: string;
  /** SQS ApproximateReceiveCount: above 1 the item may already be stored. */
  readonly receiveCount: number;
}

/**
 * What a conditional put did: wrote the item, or found one with that key. `stored` is what the
 * store returned of the existing item (its payload digest `h`), when it returned it at all.
 */
export type PutOutcome = { readonly written: true } | { readonly written: false; readonly stored?: { readonly h?: string } };

/** A key that exists, with the payload digest of the item stored under it. */
export interface StoredKey extends ItemKey {
  readonly h?: string;
}

/** The storage port of the writer. */
export interface EventWriteStore {
  /** Conditional put (attribute_not_exists): writes unless an item with that key exists, never overwrites. */
  putIfAbsent(item: EventItem): Promise<PutOutcome>;
  /** Notes an event stored long after its sort-key time (core/digest.ts: the sealer finds it there). */
  putLateEntry?(entry: LateLogItem): Promise<void>;
  /** The keys that exist, with their payload digests, by consistent reads (BatchGetItem, 100 keys per request). */
  existing?(keys: readonly ItemKey[]): Promise<StoredKey[]>;
}

/** An idempotency-keyed event sent again with other content: the first stays stored. Internal fields only. */
export interface IdempotencyConflict {
  readonly tenant: string;
  /** The internal id (sort key); never returned to clients. */
  readonly id: string;
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
  /** Salt of each stored event's digest leaf. @default ids.ts pooledRandomBytes */
  readonly random?: (n: number) => Uint8Array;
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
  /** Idempotency keys replayed with another payload (the stored, first payload was kept). */
  readonly conflicts: IdempotencyConflict[];
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
 * `maybeStored` ones (in a redelivered message, or carried twice) are looked up first.
 */
interface PendingWrite {
  readonly item: EventItem;
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
 * Idempotence: ids are fixed before enqueue, so a redelivered message targets the same item. Every
 * event is written with a conditional PutItem (attribute_not_exists), so a write never overwrites
 * what is stored — not a soft delete made since, not another event under a forged or colliding key
 * — and never creates a second item. A redelivery (a receive count above 1, or a message older
 * than `redeliveryAgeMs`: one redriven from the DLQ) first looks up which of its events are stored
 * and skips them (a read costs less than a failed conditional write).
 *
 * A message whose keys disagree with its tenant (pk, u and t must all be the tenant of its first
 * pk, u and t must be derived from the event's own userId and type) is poison: never written.
 *
 * An idempotency-keyed event found stored with another payload digest is a conflict: the first
 * payload stays, the conflict is reported (metric and log by the handler).
 */
export const writeBatch = async (records: readonly WriterRecord[], deps: WriterDeps): Promise<WriteOutcome> => {
  const { decoded, poison } = decodeRecords(records, (deps.now ?? Date.now)(), deps);
  const conflicts = new Conflicts();
  const writes = mergeByItemKey(decoded, conflicts);
  const { toWrite, alreadyStored } = await splitByLookup(writes, deps, conflicts);
  const result = await writeConditionally(toWrite, deps, conflicts, (deps.now ?? Date.now)());
  const failed = new Set([...poison, ...result.failed.flatMap((w) => w.messageIds)]);
  if (records.length > 0 && failed.size === records.length && result.failed.length > 0) throw new BatchWriteError(failed.size);
  await registerTenants(writes, failed, deps);
  return {
    ...collectOutcomes(records, decoded, failed),
    written: result.written,
    alreadyStored: result.alreadyStored + alreadyStored,
    poison: poison.length,
    conflicts: conflicts.list(),
    redelivered: decoded.filter((r) => r.redelivered).length,
  };
};

/** The conflicts found in a batch, once per item. */
class Conflicts {
  private readonly byKey = new Map<string, IdempotencyConflict>();
  /** Records a conflict when `item` carries a payload digest and the stored one differs. */
  compare(item: EventItem, storedDigest: string | undefined): void {
    if (item.h === undefined || storedDigest === item.h) return;
    this.byKey.set(keyString(item), { tenant: parseTenantPartition(item.pk)?.tenant ?? '', id: item.sk });
  }
  list(): IdempotencyConflict[] {
    return [...this.byKey.values()];
  }
}

/**
 * Why a message's items disagree with its tenant (the tenant of its first pk), or undefined when
 * they agree: every pk is `<tenant>#<shard>`, u is the tenant's partition of the event's own userId,
 * t the tenant's partition of the event's type on the same shard, sk an internal id.
 */
export const tenantDisagreement = (entries: readonly MessageEntry[]): string | undefined => {
  const tenant = parseTenantPartition((entries[0] as MessageEntry).item.pk)?.tenant;
  if (tenant === undefined) return "item 0: 'pk' is not a tenant partition";
  for (const [index, { item }] of entries.entries()) {
    const parts = parseTenantPartition(item.pk);
    if (parts?.tenant !== tenant) return `item ${index}: 'pk' belongs to another tenant than the message's`;
    if (!isInternalId(item.sk)) return `item ${index}: 'sk' is not an internal id`;
    const event = JSON.parse(item.e) as { userId?: unknown; type?: unknown };
    if (typeof event.userId !== 'string' || item.u !== userPartition(tenant, event.userId)) {
      return `item ${index}: 'u' is not the tenant's partition of the event's userId`;
    }
    if (typeof event.type !== 'string' || item.t !== typePartition(tenant, parts.shard, event.type)) {
      return `item ${index}: 't' is not the tenant's partition of the event's type`;
    }
  }
  return undefined;
};

/** Step 1: decode each record; one that does not decode, or whose keys disagree with its tenant, is poison: reported failed, so the DLQ ends up with it. */
const decodeRecords = (records: readonly WriterRecord[], now: number, deps: WriterDeps): { decoded: DecodedRecord[]; poison: string[] } => {
  const decoded: DecodedRecord[] = [];
  const poison: string[] = [];
  for (const record of records) {
    let entries: MessageEntry[];
    try {
      entries = decodeMessage(record.body);
      const disagreement = tenantDisagreement(entries);
      if (disagreement !== undefined) throw new Error(disagreement);
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

/** Step 2: one pending write per item key; an item carried twice may already be stored, and two payloads for one key conflict. */
const mergeByItemKey = (decoded: readonly DecodedRecord[], conflicts: Conflicts): PendingWrite[] => {
  const byKey = new Map<string, PendingWrite>();
  for (const record of decoded) {
    for (const { item } of record.entries) {
      const key = keyString(item);
      const pending = byKey.get(key);
      if (pending) {
        if (!pending.messageIds.includes(record.messageId)) pending.messageIds.push(record.messageId);
        pending.maybeStored = true;
        if (item.h !== undefined) conflicts.compare(item, pending.item.h);
      } else {
        byKey.set(key, { item, maybeStored: record.redelivered, messageIds: [record.messageId] });
      }
    }
  }
  return [...byKey.values()];
};

/**
 * Step 3: items an earlier delivery may have stored (a failed attempt wrote most of its batch) are
 * looked up with batched consistent reads, at a fifth of a write's price, and skipped when found
 * (their payload digests compared). Those not found still get the condition: another copy of the
 * message may store one between lookup and write. A failed lookup only costs the saving.
 */
const splitByLookup = async (
  writes: readonly PendingWrite[],
  deps: WriterDeps,
  conflicts: Conflicts,
): Promise<{ toWrite: PendingWrite[]; alreadyStored: number }> => {
  const unsure = writes.filter((w) => w.maybeStored);
  const found = await lookup(unsure, deps);
  if (found === undefined) return { toWrite: [...writes], alreadyStored: 0 };
  for (const w of unsure) {
    const stored = found.get(keyString(w.item));
    if (stored) conflicts.compare(w.item, stored.h);
  }
  return {
    toWrite: writes.filter((w) => !found.has(keyString(w.item))),
    alreadyStored: unsure.filter((w) => found.has(keyString(w.item))).length,
  };
};

/** The stored items among these writes, by key; undefined when the lookup is unavailable or failed. */
const lookup = async (writes: readonly PendingWrite[], deps: WriterDeps): Promise<Map<string, StoredKey> | undefined> => {
  if (!deps.store.existing || writes.length === 0) return writes.length === 0 ? new Map() : undefined;
  try {
    return new Map((await deps.store.existing(writes.map((w) => w.item))).map((k) => [keyString(k), k]));
  } catch (error) {
    deps.log?.('existence check failed', { items: writes.length, reason: (error as Error).name });
    return undefined;
  }
};

/**
 * Step 4: conditional puts (attribute_not_exists), `concurrency` in flight at once. Where a put
 * finds an idempotency-keyed item stored and the store did not return it, one lookup fetches the
 * stored digests to compare.
 */
const writeConditionally = async (
  writes: readonly PendingWrite[],
  deps: WriterDeps,
  conflicts: Conflicts,
  now: number,
): Promise<WriteResult> => {
  const unknownDigest: PendingWrite[] = [];
  const results = await mapLimit(writes, deps.concurrency ?? 16, async (w): Promise<'written' | 'alreadyStored' | 'failed'> => {
    try {
      // Stored-at and salt: the digest period and leaf hash (core/digest.ts). A retry that finds the item keeps the first ones.
      const item: EventItem = { ...w.item, w: now, s: Buffer.from((deps.random ?? pooledRandomBytes)(16)).toString('base64url') };
      const late = lateEntry(item, now);
      if (late && deps.store.putLateEntry) await deps.store.putLateEntry(late);
      const outcome = await deps.store.putIfAbsent(item);
      if (outcome.written) return 'written';
      if (outcome.stored) conflicts.compare(w.item, outcome.stored.h);
      else if (w.item.h !== undefined) unknownDigest.push(w);
      return 'alreadyStored';
    } catch (error) {
      deps.log?.('conditional write failed', { messageIds: w.messageIds, reason: (error as Error).name });
      return 'failed';
    }
  });
  const found = await lookup(unknownDigest, deps);
  for (const w of unknownDigest) {
    const stored = found?.get(keyString(w.item));
    if (stored) conflicts.compare(w.item, stored.h);
  }
  return {
    written: results.filter((r) => r === 'written').length,
    alreadyStored: results.filter((r) => r === 'alreadyStored').length,
    failed: writes.filter((_, index) => results[index] === 'failed'),
  };
};

/**
 * An event stored more than LATE_AFTER_MS after its sort-key time (a backfill, a redrive, a
 * backlog) is noted in the tenant's late log, written ahead of the event: the sealer reads only
 * the recent part of each timeline, and finds these there instead.
 */
const lateEntry = (item: EventItem, now: number): LateLogItem | undefined => {
  if (now - timeOfInternalId(item.sk) <= LATE_AFTER_MS) return undefined;
  const parts = parseTenantPartition(item.pk);
  if (!parts) return undefined;
  return { pk: lateLogPartition(parts.tenant), sk: `${timeKey(now)}#${parts.shard}#${item.sk}`, sh: parts.shard, id: item.sk, x: item.x };
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
