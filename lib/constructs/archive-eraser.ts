import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { CfnWorkGroup } from 'aws-cdk-lib/aws-athena';
import { Alarm, ComparisonOperator, Stats, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { type IEventBus, Rule } from 'aws-cdk-lib/aws-events';
import { SqsQueue } from 'aws-cdk-lib/aws-events-targets';
import { Grant } from 'aws-cdk-lib/aws-iam';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { BlockPublicAccess, Bucket, BucketEncryption, type IBucket } from 'aws-cdk-lib/aws-s3';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import { type IQueue, Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { notifyOn } from './alarms';
import { ENV } from '../../contract';
import type { EventArchive } from './archive';
import { createServiceFunction } from './lambda-function';

export interface ArchiveEraserProps {
  readonly bus: IEventBus;
  readonly archive: EventArchive;
  readonly logLevel: string;
  readonly logRetention: RetentionDays;
  /**
   * Where the alarms go.
   * @default no action
   */
  readonly alarmTopic?: ITopic;
}

const ERASER_TIMEOUT = Duration.minutes(15);

/**
 * Erasure reaches the archive (docs/consumers.md, "Erasure and the archive"): a rule on the bus
 * sends each `erasure.completed` to a FIFO queue (one message group: one erasure at a time, since
 * two rewrites of a file would bring back the rows the first removed); 16 minutes after completion
 * (Firehose's buffer has flushed by then; lambdas/core/archive-erasure.ts SETTLE_MS) the
 * archive eraser (lambdas/handlers/archive-eraser.ts) finds the user's files with Athena, UNLOADs
 * every other row to its work bucket and swaps the rewritten files in. Its own Athena workgroup
 * (engine v3, results encrypted in the work bucket, configuration enforced), a work bucket
 * (encrypted, TLS-only, private, 7-day lifecycle), a dead-letter queue and two alarms.
 */
export class ArchiveEraser extends Construct {
  readonly queue: IQueue;
  readonly deadLetterQueue: IQueue;
  readonly workBucket: IBucket;
  readonly workGroupName: string;
  readonly function: IFunction;
  readonly rule: Rule;
  readonly alarms: readonly Alarm[];

  constructor(scope: Construct, id: string, props: ArchiveEraserProps) {
    super(scope, id);
    const { archive } = props;
    const stack = Stack.of(this);

    const workBucket = new Bucket(this, 'WorkBucket', {
      encryption: BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      serverAccessLogsBucket: archive.accessLogsBucket,
      serverAccessLogsPrefix: 'eraser-work/',
      // Query results, staged rewrites and progress markers live minutes to hours; a week covers a stuck erasure's retries.
      lifecycleRules: [{ expiration: Duration.days(7), abortIncompleteMultipartUploadAfter: Duration.days(1) }],
      removalPolicy: RemovalPolicy.DESTROY,
    });

    const workGroup = new CfnWorkGroup(this, 'WorkGroup', {
      name: `${stack.stackName}-archive-eraser`,
      description: 'Activity Tracker archive eraser: finds and rewrites the files holding an erased user',
      recursiveDeleteOption: true,
      state: 'ENABLED',
      workGroupConfiguration: {
        enforceWorkGroupConfiguration: true,
        publishCloudWatchMetricsEnabled: true,
        engineVersion: { selectedEngineVersion: 'Athena engine version 3' },
        resultConfiguration: {
          outputLocation: `s3://${workBucket.bucketName}/results/`,
          encryptionConfiguration: { encryptionOption: 'SSE_S3' },
        },
      },
    });

    const deadLetterQueue = new Queue(this, 'DeadLetterQueue', {
      fifo: true,
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    const queue = new Queue(this, 'Queue', {
      fifo: true,
      // The EventBridge event's id makes its body unique: a redelivered event within 5 minutes is dropped.
      contentBasedDeduplication: true,
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      visibilityTimeout: ERASER_TIMEOUT.plus(Duration.minutes(1)),
      retentionPeriod: Duration.days(4),
      // A long erasure continues over several runs (each a receive): 50 × 15 minutes of work.
      deadLetterQueue: { queue: deadLetterQueue, maxReceiveCount: 50 },
    });

    const rule = new Rule(this, 'ErasureRule', {
      eventBus: props.bus,
      description: 'Erasures reach the archive (archive eraser queue)',
      eventPattern: { source: ['activity-tracker'], detailType: ['erasure.completed'] },
      targets: [new SqsQueue(queue, { messageGroupId: 'erasures' })],
    });

    const databaseName = archive.databaseName;
    const fn = createServiceFunction(this, 'Eraser', {
      handler: 'archive-eraser',
      description: "Removes an erased user's rows from the archive (Athena UNLOAD, file swap)",
      logLevel: props.logLevel,
      logRetention: props.logRetention,
      timeout: ERASER_TIMEOUT,
      memorySize: 256,
      environment: {
        [ENV.archiveBucket.name]: archive.bucket.bucketName,
        [ENV.archiveDatabase.name]: databaseName,
        [ENV.athenaWorkGroup.name]: workGroup.ref,
        [ENV.eraserWorkBucket.name]: workBucket.bucketName,
        [ENV.eraserQueueUrl.name]: queue.queueUrl,
        [ENV.eraserDeadLetterUrl.name]: deadLetterQueue.queueUrl,
      },
    });
    fn.addEventSource(new SqsEventSource(queue, { batchSize: 1, reportBatchItemFailures: true }));
    deadLetterQueue.grantSendMessages(fn);

    Grant.addToPrincipal({
      grantee: fn,
      actions: ['athena:StartQueryExecution', 'athena:GetQueryExecution', 'athena:GetQueryResults'],
      resourceArns: [stack.formatArn({ service: 'athena', resource: 'workgroup', resourceName: workGroup.ref })],
    });
    // Athena reads the table's definition with the caller's rights (partition projection: no partitions to read).
    Grant.addToPrincipal({
      grantee: fn,
      actions: ['glue:GetDatabase', 'glue:GetTable'],
      resourceArns: [
        stack.formatArn({ service: 'glue', resource: 'catalog' }),
        stack.formatArn({ service: 'glue', resource: 'database', resourceName: databaseName }),
        stack.formatArn({ service: 'glue', resource: 'table', resourceName: `${databaseName}/${archive.tableName}` }),
      ],
    });
    // The archive: Athena lists and reads the tenant's files; the eraser copies rewritten files in and deletes the listed ones.
    Grant.addToPrincipal({
      grantee: fn,
      actions: ['s3:GetBucketLocation', 's3:ListBucket'],
      resourceArns: [archive.bucket.bucketArn, workBucket.bucketArn],
    });
    Grant.addToPrincipal({
      grantee: fn,
      actions: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject'],
      resourceArns: [archive.bucket.arnForObjects('events/*')],
    });
    // The work bucket: Athena writes results and UNLOAD's files with the caller's rights; the eraser keeps its markers there.
    Grant.addToPrincipal({
      grantee: fn,
      actions: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject', 's3:AbortMultipartUpload', 's3:ListMultipartUploadParts'],
      resourceArns: [workBucket.arnForObjects('*')],
    });

    const minute = Duration.minutes(1);
    const alarms = [
      new Alarm(this, 'ArchiveErasureFailed', {
        metric: deadLetterQueue.metricApproximateNumberOfMessagesVisible({ statistic: Stats.MAXIMUM, period: minute }),
        threshold: 0,
        evaluationPeriods: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
        treatMissingData: TreatMissingData.NOT_BREACHING,
        alarmDescription:
          "An erasure did not reach the archive: its erasure.completed is in the eraser's dead-letter queue. Runbook: docs/operating.md → ArchiveErasureFailed.",
      }),
      new Alarm(this, 'ArchiveErasureSlow', {
        metric: queue.metricApproximateAgeOfOldestMessage({ statistic: Stats.MAXIMUM, period: Duration.minutes(5) }),
        threshold: Duration.hours(6).toSeconds(),
        evaluationPeriods: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
        treatMissingData: TreatMissingData.NOT_BREACHING,
        alarmDescription:
          'An erasure has waited more than 6 hours to reach the archive (the eraser fails or is slow). Runbook: docs/operating.md → ArchiveErasureFailed.',
      }),
    ];
    if (props.alarmTopic) notifyOn(props.alarmTopic, alarms);

    this.queue = queue;
    this.deadLetterQueue = deadLetterQueue;
    this.workBucket = workBucket;
    this.workGroupName = workGroup.ref;
    this.function = fn;
    this.rule = rule;
    this.alarms = alarms;
  }
}
