/**
 * Lambda's event source mapping for a DynamoDB stream, locally: reads a StreamLog from its own
 * position (starting position from the mapping), gathers batches by size and batching window,
 * invokes the function with the DynamoDB stream event, and moves on only past what succeeded —
 * one batch in flight per mapping, so records reach the function in stream order.
 *
 * On failure it retries the batch (with backoff). `ReportBatchItemFailures`: it checkpoints before
 * the lowest reported sequence number and retries from there. `BisectBatchOnFunctionError`: a failed
 * batch of more than one record is split in two and the halves retried (a split does not use up a
 * retry). When `MaximumRetryAttempts` or `MaximumRecordAgeInSeconds` is exhausted, the batch's
 * description goes to the on-failure destination (as Lambda writes it) and the mapping moves on.
 */
import type { DynamoDBStreamEvent } from 'aws-lambda';
import type { InvocationResult } from './function-runner';
import { batchOutcome } from './poller';
import { SHARD_ID, type StoredRecord, type StreamLog, type StreamReader } from './stream-log';
import type { StreamEventSourceMappingModel } from './template/model';

export interface StreamPollerOptions {
  readonly mapping: StreamEventSourceMappingModel;
  readonly log: StreamLog;
  readonly invoke: (event: DynamoDBStreamEvent) => Promise<InvocationResult>;
  /** Sends one on-failure record (JSON) to the mapping's destination; absent: the batch is only logged. */
  readonly onFailure?: (message: string) => Promise<void>;
  /** ARN of the function, for on-failure records. */
  readonly functionArn: string;
  readonly now?: () => number;
  readonly sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  readonly logLine?: (line: string) => void;
}

export interface StreamPollerStats {
  readonly table: string;
  readonly function: string;
  readonly batchSize: number;
  readonly maximumBatchingWindowSeconds: number;
  batches: number;
  records: number;
  /** Records behind this mapping's position, not yet passed to the function successfully. */
  pending: number;
  /** Age of the oldest record not yet processed (ms; 0 when caught up): the IteratorAge metric. */
  iteratorAgeMs: number;
  failedInvocations: number;
  partialBatches: number;
  bisections: number;
  /** Batches given up on and described to the on-failure destination. */
  discardedBatches: number;
  discardedRecords: number;
}

const LAG_SAMPLES = 2000;

const defaultSleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      resolve();
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });

const percentile = (sorted: number[], p: number) =>
  sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]! : null;

/** The event Lambda passes for a batch of stream records. */
export const buildStreamEvent = (records: readonly StoredRecord[]): DynamoDBStreamEvent => ({ Records: records.map((r) => r.record) });

export class StreamPoller {
  private readonly abort = new AbortController();
  private loopDone: Promise<void> | undefined;
  private reader: StreamReader | undefined;
  /** Write-to-processed times of recent records (ms): the stream lag. */
  private lags: number[] = [];
  private readonly counters = {
    batches: 0,
    records: 0,
    failedInvocations: 0,
    partialBatches: 0,
    bisections: 0,
    discardedBatches: 0,
    discardedRecords: 0,
  };

  constructor(private readonly opts: StreamPollerOptions) {}

  private get now() {
    return this.opts.now ?? Date.now;
  }

  /** Registers the position (from the mapping's starting position) and starts polling. */
  start() {
    const { mapping, log } = this.opts;
    if (!mapping.enabled || this.loopDone) return;
    this.reader = log.register(mapping.startingPosition, mapping.startingPositionTimestamp);
    this.loopDone = this.loop(this.reader);
  }

  async stop() {
    this.abort.abort();
    await this.loopDone;
    if (this.reader) this.opts.log.unregister(this.reader);
  }

  get stats(): StreamPollerStats {
    const { mapping, log } = this.opts;
    const position = this.reader?.position ?? log.end;
    const head = log.read(position, 1).records[0];
    return {
      table: mapping.tableLogicalId,
      function: mapping.functionLogicalId,
      batchSize: mapping.batchSize,
      maximumBatchingWindowSeconds: mapping.maximumBatchingWindowSeconds,
      ...this.counters,
      pending: log.available(position),
      iteratorAgeMs: head ? Math.max(0, this.now() - head.createdAtMs) : 0,
    };
  }

  /** p50/p99 of write-to-processed time over the recent records (ms). */
  lag() {
    const sorted = [...this.lags].sort((a, b) => a - b);
    return { samples: sorted.length, p50: percentile(sorted, 50), p99: percentile(sorted, 99) };
  }

  private logLine(line: string) {
    (this.opts.logLine ?? ((l: string) => process.stdout.write(`[stream ${this.opts.mapping.logicalId}] ${l}\n`)))(line);
  }

