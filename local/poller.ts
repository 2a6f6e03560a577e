/**
 * Lambda's SQS event source mapping, locally: long-polls a queue, gathers batches by size and
 * batching window, invokes the function, and deletes only what succeeded. Failed messages are
 * left alone: they come back after the visibility timeout and the queue's redrive policy moves
 * them to the DLQ (SQS does that, not the poller).
 */
import type { Message, MessageAttributeValue } from '@aws-sdk/client-sqs';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import type { EventSourceMappingModel } from './template/model';
import type { InvocationResult } from './function-runner';

/** The few SQS operations the poller needs (the SDK client in the runtime, a fake in tests). */
export interface SqsPort {
  receive(input: { queueUrl: string; maxMessages: number; waitTimeSeconds: number; signal: AbortSignal }): Promise<Message[]>;
  /** Deletes by receipt handle; returns the ids of entries SQS failed to delete. */
  deleteBatch(queueUrl: string, entries: { id: string; receiptHandle: string }[]): Promise<string[]>;
}

export type Invoker = (event: SQSEvent) => Promise<InvocationResult>;

export interface PollerOptions {
  readonly mapping: EventSourceMappingModel;
  readonly queueUrl: string;
  readonly queueArn: string;
  readonly region: string;
  readonly sqs: SqsPort;
  readonly invoke: Invoker;
  /** Concurrent batches when the mapping sets no ScalingConfig.MaximumConcurrency. @default 2 */
  readonly defaultConcurrency?: number;
  /**
   * Upper bound on concurrent batches, e.g. the function's execution environments: a poller
   * that holds messages while waiting for a free environment only burns visibility timeout.
   * @default no bound
   */
  readonly concurrencyLimit?: number;
  /** Long-poll wait when idle (seconds, ≤ 20). @default 20 */
  readonly waitTimeSeconds?: number;
  readonly log?: (line: string) => void;
  readonly sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
}

export interface PollerStats {
  /** The mapping's settings in effect (from the template). */
  readonly batchSize: number;
  readonly maximumBatchingWindowSeconds: number;
  readonly concurrency: number;
  batches: number;
  /** Records in the largest batch passed to the function so far. */
  largestBatch: number;
  records: number;
  /** Records deleted after a successful (or partially successful) invocation. */
  succeededRecords: number;
  /** Records left on the queue: reported failures, failed invocations, invalid responses. */
  failedRecords: number;
  /** Invocations that threw, timed out or crashed. */
  functionErrors: number;
  /** Invocations whose batchItemFailures response was invalid (whole batch failed). */
  invalidResponses: number;
  deleteErrors: number;
  receiveErrors: number;
}

export type BatchOutcome =
  | { readonly kind: 'success' }
  | { readonly kind: 'partial'; readonly failedIds: ReadonlySet<string> }
  | { readonly kind: 'failure'; readonly reason: string };

/**
 * How Lambda reads a function's answer for a batch, following the documented success and
 * failure conditions of ReportBatchItemFailures.
 */
export const batchOutcome = (result: InvocationResult, messageIds: readonly string[], reportBatchItemFailures: boolean): BatchOutcome => {
  if (!result.ok) return { kind: 'failure', reason: `${result.error.errorType}: ${result.error.errorMessage}` };
  if (!reportBatchItemFailures) return { kind: 'success' };
  const payload = result.payload;
  if (payload === null || payload === undefined) return { kind: 'success' };
  if (typeof payload !== 'object' || Array.isArray(payload)) return { kind: 'failure', reason: 'invalid batch response (not an object)' };
  const failures = (payload as { batchItemFailures?: unknown }).batchItemFailures;
  if (failures === undefined || failures === null) return { kind: 'success' };
  if (!Array.isArray(failures)) return { kind: 'failure', reason: 'invalid batch response (batchItemFailures is not a list)' };
  if (failures.length === 0) return { kind: 'success' };
  const known = new Set(messageIds);
  const failedIds = new Set<string>();
  for (const f of failures) {
    const id = typeof f === 'object' && f !== null ? (f as { itemIdentifier?: unknown }).itemIdentifier : undefined;
    if (typeof id !== 'string' || id === '')
      return { kind: 'failure', reason: 'invalid batch response (missing, null or empty itemIdentifier)' };
    if (!known.has(id)) return { kind: 'failure', reason: `invalid batch response (itemIdentifier ${id} is not in the batch)` };
    failedIds.add(id);
  }
  return { kind: 'partial', failedIds };
};

