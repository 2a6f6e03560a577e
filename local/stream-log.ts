/**
 * A DynamoDB change stream, locally: an ordered, in-memory log of stream records for one table
 * (one shard, so records of an item — and of the whole table — keep their write order). Readers
 * (stream-poller.ts) keep their own positions; records every registered reader has passed are
 * trimmed, and none is kept past the stream's 24-hour retention.
 */
import { pooledRandomBytes } from '../lambdas/core/ids';
import type { DynamoDBRecord } from 'aws-lambda';
import type { StreamViewType } from './template/model';

/** An attribute map in DynamoDB's JSON wire format ({"S": "..."}, {"N": "1"}, ...). */
export type WireItem = Record<string, unknown>;

/** One stored stream record: the record as Lambda passes it, and when it was written (epoch ms). */
export interface StoredRecord {
  readonly record: DynamoDBRecord;
  readonly createdAtMs: number;
}

export const STREAM_RETENTION_MS = 24 * 3600 * 1000;
export const SHARD_ID = 'shardId-00000001000000000000-00000001';

const sizeOf = (v: unknown) => Buffer.byteLength(JSON.stringify(v ?? {}));

/**
 * The stream record of one change, or none when nothing changed (DynamoDB writes no record for a
 * put or update that leaves the item as it was).
 */
export const changeRecord = (input: {
  readonly keys: WireItem;
  readonly oldImage: WireItem | undefined;
  readonly newImage: WireItem | undefined;
  readonly viewType: StreamViewType;
  readonly sequenceNumber: string;
  readonly streamArn: string;
  readonly region: string;
  readonly nowMs: number;
}): DynamoDBRecord | undefined => {
  const { keys, oldImage, newImage, viewType } = input;
  if (!oldImage && !newImage) return undefined;
  if (oldImage && newImage && sameItem(oldImage, newImage)) return undefined;
  const eventName = !oldImage ? 'INSERT' : !newImage ? 'REMOVE' : 'MODIFY';
  const withNew = newImage && (viewType === 'NEW_IMAGE' || viewType === 'NEW_AND_OLD_IMAGES');
  const withOld = oldImage && (viewType === 'OLD_IMAGE' || viewType === 'NEW_AND_OLD_IMAGES');
  return {
    eventID: pooledRandomBytes(16).toString('hex'),
    eventName,
    eventVersion: '1.1',
    eventSource: 'aws:dynamodb',
    awsRegion: input.region,
    dynamodb: {
      ApproximateCreationDateTime: Math.floor(input.nowMs / 1000),
      Keys: keys as never,
      ...(withNew ? { NewImage: newImage as never } : {}),
      ...(withOld ? { OldImage: oldImage as never } : {}),
      SequenceNumber: input.sequenceNumber,
      SizeBytes: sizeOf(keys) + (withNew ? sizeOf(newImage) : 0) + (withOld ? sizeOf(oldImage) : 0),
      StreamViewType: viewType,
    },
    eventSourceARN: input.streamArn,
  };
};

/** Attribute maps compared regardless of attribute order (and of order inside sets). */
const canonical = (v: unknown): unknown => {
  if (Array.isArray(v)) return v.map(canonical);
  if (v && typeof v === 'object') {
    return Object.fromEntries(
      Object.keys(v)
        .sort()
        .map((k) => {
          const x = (v as Record<string, unknown>)[k];
          return [k, ['SS', 'NS', 'BS'].includes(k) && Array.isArray(x) ? [...x].sort() : canonical(x)];
        }),
    );
  }
  return v;
};
const sameItem = (a: WireItem, b: WireItem) => JSON.stringify(canonical(a)) === JSON.stringify(canonical(b));

export interface StreamReader {
  /** Index of the next record this reader has not passed (absolute, never reused). */
  position: number;
}

/** One table's stream. */
export class StreamLog {
  private records: StoredRecord[] = [];
  /** Absolute index of records[0]. */
  private base = 0;
  private sequence = 0n;
  private readonly readers = new Set<StreamReader>();
  private waiters: (() => void)[] = [];

  constructor(
    readonly tableLogicalId: string,
    readonly tableName: string,
    readonly streamArn: string,
    readonly viewType: StreamViewType,
    private readonly now: () => number = Date.now,
  ) {}

  /** Sequence numbers grow and compare as strings of the same length, like the cloud's. */
  nextSequenceNumber(): string {
    this.sequence += 1n;
    return (100000000000000000000n + this.sequence).toString();
  }

  append(record: DynamoDBRecord, createdAtMs: number) {
    this.records.push({ record, createdAtMs });
    this.trim();
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  /** Absolute index of the first record still held (TRIM_HORIZON). */
  get start() {
    return this.base;
  }

  /** Absolute index after the last record (LATEST). */
  get end() {
    return this.base + this.records.length;
  }

  /** A reader at TRIM_HORIZON, LATEST or the first record written at or after a time. */
  register(position: 'TRIM_HORIZON' | 'LATEST' | 'AT_TIMESTAMP', timestampSeconds?: number): StreamReader {
    let at = position === 'LATEST' ? this.end : this.start;
    if (position === 'AT_TIMESTAMP' && timestampSeconds !== undefined) {
      const i = this.records.findIndex((r) => r.createdAtMs >= timestampSeconds * 1000);
      at = i < 0 ? this.end : this.base + i;
    }
    const reader = { position: at };
    this.readers.add(reader);
    return reader;
  }

  unregister(reader: StreamReader) {
    this.readers.delete(reader);
  }

  /** Up to `max` records from an absolute position (a trimmed position reads from the start). */
  read(position: number, max: number): { records: StoredRecord[]; from: number } {
    const from = Math.max(position, this.base);
    return { records: this.records.slice(from - this.base, from - this.base + max), from };
  }

  /** Records at or after a position. */
  available(position: number) {
    return Math.max(0, this.end - Math.max(position, this.base));
  }

  /** Resolves when a record is appended (or the signal aborts). */
  waitForAppend(signal: AbortSignal, timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      if (signal.aborted) return resolve();
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      signal.addEventListener('abort', done, { once: true });
      this.waiters.push(done);
    });
  }

  /** Drops records every reader has passed (all but the last 10,000 when nobody reads) and expired ones. */
  private trim() {
    const minReader = this.readers.size ? Math.min(...[...this.readers].map((r) => r.position)) : this.end - 10_000;
    const expiredBefore = this.now() - STREAM_RETENTION_MS;
    let drop = Math.max(0, Math.min(minReader, this.end) - this.base);
    while (drop < this.records.length && this.records[drop]!.createdAtMs < expiredBefore) drop++;
    if (drop > 1000 || (drop > 0 && drop === this.records.length)) {
      this.records = this.records.slice(drop);
      this.base += drop;
    }
  }
}
