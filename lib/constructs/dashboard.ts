import { Aws, Duration } from 'aws-cdk-lib';
import type { IRestApi } from 'aws-cdk-lib/aws-apigateway';
import {
  Dashboard,
  GraphWidget,
  type GraphWidgetProps,
  type IMetric,
  MathExpression,
  Metric,
  type MetricOptions,
  PeriodOverride,
  SingleValueWidget,
  Stats,
  TextWidget,
} from 'aws-cdk-lib/aws-cloudwatch';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { METRICS_NAMESPACE, SERVICE_NAME } from './lambda-function';

/** One of the functions' EMF metrics: namespace ActivityTracker, dimension `service` only. */
export const serviceMetric = (metricName: string, options: MetricOptions = {}): Metric =>
  new Metric({ namespace: METRICS_NAMESPACE, metricName, dimensionsMap: { service: SERVICE_NAME }, statistic: Stats.SUM, ...options });

/** An API Gateway metric of the REST API (all stages; the stack has one). */
export const apiMetric = (api: IRestApi, metricName: string, options: MetricOptions = {}): Metric =>
  new Metric({ namespace: 'AWS/ApiGateway', metricName, dimensionsMap: { ApiName: api.restApiName }, statistic: Stats.SUM, ...options });

/** A DynamoDB table metric (base table; with `index`, one global secondary index). */
export const tableMetric = (table: ITable, metricName: string, index?: string, options: MetricOptions = {}): Metric =>
  new Metric({
    namespace: 'AWS/DynamoDB',
    metricName,
    dimensionsMap: { TableName: table.tableName, ...(index !== undefined && { GlobalSecondaryIndexName: index }) },
    statistic: Stats.SUM,
    ...options,
  });

/** The functions the dashboard and alarms watch. */
export interface ServiceFunctionSet {
  readonly ingest: IFunction;
  readonly query: IFunction;
  readonly admin: IFunction;
  readonly writer: IFunction;
  readonly cleanup: IFunction;
}

/** The resources the dashboard and alarms watch. */
export interface WatchedResources {
  readonly api: IRestApi;
  readonly queue: IQueue;
  readonly deadLetterQueue: IQueue;
  readonly table: ITable;
  /** Global secondary indexes of the table: their throttles are graphed and alarmed too. @default none */
  readonly tableIndexes?: readonly string[];
  readonly functions: ServiceFunctionSet;
}

export interface ServiceDashboardProps extends WatchedResources {
  /**
   * Default time range shown.
   * @default Duration.hours(3)
   */
  readonly range?: Duration;
}

const FIVE_MINUTES = Duration.minutes(5);

/**
 * The operators' view of the service, in the order one reads an incident: does traffic come in
 * (API), is it accepted (ingest), does it flow (queue, DLQ, writer, end-to-end lag), does
 * storage keep up (DynamoDB), and does housekeeping run (cleanup).
 */
export class ServiceDashboard extends Construct {
  readonly dashboard: Dashboard;
  /** Console URL of the dashboard (a stack output). */
  readonly url: string;

