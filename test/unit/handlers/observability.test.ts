import type { SQSClient } from '@aws-sdk/client-sqs';
import type { APIGatewayProxyEvent, SQSEvent } from 'aws-lambda';
import type { QueueMessage } from '../../../lambdas/core/message';
import { MemoryTable, RecordingQueue, testKeyring } from '../../support/fakes';
import { configureHandlerEnv, fakeAuthenticate, lambdaContext } from '../../support/handler-env';

// The handler modules wire their real adapters at import; the logger writes JSON at INFO to stdout.
configureHandlerEnv({
  POWERTOOLS_SERVICE_NAME: 'activity-tracker',
  POWERTOOLS_METRICS_NAMESPACE: 'ActivityTracker',
  POWERTOOLS_LOG_LEVEL: 'INFO',
  POWERTOOLS_DEV: undefined,
});

/* eslint-disable @typescript-eslint/no-require-imports */
const { createIngestHandler } = require('../../../lambdas/handlers/ingest') as typeof import('../../../lambdas/handlers/ingest');
const { createWriterHandler } = require('../../../lambdas/handlers/writer') as typeof import('../../../lambdas/handlers/writer');
const { SqsEventQueue, chunkForSqs, sqsMessageBytes, SQS_BATCH_BYTES } =
  require('../../../lambdas/adapters/sqs-queue') as typeof import('../../../lambdas/adapters/sqs-queue');
const { correlationIdOf, rejectionReason } =
  require('../../../lambdas/shared/telemetry') as typeof import('../../../lambdas/shared/telemetry');
/* eslint-enable @typescript-eslint/no-require-imports */

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const context = lambdaContext('lambda-req-1');

const authenticate = fakeAuthenticate;

const apiEvent = (headers: Record<string, string>, body: unknown, requestId = 'apigw-req-1'): APIGatewayProxyEvent =>
  ({
    httpMethod: 'POST',
    resource: '/v1/events',
    path: '/v1/events',
    headers: { authorization: 'Bearer acme events:write', 'content-type': 'application/json', ...headers },
    multiValueHeaders: {},
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    pathParameters: null,
    body: JSON.stringify(body),
    isBase64Encoded: false,
    requestContext: { requestId, identity: { sourceIp: '198.51.100.1', userAgent: 'jest' } },
  }) as unknown as APIGatewayProxyEvent;

/** Everything written to stdout while `fn` runs, as parsed JSON lines. */
const captureStdout = async <T>(fn: () => Promise<T>): Promise<{ result: T; lines: Json[] }> => {
  const chunks: string[] = [];
  const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    chunks.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString());
    return true;
  });
  try {
    const result = await fn();
    const lines = chunks
      .join('')
      .split('\n')
      .filter((l) => l.trim().startsWith('{'))
      .map((l) => JSON.parse(l) as Json);
    return { result, lines };
  } finally {
    spy.mockRestore();
  }
};

/** The SQS event Lambda would build from what ingest sent, message attributes included. */
const sqsEventOf = (messages: readonly QueueMessage[], receiveCount = 1): SQSEvent =>
  ({
    Records: messages.map((m, i) => ({
      messageId: `m${i}`,
      body: m.body,
      attributes: {
        ApproximateReceiveCount: String(receiveCount),
        AWSTraceHeader: 'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1',
      },
      messageAttributes: m.correlationId
        ? { correlationId: { stringValue: m.correlationId, dataType: 'String', stringListValues: [], binaryListValues: [] } }
        : {},
    })),
  }) as unknown as SQSEvent;

const emf = (lines: Json[]) => lines.filter((l) => l._aws !== undefined);
const metricValues = (lines: Json[], name: string): number[] => emf(lines).flatMap((l) => (l[name] === undefined ? [] : [l[name]].flat()));

