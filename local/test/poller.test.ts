import type { Message } from '@aws-sdk/client-sqs';
import type { SQSEvent } from 'aws-lambda';
import type { InvocationResult } from '../function-runner';
import { SqsPoller, batchOutcome, buildSqsEvent, type SqsPort } from '../poller';
import type { EventSourceMappingModel } from '../template/model';

const ok = (payload: unknown): InvocationResult => ({ ok: true, payload, requestId: 'r', durationMs: 1 });
const failed = (errorType = 'Error'): InvocationResult => ({
  ok: false,
  error: { errorType, errorMessage: 'boom' },
  requestId: 'r',
  durationMs: 1,
});

const message = (n: number): Message => ({
  MessageId: `m${n}`,
  ReceiptHandle: `rh${n}`,
  Body: `{"n":${n}}`,
  MD5OfBody: 'md5',
  Attributes: {
    ApproximateReceiveCount: '1',
    SentTimestamp: '1700000000000',
    SenderId: 'AIDA',
    ApproximateFirstReceiveTimestamp: '1700000000001',
  },
});

/** An in-memory queue: receive hands out what is ready, up to maxMessages; deletes are recorded. */
class FakeSqs implements SqsPort {
  ready: Message[] = [];
  deleted: string[] = [];
  receives: { maxMessages: number; waitTimeSeconds: number }[] = [];

  async receive(input: { maxMessages: number; waitTimeSeconds: number; signal: AbortSignal }): Promise<Message[]> {
    this.receives.push({ maxMessages: input.maxMessages, waitTimeSeconds: input.waitTimeSeconds });
    if (this.ready.length === 0) {
      // Long poll: wait a little (not the full wait) or until aborted.
      await new Promise<void>((resolve) => {
        const onAbort = () => {
          clearTimeout(t);
          resolve();
        };
        const t = setTimeout(() => {
          input.signal.removeEventListener('abort', onAbort);
          resolve();
        }, 20);
        input.signal.addEventListener('abort', onAbort, { once: true });
      });
      if (input.signal.aborted) throw new Error('aborted');
    }
    return this.ready.splice(0, input.maxMessages);
  }

  async deleteBatch(_queueUrl: string, entries: { id: string; receiptHandle: string }[]): Promise<string[]> {
    if (entries.length > 10) throw new Error('DeleteMessageBatch takes at most 10 entries');
    this.deleted.push(...entries.map((e) => e.receiptHandle));
    return [];
  }
}

const mapping = (over: Partial<EventSourceMappingModel> = {}): EventSourceMappingModel => ({
  logicalId: 'Mapping',
  queueLogicalId: 'Queue',
  functionLogicalId: 'Writer',
  batchSize: 10,
  maximumBatchingWindowSeconds: 0,
  functionResponseTypes: ['ReportBatchItemFailures'],
  reportBatchItemFailures: true,
  enabled: true,
  ...over,
});

const poller = (sqs: FakeSqs, invoke: (e: SQSEvent) => Promise<InvocationResult>, over: Partial<EventSourceMappingModel> = {}) =>
  new SqsPoller({
    mapping: mapping(over),
    queueUrl: 'http://q',
    queueArn: 'arn:aws:sqs:us-east-1:000000000000:Queue',
    region: 'us-east-1',
    sqs,
    invoke,
    log: () => {},
  });

describe('batchOutcome (ReportBatchItemFailures)', () => {
  const ids = ['a', 'b', 'c'];
  it.each([[undefined], [null], [{}], [{ batchItemFailures: null }], [{ batchItemFailures: [] }]])(
    'treats %j as complete success',
    (payload) => {
      expect(batchOutcome(ok(payload), ids, true)).toEqual({ kind: 'success' });
    },
  );

  it('reports the listed items as failed', () => {
    expect(batchOutcome(ok({ batchItemFailures: [{ itemIdentifier: 'b' }] }), ids, true)).toEqual({
      kind: 'partial',
      failedIds: new Set(['b']),
    });
  });

  it.each([
    ['an empty itemIdentifier', { batchItemFailures: [{ itemIdentifier: '' }] }],
    ['a null itemIdentifier', { batchItemFailures: [{ itemIdentifier: null }] }],
    ['a bad key name', { batchItemFailures: [{ ItemIdentifier: 'a' }] }],
    ['an id not in the batch', { batchItemFailures: [{ itemIdentifier: 'zzz' }] }],
    ['a list that is not a list', { batchItemFailures: 'a' }],
    ['a response that is not an object', 'done'],
  ])('treats %s as complete failure', (_name, payload) => {
    expect(batchOutcome(ok(payload), ids, true).kind).toBe('failure');
  });

  it('treats a function error as complete failure', () => {
    expect(batchOutcome(failed('Sandbox.Timedout'), ids, true)).toEqual({ kind: 'failure', reason: 'Sandbox.Timedout: boom' });
  });

  it('ignores batchItemFailures when the mapping does not report them', () => {
    expect(batchOutcome(ok({ batchItemFailures: [{ itemIdentifier: 'b' }] }), ids, false)).toEqual({ kind: 'success' });
  });
});

