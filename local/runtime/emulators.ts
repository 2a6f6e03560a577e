/**
 * The emulators a template needs, started in-process on 127.0.0.1: dynalite (DynamoDB) with the
 * template's tables, fauxqs (SQS and S3) with its queues (DLQs first) and buckets, and a Secrets Manager emulator
 * holding its secrets.
 */
import { mkdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import dynalite from 'dynalite';
import {
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  ResourceInUseException,
  type CreateTableCommandInput,
  type GlobalSecondaryIndex,
} from '@aws-sdk/client-dynamodb';
import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { loadSecrets, startSecretsManager } from '../secrets';
import { secretArn } from '../template/intrinsics';
import type { ResolveContext, TableModel, TemplateModel } from '../template/model';
import { queuesInCreationOrder } from '../template/read';
import { listen } from './http';
import { startStreamCapture, type LocalStreams } from './streams';
import { startKms } from '../kms';
import type { RequestListener } from '../stream-capture';
import { guardHost } from './request-guard';
import { LOCAL_ACCOUNT_ID, LOCAL_CREDENTIALS, type LocalEndpoints } from './types';

/** Cleanup steps, run in reverse order by the runtime's stop(). */
export type Stops = (() => Promise<void>)[];

export interface Emulators {
  readonly endpoints: LocalEndpoints;
  readonly sqs: SQSClient;
  /** Table logical id → local table name. */
  readonly tables: Record<string, string>;
  /** Queue logical id → local URL and ARN. */
  readonly queues: Record<string, { url: string; arn: string }>;
  /** Bucket logical id → bucket name in fauxqs. */
  readonly buckets: Record<string, string>;
  /** Resolves intrinsics to these emulators' names and URLs. */
  readonly ctx: ResolveContext;
  /** The tables' change streams (endpoints.dynamodb is their capture proxy). */
  readonly streams: LocalStreams;
}

const tableInput = (t: TableModel): CreateTableCommandInput => {
  const gsis: GlobalSecondaryIndex[] = t.globalSecondaryIndexes.map((ix) => ({
    IndexName: ix.indexName,
    KeySchema: ix.keySchema,
    Projection: {
      ProjectionType: ix.projection.projectionType,
      ...(ix.projection.nonKeyAttributes ? { NonKeyAttributes: ix.projection.nonKeyAttributes } : {}),
    },
  }));
  return {
    TableName: t.tableName,
    KeySchema: t.keySchema,
    AttributeDefinitions: t.attributeDefinitions,
    BillingMode: 'PAY_PER_REQUEST',
    ...(gsis.length ? { GlobalSecondaryIndexes: gsis } : {}),
    ...(t.localSecondaryIndexes.length
      ? {
          LocalSecondaryIndexes: t.localSecondaryIndexes.map((ix) => ({
            IndexName: ix.indexName,
            KeySchema: ix.keySchema,
            Projection: {
              ProjectionType: ix.projection.projectionType,
              ...(ix.projection.nonKeyAttributes ? { NonKeyAttributes: ix.projection.nonKeyAttributes } : {}),
            },
          })),
        }
      : {}),
  };
};

const startDynamoDb = async (
  model: TemplateModel,
  region: string,
  dataDir: string | undefined,
  log: (line: string) => void,
  stops: Stops,
) => {
  if (dataDir) mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const ddbServer = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0, ...(dataDir ? { path: dataDir } : {}) });
  // The capture proxy in front of it hands requests to dynalite's own listener, in this process
  // (stream-capture.ts); the host guard is for what comes over the network.
  const dispatch = ddbServer.listeners('request')[0] as RequestListener;
  const ddbPort = await listen(ddbServer, 0);
  guardHost(ddbServer);
  stops.push(
    () =>
      new Promise<void>((done) => {
        ddbServer.close(() => done());
        ddbServer.closeAllConnections();
      }),
  );
  const endpoint = `http://127.0.0.1:${ddbPort}`;
  const ddb = new DynamoDBClient({ region, endpoint, credentials: LOCAL_CREDENTIALS });
  stops.push(async () => ddb.destroy());
  const tables: Record<string, string> = {};
  for (const t of model.tables) {
    try {
      await ddb.send(new CreateTableCommand(tableInput(t)));
    } catch (e) {
      if (!(e instanceof ResourceInUseException)) throw new Error(`Creating table ${t.logicalId}: ${(e as Error).message}`);
      const { Table } = await ddb.send(new DescribeTableCommand({ TableName: t.tableName }));
      const want = JSON.stringify([t.keySchema, t.globalSecondaryIndexes.map((i) => i.indexName).sort()]);
      const have = JSON.stringify([
        Table?.KeySchema?.map((k) => ({ AttributeName: k.AttributeName, KeyType: k.KeyType })),
        (Table?.GlobalSecondaryIndexes ?? []).map((i) => i.IndexName).sort(),
      ]);
      if (want !== have) log(`warning: persisted table ${t.tableName} differs from the template (delete ${dataDir} to recreate it)`);
    }
    tables[t.logicalId] = t.tableName;
  }
  return { endpoint, tables, dispatch };
};

