import { Aws, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { CfnDatabase, CfnTable } from 'aws-cdk-lib/aws-glue';
import { type IEventBus, type IRuleTarget, Rule, RuleTargetInput } from 'aws-cdk-lib/aws-events';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { CfnDeliveryStream } from 'aws-cdk-lib/aws-kinesisfirehose';
import { LogGroup, LogStream, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import { BlockPublicAccess, Bucket, BucketEncryption, type IBucket, ObjectOwnership } from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';

export interface EventArchiveProps {
  /** The bus whose `activity.recorded` events are archived. */
  readonly bus: IEventBus;
  /** Days archived files are kept. */
  readonly retentionDays: number;
  readonly logRetention: RetentionDays;
}

/** The archive table's columns: the public event, as GET /v1/events/{id} returns it (tenant and date are partitions). */
export const ARCHIVE_COLUMNS = [
  { name: 'id', type: 'string' },
  { name: 'type', type: 'string' },
  { name: 'userid', type: 'string' },
  { name: 'occurredat', type: 'string' },
  { name: 'receivedat', type: 'string' },
  { name: 'target', type: 'struct<type:string,id:string>' },
  // Open-ended JSON: the OpenX JSON SerDe writes a nested object into a string column as its JSON text.
  { name: 'details', type: 'string' },
  { name: 'source', type: 'struct<ip:string,useragent:string>' },
] as const;

/**
 * Analytics at scale: a rule on the bus sends each `activity.recorded` detail to Firehose, which
 * converts it to Parquet (Snappy) against the Glue table's schema and writes it under
 * `events/tenant=<tenant>/date=<yyyy-MM-dd>/` (dynamic partitioning with a JQ query). The Glue
 * table uses partition projection (tenant injected, date by day): no crawler, no partition
 * registration; a query names its tenant. The bucket is encrypted, TLS-only, private, and its
 * lifecycle deletes files after `retentionDays` (docs/consumers.md, "Archive").
 */
/**
 * A rule target for an L1 delivery stream (the L2 construct cannot convert to Parquet against a Glue
 * table): EventBridge puts records with a role of its own, allowed on that stream only. In place of
 * the deprecated KinesisFirehoseStream target; the L2 one would bring an unused CIDR mapping along.
 */
const firehoseTarget = (scope: Construct, stream: CfnDeliveryStream, input: RuleTargetInput): IRuleTarget => {
  const role = new Role(scope, 'RuleRole', { assumedBy: new ServicePrincipal('events.amazonaws.com') });
  role.addToPolicy(new PolicyStatement({ actions: ['firehose:PutRecord', 'firehose:PutRecordBatch'], resources: [stream.attrArn] }));
  return { bind: () => ({ arn: stream.attrArn, role, input }) };
};

export class EventArchive extends Construct {
  readonly bucket: IBucket;
  /** Server access logs of the archive (and of the eraser's work bucket). */
  readonly accessLogsBucket: IBucket;
  readonly databaseName: string;
  readonly tableName = 'events';
  readonly deliveryStream: CfnDeliveryStream;
  /** Firehose's role (its object-level S3 grant is acknowledged in lib/nag-suppressions.ts). */
  readonly deliveryRole: Role;

  constructor(scope: Construct, id: string, props: EventArchiveProps) {
    super(scope, id);
    const accessLogs = new Bucket(this, 'AccessLogs', {
      encryption: BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_PREFERRED,
      lifecycleRules: [{ expiration: Duration.days(90) }],
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const bucket = new Bucket(this, 'Bucket', {
      encryption: BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      serverAccessLogsBucket: accessLogs,
      serverAccessLogsPrefix: 'archive/',
      lifecycleRules: [
        { prefix: 'events/', expiration: Duration.days(props.retentionDays) },
        { prefix: 'errors/', expiration: Duration.days(30) },
        { abortIncompleteMultipartUploadAfter: Duration.days(1) },
      ],
      removalPolicy: RemovalPolicy.RETAIN,
    });

    const databaseName = `activity_tracker_${Stack.of(this)
      .stackName.toLowerCase()
      .replace(/[^a-z0-9]/g, '_')}`;
    const database = new CfnDatabase(this, 'Database', {
      catalogId: Aws.ACCOUNT_ID,
      databaseInput: { name: databaseName, description: 'Activity Tracker archive (Athena)' },
    });
    const location = `s3://${bucket.bucketName}/events/`;
    const table = new CfnTable(this, 'Table', {
      catalogId: Aws.ACCOUNT_ID,
      databaseName,
      tableInput: {
        name: this.tableName,
        tableType: 'EXTERNAL_TABLE',
        partitionKeys: [
          { name: 'tenant', type: 'string' },
          { name: 'date', type: 'string' },
        ],
        parameters: {
          classification: 'parquet',
          'parquet.compression': 'SNAPPY',
          'projection.enabled': 'true',
          'projection.tenant.type': 'injected',
          'projection.date.type': 'date',
          'projection.date.format': 'yyyy-MM-dd',
          'projection.date.range': '2026-01-01,NOW',
          'projection.date.interval': '1',
          'projection.date.interval.unit': 'DAYS',
          'storage.location.template': `${location}tenant=\${tenant}/date=\${date}/`,
        },
        storageDescriptor: {
          columns: ARCHIVE_COLUMNS.map((c) => ({ name: c.name, type: c.type })),
          location,
          inputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat',
          outputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat',
          serdeInfo: { serializationLibrary: 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe' },
        },
      },
    });
    table.addResourceDependency(database);

    const logGroup = new LogGroup(this, 'DeliveryLogs', { retention: props.logRetention, removalPolicy: RemovalPolicy.DESTROY });
    const logStream = new LogStream(this, 'DeliveryLogStream', { logGroup });
    const role = new Role(this, 'DeliveryRole', { assumedBy: new ServicePrincipal('firehose.amazonaws.com') });
    // The actions Firehose's S3 destination documents, on this bucket only (objects are new files under generated names).
    role.addToPolicy(
      new PolicyStatement({
        actions: [
          's3:AbortMultipartUpload',
          's3:GetBucketLocation',
          's3:GetObject',
          's3:ListBucket',
          's3:ListBucketMultipartUploads',
          's3:PutObject',
        ],
        resources: [bucket.bucketArn, bucket.arnForObjects('*')],
      }),
    );
    logGroup.grantWrite(role);
    const stack = Stack.of(this);
    role.addToPolicy(
      new PolicyStatement({
        actions: ['glue:GetTable', 'glue:GetTableVersion', 'glue:GetTableVersions'],
        resources: [
          stack.formatArn({ service: 'glue', resource: 'catalog' }),
          stack.formatArn({ service: 'glue', resource: 'database', resourceName: databaseName }),
          stack.formatArn({ service: 'glue', resource: 'table', resourceName: `${databaseName}/${this.tableName}` }),
        ],
      }),
    );

    const deliveryStream = new CfnDeliveryStream(this, 'DeliveryStream', {
      deliveryStreamType: 'DirectPut',
      deliveryStreamEncryptionConfigurationInput: { keyType: 'AWS_OWNED_CMK' },
      extendedS3DestinationConfiguration: {
        bucketArn: bucket.bucketArn,
        roleArn: role.roleArn,
        prefix: 'events/tenant=!{partitionKeyFromQuery:tenant}/date=!{partitionKeyFromQuery:date}/',
        errorOutputPrefix: 'errors/!{firehose:error-output-type}/date=!{timestamp:yyyy-MM-dd}/',
        // Large files are cheap to query: Firehose's largest buffer with dynamic partitioning.
        bufferingHints: { sizeInMBs: 128, intervalInSeconds: 900 },
        compressionFormat: 'UNCOMPRESSED',
        cloudWatchLoggingOptions: { enabled: true, logGroupName: logGroup.logGroupName, logStreamName: logStream.logStreamName },
        dynamicPartitioningConfiguration: { enabled: true, retryOptions: { durationInSeconds: 300 } },
        processingConfiguration: {
          enabled: true,
          processors: [
            {
              type: 'MetadataExtraction',
              parameters: [
                { parameterName: 'MetadataExtractionQuery', parameterValue: '{tenant: .tenant, date: .event.receivedAt[0:10]}' },
                { parameterName: 'JsonParsingEngine', parameterValue: 'JQ-1.6' },
              ],
            },
          ],
        },
        dataFormatConversionConfiguration: {
          enabled: true,
          inputFormatConfiguration: { deserializer: { openXJsonSerDe: { caseInsensitive: true } } },
          outputFormatConfiguration: { serializer: { parquetSerDe: { compression: 'SNAPPY' } } },
          schemaConfiguration: {
            catalogId: Aws.ACCOUNT_ID,
            databaseName,
            tableName: this.tableName,
            region: Aws.REGION,
            roleArn: role.roleArn,
            versionId: 'LATEST',
          },
        },
      },
    });
    deliveryStream.node.addDependency(role);
    deliveryStream.addResourceDependency(table);

    // The whole detail ({tenant, event}): the JQ query partitions by it, the schema keeps the event's columns.
    new Rule(this, 'ArchiveRule', {
      eventBus: props.bus,
      description: 'Archive every recorded event (Firehose → S3 Parquet)',
      eventPattern: { source: ['activity-tracker'], detailType: ['activity.recorded'] },
      targets: [firehoseTarget(this, deliveryStream, RuleTargetInput.fromEventPath('$.detail'))],
    });

    this.bucket = bucket;
    this.accessLogsBucket = accessLogs;
    this.databaseName = databaseName;
    this.deliveryStream = deliveryStream;
    this.deliveryRole = role;
  }
}
