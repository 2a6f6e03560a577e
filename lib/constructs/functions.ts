import { Duration } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { TokenSettings } from './cognito-auth';
import { createServiceFunction } from './lambda-function';

/** How the writer consumes the events queue. */
export interface WriterSettings {
  /** Writer function timeout. */
  readonly timeout: Duration;
  /** Messages per invocation. */
  readonly batchSize: number;
  /** How long the event source gathers a batch; zero invokes at once. */
  readonly maxBatchingWindow: Duration;
  /** Concurrent invocations the event source may start (2..1000). */
  readonly maxConcurrency: number;
}

export interface ServiceFunctionsProps {
  readonly table: ITable;
  /** The events queue: ingest sends to it, the writer consumes it. */
  readonly queue: IQueue;
  /** The id/cursor keys (ingest and query only). */
  readonly keysSecret: ISecret;
  readonly tokenSettings: TokenSettings;
  /** Claim holding the tenant id. */
  readonly tenantClaim: string;
  readonly shardCount: number;
  readonly retentionDays: number;
  readonly deleteGraceDays: number;
  readonly writer: WriterSettings;
  /** Powertools log level of every function. */
  readonly logLevel: string;
  readonly logRetention: RetentionDays;
  /**
   * Timeout of the API functions (ingest, query); API Gateway gives up after 29 s anyway.
   * @default Duration.seconds(10)
   */
  readonly apiTimeout?: Duration;
  /**
   * Timeout of one cleanup run; the cleanup is resumable, so a run cut short loses nothing.
   * @default Duration.minutes(5)
   */
  readonly cleanupTimeout?: Duration;
}

/**
 * The four functions, the environment each one needs (and nothing more), their least-privilege
 * grants, and the writer's queue subscription:
 *
 * - ingest: validates and enqueues; sends to the queue, reads the keys; never touches the table.
 * - query: reads the table and the keys.
 * - writer: writes the table; reads nothing (conditional puts only).
 * - cleanup: reads and deletes table items (retention, purge, erasure).
 */
export class ServiceFunctions extends Construct {
  readonly ingest: IFunction;
  readonly query: IFunction;
  readonly writer: IFunction;
  readonly cleanup: IFunction;

  constructor(scope: Construct, id: string, props: ServiceFunctionsProps) {
    super(scope, id);

    const common = { logLevel: props.logLevel, logRetention: props.logRetention };
    const apiTimeout = props.apiTimeout ?? Duration.seconds(10);
    const auth = {
      AUTH_ISSUER: props.tokenSettings.issuer,
      AUTH_AUDIENCE: props.tokenSettings.audience.join(','),
      AUTH_JWKS_URI: props.tokenSettings.jwksUri,
      AUTH_TENANT_CLAIM: props.tenantClaim,
      AUTH_SCOPE_PREFIX: props.tokenSettings.scopePrefix,
    };
    const shards = { SHARD_COUNT: String(props.shardCount) };
    const retention = {
      RETENTION_DAYS: String(props.retentionDays),
      DELETE_GRACE_DAYS: String(props.deleteGraceDays),
    };

    const ingest = createServiceFunction(this, 'Ingest', {
      ...common,
      handler: 'ingest',
      description: 'Validates events, assigns ids and enqueues them (POST /v1/events)',
      timeout: apiTimeout,
      environment: {
        QUEUE_URL: props.queue.queueUrl,
        KEYS_SECRET_ARN: props.keysSecret.secretArn,
        ...auth,
        ...shards,
        RETENTION_DAYS: retention.RETENTION_DAYS,
      },
    });
    props.queue.grantSendMessages(ingest);
    props.keysSecret.grantRead(ingest);

    const query = createServiceFunction(this, 'Query', {
      ...common,
      handler: 'query',
      description: 'Reads events (GET /v1/events, GET /v1/events/{id})',
      timeout: apiTimeout,
      environment: {
        TABLE_NAME: props.table.tableName,
        KEYS_SECRET_ARN: props.keysSecret.secretArn,
        ...auth,
        ...shards,
        ...retention,
      },
    });
    props.table.grantReadData(query);
    props.keysSecret.grantRead(query);

    const writer = createServiceFunction(this, 'Writer', {
      ...common,
      handler: 'writer',
      description: 'Writes queued events to the table, reporting partial batch failures',
      timeout: props.writer.timeout,
      environment: { TABLE_NAME: props.table.tableName },
    });
    props.table.grantWriteData(writer);
    writer.addEventSource(
      new SqsEventSource(props.queue, {
        batchSize: props.writer.batchSize,
        maxBatchingWindow: props.writer.maxBatchingWindow,
        maxConcurrency: props.writer.maxConcurrency,
        reportBatchItemFailures: true,
      }),
    );

    const cleanup = createServiceFunction(this, 'Cleanup', {
      ...common,
      handler: 'cleanup',
      description: 'Scheduled retention, soft-delete purge and erasure',
      timeout: props.cleanupTimeout ?? Duration.minutes(5),
      environment: {
        TABLE_NAME: props.table.tableName,
        ...shards,
        ...retention,
      },
    });
    props.table.grantReadWriteData(cleanup);

    this.ingest = ingest;
    this.query = query;
    this.writer = writer;
    this.cleanup = cleanup;
  }
}
