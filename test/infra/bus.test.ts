import { Match } from 'aws-cdk-lib/assertions';
import { nagPacks } from '../../lib/nag';
import { RATE_PARTITION_PREFIX } from '../../contract/table';
import { digestHeadPartition, lateLogPartition, removalLogPartition } from '../../lambdas/core/digest';
import { exportPartition } from '../../lambdas/core/exports';
import {
  ERASURE_WORK_PARTITION,
  markerPartition,
  purgePartition,
  receiptPartition,
  TENANT_REGISTRY_PARTITION,
  tenantPartition,
} from '../../lambdas/core/item-keys';
import { synthStack } from '../support/stack';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

describe('the event bus and its publisher', () => {
  const { template } = synthStack();

  it('creates a custom bus named in the outputs, and a publisher allowed to put events on it only', () => {
    template.resourceCountIs('AWS::Events::EventBus', 1);
    const outputs = template.toJSON().Outputs as Json;
    expect(outputs.EventBusName.Value).toEqual({ Ref: expect.stringMatching(/^PublishingBus/) });
    expect(outputs.EventBusArn).toBeDefined();
    const putStatements = (Object.values(template.findResources('AWS::IAM::Policy')) as Json[])
      .flatMap((p) => p.Properties.PolicyDocument.Statement as Json[])
      .filter((s) => [s.Action].flat().includes('events:PutEvents'));
    expect(putStatements).toHaveLength(1);
    expect(putStatements[0]?.Resource).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^PublishingBus/), 'Arn'] });
  });

  /** The publisher's statements on the table itself (the stream reads are the mapping's). */
  const tableStatements = () =>
    (Object.values(template.findResources('AWS::IAM::Policy')) as Json[])
      .filter((p) => JSON.stringify(p.Properties.Roles).includes('PublishingPublisher'))
      .flatMap((p) => p.Properties.PolicyDocument.Statement as Json[])
      .filter((s) => [s.Action].flat().some((a: string) => a.startsWith('dynamodb:') && !/Stream|GetRecords|GetShardIterator/.test(a)));

  it('lets the publisher query the erasure markers’ partitions of the table, and nothing else of it', () => {
    const queries = tableStatements();
    expect(queries).toEqual([
      expect.objectContaining({
        Action: 'dynamodb:Query',
        Resource: { 'Fn::GetAtt': [expect.stringMatching(/^StorageTable/), 'Arn'] },
        Condition: {
          'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['*#X'] },
          'ForAllValues:StringNotLike': { 'dynamodb:LeadingKeys': ['$*'] },
        },
      }),
    ]);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ TABLE_NAME: { Ref: Match.stringLikeRegexp('^StorageTable') } }) },
      Description: Match.stringLikeRegexp('Publishes every change'),
    });
  });

  it('lets that condition through for a marker partition of any tenant id, and for no other partition of the table', () => {
    const like = (glob: string, key: string) =>
      new RegExp(
        `^${glob
          .split('*')
          .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
          .join('.*')}$`,
      ).test(key);
    // The synthesized condition, as IAM evaluates it for a single leading key.
    const statement = tableStatements()[0]!;
    const include = statement.Condition['ForAllValues:StringLike']['dynamodb:LeadingKeys'] as string[];
    const exclude = (statement.Condition['ForAllValues:StringNotLike']?.['dynamodb:LeadingKeys'] ?? []) as string[];
    const allowed = (key: string) => include.some((g) => like(g, key)) && !exclude.some((g) => like(g, key));
    // `X` and `E`: tenant ids that look like the partitions' suffixes.
    for (const tenant of ['acme', 'X', 'E']) {
      expect(allowed(markerPartition(tenant))).toBe(true);
      for (const key of [
        tenantPartition(tenant, 0),
        receiptPartition(tenant),
        exportPartition(tenant),
        removalLogPartition(tenant),
        lateLogPartition(tenant),
        digestHeadPartition(tenant),
        `${RATE_PARTITION_PREFIX}${tenant}`,
      ]) {
        expect({ key, allowed: allowed(key) }).toEqual({ key, allowed: false });
      }
    }
    for (const key of [purgePartition(0), ERASURE_WORK_PARTITION, TENANT_REGISTRY_PARTITION]) expect(allowed(key)).toBe(false);
  });

  it('consumes the table stream with partial batch failures, bisect, retries and an encrypted on-failure queue', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', { StreamSpecification: { StreamViewType: 'NEW_AND_OLD_IMAGES' } });
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^StorageTable'), 'StreamArn'] },
      FunctionName: { Ref: Match.stringLikeRegexp('^PublishingPublisher') },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      BisectBatchOnFunctionError: true,
      ParallelizationFactor: 1,
      MaximumRetryAttempts: Match.anyValue(),
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [Match.stringLikeRegexp('^PublishingFailureQueue'), 'Arn'] } } },
    });
    template.hasResourceProperties('AWS::SQS::Queue', { SqsManagedSseEnabled: true, MessageRetentionPeriod: 1_209_600 });
  });

  it('alarms on publishing lag and on failures, to the alarm topic', () => {
    for (const name of ['PublishLagHigh', 'PublishFailed']) {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        AlarmDescription: Match.stringLikeRegexp(name),
        AlarmActions: [{ Ref: Match.stringLikeRegexp('^AlarmsTopic') }],
      });
    }
    const body = JSON.stringify(template.findResources('AWS::CloudWatch::Dashboard'));
    expect(body).toContain('Bus publishing lag (ms)');
    expect(body).toContain('PublishLag');
  });

  it('is gone with busPublishing=off', () => {
    const off = synthStack({ busPublishing: 'off' }).template;
    off.resourceCountIs('AWS::Events::EventBus', 0);
    expect(JSON.stringify(off.toJSON())).not.toContain('Publisher');
  });
});

