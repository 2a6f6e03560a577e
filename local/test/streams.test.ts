import type { AddressInfo } from 'node:net';
import {
  BatchWriteItemCommand,
  CreateTableCommand,
  DeleteItemCommand,
  DynamoDBClient,
  PutItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import dynalite from 'dynalite';
import type { DynamoDBStreamEvent } from 'aws-lambda';
import type { InvocationResult } from '../function-runner';
import { StreamCapture, type RequestListener } from '../stream-capture';
import { StreamLog, changeRecord } from '../stream-log';
import { StreamPoller } from '../stream-poller';
import { parseTemplate } from '../template/read';
import type { StreamEventSourceMappingModel } from '../template/model';

const ok = (payload: unknown = null): InvocationResult => ({ ok: true, payload, requestId: 'r', durationMs: 1 });
const failed = (): InvocationResult => ({ ok: false, error: { errorType: 'Error', errorMessage: 'boom' }, requestId: 'r', durationMs: 1 });

const mapping = (over: Partial<StreamEventSourceMappingModel> = {}): StreamEventSourceMappingModel => ({
  logicalId: 'Esm',
  tableLogicalId: 'Table',
  functionLogicalId: 'Fn',
  batchSize: 10,
  maximumBatchingWindowSeconds: 0,
  startingPosition: 'TRIM_HORIZON',
  maximumRetryAttempts: -1,
  maximumRecordAgeSeconds: -1,
  bisectBatchOnFunctionError: false,
  functionResponseTypes: [],
  reportBatchItemFailures: false,
  parallelizationFactor: 1,
  enabled: true,
  ...over,
});

const logWith = (n: number) => {
  const log = new StreamLog('Table', 't', 'arn:aws:dynamodb:us-east-1:000000000000:table/t/stream/x', 'NEW_AND_OLD_IMAGES');
  for (let i = 0; i < n; i++) {
    const record = changeRecord({
      keys: { pk: { S: `k${i}` } },
      oldImage: undefined,
      newImage: { pk: { S: `k${i}` }, n: { N: String(i) } },
      viewType: 'NEW_AND_OLD_IMAGES',
      sequenceNumber: log.nextSequenceNumber(),
      streamArn: log.streamArn,
      region: 'us-east-1',
      nowMs: Date.now(),
    })!;
    log.append(record, Date.now());
  }
  return log;
};

const keysOf = (e: DynamoDBStreamEvent) => e.Records.map((r) => r.dynamodb?.Keys?.pk?.S);

/** Runs a poller until `done` holds (or 5 s), then stops it. */
const runUntil = async (poller: StreamPoller, done: () => boolean) => {
  poller.start();
  const until = Date.now() + 5000;
  while (!done() && Date.now() < until) await new Promise((r) => setTimeout(r, 5));
  await poller.stop();
};

const noSleep = async () => {};

describe('StreamPoller', () => {
  it('delivers every record once, in order, in batches of the mapping size', async () => {
    const log = logWith(25);
    const batches: string[][] = [];
    const poller = new StreamPoller({
      mapping: mapping({ batchSize: 10 }),
      log,
      functionArn: 'arn:fn',
      logLine: () => {},
      invoke: async (e) => {
        batches.push(keysOf(e) as string[]);
        return ok();
      },
    });
    await runUntil(poller, () => batches.flat().length === 25);
    expect(batches.map((b) => b.length)).toEqual([10, 10, 5]);
    expect(batches.flat()).toEqual(Array.from({ length: 25 }, (_, i) => `k${i}`));
    expect(poller.stats.pending).toBe(0);
    expect(poller.lag().samples).toBe(25);
  });

  it('retries from the lowest reported failure (ReportBatchItemFailures), never re-sending what succeeded', async () => {
    const log = logWith(6);
    const seen: string[][] = [];
    let failOnce = true;
    const poller = new StreamPoller({
      mapping: mapping({ reportBatchItemFailures: true, functionResponseTypes: ['ReportBatchItemFailures'] }),
      log,
      functionArn: 'arn:fn',
      logLine: () => {},
      sleep: noSleep,
      invoke: async (e) => {
        seen.push(keysOf(e) as string[]);
        if (failOnce) {
          failOnce = false;
          return ok({ batchItemFailures: [{ itemIdentifier: e.Records[4]!.dynamodb!.SequenceNumber }] });
        }
        return ok({ batchItemFailures: [] });
      },
    });
    await runUntil(poller, () => seen.length === 2);
    expect(seen).toEqual([
      ['k0', 'k1', 'k2', 'k3', 'k4', 'k5'],
      ['k4', 'k5'],
    ]);
  });

  it('bisects a failing batch down to the poison record, sends it to the on-failure destination after the retries and goes on', async () => {
    const log = logWith(8);
    const delivered: string[] = [];
    const destination: string[] = [];
    const poller = new StreamPoller({
      mapping: mapping({ bisectBatchOnFunctionError: true, maximumRetryAttempts: 2 }),
      log,
      functionArn: 'arn:fn',
      logLine: () => {},
      sleep: noSleep,
      onFailure: async (m) => {
        destination.push(m);
      },
      invoke: async (e) => {
        const keys = keysOf(e) as string[];
        if (keys.includes('k5')) return failed();
        delivered.push(...keys);
        return ok();
      },
    });
    await runUntil(poller, () => delivered.length === 7);
    expect(delivered).toEqual(['k0', 'k1', 'k2', 'k3', 'k4', 'k6', 'k7']);
    expect(destination).toHaveLength(1);
    const info = JSON.parse(destination[0]!) as { requestContext: { condition: string }; DDBStreamBatchInfo: { batchSize: number } };
    expect(info.requestContext.condition).toBe('RetryAttemptsExhausted');
    expect(info.DDBStreamBatchInfo.batchSize).toBe(1);
    expect(poller.stats.discardedRecords).toBe(1);
  });

  it('starts at LATEST: records written before it started are not delivered', async () => {
    const log = logWith(3);
    const seen: string[] = [];
    const poller = new StreamPoller({
      mapping: mapping({ startingPosition: 'LATEST' }),
      log,
      functionArn: 'arn:fn',
      logLine: () => {},
      invoke: async (e) => {
        seen.push(...(keysOf(e) as string[]));
        return ok();
      },
    });
    poller.start();
    const more = logWith(1).read(0, 1).records[0]!;
    log.append(more.record, Date.now());
    const until = Date.now() + 5000;
    while (seen.length === 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 5));
    await poller.stop();
    expect(seen).toEqual(['k0']);
  });

  it('two mappings on one stream each get every record', async () => {
    const log = logWith(12);
    const a: string[] = [];
    const b: string[] = [];
    const pa = new StreamPoller({
      mapping: mapping({ logicalId: 'A' }),
      log,
      functionArn: 'arn:a',
      invoke: async (e) => {
        a.push(...(keysOf(e) as string[]));
        return ok();
      },
    });
    const pb = new StreamPoller({
      mapping: mapping({ logicalId: 'B', batchSize: 5 }),
      log,
      functionArn: 'arn:b',
      invoke: async (e) => {
        b.push(...(keysOf(e) as string[]));
        return ok();
      },
    });
    pb.start();
    await runUntil(pa, () => a.length === 12 && b.length === 12);
    await pb.stop();
    expect(a).toEqual(b);
    expect(a).toHaveLength(12);
  });
});

