import { BUS_SOURCE, type BusEvent, type TableChange, toBusEvents } from './bus-events';
import { erasureFilter, type ErasureStore } from './erasure';
import { parseTenantPartition, type EventItem } from './item-keys';
import type { Keyring } from './keyring';

/**
 * The publisher: turns a batch of table changes into bus events and puts them on the bus in stream
 * order, in PutEvents calls of at most 10 entries and 256 KB, retrying the entries a call reports
 * as failed. What still fails after the retries is reported as a partial batch failure from its
 * record on (Lambda retries the stream from the lowest failed sequence number), so nothing is lost
 * and a consumer may see an event twice (dedupe by `id` + detail-type). An inserted event an erasure
 * hid when it was stored (received by the erasure's cutoff, stored after the request: a message
 * redriven from the dead-letter queue after the erasure completed) is never published: consumers may
 * have erased their copies when `erasure.completed` reached them.
 */
export interface BusEntry {
  readonly source: string;
  readonly detailType: string;
  readonly detail: string;
  readonly time: string;
}

export interface BusPort {
  /** One PutEvents call; the indexes (into `entries`) of the entries the bus did not take. */
  put(entries: readonly BusEntry[]): Promise<{ failed: { index: number; code?: string }[] }>;
}

export interface ChangeRecord {
  /** The stream record's SequenceNumber (the batch item identifier). */
  readonly sequenceNumber: string;
  readonly change: TableChange;
}

export interface PublishDeps {
  readonly bus: BusPort;
  readonly keyring: Keyring;
  /** The tenants' erasure markers, read once per tenant and batch with inserted events. */
  readonly erasures: Pick<ErasureStore, 'listMarkers'>;
  /** Attempts per entry (first try included) before its record is reported failed. @default 4 */
  readonly maxAttempts?: number;
  /** Waits between attempts: base × 2^(attempt-1) ms, with full jitter. @default 100 */
  readonly backoffMs?: number;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly random?: () => number;
  readonly log?: (message: string, fields: Record<string, unknown>) => void;
}

export interface PublishOutcome {
  /** Entries the bus took. */
  readonly published: number;
  /** Records that mean no bus event (the withheld ones included). */
  readonly skipped: number;
  /** Inserted events not published because an erasure hides them. */
  readonly withheld: number;
  /** Entries that failed at least once and were retried. */
  readonly retried: number;
  /** Published entries by detail-type. */
  readonly byType: Readonly<Record<string, number>>;
  /** Records to retry: the first record that could not be published (and, implicitly, all after it). */
  readonly batchItemFailures: { itemIdentifier: string }[];
}

/** PutEvents limits: entries per call, and bytes per call as EventBridge counts them. */
export const MAX_ENTRIES_PER_CALL = 10;
export const MAX_BYTES_PER_CALL = 256 * 1024;
/** EventBridge counts a Time as 14 bytes. */
const TIME_BYTES = 14;

export const entrySize = (entry: BusEntry): number =>
  TIME_BYTES +
  Buffer.byteLength(entry.source, 'utf8') +
  Buffer.byteLength(entry.detailType, 'utf8') +
  Buffer.byteLength(entry.detail, 'utf8');

export const toEntry = (event: BusEvent): BusEntry => ({
  source: BUS_SOURCE,
  detailType: event.detailType,
  detail: JSON.stringify(event.detail),
  time: event.time,
});

/** Splits entries, in order, into calls of at most 10 entries and 256 KB. */
export const chunkEntries = <T extends BusEntry>(entries: readonly T[]): T[][] => {
  const calls: T[][] = [];
  let current: T[] = [];
  let bytes = 0;
  for (const entry of entries) {
    const size = entrySize(entry);
    if (size > MAX_BYTES_PER_CALL) throw new Error(`a bus entry of ${size} bytes exceeds the 256 KB PutEvents limit`);
    if (current.length === MAX_ENTRIES_PER_CALL || bytes + size > MAX_BYTES_PER_CALL) {
      calls.push(current);
      current = [];
      bytes = 0;
    }
    current.push(entry);
    bytes += size;
  }
  if (current.length > 0) calls.push(current);
  return calls;
};

