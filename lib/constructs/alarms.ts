import { Duration } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, type IMetric, MathExpression, Stats, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import { type ITopic, Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import { apiMetric, serviceMetric, tableMetric, type WatchedResources } from './dashboard';

/** Sends each alarm's state changes (into ALARM and back to OK) to the topic. */
export const notifyOn = (topic: ITopic, alarms: Iterable<Alarm>): void => {
  for (const alarm of alarms) {
    alarm.addAlarmAction(new SnsAction(topic));
    alarm.addOkAction(new SnsAction(topic));
  }
};

export interface ServiceAlarmsProps extends WatchedResources {
  /**
   * An alarm on the dead-letter queue made elsewhere (DeadLetterAlarm): it gets this topic's
   * actions rather than a second alarm on the same metric.
   * @default one is created here
   */
  readonly deadLetterAlarm?: Alarm;
  /**
   * Export jobs that failed every retry (lib/constructs/exports.ts).
   * @default none
   */
  readonly exportDeadLetterAlarm?: Alarm;
  /**
   * E-mail address subscribed to the alarm topic.
   * @default no subscription (subscribe to the topic yourself)
   */
  readonly email?: string;
  /**
   * Alarm when the oldest queued event is older than this.
   * @default Duration.minutes(5)
   */
  readonly queueAgeThreshold?: Duration;
  /**
   * Alarm when 5xx answers exceed this percentage of API requests over 5 minutes.
   * @default 1
   */
  readonly api5xxPercent?: number;
  /**
   * Alarm when the writer fails this many invocations in 5 minutes.
   * @default 1
   */
  readonly writerErrors?: number;
  /**
   * Alarm when the cleanup has not completed a run for this many days.
   * @default 2
   */
  readonly cleanupMissedDays?: number;
}

/**
 * The alarms that page operators before data is at risk, all sending ALARM and OK to one SNS
 * topic encrypted with a customer-managed key (CloudWatch may use it; AWS managed SNS keys do not
 * allow that). Each alarm's runbook is in docs/operating.md, under its name.
 */
export class ServiceAlarms extends Construct {
  readonly topic: ITopic;
  /** Every alarm, by its construct id. */
  readonly alarms: Readonly<Record<string, Alarm>>;

  constructor(scope: Construct, id: string, props: ServiceAlarmsProps) {
    super(scope, id);
    const { api, queue, deadLetterQueue, table, functions } = props;

    const key = new Key(this, 'TopicKey', {
      description: 'Activity Tracker alarm topic',
      enableKeyRotation: true,
    });
    key.grant(new ServicePrincipal('cloudwatch.amazonaws.com'), 'kms:Decrypt', 'kms:GenerateDataKey*');
    const topic = new Topic(this, 'Topic', { displayName: 'Activity Tracker alarms', masterKey: key, enforceSSL: true });
    if (props.email !== undefined) topic.addSubscription(new EmailSubscription(props.email));

    const fiveMinutes = Duration.minutes(5);
    const alarms: Record<string, Alarm> = {};
    const alarm = (
      alarmId: string,
      metric: IMetric,
      threshold: number,
      description: string,
      options: { comparison?: ComparisonOperator; evaluationPeriods?: number; missing?: TreatMissingData } = {},
    ): Alarm => {
      const a = new Alarm(this, alarmId, {
        metric,
        threshold,
        alarmDescription: `${description} Runbook: docs/operating.md → ${alarmId}.`,
        comparisonOperator: options.comparison ?? ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: options.evaluationPeriods ?? 1,
        datapointsToAlarm: options.evaluationPeriods ?? 1,
        treatMissingData: options.missing ?? TreatMissingData.NOT_BREACHING,
      });
      notifyOn(topic, [a]);
      alarms[alarmId] = a;
      return a;
    };

    if (props.deadLetterAlarm) {
      notifyOn(topic, [props.deadLetterAlarm]);
      alarms.DeadLetterQueueNotEmpty = props.deadLetterAlarm;
    } else {
      alarm(
        'DeadLetterQueueNotEmpty',
        deadLetterQueue.metricApproximateNumberOfMessagesVisible({ statistic: Stats.MAXIMUM, period: Duration.minutes(1) }),
        1,
        'Events the writer could not store after every retry are waiting in the dead-letter queue.',
      );
    }
    if (props.exportDeadLetterAlarm) {
      notifyOn(topic, [props.exportDeadLetterAlarm]);
      alarms.ExportDeadLetterQueueNotEmpty = props.exportDeadLetterAlarm;
      alarm(
        'ExportWithdrawalFailed',
        serviceMetric('ExportWithdrawalFailures', { period: Duration.hours(1), statistic: Stats.SUM }),
        1,
        'An erasure request could not withdraw the exports it makes unlawful: their files are still in the export bucket.',
      );
    }

    const queueAge = props.queueAgeThreshold ?? Duration.minutes(5);
    alarm(
      'QueueAgeHigh',
      queue.metricApproximateAgeOfOldestMessage({ statistic: Stats.MAXIMUM, period: fiveMinutes }),
      queueAge.toSeconds(),
      `The oldest queued event has waited more than ${queueAge.toSeconds()} s: the writer is behind or stopped.`,
      { comparison: ComparisonOperator.GREATER_THAN_THRESHOLD },
    );

    const api5xx = props.api5xxPercent ?? 1;
    alarm(
      'Api5xxRate',
      new MathExpression({
        expression: 'IF(requests > 0, 100 * errors / requests, 0)',
        usingMetrics: { requests: apiMetric(api, 'Count'), errors: apiMetric(api, '5XXError') },
        label: 'API 5xx %',
        period: fiveMinutes,
      }),
      api5xx,
      `More than ${api5xx}% of API requests answered 5xx over 5 minutes.`,
      { comparison: ComparisonOperator.GREATER_THAN_THRESHOLD },
    );

    alarm(
      'WriterErrors',
      functions.writer.metricErrors({ period: fiveMinutes, statistic: Stats.SUM }),
      props.writerErrors ?? 1,
      'Writer invocations failed (whole batches are retried, then go to the DLQ).',
    );

    const fns = Object.entries(functions);
    alarm(
      'FunctionThrottles',
      new MathExpression({
        // Lambda publishes nothing for a function that was not invoked: fill, or the sum is missing.
        expression: fns.map(([name]) => `FILL(${name}, 0)`).join(' + '),
        usingMetrics: Object.fromEntries(
          fns.map(([name, fn]) => [name, fn.metricThrottles({ period: fiveMinutes, statistic: Stats.SUM })]),
        ),
        label: 'throttles, all functions',
        period: fiveMinutes,
      }),
      1,
      'A function was throttled (account or reserved concurrency reached).',
    );

    const indexes = props.tableIndexes ?? [];
    const throttleMetrics: Record<string, IMetric> = {
      tableWrite: tableMetric(table, 'WriteThrottleEvents', undefined, { period: fiveMinutes }),
      tableRead: tableMetric(table, 'ReadThrottleEvents', undefined, { period: fiveMinutes }),
    };
    indexes.forEach((ix, i) => {
      throttleMetrics[`index${i}Write`] = tableMetric(table, 'WriteThrottleEvents', ix, { period: fiveMinutes });
      throttleMetrics[`index${i}Read`] = tableMetric(table, 'ReadThrottleEvents', ix, { period: fiveMinutes });
    });
    alarm(
      'DynamoDbThrottles',
      new MathExpression({
        // A metric with no data in the period is missing, not 0: fill it so the sum exists.
        expression: Object.keys(throttleMetrics)
          .map((k) => `FILL(${k}, 0)`)
          .join(' + '),
        usingMetrics: throttleMetrics,
        label: 'DynamoDB throttled requests',
        period: fiveMinutes,
      }),
      1,
      'DynamoDB throttled reads or writes on the events table or its indexes (hot partition or account limit).',
    );

    alarm(
      'CleanupFailed',
      functions.cleanup.metricErrors({ period: Duration.hours(1), statistic: Stats.SUM }),
      1,
      'A cleanup run failed (retention, purge or erasure did not finish); it resumes on the next run.',
    );

    const missedDays = props.cleanupMissedDays ?? 2;
    alarm(
      'CleanupNotRun',
      serviceMetric('CleanupRuns', { period: Duration.days(1), statistic: Stats.SUM }),
      1,
      `No cleanup run has completed for ${missedDays} days: erasures and retention are overdue.`,
      { comparison: ComparisonOperator.LESS_THAN_THRESHOLD, evaluationPeriods: missedDays, missing: TreatMissingData.BREACHING },
    );

    this.topic = topic;
    this.alarms = alarms;
  }
}