const startSqs = async (model: TemplateModel, region: string, stops: Stops) => {
  // Bound to 127.0.0.1 (startFauxqs would listen on every interface).
  const { buildApp } = await import('fauxqs');
  const sqsApp = buildApp({ logger: false, defaultRegion: region });
  await sqsApp.listen({ port: 0, host: '127.0.0.1' });
  guardHost(sqsApp.server);
  stops.push(async () => {
    await sqsApp.close();
  });
  const endpoint = `http://127.0.0.1:${(sqsApp.server.address() as AddressInfo).port}`;
  const sqs = new SQSClient({ region, endpoint, credentials: LOCAL_CREDENTIALS });
  stops.push(async () => sqs.destroy());
  const queues: Record<string, { url: string; arn: string }> = {};
  for (const q of queuesInCreationOrder(model)) {
    const attributes: Record<string, string> = { ...q.attributes };
    if (q.redrive) {
      const dlq = queues[q.redrive.deadLetterQueueLogicalId]!;
      attributes.RedrivePolicy = JSON.stringify({ deadLetterTargetArn: dlq.arn, maxReceiveCount: q.redrive.maxReceiveCount });
    }
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: q.queueName, Attributes: attributes }));
    const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }));
    if (!QueueUrl || !Attributes?.QueueArn) throw new Error(`Creating queue ${q.logicalId} returned no URL/ARN`);
    queues[q.logicalId] = { url: QueueUrl, arn: Attributes.QueueArn };
  }
  return { endpoint, sqs, queues };
};

/** The template's buckets, created empty in fauxqs (CreateBucket is `PUT /<bucket>`, path-style). */
const createBuckets = async (model: TemplateModel, endpoint: string): Promise<Record<string, string>> => {
  const buckets: Record<string, string> = {};
  for (const b of model.buckets) {
    const response = await fetch(`${endpoint}/${b.bucketName}`, { method: 'PUT' });
    if (!response.ok) throw new Error(`Creating bucket ${b.logicalId}: HTTP ${response.status} ${await response.text()}`);
    buckets[b.logicalId] = b.bucketName;
  }
  return buckets;
};

export interface EmulatorOptions {
  readonly model: TemplateModel;
  readonly region: string;
  readonly stackName: string;
  /** Persist DynamoDB data and secret values under this folder (`data/`, `secrets.json`). */
  readonly persistDir?: string;
  /** Where KMS key material is kept (`kms/`), persisted or not: signatures must verify across restarts. */
  readonly stateDir: string;
  readonly log: (line: string) => void;
  /** The stack's clock (ms), which stamps stream records as the functions read time. */
  readonly clock?: () => number;
}

/** Starts DynamoDB, SQS and Secrets Manager with the template's tables, queues and secrets. */
export const startEmulators = async (
  { model, region, stackName, persistDir, stateDir, log, clock }: EmulatorOptions,
  stops: Stops,
): Promise<Emulators> => {
  const dynamodb = await startDynamoDb(model, region, persistDir ? join(persistDir, 'data') : undefined, log, stops);
  const { endpoint: sqsEndpoint, sqs, queues } = await startSqs(model, region, stops);
  const buckets = await createBuckets(model, sqsEndpoint);
  const ctx: ResolveContext = {
    region,
    accountId: LOCAL_ACCOUNT_ID,
    stackName,
    queueUrl: (q) => {
      const created = queues[q.logicalId];
      if (!created) throw new Error(`Queue ${q.logicalId} was not created`);
      return created.url;
    },
  };
  const storedSecrets = loadSecrets(
    model.secrets.map((s) => ({ model: s, arn: secretArn(s.secretName, ctx) })),
    persistDir ? join(persistDir, 'secrets.json') : undefined,
  );
  const secretsManager = await startSecretsManager(storedSecrets);
  guardHost(secretsManager.server);
  stops.push(secretsManager.stop);
  // Every client reaches DynamoDB through the stream capture, so that each write becomes stream records.
  const streams = await startStreamCapture(model, dynamodb.endpoint, ctx, stops, dynamodb.dispatch, clock);
  const kms = await startKms(model.kmsKeys, stateDir, region, LOCAL_ACCOUNT_ID);
  stops.push(kms.stop);
  return {
    endpoints: {
      dynamodb: streams.endpoint,
      sqs: sqsEndpoint,
      s3: sqsEndpoint,
      kms: kms.endpoint,
      secretsManager: secretsManager.endpoint,
    },
    sqs,
    tables: dynamodb.tables,
    queues,
    buckets,
    ctx,
    streams,
  };
};

/** Messages waiting and in flight per queue, for GET /_local/metrics. */
export const queueDepths = async (model: TemplateModel, { sqs, queues }: Pick<Emulators, 'sqs' | 'queues'>) => {
  const deadLetterQueues = new Set(model.queues.flatMap((q) => (q.redrive ? [q.redrive.deadLetterQueueLogicalId] : [])));
  return Promise.all(
    Object.entries(queues).map(async ([logicalId, q]) => {
      const { Attributes: a } = await sqs.send(
        new GetQueueAttributesCommand({
          QueueUrl: q.url,
          AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
        }),
      );
      return {
        name: logicalId,
        role: deadLetterQueues.has(logicalId) ? 'dlq' : 'queue',
        visible: Number(a?.ApproximateNumberOfMessages ?? 0),
        inFlight: Number(a?.ApproximateNumberOfMessagesNotVisible ?? 0),
      };
    }),
  );
};