type Pending = BusEntry & { readonly record: number };

class RecordFailed extends Error {
  constructor(readonly record: number) {
    super('publishing failed');
  }
}

export const publishChanges = async (records: readonly ChangeRecord[], deps: PublishDeps): Promise<PublishOutcome> => {
  const maxAttempts = deps.maxAttempts ?? 4;
  const backoff = deps.backoffMs ?? 100;
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const random = deps.random ?? Math.random;
  const byType: Record<string, number> = {};
  let published = 0;
  let skipped = 0;
  let retried = 0;

  // The erasure markers of every tenant with an inserted event (a failed read fails the batch whole).
  const tenants = new Set<string>();
  for (const { change } of records) {
    const pk = change.newImage?.pk;
    const tenant = change.eventName === 'INSERT' && typeof pk === 'string' ? parseTenantPartition(pk)?.tenant : undefined;
    if (tenant !== undefined) tenants.add(tenant);
  }
  const markers = new Map(await Promise.all([...tenants].map(async (t) => [t, await deps.erasures.listMarkers(t)] as const)));
  let withheld = 0;
  // Hidden as reads saw it when it was stored: the markers live at the record's time.
  const hidden = (tenant: string, item: EventItem, atMs: number): boolean => {
    const erased = erasureFilter(markers.get(tenant) ?? [], atMs)(item);
    if (erased) withheld++;
    return erased;
  };

  // Mapping first: a record that cannot be mapped fails from itself on; those before it still go out.
  const entries: Pending[] = [];
  let unmappable: number | undefined;
  for (const [index, { change, sequenceNumber }] of records.entries()) {
    let events: BusEvent[];
    try {
      events = toBusEvents(change, deps.keyring, hidden);
    } catch (error) {
      deps.log?.('stream record not publishable', { sequenceNumber, error: (error as Error).message });
      unmappable = index;
      break;
    }
    if (events.length === 0) skipped++;
    for (const event of events) entries.push({ ...toEntry(event), record: index });
  }

  /** Puts one call's entries, retrying those that fail; throws RecordFailed with the first record still failing. */
  const putCall = async (call: readonly Pending[]): Promise<void> => {
    let pending = call;
    for (let attempt = 1; ; attempt++) {
      let failed: Pending[];
      try {
        const out = await deps.bus.put(pending.map(({ record: _, ...entry }) => entry));
        const failedIndexes = new Set(out.failed.map((f) => f.index));
        failed = pending.filter((_, i) => failedIndexes.has(i));
        if (failed.length > 0)
          deps.log?.('bus entries failed', { failed: failed.length, codes: [...new Set(out.failed.map((f) => f.code))] });
      } catch (error) {
        deps.log?.('PutEvents call failed', { entries: pending.length, error: (error as Error).message });
        failed = [...pending];
      }
      for (const entry of pending) {
        if (!failed.includes(entry)) {
          published++;
          byType[entry.detailType] = (byType[entry.detailType] ?? 0) + 1;
        }
      }
      if (failed.length === 0) return;
      if (attempt >= maxAttempts) throw new RecordFailed(Math.min(...failed.map((e) => e.record)));
      retried += attempt === 1 ? failed.length : 0;
      await sleep(Math.floor(random() * backoff * 2 ** (attempt - 1)));
      pending = failed;
    }
  };

  let firstFailed = unmappable;
  try {
    for (const call of chunkEntries(entries)) await putCall(call);
  } catch (error) {
    if (!(error instanceof RecordFailed)) throw error;
    firstFailed = firstFailed === undefined ? error.record : Math.min(firstFailed, error.record);
  }
  if (firstFailed === 0 && published === 0 && unmappable === undefined) {
    // Nothing went out: the whole batch fails (and is retried whole), never an empty success.
    throw new Error(`publishing failed: none of ${entries.length} bus entries was accepted`);
  }
  const failedRecord = firstFailed === undefined ? undefined : records[firstFailed];
  return {
    published,
    skipped,
    withheld,
    retried,
    byType,
    batchItemFailures: failedRecord ? [{ itemIdentifier: failedRecord.sequenceNumber }] : [],
  };
};