describe('buildSqsEvent', () => {
  it('builds Lambda SQS records', () => {
    const m: Message = {
      ...message(1),
      MessageAttributes: { kind: { DataType: 'String', StringValue: 'x' }, raw: { DataType: 'Binary', BinaryValue: Buffer.from('hi') } },
      MD5OfMessageAttributes: 'md5a',
    };
    const event = buildSqsEvent([m], 'arn:aws:sqs:us-east-1:000000000000:Queue', 'us-east-1');
    expect(event.Records[0]).toEqual({
      messageId: 'm1',
      receiptHandle: 'rh1',
      body: '{"n":1}',
      attributes: {
        ApproximateReceiveCount: '1',
        SentTimestamp: '1700000000000',
        SenderId: 'AIDA',
        ApproximateFirstReceiveTimestamp: '1700000000001',
      },
      messageAttributes: {
        kind: { stringValue: 'x', stringListValues: [], binaryListValues: [], dataType: 'String' },
        raw: { binaryValue: Buffer.from('hi').toString('base64'), stringListValues: [], binaryListValues: [], dataType: 'Binary' },
      },
      md5OfBody: 'md5',
      md5OfMessageAttributes: 'md5a',
      eventSource: 'aws:sqs',
      eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:Queue',
      awsRegion: 'us-east-1',
    });
  });
});

describe('SqsPoller', () => {
  it('deletes every message except the reported failures', async () => {
    const sqs = new FakeSqs();
    const p = poller(sqs, async () => ok({ batchItemFailures: [{ itemIdentifier: 'm2' }] }));
    await p.processBatch([1, 2, 3].map(message));
    expect(sqs.deleted).toEqual(['rh1', 'rh3']);
    expect(p.stats).toMatchObject({ batches: 1, records: 3, succeededRecords: 2, failedRecords: 1 });
  });

  it('deletes nothing when the function throws or times out', async () => {
    const sqs = new FakeSqs();
    const p = poller(sqs, async () => failed('Sandbox.Timedout'));
    await p.processBatch([1, 2].map(message));
    expect(sqs.deleted).toEqual([]);
    expect(p.stats).toMatchObject({ functionErrors: 1, failedRecords: 2, succeededRecords: 0 });
  });

  it('deletes nothing when the batch response is invalid', async () => {
    const sqs = new FakeSqs();
    const p = poller(sqs, async () => ok({ batchItemFailures: [{ itemIdentifier: 'not-in-batch' }] }));
    await p.processBatch([1, 2].map(message));
    expect(sqs.deleted).toEqual([]);
    expect(p.stats).toMatchObject({ invalidResponses: 1, failedRecords: 2 });
  });

  it('deletes in chunks of 10', async () => {
    const sqs = new FakeSqs();
    const p = poller(sqs, async () => ok(null), { batchSize: 25, maximumBatchingWindowSeconds: 1 });
    await p.processBatch(Array.from({ length: 25 }, (_, i) => message(i)));
    expect(sqs.deleted).toHaveLength(25);
  });

  it('gathers up to BatchSize messages, 10 per receive, with all attributes asked', async () => {
    const sqs = new FakeSqs();
    sqs.ready = Array.from({ length: 30 }, (_, i) => message(i));
    const p = poller(sqs, async () => ok(null), { batchSize: 25, maximumBatchingWindowSeconds: 5 });
    const batch = await p.gather(new AbortController().signal);
    expect(batch).toHaveLength(25);
    expect(sqs.receives.map((r) => r.maxMessages)).toEqual([10, 10, 5]);
    expect(sqs.receives[0]!.waitTimeSeconds).toBe(20);
  });

  it('invokes with what one receive returned when the batching window is 0', async () => {
    const sqs = new FakeSqs();
    sqs.ready = Array.from({ length: 4 }, (_, i) => message(i));
    const p = poller(sqs, async () => ok(null), { batchSize: 10, maximumBatchingWindowSeconds: 0 });
    sqs.receive = async (input) => {
      sqs.receives.push(input);
      return sqs.ready.splice(0, 2); // SQS may return fewer than asked
    };
    expect(await p.gather(new AbortController().signal)).toHaveLength(2);
    expect(sqs.receives).toHaveLength(1);
  });

  it('closes a partial batch when the batching window ends', async () => {
    const sqs = new FakeSqs();
    sqs.ready = [message(1)];
    const p = poller(sqs, async () => ok(null), { batchSize: 100, maximumBatchingWindowSeconds: 1 });
    const started = Date.now();
    const batch = await p.gather(new AbortController().signal);
    expect(batch).toHaveLength(1);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(Date.now() - started).toBeLessThan(2500);
  });

  it('runs MaximumConcurrency batches at once (2 by default) and stops cleanly', async () => {
    const sqs = new FakeSqs();
    sqs.ready = Array.from({ length: 40 }, (_, i) => message(i));
    let running = 0;
    let peak = 0;
    const invoke = async (e: SQSEvent) => {
      running++;
      peak = Math.max(peak, running);
      await new Promise((r) => setTimeout(r, 30));
      running--;
      return ok({ batchItemFailures: e.Records.slice(0, 1).map((r) => ({ itemIdentifier: r.messageId })) });
    };
    const p = poller(sqs, invoke, { batchSize: 5, maximumConcurrency: 3 });
    expect(p.concurrency).toBe(3);
    expect(poller(sqs, invoke).concurrency).toBe(2);
    const capped = new SqsPoller({
      mapping: mapping({ maximumConcurrency: 10 }),
      queueUrl: 'q',
      queueArn: 'a',
      region: 'r',
      sqs,
      invoke,
      concurrencyLimit: 4,
    });
    expect(capped.concurrency).toBe(4);
    p.start();
    await new Promise((r) => setTimeout(r, 400));
    await p.stop();
    expect(peak).toBe(3);
    expect(p.stats.records).toBe(40);
    expect(p.stats.failedRecords).toBe(8);
    expect(sqs.deleted).toHaveLength(32);
  });
});