  constructor(scope: Construct, id: string, props: ServiceDashboardProps) {
    super(scope, id);
    const { api, queue, deadLetterQueue, table, functions } = props;
    const fns = Object.entries(functions) as [string, IFunction][];
    const graph = (title: string, left: IMetric[], extra: Partial<GraphWidgetProps> = {}) =>
      new GraphWidget({ title, left, width: 8, height: 6, period: FIVE_MINUTES, ...extra });

    const dashboard = new Dashboard(this, 'Dashboard', {
      start: `-PT${(props.range ?? Duration.hours(3)).toHours()}H`,
      periodOverride: PeriodOverride.AUTO,
    });

    dashboard.addWidgets(
      new TextWidget({
        markdown:
          '# Activity Tracker\nAPI → ingest → SQS → writer → DynamoDB; cleanup on a schedule. Runbook: docs/operating.md. ' +
          'Custom metrics: namespace `ActivityTracker`, dimension `service`.',
        width: 24,
        height: 2,
      }),
    );

    // API
    dashboard.addWidgets(
      graph('API requests, 4xx, 5xx', [
        apiMetric(api, 'Count', { label: 'requests' }),
        apiMetric(api, '4XXError', { label: '4xx' }),
        apiMetric(api, '5XXError', { label: '5xx' }),
      ]),
      graph('API latency (ms)', [
        apiMetric(api, 'Latency', { statistic: Stats.p(50), label: 'p50' }),
        apiMetric(api, 'Latency', { statistic: Stats.p(90), label: 'p90' }),
        apiMetric(api, 'Latency', { statistic: Stats.p(99), label: 'p99' }),
      ]),
      graph('Events accepted / rejected', [
        serviceMetric('EventsAccepted', { label: 'accepted' }),
        serviceMetric('EventsRejected', { label: 'rejected' }),
        serviceMetric('EnqueueFailures', { label: 'enqueue failures' }),
      ]),
    );

    // Flow
    dashboard.addWidgets(
      graph('Queue: visible messages', [
        queue.metricApproximateNumberOfMessagesVisible({ statistic: Stats.MAXIMUM, label: 'queue visible' }),
        deadLetterQueue.metricApproximateNumberOfMessagesVisible({ statistic: Stats.MAXIMUM, label: 'DLQ depth' }),
      ]),
      graph('Queue: age of oldest message (s)', [
        queue.metricApproximateAgeOfOldestMessage({ statistic: Stats.MAXIMUM, label: 'oldest message' }),
      ]),
      new SingleValueWidget({
        title: 'DLQ depth',
        metrics: [deadLetterQueue.metricApproximateNumberOfMessagesVisible({ statistic: Stats.MAXIMUM, label: 'messages in DLQ' })],
        width: 8,
        height: 6,
      }),
    );

    const writer = functions.writer;
    dashboard.addWidgets(
      graph('Writer: invocations, errors, throttles', [
        writer.metricInvocations({ label: 'invocations' }),
        writer.metricErrors({ label: 'errors' }),
        writer.metricThrottles({ label: 'throttles' }),
      ]),
      graph(
        'Writer: duration (ms) and concurrency',
        [
          writer.metricDuration({ statistic: Stats.p(50), label: 'duration p50' }),
          writer.metricDuration({ statistic: Stats.p(99), label: 'duration p99' }),
        ],
        { right: [writer.metric('ConcurrentExecutions', { statistic: Stats.MAXIMUM, label: 'concurrency (max)' })] },
      ),
      graph('Events written, retries, failures', [
        serviceMetric('EventsWritten', { label: 'written' }),
        serviceMetric('WriteRetries', { label: 'redelivered records' }),
        serviceMetric('BatchItemFailures', { label: 'batch item failures' }),
      ]),
    );

    dashboard.addWidgets(
      graph('End-to-end lag, received → written (ms)', [
        serviceMetric('EndToEndLag', { statistic: Stats.p(50), label: 'p50' }),
        serviceMetric('EndToEndLag', { statistic: Stats.p(99), label: 'p99' }),
      ]),
      graph('Query latency (ms)', [
        serviceMetric('QueryLatency', { statistic: Stats.p(50), label: 'p50' }),
        serviceMetric('QueryLatency', { statistic: Stats.p(99), label: 'p99' }),
      ]),
      graph('All functions: errors and throttles', [
        ...fns.map(([name, fn]) => fn.metricErrors({ label: `${name} errors` })),
        ...fns.map(([name, fn]) => fn.metricThrottles({ label: `${name} throttles` })),
      ]),
    );

    // Storage
    const indexes = props.tableIndexes ?? [];
    dashboard.addWidgets(
      graph('DynamoDB consumed capacity (units)', [
        tableMetric(table, 'ConsumedWriteCapacityUnits', undefined, { label: 'WCU table' }),
        tableMetric(table, 'ConsumedReadCapacityUnits', undefined, { label: 'RCU table' }),
        ...indexes.map((ix) => tableMetric(table, 'ConsumedWriteCapacityUnits', ix, { label: `WCU ${ix}` })),
      ]),
      graph('DynamoDB throttles', [
        tableMetric(table, 'WriteThrottleEvents', undefined, { label: 'write throttles' }),
        tableMetric(table, 'ReadThrottleEvents', undefined, { label: 'read throttles' }),
        ...indexes.map((ix) => tableMetric(table, 'WriteThrottleEvents', ix, { label: `write throttles ${ix}` })),
      ]),
      graph(
        'Cleanup results (daily)',
        [
          serviceMetric('CleanupRuns', { label: 'runs' }),
          serviceMetric('CleanupFailures', { label: 'failures' }),
          serviceMetric('ItemsPurged', { label: 'purged' }),
          serviceMetric('ItemsExpired', { label: 'expired' }),
          serviceMetric('ErasuresCompleted', { label: 'erasures completed' }),
          serviceMetric('EventsErased', { label: 'events erased' }),
        ],
        {
          period: Duration.days(1),
          right: [serviceMetric('CleanupDuration', { statistic: Stats.MAXIMUM, label: 'duration (ms)', period: Duration.days(1) })],
        },
      ),
    );

    dashboard.addWidgets(
      graph(
        'API 5xx rate (%)',
        [
          new MathExpression({
            expression: 'IF(requests > 0, 100 * errors / requests, 0)',
            usingMetrics: { requests: apiMetric(api, 'Count'), errors: apiMetric(api, '5XXError') },
            label: '5xx %',
            period: FIVE_MINUTES,
          }),
        ],
        { width: 24 },
      ),
    );

    this.dashboard = dashboard;
    this.url = `https://${Aws.REGION}.console.aws.amazon.com/cloudwatch/home?region=${Aws.REGION}#dashboards:name=${dashboard.dashboardName}`;
  }
}
