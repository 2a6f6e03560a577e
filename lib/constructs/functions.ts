import { Duration } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { Grant } from 'aws-cdk-lib/aws-iam';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { ENV, RATE_PARTITION_PREFIX, type TenantRates } from '../../contract';
import { authEnvironment, type TokenSettings } from './cognito-auth';
import { createServiceFunction } from './lambda-function';

/**
 * The table actions each function's code calls (lambdas/adapters/dynamo-store.ts), and no more:
 * CDK's grantReadData/grantWriteData would add Scan, the stream reads, DescribeTable and
 * ConditionCheckItem, which no function uses. test/infra/iam.test.ts pins every role's list.
 */
const TABLE_ACTIONS = {
  /** Timelines (Query; the items of a keys-only index page by BatchGetItem), one event or erasure marker (GetItem). */
  query: ['dynamodb:Query', 'dynamodb:GetItem', 'dynamodb:BatchGetItem'],
  /** Soft delete and restore (GetItem, UpdateItem; UpdateItem also for the rate counters), erasure requests (Query markers, PutItem receipt, work item and marker). */
  admin: ['dynamodb:Query', 'dynamodb:GetItem', 'dynamodb:UpdateItem', 'dynamodb:PutItem'],
  /** Every event by conditional PutItem (never overwrites), redelivery lookups (BatchGetItem), the tenant registry (PutItem). */
  writer: ['dynamodb:BatchGetItem', 'dynamodb:PutItem'],
  /** Candidates (Query), which still exist (BatchGetItem), conditional deletes, erasure progress (UpdateItem). */
  cleanup: ['dynamodb:Query', 'dynamodb:BatchGetItem', 'dynamodb:DeleteItem', 'dynamodb:UpdateItem'],
} as const;

/**
 * UpdateItem on the per-tenant rate counters only (contract/table.ts): the `dynamodb:LeadingKeys`
 * condition keeps a function that merely limits (ingest, query) away from every event item.
 */
const updateRateCounters = (table: ITable, fn: IFunction): Grant =>
  Grant.addToPrincipal({
    grantee: fn,
    actions: ['dynamodb:UpdateItem'],
    resourceArns: [table.tableArn],
    conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [`${RATE_PARTITION_PREFIX}*`] } },
  });

/** GetSecretValue alone: grantRead would add DescribeSecret, which the functions never call. */
const readSecret = (secret: ISecret, fn: IFunction): Grant =>
  Grant.addToPrincipal({
    grantee: fn,
    actions: ['secretsmanager:GetSecretValue'],
    resourceArns: [secret.secretFullArn ?? secret.secretArn],
  });

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
  /**
   * The queue's visibility timeout: a message older than it on its first receive may have been
   * redriven from the DLQ, and the writer then checks what is already stored.
   */
  readonly queueVisibilityTimeout: Duration;
}

export interface ServiceFunctionsProps {
  readonly table: ITable;
  /** The events queue: ingest sends to it, the writer consumes it. */
  readonly queue: IQueue;
  /** The id/cursor keys (ingest and query only). */
  readonly keysSecret: ISecret;
  /** Claim holding the tenant id. */
  readonly tenantClaim: string;
  /** Stripped from each scope the gateway passes on (Cognito: `activity-tracker/`); empty for plain scopes. */
  readonly scopePrefix: string;
  /**
   * The tokens the Lambda (TOKEN) authorizer verifies, besides viewer tokens: an external OIDC
   * issuer's (it guards every route), or the Cognito pool's (it guards the read routes a viewer
   * token may use; the gateway's Cognito authorizer guards the others).
   */
  readonly authorizerTokens: TokenSettings;
  /**
   * Events one ingest request may carry (1..500).
   * @default 500
   */
  readonly maxEventsPerRequest?: number;
  readonly shardCount: number;
  readonly retentionDays: number;
  /**
   * Per-tenant retention overrides, in days.
   * @default none
   */
  readonly tenantRetentionDays?: Readonly<Record<string, number>>;
  readonly deleteGraceDays: number;
  /**
   * Erasure requests one tenant may have pending at once.
   * @default 100
   */
  readonly maxOpenErasures?: number;
  /**
   * Per-tenant fairness limits of the API functions.
   * @default 50 requests and 1,000 events per second (contract ENV)
   */
  readonly tenantRates?: TenantRates;
  /**
   * Per-tenant limits instead of `tenantRates`.
   * @default none
   */
  readonly tenantRateOverrides?: Readonly<Record<string, TenantRates>>;
  /**
   * Items the cleanup handles per chunk, and chunks per run (bounded work per invocation).
   * @default { chunkSize: 100, maxChunks: unlimited (the timeout bounds a run) }
   */
  readonly cleanupChunks?: { readonly chunkSize?: number; readonly maxChunks?: number };
  readonly writer: WriterSettings;
  /**
   * Origins allowed to read GET /v1/events and /v1/events/{id} from a browser (query function).
   * @default none
   */
  readonly corsAllowedOrigins?: readonly string[];
  /**
   * Exports: the admin function takes requests (sends jobs, presigns downloads, deletes a file of a
   * user erased since). @default no export routes
   */
  readonly exports?: {
    readonly bucket: IBucket;
    readonly queue: IQueue;
    readonly expiryDays: number;
    readonly urlSeconds: number;
  };
  /** Powertools log level of every function. */
  readonly logLevel: string;
  /**
   * Share of invocations that log at DEBUG (`POWERTOOLS_LOGGER_SAMPLE_RATE`).
   * @default 0
   */
  readonly logSampleRate?: number;
  readonly logRetention: RetentionDays;
  /**
   * Timeout of the API functions (ingest, query); API Gateway gives up after 29 s anyway.
   * @default Duration.seconds(10)
   */
  readonly apiTimeout?: Duration;
  /**
   * Timeout of one cleanup run; the cleanup stops between chunks before it and is resumable.
   * @default Duration.minutes(15)
   */
  readonly cleanupTimeout?: Duration;
}