  private async loop(reader: StreamReader) {
    const { mapping, log } = this.opts;
    const { signal } = this.abort;
    const sleep = this.opts.sleep ?? defaultSleep;
    const windowMs = mapping.maximumBatchingWindowSeconds * 1000;
    let attempts = 0;
    // While bisecting: the largest batch to read, until the position passes `until`.
    let split: { size: number; until: number } | undefined;
    while (!signal.aborted) {
      if (log.available(reader.position) === 0) {
        await log.waitForAppend(signal, 1000);
        continue;
      }
      // The batching window opens with the first record waiting.
      if (windowMs > 0 && attempts === 0 && !split && log.available(reader.position) < mapping.batchSize) {
        const first = log.read(reader.position, 1).records[0]!;
        const closes = first.createdAtMs + windowMs;
        while (!signal.aborted && log.available(reader.position) < mapping.batchSize && this.now() < closes) {
          await log.waitForAppend(signal, Math.max(1, closes - this.now()));
        }
        if (signal.aborted) break;
      }
      if (split && reader.position >= split.until) split = undefined;
      const { records, from } = log.read(reader.position, split ? split.size : mapping.batchSize);
      reader.position = from;
      if (records.length === 0) continue;

      if (mapping.maximumRecordAgeSeconds >= 0) {
        const tooOld = records.findIndex((r) => this.now() - r.createdAtMs <= mapping.maximumRecordAgeSeconds * 1000);
        const expired = tooOld < 0 ? records : records.slice(0, tooOld);
        if (expired.length > 0) {
          await this.discard(reader, expired, 'RecordAgeExceeded', attempts);
          attempts = 0;
          continue;
        }
      }

      this.counters.batches++;
      this.counters.records += records.length;
      const result = await this.opts.invoke(buildStreamEvent(records));
      const ids = records.map((r) => r.record.dynamodb?.SequenceNumber ?? '');
      const outcome = batchOutcome(result, ids, mapping.reportBatchItemFailures);
      if (outcome.kind === 'success') {
        this.advance(reader, records, records.length);
        attempts = 0;
        continue;
      }
      if (signal.aborted) break;
      let failed = records;
      if (outcome.kind === 'partial') {
        this.counters.partialBatches++;
        // Checkpoint before the lowest failed sequence number; retry from there.
        const firstFailed = ids.findIndex((id) => outcome.failedIds.has(id));
        this.advance(reader, records, firstFailed);
        failed = records.slice(firstFailed);
        this.logLine(`batch of ${records.length}: ${outcome.failedIds.size} record(s) reported failed; retrying from ${ids[firstFailed]}`);
      } else {
        this.counters.failedInvocations++;
        this.logLine(`batch of ${records.length} failed (${outcome.reason})`);
        if (mapping.bisectBatchOnFunctionError && records.length > 1) {
          this.counters.bisections++;
          split = { size: Math.ceil(records.length / 2), until: reader.position + records.length };
          continue;
        }
      }
      attempts++;
      if (mapping.maximumRetryAttempts >= 0 && attempts > mapping.maximumRetryAttempts) {
        await this.discard(reader, failed, 'RetryAttemptsExhausted', attempts);
        attempts = 0;
        continue;
      }
      await sleep(Math.min(2000, 50 * 2 ** Math.min(attempts, 6)), signal);
    }
  }

  private advance(reader: StreamReader, records: readonly StoredRecord[], count: number) {
    const now = this.now();
    for (const r of records.slice(0, count)) this.lags.push(now - r.createdAtMs);
    if (this.lags.length > LAG_SAMPLES) this.lags = this.lags.slice(-LAG_SAMPLES);
    reader.position += count;
  }

  /** Describes a batch to the on-failure destination (Lambda's record format) and moves past it. */
  private async discard(reader: StreamReader, records: readonly StoredRecord[], condition: string, attempts: number) {
    const { log } = this.opts;
    const first = records[0]!;
    const last = records[records.length - 1]!;
    const message = JSON.stringify({
      requestContext: {
        requestId: first.record.eventID,
        functionArn: this.opts.functionArn,
        condition,
        approximateInvokeCount: attempts,
      },
      responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
      version: '1.0',
      timestamp: new Date(this.now()).toISOString(),
      DDBStreamBatchInfo: {
        shardId: SHARD_ID,
        startSequenceNumber: first.record.dynamodb?.SequenceNumber,
        endSequenceNumber: last.record.dynamodb?.SequenceNumber,
        approximateArrivalOfFirstRecord: new Date(first.createdAtMs).toISOString(),
        approximateArrivalOfLastRecord: new Date(last.createdAtMs).toISOString(),
        batchSize: records.length,
        streamArn: log.streamArn,
      },
    });
    this.counters.discardedBatches++;
    this.counters.discardedRecords += records.length;
    this.logLine(
      `${condition}: ${records.length} record(s) skipped${this.opts.onFailure ? ', described to the on-failure destination' : ''}`,
    );
    if (this.opts.onFailure) {
      try {
        await this.opts.onFailure(message);
      } catch (e) {
        this.logLine(`on-failure destination: ${(e as Error).message}`);
      }
    }
    reader.position += records.length;
  }
}