// Over a second HTTP connection, and (as the local runtime runs it) handing requests to dynalite's listener in-process.
describe.each([
  ['over HTTP', false],
  ['in-process', true],
])('StreamCapture (in front of dynalite, %s)', (_mode, inProcess) => {
  let server: ReturnType<typeof dynalite>;
  let capture: StreamCapture;
  let ddb: DynamoDBClient;
  const log = new StreamLog('Table', 'events', 'arn:aws:dynamodb:us-east-1:000000000000:table/events/stream/x', 'NEW_AND_OLD_IMAGES');
  const reader = log.register('TRIM_HORIZON');
  const SHIFT_MS = 40 * 86_400_000;

  beforeAll(async () => {
    server = dynalite({ createTableMs: 0 });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const target = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    capture = new StreamCapture({
      target,
      ...(inProcess && { dispatch: server.listeners('request')[0] as RequestListener }),
      region: 'us-east-1',
      tables: [{ tableName: 'events', keyAttributes: ['pk', 'sk'], log }],
      // The stack's clock, shifted as POST /_local/clock shifts it.
      clock: () => Date.now() + SHIFT_MS,
    });
    const endpoint = await capture.start();
    ddb = new DynamoDBClient({ region: 'us-east-1', endpoint, credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
    for (const name of ['events', 'other']) {
      await ddb.send(
        new CreateTableCommand({
          TableName: name,
          KeySchema: [
            { AttributeName: 'pk', KeyType: 'HASH' },
            { AttributeName: 'sk', KeyType: 'RANGE' },
          ],
          AttributeDefinitions: [
            { AttributeName: 'pk', AttributeType: 'S' },
            { AttributeName: 'sk', AttributeType: 'S' },
          ],
          BillingMode: 'PAY_PER_REQUEST',
        }),
      );
    }
  });
  afterAll(async () => {
    ddb.destroy();
    await capture.stop();
    await new Promise<void>((r) => server.close(() => r()));
  });

  it('turns puts, updates, deletes and batch writes into INSERT/MODIFY/REMOVE records with old and new images, in order', async () => {
    const key = { pk: { S: 'a' }, sk: { S: '1' } };
    await ddb.send(new PutItemCommand({ TableName: 'events', Item: { ...key, v: { N: '1' } } }));
    await ddb.send(
      new UpdateItemCommand({
        TableName: 'events',
        Key: key,
        UpdateExpression: 'SET v = :v',
        ExpressionAttributeValues: { ':v': { N: '2' } },
      }),
    );
    // No change, no record (as DynamoDB).
    await ddb.send(
      new UpdateItemCommand({
        TableName: 'events',
        Key: key,
        UpdateExpression: 'SET v = :v',
        ExpressionAttributeValues: { ':v': { N: '2' } },
      }),
    );
    // A failed conditional write changes nothing.
    await expect(
      ddb.send(
        new PutItemCommand({ TableName: 'events', Item: { ...key, v: { N: '9' } }, ConditionExpression: 'attribute_not_exists(pk)' }),
      ),
    ).rejects.toThrow();
    await ddb.send(
      new BatchWriteItemCommand({
        RequestItems: {
          events: [{ PutRequest: { Item: { pk: { S: 'b' }, sk: { S: '1' } } } }, { DeleteRequest: { Key: key } }],
          other: [{ PutRequest: { Item: { pk: { S: 'x' }, sk: { S: '1' } } } }],
        },
      }),
    );
    await ddb.send(new DeleteItemCommand({ TableName: 'events', Key: { pk: { S: 'nothing' }, sk: { S: 'here' } } }));
    const { records } = log.read(reader.position, 100);
    const event = { Records: records.map((r) => r.record) };
    // Stamped by the stack's clock, as the functions read time; kept by real time (a clock 40 days on trims nothing).
    for (const r of records) {
      expect(Math.abs(r.record.dynamodb!.ApproximateCreationDateTime! * 1000 - (Date.now() + SHIFT_MS))).toBeLessThan(30_000);
      expect(Math.abs(r.createdAtMs - Date.now())).toBeLessThan(30_000);
    }
    // Lambda's record shape.
    expect(event.Records[0]).toEqual({
      eventID: expect.stringMatching(/^[0-9a-f]{32}$/),
      eventName: 'INSERT',
      eventVersion: '1.1',
      eventSource: 'aws:dynamodb',
      awsRegion: 'us-east-1',
      eventSourceARN: log.streamArn,
      dynamodb: {
        ApproximateCreationDateTime: expect.any(Number),
        Keys: key,
        NewImage: { ...key, v: { N: '1' } },
        SequenceNumber: expect.stringMatching(/^\d{21}$/),
        SizeBytes: expect.any(Number),
        StreamViewType: 'NEW_AND_OLD_IMAGES',
      },
    });
    expect(
      event.Records.map((r) => [r.eventName, r.dynamodb?.Keys?.pk?.S, r.dynamodb?.OldImage?.v?.N, r.dynamodb?.NewImage?.v?.N]),
    ).toEqual([
      ['INSERT', 'a', undefined, '1'],
      ['MODIFY', 'a', '1', '2'],
      ['INSERT', 'b', undefined, undefined],
      ['REMOVE', 'a', '2', undefined],
    ]);
    const seqs = event.Records.map((r) => r.dynamodb!.SequenceNumber!);
    expect([...seqs].sort()).toEqual(seqs);
  });

  it('a put over an item is a MODIFY with both images; the answer carries the old item only when the client asked for it', async () => {
    const key = { pk: { S: 'p' }, sk: { S: '1' } };
    const here = log.register('LATEST');
    const first = await ddb.send(new PutItemCommand({ TableName: 'events', Item: { ...key, v: { N: '1' } } }));
    expect(first.Attributes).toBeUndefined();
    const second = await ddb.send(new PutItemCommand({ TableName: 'events', Item: { ...key, v: { N: '2' } } }));
    expect(second.Attributes).toBeUndefined();
    const third = await ddb.send(new PutItemCommand({ TableName: 'events', Item: { ...key, v: { N: '3' } }, ReturnValues: 'ALL_OLD' }));
    expect(third.Attributes).toEqual({ ...key, v: { N: '2' } });
    const { records } = log.read(here.position, 100);
    expect(records.map(({ record: r }) => [r.eventName, r.dynamodb?.OldImage?.v?.N, r.dynamodb?.NewImage?.v?.N])).toEqual([
      ['INSERT', undefined, '1'],
      ['MODIFY', '1', '2'],
      ['MODIFY', '2', '3'],
    ]);
  });

  it('keeps the order per item under concurrent writes', async () => {
    const key = { pk: { S: 'c' }, sk: { S: '1' } };
    await ddb.send(new PutItemCommand({ TableName: 'events', Item: { ...key, n: { N: '0' } } }));
    const start = log.end;
    await Promise.all(
      Array.from({ length: 20 }, () =>
        ddb.send(
          new UpdateItemCommand({
            TableName: 'events',
            Key: key,
            UpdateExpression: 'ADD n :one',
            ExpressionAttributeValues: { ':one': { N: '1' } },
          }),
        ),
      ),
    );
    const { records } = log.read(start, 100);
    expect(records.map((r) => [r.record.dynamodb?.OldImage?.n?.N, r.record.dynamodb?.NewImage?.n?.N])).toEqual(
      Array.from({ length: 20 }, (_, i) => [String(i), String(i + 1)]),
    );
  });
});

describe('parseTemplate: stream event source mappings', () => {
  const template = {
    Resources: {
      Table: {
        Type: 'AWS::DynamoDB::Table',
        Properties: {
          KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
          AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
          StreamSpecification: { StreamViewType: 'NEW_AND_OLD_IMAGES' },
        },
      },
      Dlq: { Type: 'AWS::SQS::Queue', Properties: {} },
      Fn: { Type: 'AWS::Lambda::Function', Properties: { Handler: 'index.handler' } },
      Fn2: { Type: 'AWS::Lambda::Function', Properties: { Handler: 'index.handler' } },
      Esm: {
        Type: 'AWS::Lambda::EventSourceMapping',
        Properties: {
          EventSourceArn: { 'Fn::GetAtt': ['Table', 'StreamArn'] },
          FunctionName: { Ref: 'Fn' },
          StartingPosition: 'LATEST',
          BatchSize: 50,
          MaximumBatchingWindowInSeconds: 1,
          MaximumRetryAttempts: 5,
          BisectBatchOnFunctionError: true,
          FunctionResponseTypes: ['ReportBatchItemFailures'],
          DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': ['Dlq', 'Arn'] } } },
        },
      },
      Esm2: {
        Type: 'AWS::Lambda::EventSourceMapping',
        Properties: {
          EventSourceArn: { 'Fn::GetAtt': ['Table', 'StreamArn'] },
          FunctionName: { Ref: 'Fn2' },
          StartingPosition: 'TRIM_HORIZON',
        },
      },
    },
  };

  it('reads the stream and every mapping on it, with Lambda defaults where the template is silent', () => {
    const model = parseTemplate(template);
    expect(model.tables[0]!.stream).toEqual({ viewType: 'NEW_AND_OLD_IMAGES' });
    expect(model.eventSourceMappings).toEqual([]);
    expect(model.streamEventSourceMappings).toEqual([
      expect.objectContaining({
        logicalId: 'Esm',
        tableLogicalId: 'Table',
        functionLogicalId: 'Fn',
        batchSize: 50,
        maximumBatchingWindowSeconds: 1,
        startingPosition: 'LATEST',
        maximumRetryAttempts: 5,
        maximumRecordAgeSeconds: -1,
        bisectBatchOnFunctionError: true,
        reportBatchItemFailures: true,
        onFailureQueueLogicalId: 'Dlq',
      }),
      expect.objectContaining({
        logicalId: 'Esm2',
        functionLogicalId: 'Fn2',
        batchSize: 100,
        maximumRetryAttempts: -1,
        bisectBatchOnFunctionError: false,
      }),
    ]);
    expect(model.warnings).toEqual([]);
  });
});
