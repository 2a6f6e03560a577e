import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import {
  Alarm,
  ComparisonOperator,
  GraphWidget,
  type IAlarmAction,
  type IMetric,
  MathExpression,
  Metric,
  Stats,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import { AttributeType, type ITable, Table } from 'aws-cdk-lib/aws-dynamodb';
import { Grant } from 'aws-cdk-lib/aws-iam';
import { type IFunction, StartingPosition } from 'aws-cdk-lib/aws-lambda';
import { DynamoEventSource, SqsDlq } from 'aws-cdk-lib/aws-lambda-event-sources';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { type IQueue, Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { ENV, RATE_PARTITION_PREFIX, type TenantRates } from '../../contract';
import type { TableCapacity } from '../config';
import { tableMetric } from './dashboard';
import { createServiceFunction, METRICS_NAMESPACE, SERVICE_NAME } from './lambda-function';
import { autoScale, billingOf } from './table-capacity';

/**
 * Stream records per stats consumer invocation. A batch costs one update per counter item it
 * touches, so the larger the batch, the more of a user's events one update counts (bench/stats.ts
 * prices it: $0.50 per million events at 500, $0.40 at 1,000). Under light traffic the 2 s window
 * closes a batch first; Lambda keeps a batch under its 6 MB payload limit whatever this says.
 */
export const STATS_BATCH_SIZE = 1000;

export interface EventStatsProps {
  /** The events table; it must have a stream with new and old images. */
  readonly eventsTable: ITable;
  readonly shardCount: number;
  readonly tenantClaim: string;
  readonly scopePrefix: string;
  /** @default contract ENV defaults */
  readonly tenantRates?: TenantRates;
  /** @default none */
  readonly tenantRateOverrides?: Readonly<Record<string, TenantRates>>;
  readonly logLevel: string;
  readonly logRetention: RetentionDays;
  /** @default 0 */
  readonly logSampleRate?: number;
  /** Stream records per consumer invocation. @default STATS_BATCH_SIZE */
  readonly batchSize?: number;
  /** How long the stream mapping gathers a batch: longer windows coalesce more counter updates. @default 2 s */
  readonly maxBatchingWindow?: Duration;
  /** Where alarms notify. @default none */
  readonly alarmActions?: readonly IAlarmAction[];
  /**
   * How the counters table is billed: the events table's capacity mode, since its writes follow the
   * events stored (bench/stats.ts counts them) and its reads the stats queries.
   * @default { mode: 'on-demand' }
   */
  readonly capacity?: TableCapacity;
  /** Origins allowed to read GET /v1/stats from a browser. @default none */
  readonly corsAllowedOrigins?: readonly string[];
}

/**
 * GET /v1/stats: a counters table kept by a consumer of the events table's change stream, and the
 * function that answers from it. The consumer reports partial batch failures, bisects on error,
 * gives up on a batch after 10 retries (described on an SQS on-failure queue — run the recount) and
 * is alarmed on errors, iterator age and that queue.
 */
export class EventStats extends Construct {
  readonly table: ITable;
  readonly consumer: IFunction;
  readonly query: IFunction;
  readonly failureQueue: IQueue;
  readonly alarms: Readonly<Record<string, Alarm>>;
  readonly widgets: GraphWidget[];

  constructor(scope: Construct, id: string, props: EventStatsProps) {
    super(scope, id);
    // Derived data (a recount rebuilds it): its own table keeps the counters out of every event read, scan and stream.
    // No PITR: a restore would only bring back counts the recount rebuilds from the events table (which has it).
    const capacity = props.capacity ?? { mode: 'on-demand' };
    const table = new Table(this, 'Counters', {
      partitionKey: { name: 'pk', type: AttributeType.STRING },
      sortKey: { name: 'sk', type: AttributeType.STRING },
      ...billingOf(capacity),
      // A counter item expires when every event it can count has (core/stats-counters.ts, `x`).
      timeToLiveAttribute: 'x',
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: false },
      removalPolicy: RemovalPolicy.DESTROY,
    });
    autoScale(table, capacity);
    const common = { logLevel: props.logLevel, logRetention: props.logRetention, logSampleRate: props.logSampleRate ?? 0 };

    this.failureQueue = new Queue(this, 'FailedBatches', {
      retentionPeriod: Duration.days(14),
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
    });
    const consumer = createServiceFunction(this, 'Consumer', {
      ...common,
      handler: 'stats-consumer',
      description: 'Keeps the stats counters from the events table change stream',
      timeout: Duration.seconds(60),
      environment: { [ENV.statsTableName.name]: table.tableName },
    });
    Grant.addToPrincipal({ grantee: consumer, actions: ['dynamodb:UpdateItem', 'dynamodb:GetItem'], resourceArns: [table.tableArn] });
    consumer.addEventSource(
      new DynamoEventSource(props.eventsTable, {
        startingPosition: StartingPosition.TRIM_HORIZON,
        batchSize: props.batchSize ?? STATS_BATCH_SIZE,
        maxBatchingWindow: props.maxBatchingWindow ?? Duration.seconds(2),
        bisectBatchOnError: true,
        retryAttempts: 10,
        reportBatchItemFailures: true,
        onFailure: new SqsDlq(this.failureQueue),
      }),
    );

    const rateOverrides = Object.entries(props.tenantRateOverrides ?? {})
      .map(([tenant, r]) => `${tenant}=${r.requestsPerSecond}/${r.eventsPerSecond}`)
      .join(',');
    const query = createServiceFunction(this, 'Query', {
      ...common,
      handler: 'stats',
      description: 'Counts of events from the stats counters (GET /v1/stats)',
      timeout: Duration.seconds(10),
      environment: {
        [ENV.statsTableName.name]: table.tableName,
        [ENV.tableName.name]: props.eventsTable.tableName,
        [ENV.authTenantClaim.name]: props.tenantClaim,
        [ENV.authScopePrefix.name]: props.scopePrefix,
        [ENV.shardCount.name]: String(props.shardCount),
        [ENV.tenantRequestsPerSecond.name]: String(props.tenantRates?.requestsPerSecond ?? ENV.tenantRequestsPerSecond.default),
        [ENV.tenantEventsPerSecond.name]: String(props.tenantRates?.eventsPerSecond ?? ENV.tenantEventsPerSecond.default),
        ...(rateOverrides && { [ENV.tenantRateOverrides.name]: rateOverrides }),
        ...(props.corsAllowedOrigins?.length && { [ENV.corsAllowedOrigins.name]: props.corsAllowedOrigins.join(',') }),
      },
    });
    Grant.addToPrincipal({ grantee: query, actions: ['dynamodb:Query'], resourceArns: [table.tableArn] });
    // The per-tenant rate counters only (as every API function): never an event item.
    Grant.addToPrincipal({
      grantee: query,
      actions: ['dynamodb:UpdateItem'],
      resourceArns: [props.eventsTable.tableArn],
      conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [`${RATE_PARTITION_PREFIX}*`] } },
    });

    const fiveMinutes = Duration.minutes(5);
    const iteratorAge = new Metric({
      namespace: 'AWS/Lambda',
      metricName: 'IteratorAge',
      dimensionsMap: { FunctionName: consumer.functionName },
      period: Duration.minutes(1),
      statistic: Stats.MAXIMUM,
    });
    const alarm = (alarmId: string, metric: IMetric, threshold: number, description: string, evaluationPeriods = 1) => {
      const a = new Alarm(this, alarmId, {
        alarmDescription: description,
        metric,
        threshold,
        evaluationPeriods,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      });
      for (const action of props.alarmActions ?? []) a.addAlarmAction(action);
      return a;
    };
    const throttles = { writes: tableMetric(table, 'WriteThrottleEvents'), reads: tableMetric(table, 'ReadThrottleEvents') };
    this.alarms = {
      countersThrottled: alarm(
        'CountersThrottled',
        new MathExpression({
          // A metric with no data in the period is missing, not 0: fill it so the sum exists.
          expression: 'FILL(writes, 0) + FILL(reads, 0)',
          usingMetrics: throttles,
          label: 'counters table throttled requests',
          period: fiveMinutes,
        }),
        1,
        'DynamoDB throttled reads or writes on the stats counters table: counts lag (the consumer retries) or GET /v1/stats answers 5xx. Provisioned: raise the provisioned* bounds (docs/operating.md).',
      ),
      consumerErrors: alarm(
        'ConsumerErrors',
        consumer.metricErrors({ period: fiveMinutes, statistic: Stats.SUM }),
        1,
        'The stats consumer failed invocations (the stream batch is retried; counts lag meanwhile).',
      ),
      iteratorAge: alarm(
        'IteratorAge',
        iteratorAge,
        5 * 60_000,
        'The stats consumer is more than 5 minutes behind the events table stream: GET /v1/stats lags.',
        3,
      ),
      failedBatches: alarm(
        'FailedBatchesAlarm',
        this.failureQueue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1), statistic: Stats.MAXIMUM }),
        1,
        'A stream batch was given up on: counters miss it. Fix the cause, then run `npm run --silent stats:recount` (docs/operating.md).',
      ),
    };
    this.widgets = [
      new GraphWidget({
        title: 'Stats counters table: throttles',
        left: [
          throttles.writes.with({ label: 'write throttles', period: Duration.minutes(1) }),
          throttles.reads.with({ label: 'read throttles', period: Duration.minutes(1) }),
        ],
      }),
      new GraphWidget({
        title: 'Stats consumer: iterator age (ms) and lag',
        left: [
          iteratorAge,
          new Metric({
            namespace: METRICS_NAMESPACE,
            metricName: 'StatsLag',
            dimensionsMap: { service: SERVICE_NAME },
            period: Duration.minutes(1),
            statistic: 'p99',
          }),
        ],
      }),
      new GraphWidget({
        title: 'Stats consumer: errors, counter updates, replays, erased users released',
        left: [consumer.metricErrors({ period: Duration.minutes(1), statistic: Stats.SUM })],
        right: ['CounterUpdates', 'CounterReplays', 'CountersReleased'].map(
          (metricName) =>
            new Metric({
              namespace: METRICS_NAMESPACE,
              metricName,
              dimensionsMap: { service: SERVICE_NAME },
              period: Duration.minutes(1),
              statistic: Stats.SUM,
            }),
        ),
      }),
    ];
    this.table = table;
    this.consumer = consumer;
    this.query = query;
  }
}
