import { Duration } from 'aws-cdk-lib';
import {
  Alarm,
  ComparisonOperator,
  type Dashboard,
  GraphWidget,
  MathExpression,
  Stats,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { EventBus, type IEventBus } from 'aws-cdk-lib/aws-events';
import { Grant } from 'aws-cdk-lib/aws-iam';
import { type IFunction, StartingPosition } from 'aws-cdk-lib/aws-lambda';
import { DynamoEventSource, SqsDlq } from 'aws-cdk-lib/aws-lambda-event-sources';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import { type IQueue, Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { notifyOn } from './alarms';
import { ENV } from '../../contract';
import { serviceMetric } from './dashboard';
import { createServiceFunction } from './lambda-function';

export interface EventPublishingProps {
  /** The events table; its change stream (NEW_AND_OLD_IMAGES) feeds the publisher. */
  readonly table: ITable;
  /** The id keys: the bus carries public ids, never internal ones. */
  readonly keysSecret: ISecret;
  readonly logLevel: string;
  readonly logRetention: RetentionDays;
  /**
   * Where the alarms go.
   * @default no action
   */
  readonly alarmTopic?: ITopic;
  /**
   * Widgets for publishing lag and failures are added here.
   * @default none
   */
  readonly dashboard?: Dashboard;
  /**
   * Alarm when the publisher trails the table by more than this (the stream's iterator age).
   * @default Duration.minutes(5)
   */
  readonly lagThreshold?: Duration;
}

/**
 * Downstream consumers (docs/consumers.md): a custom EventBridge bus, and a publisher consuming the
 * events table's change stream that puts every change on it (lambdas/core/publish.ts). The stream
 * mapping reports partial batch failures, bisects a failing batch, retries, and sends what still
 * fails to an encrypted on-failure queue, which is alarmed like the lag and the failures.
 */
export class EventPublishing extends Construct {
  readonly bus: IEventBus;
  readonly publisher: IFunction;
  /** Stream batches the publisher gave up on (their shard, sequence numbers and reason). */
  readonly failureQueue: IQueue;
  readonly alarms: readonly Alarm[];

  constructor(scope: Construct, id: string, props: EventPublishingProps) {
    super(scope, id);

    const bus = new EventBus(this, 'Bus', { description: 'Activity Tracker: every stored, deleted, restored event and completed erasure' });

    const publisher = createServiceFunction(this, 'Publisher', {
      handler: 'publisher',
      description: 'Publishes every change of the events table on the event bus',
      logLevel: props.logLevel,
      logRetention: props.logRetention,
      timeout: Duration.seconds(60),
      memorySize: 256,
      environment: {
        [ENV.eventBusName.name]: bus.eventBusName,
        [ENV.keysSecretArn.name]: props.keysSecret.secretArn,
        [ENV.tableName.name]: props.table.tableName,
      },
    });
    bus.grantPutEventsTo(publisher);
    // The erasure markers alone (`<tenant>#X`): an event an erasure hides is never published.
    Grant.addToPrincipal({
      grantee: publisher,
      actions: ['dynamodb:Query'],
      resourceArns: [props.table.tableArn],
      // Marker partitions are `<tenant>#X` (lambdas/core/item-keys.ts markerPartition); `$…` partitions
      // (rate counters `$rate#<tenant>`, the work list, the registry) are not, whatever the tenant's id.
      conditions: {
        'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['*#X'] },
        'ForAllValues:StringNotLike': { 'dynamodb:LeadingKeys': ['$*'] },
      },
    });
    // GetSecretValue alone (as the API functions).
    Grant.addToPrincipal({
      grantee: publisher,
      actions: ['secretsmanager:GetSecretValue'],
      resourceArns: [props.keysSecret.secretFullArn ?? props.keysSecret.secretArn],
    });

    const failureQueue = new Queue(this, 'FailureQueue', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    publisher.addEventSource(
      new DynamoEventSource(props.table, {
        startingPosition: StartingPosition.TRIM_HORIZON,
        batchSize: 100,
        maxBatchingWindow: Duration.seconds(1),
        reportBatchItemFailures: true,
        bisectBatchOnError: true,
        // A day of retries: EventBridge outages are short; the stream keeps records 24 hours.
        retryAttempts: 1000,
        maxRecordAge: Duration.hours(24),
        // One batch per shard at a time: the bus sees each item's changes in order.
        parallelizationFactor: 1,
        onFailure: new SqsDlq(failureQueue),
      }),
    );

    const minute = Duration.minutes(1);
    const iteratorAge = publisher.metric('IteratorAge', { statistic: Stats.MAXIMUM, period: minute });
    const lag = props.lagThreshold ?? Duration.minutes(5);
    const alarms = [
      new Alarm(this, 'PublishLagHigh', {
        metric: iteratorAge,
        threshold: lag.toMilliseconds(),
        evaluationPeriods: 5,
        datapointsToAlarm: 5,
        comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
        treatMissingData: TreatMissingData.NOT_BREACHING,
        alarmDescription: `The bus trails the table by more than ${lag.toSeconds()} s (stream iterator age). Runbook: docs/operating.md → PublishLagHigh.`,
      }),
      new Alarm(this, 'PublishFailed', {
        metric: failureQueue.metricApproximateNumberOfMessagesVisible({ statistic: Stats.MAXIMUM, period: minute }),
        threshold: 0,
        evaluationPeriods: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
        treatMissingData: TreatMissingData.NOT_BREACHING,
        alarmDescription:
          'Stream records the publisher gave up on are in its failure queue: those changes are not on the bus. Runbook: docs/operating.md → PublishFailed.',
      }),
    ];
    if (props.alarmTopic) notifyOn(props.alarmTopic, alarms);

    props.dashboard?.addWidgets(
      new GraphWidget({
        title: 'Bus publishing lag (ms)',
        left: [
          serviceMetric('PublishLag', { statistic: Stats.percentile(50), label: 'p50', period: minute }),
          serviceMetric('PublishLag', { statistic: Stats.percentile(99), label: 'p99', period: minute }),
          iteratorAge.with({ label: 'stream iterator age (max)' }),
        ],
        width: 12,
      }),
      new GraphWidget({
        title: 'Bus publishing: published, retried, failed',
        left: [
          serviceMetric('EventsPublished', { label: 'published', period: minute }),
          serviceMetric('PublishRetries', { label: 'entries retried', period: minute }),
          new MathExpression({
            expression: 'FILL(f, 0)',
            usingMetrics: { f: serviceMetric('PublishFailures', { period: minute }) },
            label: 'batches failed',
            period: minute,
          }),
        ],
        right: [
          failureQueue.metricApproximateNumberOfMessagesVisible({ statistic: Stats.MAXIMUM, period: minute, label: 'failure queue' }),
        ],
        width: 12,
      }),
    );

    this.bus = bus;
    this.publisher = publisher;
    this.failureQueue = failureQueue;
    this.alarms = alarms;
  }
}