describe('the archive (on by default in prod)', () => {
  const { stack, template } = synthStack({ stage: 'prod' });

  it('is off by default elsewhere', () => {
    synthStack().template.resourceCountIs('AWS::KinesisFirehose::DeliveryStream', 0);
  });

  it('delivers recorded events from the bus to Firehose, converted to Parquet and partitioned by tenant and date', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: { source: ['activity-tracker'], 'detail-type': ['activity.recorded'] },
      Targets: [Match.objectLike({ InputPath: '$.detail' })],
    });
    template.hasResourceProperties('AWS::KinesisFirehose::DeliveryStream', {
      DeliveryStreamEncryptionConfigurationInput: { KeyType: 'AWS_OWNED_CMK' },
      ExtendedS3DestinationConfiguration: Match.objectLike({
        Prefix: 'events/tenant=!{partitionKeyFromQuery:tenant}/date=!{partitionKeyFromQuery:date}/',
        DynamicPartitioningConfiguration: { Enabled: true, RetryOptions: { DurationInSeconds: 300 } },
        DataFormatConversionConfiguration: Match.objectLike({
          Enabled: true,
          OutputFormatConfiguration: { Serializer: { ParquetSerDe: { Compression: 'SNAPPY' } } },
        }),
      }),
    });
  });

  it('keeps files in an encrypted, TLS-only, private bucket with a lifecycle', () => {
    template.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      LifecycleConfiguration: { Rules: Match.arrayWith([Match.objectLike({ Prefix: 'events/', ExpirationInDays: 1095 })]) },
      LoggingConfiguration: Match.anyValue(),
    });
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]),
      },
    });
  });

  it('has a Glue table with partition projection that Athena queries', () => {
    template.hasResourceProperties('AWS::Glue::Table', {
      TableInput: Match.objectLike({
        Name: 'events',
        PartitionKeys: [
          { Name: 'tenant', Type: 'string' },
          { Name: 'date', Type: 'string' },
        ],
        Parameters: Match.objectLike({ 'projection.enabled': 'true', 'projection.tenant.type': 'injected' }),
        StorageDescriptor: Match.objectLike({
          SerdeInfo: { SerializationLibrary: 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe' },
        }),
      }),
    });
  });

  describe('erasure reaches the archive', () => {
    const policyOf = (rolePrefix: string): Json[] =>
      (Object.values(template.findResources('AWS::IAM::Policy')) as Json[])
        .filter((p) => JSON.stringify(p.Properties.Roles).includes(rolePrefix))
        .flatMap((p) => p.Properties.PolicyDocument.Statement as Json[]);

    it('sends erasure.completed from the bus to an encrypted FIFO queue in one message group', () => {
      template.hasResourceProperties('AWS::Events::Rule', {
        EventBusName: { Ref: Match.stringLikeRegexp('^PublishingBus') },
        EventPattern: { source: ['activity-tracker'], 'detail-type': ['erasure.completed'] },
        Targets: [
          Match.objectLike({
            Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^ArchiveEraserQueue'), 'Arn'] },
            SqsParameters: { MessageGroupId: 'erasures' },
          }),
        ],
      });
      template.hasResourceProperties('AWS::SQS::Queue', {
        FifoQueue: true,
        ContentBasedDeduplication: true,
        SqsManagedSseEnabled: true,
        VisibilityTimeout: 960,
        RedrivePolicy: {
          deadLetterTargetArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^ArchiveEraserDeadLetterQueue'), 'Arn'] },
          maxReceiveCount: 50,
        },
      });
      template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
        EventSourceArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^ArchiveEraserQueue'), 'Arn'] },
        FunctionName: { Ref: Match.stringLikeRegexp('^ArchiveEraser[0-9A-F]{8}$') },
        BatchSize: 1,
        FunctionResponseTypes: ['ReportBatchItemFailures'],
      });
    });

    it('alarms on the dead-letter queue and on a slow erasure, to the alarm topic', () => {
      for (const name of ['ArchiveErasureFailed', 'slow']) {
        template.hasResourceProperties('AWS::CloudWatch::Alarm', {
          AlarmDescription: Match.stringLikeRegexp(name),
          AlarmActions: [{ Ref: Match.stringLikeRegexp('^AlarmsTopic') }],
        });
      }
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Dimensions: [
          { Name: 'QueueName', Value: { 'Fn::GetAtt': [Match.stringLikeRegexp('^ArchiveEraserDeadLetterQueue'), 'QueueName'] } },
        ],
        Threshold: 0,
      });
    });

    it('queries in its own workgroup, engine v3, results encrypted in an encrypted, TLS-only work bucket with a lifecycle', () => {
      template.hasResourceProperties('AWS::Athena::WorkGroup', {
        WorkGroupConfiguration: Match.objectLike({
          EnforceWorkGroupConfiguration: true,
          EngineVersion: { SelectedEngineVersion: 'Athena engine version 3' },
          ResultConfiguration: {
            OutputLocation: { 'Fn::Join': ['', ['s3://', { Ref: Match.stringLikeRegexp('^ArchiveEraserWorkBucket') }, '/results/']] },
            EncryptionConfiguration: { EncryptionOption: 'SSE_S3' },
          },
        }),
      });
      const [work] = Object.entries(template.findResources('AWS::S3::Bucket')).filter(([id]) => id.startsWith('ArchiveEraserWorkBucket'));
      expect(work?.[1].Properties).toMatchObject({
        BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
        LifecycleConfiguration: { Rules: [expect.objectContaining({ ExpirationInDays: 7 })] },
        PublicAccessBlockConfiguration: {
          BlockPublicAcls: true,
          BlockPublicPolicy: true,
          IgnorePublicAcls: true,
          RestrictPublicBuckets: true,
        },
      });
      template.hasResourceProperties('AWS::S3::BucketPolicy', {
        Bucket: { Ref: Match.stringLikeRegexp('^ArchiveEraserWorkBucket') },
        PolicyDocument: {
          Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]),
        },
      });
    });

    it("grants the eraser Athena on its workgroup, Glue reads of the table, and S3 on the archive's events/ prefix only", () => {
      const statements = policyOf('ArchiveEraserEraserRole');
      const byAction = (action: string) => statements.filter((s) => [s.Action].flat().includes(action));
      expect(JSON.stringify(byAction('athena:StartQueryExecution').map((s) => s.Resource))).toMatch(/workgroup\/.*ArchiveEraserWorkGroup/);
      expect(byAction('glue:GetTable')).toHaveLength(1);
      expect(
        statements
          .flatMap((s) => [s.Action].flat())
          .filter((a: string) => a.startsWith('glue:'))
          .sort(),
      ).toEqual(['glue:GetDatabase', 'glue:GetTable']);
      const deletes = byAction('s3:DeleteObject').map((s) => JSON.stringify(s.Resource));
      expect(deletes).toHaveLength(2);
      expect(deletes.some((r) => /ArchiveBucket.*\/events\/\*/.test(r))).toBe(true);
      expect(deletes.some((r) => /ArchiveEraserWorkBucket.*\/\*/.test(r))).toBe(true);
      // Nothing on every resource but X-Ray's.
      for (const s of statements.filter((x) => [x.Resource].flat().includes('*'))) {
        expect([s.Action].flat().every((a: string) => a.startsWith('xray:'))).toBe(true);
      }
      // No Athena, Glue or S3 action anywhere on `*`.
      expect(JSON.stringify(statements)).not.toMatch(/"(athena|glue|s3):\*"/);
    });

    it('is not there without the archive', () => {
      synthStack().template.resourceCountIs('AWS::Athena::WorkGroup', 0);
    });
  });

  it.each(nagPacks().map((pack) => [pack.readPackName, pack] as const))('leaves no unacknowledged %s finding', (_name, pack) => {
    const findings = pack
      .validateScope(stack)
      .violations.map((v) => `${v.severity} ${v.ruleName}: ${v.violatingResources.map((r) => r.constructPath).join(', ')}`);
    expect(findings).toEqual([]);
  });
});