describe('correlation ids, logs and metrics through ingest → SQS → writer', () => {
  const queue = new RecordingQueue();
  const sent = queue.sent;
  const table = new MemoryTable();
  const ingest = createIngestHandler({ authenticate, queue, keyring: async () => testKeyring(), shardCount: 2, retentionDays: () => 30 });
  let clock = Date.now();
  const writer = createWriterHandler(table, { now: () => clock });

  beforeEach(() => {
    sent.length = 0;
  });

  it("carries a client's valid x-request-id into every message and every writer log line for its records", async () => {
    const body = {
      events: [
        { type: 'login', userId: 'u1' },
        { type: 'logout', userId: 'u2' },
        { type: 'Bad Type', userId: 'u3' },
      ],
    };
    const { result: res, lines: ingestLines } = await captureStdout(() =>
      ingest(apiEvent({ 'X-Request-Id': 'client-req-0001' }, body), context),
    );
    expect(res.statusCode).toBe(202);
    expect(res.headers?.['x-request-id']).toBe('client-req-0001');
    // Both valid events travel in one message, which carries the correlation id.
    expect(sent.map((m) => m.correlationId)).toEqual(['client-req-0001']);
    // The request's one line is its metrics document, which carries the correlation id.
    const received = ingestLines.find((l) => l.EventsAccepted !== undefined);
    expect(received).toMatchObject({
      correlation_id: 'client-req-0001',
      EventsAccepted: 2,
      EventsRejected: 1,
      service: 'activity-tracker',
    });
    expect(ingestLines.filter((l) => l._aws === undefined)).toEqual([]);

    clock = Date.now() + 1500;
    const { result: out, lines } = await captureStdout(() => writer(sqsEventOf(sent), context));
    expect(out).toEqual({ batchItemFailures: [] });
    const handled = lines.filter((l) => l.message === 'record handled');
    expect(handled).toHaveLength(1);
    expect(handled[0]).toMatchObject({
      correlation_id: 'client-req-0001',
      messageId: 'm0',
      outcome: 'stored',
      events: 2,
      level: 'INFO',
      producerTraceId: '1-5759e988-bd862e3fe1be46a994272793',
    });
    expect(table.items.size).toBeGreaterThanOrEqual(2);
  });

  it('falls back to the API Gateway request id when x-request-id is missing or not a plain token', async () => {
    await captureStdout(() =>
      ingest(apiEvent({ 'x-request-id': 'has spaces <script>' }, { type: 'login', userId: 'u1' }, 'apigw-req-42'), context),
    );
    expect(sent.map((m) => m.correlationId)).toEqual(['apigw-req-42']);
    const { lines } = await captureStdout(() => writer(sqsEventOf(sent), context));
    expect(lines.filter((l) => l.message === 'record handled').map((l) => l.correlation_id)).toEqual(['apigw-req-42']);
    expect(correlationIdOf({ headers: {}, requestContext: { requestId: 'r-9' } } as unknown as APIGatewayProxyEvent)).toBe('r-9');
  });

  it('logs no token, no details payload and no user id at INFO', async () => {
    const secret = 'acme events:write';
    const { lines: ingestLines } = await captureStdout(() =>
      ingest(
        apiEvent(
          { 'x-request-id': 'client-req-0002' },
          { type: 'login', userId: 'person@example.com', details: { card: '4111111111111111' } },
        ),
        context,
      ),
    );
    const { lines: writerLines } = await captureStdout(() => writer(sqsEventOf(sent), context));
    const text = JSON.stringify([...ingestLines, ...writerLines].filter((l) => l._aws === undefined));
    expect(text).not.toContain(secret);
    expect(text).not.toContain('4111111111111111');
    expect(text).not.toContain('person@example.com');
  });

  it('emits EMF metrics in one namespace with the service dimension: accepted, rejected by reason, written, lag per record', async () => {
    const body = {
      events: [
        { type: 'login', userId: 'u1' },
        { type: 'x', userId: 'u2', secret: 1 },
        { type: 'Bad', userId: 'u3' },
        { type: 'Bad', userId: 'u4' },
      ],
    };
    const { lines } = await captureStdout(() => ingest(apiEvent({}, body), context));
    expect(metricValues(lines, 'EventsAccepted')).toEqual([1]);
    expect(metricValues(lines, 'EventsRejected')).toEqual([3]);
    for (const doc of emf(lines)) {
      expect(doc._aws.CloudWatchMetrics[0].Namespace).toBe('ActivityTracker');
      expect(doc.service).toBe('activity-tracker');
      expect(doc.tenant).toBeUndefined();
    }
    const byReason = emf(lines).filter((l) => l.EventsRejectedByReason !== undefined);
    expect(Object.fromEntries(byReason.map((l) => [l.reason, l.EventsRejectedByReason]))).toEqual({ unknown_field: 1, type_invalid: 2 });
    expect(byReason[0]?._aws.CloudWatchMetrics[0].Dimensions).toEqual([['service', 'reason']]);

    clock = Date.now() + 2000;
    const { lines: writerLines } = await captureStdout(() => writer(sqsEventOf(sent, 2), context));
    expect(metricValues(writerLines, 'EventsWritten')).toEqual([1]);
    expect(metricValues(writerLines, 'WriteRetries')).toEqual([1]);
    expect(metricValues(writerLines, 'BatchItemFailures')).toEqual([0]);
    const lag = metricValues(writerLines, 'EndToEndLag');
    expect(lag).toHaveLength(1);
    expect(lag[0] ?? 0).toBeGreaterThanOrEqual(1900);
  });

  it('counts enqueue failures', async () => {
    const failing = createIngestHandler({
      authenticate,
      queue: { send: async (messages) => new Set(messages.slice(0, 1).map((m) => m.id)) },
      keyring: async () => testKeyring(),
      shardCount: 2,
      retentionDays: () => 30,
    });
    // 25 KB events: two share the first message (which fails), the third travels in the second.
    const event = (type: string) => ({ type, userId: 'u', details: { blob: 'x'.repeat(25 * 1024) } });
    const { result, lines } = await captureStdout(() => failing(apiEvent({}, { events: [event('a'), event('b'), event('c')] }), context));
    expect(JSON.parse(result.body)).toMatchObject({ accepted: 1, rejected: 2 });
    expect(metricValues(lines, 'EnqueueFailures')).toEqual([1]);
    expect(emf(lines).find((l) => l.EventsRejectedByReason !== undefined)?.reason).toBe('enqueue_failed');
  });

  it('bounds the reason dimension to the fixed set of codes', () => {
    expect(rejectionReason('type_invalid')).toBe('type_invalid');
    expect(rejectionReason('anything a client invents')).toBe('other');
  });
});

