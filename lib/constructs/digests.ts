import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { Grant } from 'aws-cdk-lib/aws-iam';
import { Key, KeySpec, KeyUsage } from 'aws-cdk-lib/aws-kms';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { BlockPublicAccess, Bucket, BucketEncryption, ObjectLockRetention } from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { ENV } from '../../contract';
import { createServiceFunction } from './lambda-function';

export interface DigestsProps {
  readonly table: ITable;
  readonly shardCount: number;
  /** Length of a digest period and the schedule of the sealer, in minutes. */
  readonly periodMinutes: number;
  /** Object Lock (compliance mode) retention of each digest, in days. */
  readonly retentionDays: number;
  readonly logLevel: string;
  readonly logRetention: RetentionDays;
}

/**
 * Tamper-evident digests (lambdas/core/digest.ts): an asymmetric KMS key that only signs (the
 * verify side needs only its public key), a bucket with Object Lock in compliance mode, and the
 * sealer function on a schedule. The sealer may Sign with the key and put objects; nothing in the
 * stack may delete a digest before its retention ends (Object Lock), not even the account root.
 */
export class Digests extends Construct {
  readonly key: Key;
  readonly bucket: Bucket;
  readonly sealer: IFunction;

  constructor(scope: Construct, id: string, props: DigestsProps) {
    super(scope, id);
    this.key = new Key(this, 'SigningKey', {
      description: 'Activity Tracker: signs the tenant digests (sign/verify only)',
      keySpec: KeySpec.RSA_2048,
      keyUsage: KeyUsage.SIGN_VERIFY,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.bucket = new Bucket(this, 'Bucket', {
      objectLockEnabled: true,
      objectLockDefaultRetention: ObjectLockRetention.compliance(Duration.days(props.retentionDays)),
      versioned: true,
      encryption: BucketEncryption.S3_MANAGED,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const sealer = createServiceFunction(this, 'Sealer', {
      handler: 'digest',
      description: "Seals each tenant's events of the last periods into signed, chained digests",
      timeout: Duration.minutes(5),
      logLevel: props.logLevel,
      logRetention: props.logRetention,
      logSampleRate: 0,
      environment: {
        [ENV.tableName.name]: props.table.tableName,
        [ENV.shardCount.name]: String(props.shardCount),
        [ENV.digestPeriodMinutes.name]: String(props.periodMinutes),
        [ENV.digestBucket.name]: this.bucket.bucketName,
        [ENV.digestKeyId.name]: this.key.keyArn,
      },
    });
    // Timelines and logs (Query), late events (BatchGetItem), the chain head (GetItem, PutItem).
    props.table.grant(sealer, 'dynamodb:Query', 'dynamodb:BatchGetItem', 'dynamodb:GetItem', 'dynamodb:PutItem');
    Grant.addToPrincipal({ grantee: sealer, actions: ['kms:Sign'], resourceArns: [this.key.keyArn] });
    Grant.addToPrincipal({ grantee: sealer, actions: ['s3:PutObject'], resourceArns: [this.bucket.arnForObjects('digests/*')] });
    new Rule(this, 'Schedule', {
      description: 'Activity Tracker digests: seal the last period of every tenant',
      schedule: Schedule.rate(Duration.minutes(props.periodMinutes)),
      targets: [new LambdaFunction(sealer, { retryAttempts: 2 })],
    });
    this.sealer = sealer;
  }
}
