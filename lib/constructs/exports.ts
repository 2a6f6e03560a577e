import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { Grant } from 'aws-cdk-lib/aws-iam';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { BlockPublicAccess, Bucket, BucketEncryption, type IBucket } from 'aws-cdk-lib/aws-s3';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { ENV } from '../../contract';
import { createServiceFunction } from './lambda-function';
import { EventQueue } from './queue';

export interface ExportStorageProps {
  /** Days an export file is kept before the bucket's lifecycle rule deletes it. */
  readonly expiryDays: number;
  /**
   * The export worker's timeout: the job queue's visibility timeout follows it.
   * @default Duration.minutes(15)
   */
  readonly workerTimeout?: Duration;
}

/**
 * Where exports go: a private bucket (S3-managed encryption, TLS only, public access blocked,
 * objects deleted after `expiryDays`, unfinished multipart uploads aborted after a day) and the
 * job queue the export worker consumes (encrypted, TLS only, with a dead-letter queue).
 */
export class ExportStorage extends Construct {
  readonly bucket: IBucket;
  readonly queue: IQueue;
  readonly deadLetterQueue: IQueue;
  readonly workerTimeout: Duration;

  constructor(scope: Construct, id: string, props: ExportStorageProps) {
    super(scope, id);
    this.workerTimeout = props.workerTimeout ?? Duration.minutes(15);
    this.bucket = new Bucket(this, 'Bucket', {
      encryption: BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      // Export files are short-lived copies of the table: nothing to keep when the stack goes.
      removalPolicy: RemovalPolicy.DESTROY,
      lifecycleRules: [{ expiration: Duration.days(props.expiryDays), abortIncompleteMultipartUploadAfter: Duration.days(1) }],
    });
    // A run that fails is retried from its saved progress once its message is visible again.
    const jobs = new EventQueue(this, 'Jobs', {
      visibilityTimeout: Duration.seconds(this.workerTimeout.toSeconds() + 60),
      maxReceiveCount: 3,
    });
    this.queue = jobs.queue;
    this.deadLetterQueue = jobs.deadLetterQueue;
  }
}

export interface ExportWorkerProps {
  readonly storage: ExportStorage;
  readonly table: ITable;
  readonly keysSecret: ISecret;
  readonly shardCount: number;
  readonly logLevel: string;
  readonly logRetention: RetentionDays;
}

/**
 * The export worker: one job per invocation from the job queue; reads the table (Query, GetItem),
 * writes only its job items (UpdateItem), uploads to the bucket (multipart), and sends a job
 * that needs another run back to the queue.
 */
export class ExportWorker extends Construct {
  readonly function: IFunction;

  constructor(scope: Construct, id: string, props: ExportWorkerProps) {
    super(scope, id);
    const { storage } = props;
    const fn = createServiceFunction(this, 'Exporter', {
      handler: 'exporter',
      description: 'Export worker: streams a tenant or user timeline as gzip NDJSON/CSV to S3 (POST /v1/exports)',
      timeout: storage.workerTimeout,
      memorySize: 1024,
      logLevel: props.logLevel,
      logRetention: props.logRetention,
      environment: {
        [ENV.tableName.name]: props.table.tableName,
        [ENV.keysSecretArn.name]: props.keysSecret.secretArn,
        [ENV.shardCount.name]: String(props.shardCount),
        [ENV.exportBucket.name]: storage.bucket.bucketName,
        [ENV.exportQueueUrl.name]: storage.queue.queueUrl,
      },
    });
    // BatchGetItem: a page through a keys-only timeline index fetches its items in one call.
    props.table.grant(fn, 'dynamodb:Query', 'dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:UpdateItem');
    Grant.addToPrincipal({
      grantee: fn,
      actions: ['secretsmanager:GetSecretValue'],
      resourceArns: [props.keysSecret.secretFullArn ?? props.keysSecret.secretArn],
    });
    Grant.addToPrincipal({
      grantee: fn,
      actions: ['s3:PutObject', 's3:AbortMultipartUpload', 's3:DeleteObject', 's3:GetObject'],
      resourceArns: [storage.bucket.arnForObjects('*')],
    });
    storage.queue.grant(fn, 'sqs:SendMessage');
    fn.addEventSource(new SqsEventSource(storage.queue, { batchSize: 1, reportBatchItemFailures: true }));
    this.function = fn;
  }
}