/**
 * The five functions (and the token authorizer), the environment each one needs (and nothing more), their least-privilege
 * grants, and the writer's queue subscription:
 *
 * - ingest: validates and enqueues; sends to the queue, reads the keys; in the table it only updates
 *   the per-tenant rate counters (never an event item).
 * - query: reads the table and the keys; updates the rate counters only.
 * - admin: soft delete, restore and erasure requests; reads and updates the table, reads the keys,
 *   sends its audit records to the queue.
 * - writer: writes the table; reads only which keys exist (BatchGetItem, when a message is redelivered).
 * - cleanup: reads and deletes table items (retention, purge, erasure); sends erasure-completion records to the queue.
 */
export class ServiceFunctions extends Construct {
  readonly ingest: IFunction;
  readonly query: IFunction;
  readonly admin: IFunction;
  readonly writer: IFunction;
  readonly cleanup: IFunction;
  /** The token authorizer: issuer access tokens (`authorizerTokens`) and viewer tokens. */
  readonly authorizer: IFunction;

  constructor(scope: Construct, id: string, props: ServiceFunctionsProps) {
    super(scope, id);

    const common = { logLevel: props.logLevel, logRetention: props.logRetention, logSampleRate: props.logSampleRate ?? 0 };
    const apiTimeout = props.apiTimeout ?? Duration.seconds(10);
    // The API functions verify no token (the gateway did): they read the caller from its authorizer.
    const auth = {
      [ENV.authTenantClaim.name]: props.tenantClaim,
      [ENV.authScopePrefix.name]: props.scopePrefix,
    };
    const shards = { [ENV.shardCount.name]: String(props.shardCount) };
    const tenantRetention = Object.entries(props.tenantRetentionDays ?? {})
      .map(([tenant, days]) => `${tenant}=${days}`)
      .join(',');
    const retention = {
      [ENV.retentionDays.name]: String(props.retentionDays),
      ...(tenantRetention && { [ENV.tenantRetentionDays.name]: tenantRetention }),
      [ENV.deleteGraceDays.name]: String(props.deleteGraceDays),
    };

    const rateOverrides = Object.entries(props.tenantRateOverrides ?? {})
      .map(([tenant, r]) => `${tenant}=${r.requestsPerSecond}/${r.eventsPerSecond}`)
      .join(',');
    // Every API function limits requests per tenant on the same counters; ingest also limits events.
    const rates = {
      [ENV.tenantRequestsPerSecond.name]: String(props.tenantRates?.requestsPerSecond ?? ENV.tenantRequestsPerSecond.default),
      [ENV.tenantEventsPerSecond.name]: String(props.tenantRates?.eventsPerSecond ?? ENV.tenantEventsPerSecond.default),
      ...(rateOverrides && { [ENV.tenantRateOverrides.name]: rateOverrides }),
    };

    const ingest = createServiceFunction(this, 'Ingest', {
      ...common,
      handler: 'ingest',
      description: 'Validates events, assigns ids and enqueues them (POST /v1/events)',
      timeout: apiTimeout,
      environment: {
        [ENV.queueUrl.name]: props.queue.queueUrl,
        [ENV.keysSecretArn.name]: props.keysSecret.secretArn,
        ...auth,
        ...shards,
        [ENV.retentionDays.name]: String(props.retentionDays),
        ...(tenantRetention && { [ENV.tenantRetentionDays.name]: tenantRetention }),
        [ENV.maxEventsPerRequest.name]: String(props.maxEventsPerRequest ?? ENV.maxEventsPerRequest.default),
        // The rate counters' table: ingest never reads or writes an event item (see updateRateCounters).
        [ENV.tableName.name]: props.table.tableName,
        ...rates,
      },
    });
    props.queue.grant(ingest, 'sqs:SendMessage');
    updateRateCounters(props.table, ingest);
    readSecret(props.keysSecret, ingest);

    const query = createServiceFunction(this, 'Query', {
      ...common,
      handler: 'query',
      description: 'Reads events (GET /v1/events, GET /v1/events/{id})',
      timeout: apiTimeout,
      environment: {
        [ENV.tableName.name]: props.table.tableName,
        [ENV.keysSecretArn.name]: props.keysSecret.secretArn,
        ...auth,
        ...shards,
        ...retention,
        ...rates,
        ...(props.corsAllowedOrigins?.length && { [ENV.corsAllowedOrigins.name]: props.corsAllowedOrigins.join(',') }),
      },
    });
    props.table.grant(query, ...TABLE_ACTIONS.query);
    updateRateCounters(props.table, query);
    readSecret(props.keysSecret, query);

    const admin = createServiceFunction(this, 'Admin', {
      ...common,
      handler: 'admin',
      description: 'Soft delete, restore and erasure requests (DELETE /v1/events/{id}, POST .../restore, /v1/erasures)',
      timeout: apiTimeout,
      environment: {
        [ENV.tableName.name]: props.table.tableName,
        [ENV.keysSecretArn.name]: props.keysSecret.secretArn,
        ...auth,
        [ENV.deleteGraceDays.name]: String(props.deleteGraceDays),
        [ENV.maxOpenErasures.name]: String(props.maxOpenErasures ?? ENV.maxOpenErasures.default),
        ...rates,
        // Audit records (core/audit-records.ts) go through the events queue like ingested events.
        [ENV.queueUrl.name]: props.queue.queueUrl,
        ...shards,
        [ENV.retentionDays.name]: String(props.retentionDays),
        ...(tenantRetention && { [ENV.tenantRetentionDays.name]: tenantRetention }),
        ...(props.exports && {
          [ENV.exportBucket.name]: props.exports.bucket.bucketName,
          [ENV.exportQueueUrl.name]: props.exports.queue.queueUrl,
          [ENV.exportExpiryDays.name]: String(props.exports.expiryDays),
          [ENV.exportUrlSeconds.name]: String(props.exports.urlSeconds),
        }),
      },
    });
    props.table.grant(admin, ...TABLE_ACTIONS.admin);
    props.queue.grant(admin, 'sqs:SendMessage');
    readSecret(props.keysSecret, admin);
    if (props.exports) {
      props.exports.queue.grant(admin, 'sqs:SendMessage');
      // GetObject signs the download URLs; DeleteObject removes a file of a user erased since.
      Grant.addToPrincipal({
        grantee: admin,
        actions: ['s3:GetObject', 's3:DeleteObject'],
        resourceArns: [props.exports.bucket.arnForObjects('*')],
      });
    }

    const writer = createServiceFunction(this, 'Writer', {
      ...common,
      handler: 'writer',
      description: 'Writes queued events to the table, reporting partial batch failures',
      timeout: props.writer.timeout,
      environment: {
        [ENV.tableName.name]: props.table.tableName,
        [ENV.queueVisibilityTimeoutSeconds.name]: String(props.writer.queueVisibilityTimeout.toSeconds()),
      },
    });
    props.table.grant(writer, ...TABLE_ACTIONS.writer);
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
      timeout: props.cleanupTimeout ?? Duration.minutes(15),
      environment: {
        [ENV.tableName.name]: props.table.tableName,
        ...shards,
        ...retention,
        ...(props.cleanupChunks?.chunkSize !== undefined && { [ENV.cleanupChunkSize.name]: String(props.cleanupChunks.chunkSize) }),
        ...(props.cleanupChunks?.maxChunks !== undefined && { [ENV.cleanupMaxChunks.name]: String(props.cleanupChunks.maxChunks) }),
        // Erasure completions are recorded through the events queue (core/audit-records.ts).
        [ENV.queueUrl.name]: props.queue.queueUrl,
      },
    });
    props.table.grant(cleanup, ...TABLE_ACTIONS.cleanup);
    props.queue.grant(cleanup, 'sqs:SendMessage');

    this.authorizer = createServiceFunction(this, 'Authorizer', {
      ...common,
      handler: 'authorizer',
      description: "API Gateway token authorizer: verifies the issuer's access tokens and viewer tokens",
      // API Gateway waits at most 29 s for the whole request; a JWKS fetch is bounded at 3 s.
      timeout: Duration.seconds(10),
      memorySize: 256,
      // The keys sign viewer tokens (POST /v1/viewer-sessions), which this authorizer verifies too.
      environment: { ...authEnvironment(props.authorizerTokens, props.tenantClaim), [ENV.keysSecretArn.name]: props.keysSecret.secretArn },
    });
    readSecret(props.keysSecret, this.authorizer);

    this.ingest = ingest;
    this.query = query;
    this.admin = admin;
    this.writer = writer;
    this.cleanup = cleanup;
  }
}