describe('SQS adapter: the correlation id as a message attribute', () => {
  it('sends it as a String message attribute', async () => {
    const inputs: Json[] = [];
    const client = {
      send: async (command: { input: Json }) => {
        inputs.push(command.input);
        return { Successful: command.input.Entries.map((e: Json) => ({ Id: e.Id })) };
      },
    } as unknown as SQSClient;
    await new SqsEventQueue(client, 'url').send([
      { id: '0', body: '{}', correlationId: 'c-123456789' },
      { id: '1', body: '{}' },
    ]);
    expect(inputs[0]?.Entries).toEqual([
      { Id: '0', MessageBody: '{}', MessageAttributes: { correlationId: { DataType: 'String', StringValue: 'c-123456789' } } },
      { Id: '1', MessageBody: '{}' },
    ]);
  });

  it('counts attribute name, type and value toward the 256 KiB batch limit', () => {
    const correlationId = 'c'.repeat(128);
    const message = { id: '0', body: 'x'.repeat(SQS_BATCH_BYTES / 2 - 100), correlationId };
    expect(sqsMessageBytes(message)).toBe(SQS_BATCH_BYTES / 2 - 100 + 'correlationId'.length + 'String'.length + 128);
    // Two bodies fit exactly without attributes, not with them.
    expect(chunkForSqs([message, { ...message, id: '1' }]).map((c) => c.length)).toEqual([1, 1]);
    const { correlationId: _omit, ...bare } = message;
    expect(chunkForSqs([bare, { ...bare, id: '1' }]).map((c) => c.length)).toEqual([2]);
  });
});