const toLambdaAttribute = (a: MessageAttributeValue) => ({
  ...(a.StringValue !== undefined ? { stringValue: a.StringValue } : {}),
  ...(a.BinaryValue !== undefined ? { binaryValue: Buffer.from(a.BinaryValue).toString('base64') } : {}),
  stringListValues: a.StringListValues ?? [],
  binaryListValues: (a.BinaryListValues ?? []).map((b) => Buffer.from(b).toString('base64')),
  dataType: a.DataType ?? 'String',
});

/** The SQS event Lambda passes to the function for a batch of received messages. */
export const buildSqsEvent = (messages: readonly Message[], queueArn: string, region: string): SQSEvent => ({
  Records: messages.map((m): SQSRecord => {
    const attrs = m.Attributes ?? {};
    const record: SQSRecord = {
      messageId: m.MessageId ?? '',
      receiptHandle: m.ReceiptHandle ?? '',
      body: m.Body ?? '',
      attributes: {
        ...attrs,
        ApproximateReceiveCount: attrs.ApproximateReceiveCount ?? '1',
        SentTimestamp: attrs.SentTimestamp ?? String(Date.now()),
        SenderId: attrs.SenderId ?? 'AIDAIENQZJOLO23YVJ4VO',
        ApproximateFirstReceiveTimestamp: attrs.ApproximateFirstReceiveTimestamp ?? String(Date.now()),
      } as SQSRecord['attributes'],
      messageAttributes: Object.fromEntries(
        Object.entries(m.MessageAttributes ?? {}).map(([k, v]) => [k, toLambdaAttribute(v)]),
      ) as SQSRecord['messageAttributes'],
      md5OfBody: m.MD5OfBody ?? '',
      eventSource: 'aws:sqs',
      eventSourceARN: queueArn,
      awsRegion: region,
    };
    if (m.MD5OfMessageAttributes)
      (record as SQSRecord & { md5OfMessageAttributes?: string }).md5OfMessageAttributes = m.MD5OfMessageAttributes;
    return record;
  }),
});

const defaultSleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal.aborted) return resolve();
    const onAbort = () => {
      clearTimeout(t);
      resolve();
    };
    const t = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });

/** One event source mapping's pollers. */
export class SqsPoller {
  readonly stats: PollerStats;
  private readonly abort = new AbortController();
  private loops: Promise<void>[] = [];

  constructor(private readonly opts: PollerOptions) {
    this.stats = {
      batchSize: opts.mapping.batchSize,
      maximumBatchingWindowSeconds: opts.mapping.maximumBatchingWindowSeconds,
      concurrency: this.concurrency,
      batches: 0,
      largestBatch: 0,
      records: 0,
      succeededRecords: 0,
      failedRecords: 0,
      functionErrors: 0,
      invalidResponses: 0,
      deleteErrors: 0,
      receiveErrors: 0,
    };
  }

  get concurrency() {
    const wanted = this.opts.mapping.maximumConcurrency ?? this.opts.defaultConcurrency ?? 2;
    return Math.max(1, Math.min(wanted, this.opts.concurrencyLimit ?? wanted));
  }

  start() {
    if (!this.opts.mapping.enabled) return;
    for (let i = 0; i < this.concurrency; i++) this.loops.push(this.loop());
  }

  /** Stops polling and waits for in-flight batches to finish. */
  async stop() {
    this.abort.abort();
    await Promise.allSettled(this.loops);
  }

