import { Match } from 'aws-cdk-lib/assertions';
import { synthStack } from '../support/stack';

describe('stats: the change stream, its consumer and alarms', () => {
  const { template } = synthStack();

  it('gives the events table a stream with new and old images', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      StreamSpecification: { StreamViewType: 'NEW_AND_OLD_IMAGES' },
      GlobalSecondaryIndexes: Match.anyValue(),
    });
  });

  it('keeps the counters in a table of their own, with no stream and no index', () => {
    const tables = Object.values(template.findResources('AWS::DynamoDB::Table'));
    expect(tables).toHaveLength(2);
    const counters = tables.find((t) => !t.Properties.GlobalSecondaryIndexes)!;
    expect(counters.Properties.StreamSpecification).toBeUndefined();
  });

  it('subscribes the consumer to the stream: partial failures, bisect, bounded retries, an SQS on-failure destination', () => {
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^StorageTable'), 'StreamArn'] },
      FunctionName: { Ref: Match.stringLikeRegexp('^StatsConsumer') },
      StartingPosition: 'TRIM_HORIZON',
      BatchSize: 1000,
      MaximumBatchingWindowInSeconds: 2,
      BisectBatchOnFunctionError: true,
      MaximumRetryAttempts: 10,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [Match.stringLikeRegexp('^StatsFailedBatches'), 'Arn'] } } },
    });
  });

  it('alarms on consumer errors, iterator age and given-up batches, to the alarm topic', () => {
    for (const metric of ['Errors', 'IteratorAge']) {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        MetricName: metric,
        Namespace: 'AWS/Lambda',
        Dimensions: [{ Name: 'FunctionName', Value: { Ref: Match.stringLikeRegexp('^StatsConsumer') } }],
        AlarmActions: [{ Ref: Match.stringLikeRegexp('^AlarmsTopic') }],
      });
    }
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [Match.stringLikeRegexp('^StatsFailedBatches'), 'QueueName'] } }],
    });
  });

  it('alarms on throttled reads or writes of the counters table, to the alarm topic', () => {
    const alarm = Object.values(template.findResources('AWS::CloudWatch::Alarm')).find((a) =>
      String(a.Metadata?.['aws:cdk:path']).endsWith('/Stats/CountersThrottled/Resource'),
    );
    expect(alarm).toBeDefined();
    const props = alarm!.Properties as {
      Metrics: { Id: string; Expression?: string; MetricStat?: { Metric: { MetricName: string; Dimensions: unknown[] } } }[];
      AlarmActions: unknown[];
    };
    expect(props.Metrics.find((m) => m.Expression)?.Expression).toBe('FILL(writes, 0) + FILL(reads, 0)');
    const stats = props.Metrics.filter((m) => m.MetricStat).map((m) => m.MetricStat!.Metric);
    expect(stats.map((m) => m.MetricName).sort()).toEqual(['ReadThrottleEvents', 'WriteThrottleEvents']);
    for (const m of stats) expect(m.Dimensions).toEqual([{ Name: 'TableName', Value: { Ref: expect.stringMatching(/^StatsCounters/) } }]);
    expect(props.AlarmActions).toEqual([{ Ref: expect.stringMatching(/^AlarmsTopic/) }]);
  });

  it('routes GET /v1/stats to the stats function', () => {
    template.hasResourceProperties('AWS::ApiGateway::Resource', { PathPart: 'stats' });
    template.hasResourceProperties('AWS::ApiGateway::Method', {
      HttpMethod: 'GET',
      ResourceId: { Ref: Match.stringLikeRegexp('stats') },
    });
  });
});