  private log(line: string) {
    (this.opts.log ?? ((l: string) => process.stdout.write(`[poller ${this.opts.mapping.logicalId}] ${l}\n`)))(line);
  }

  private async loop() {
    const { signal } = this.abort;
    const sleep = this.opts.sleep ?? defaultSleep;
    while (!signal.aborted) {
      try {
        const batch = await this.gather(signal);
        if (batch.length > 0) await this.processBatch(batch);
      } catch (e) {
        if (signal.aborted) break;
        this.stats.receiveErrors++;
        this.log(`receive failed: ${(e as Error).message}; retrying in 1 s`);
        await sleep(1000, signal);
      }
    }
  }

  /** Gathers up to BatchSize messages, or what arrived when the batching window closes. */
  async gather(signal: AbortSignal): Promise<Message[]> {
    const { mapping, sqs, queueUrl } = this.opts;
    const idleWait = Math.min(20, this.opts.waitTimeSeconds ?? 20);
    const windowMs = mapping.maximumBatchingWindowSeconds * 1000;
    const sleep = this.opts.sleep ?? defaultSleep;
    const batch: Message[] = [];
    let windowEnd = 0;
    while (!signal.aborted && batch.length < mapping.batchSize) {
      let wait = idleWait;
      if (batch.length > 0) {
        const remaining = windowEnd - Date.now();
        if (remaining <= 0) break;
        wait = Math.min(idleWait, Math.floor(remaining / 1000));
      }
      const got = await sqs.receive({
        queueUrl,
        maxMessages: Math.min(10, mapping.batchSize - batch.length),
        waitTimeSeconds: wait,
        signal,
      });
      if (got.length > 0 && batch.length === 0) windowEnd = Date.now() + windowMs;
      batch.push(...got);
      // Window 0: invoke with what one receive returned, as Lambda does.
      if (batch.length > 0 && windowMs === 0) break;
      // A sub-second remainder of the window cannot be long-polled; wait it out briefly.
      if (got.length === 0 && batch.length > 0 && wait === 0) await sleep(Math.min(100, Math.max(0, windowEnd - Date.now())), signal);
    }
    return batch;
  }

  async processBatch(batch: Message[]) {
    const { mapping, queueArn, region } = this.opts;
    this.stats.batches++;
    this.stats.records += batch.length;
    this.stats.largestBatch = Math.max(this.stats.largestBatch, batch.length);
    const event = buildSqsEvent(batch, queueArn, region);
    const result = await this.opts.invoke(event);
    const ids = batch.map((m) => m.MessageId ?? '');
    const outcome = batchOutcome(result, ids, mapping.reportBatchItemFailures);
    if (outcome.kind === 'failure') {
      if (result.ok) this.stats.invalidResponses++;
      else this.stats.functionErrors++;
      this.stats.failedRecords += batch.length;
      this.log(`batch of ${batch.length} failed (${outcome.reason}); messages return after the visibility timeout`);
      return;
    }
    const toDelete = outcome.kind === 'partial' ? batch.filter((m) => !outcome.failedIds.has(m.MessageId ?? '')) : batch;
    if (outcome.kind === 'partial') this.stats.failedRecords += outcome.failedIds.size;
    await this.deleteMessages(toDelete);
  }

  private async deleteMessages(messages: Message[]) {
    const { sqs, queueUrl } = this.opts;
    for (let i = 0; i < messages.length; i += 10) {
      const chunk = messages.slice(i, i + 10);
      try {
        const failed = await sqs.deleteBatch(
          queueUrl,
          chunk.map((m, j) => ({ id: String(j), receiptHandle: m.ReceiptHandle ?? '' })),
        );
        this.stats.succeededRecords += chunk.length - failed.length;
        if (failed.length) {
          this.stats.deleteErrors += failed.length;
          this.log(`could not delete ${failed.length} processed message(s); they will be delivered again`);
        }
      } catch (e) {
        this.stats.deleteErrors += chunk.length;
        this.log(`DeleteMessageBatch failed: ${(e as Error).message}`);
      }
    }
  }
}
