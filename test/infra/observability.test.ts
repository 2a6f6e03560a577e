import { Match } from 'aws-cdk-lib/assertions';
import { accessLogLine } from '../../bench/cost-model';
import { synthStack } from '../support/stack';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const { template } = synthStack();

/** The dashboard body with its tokens flattened to text (Fn::Join of strings and Refs). */
const dashboardBody = (): string => {
  const dashboards = Object.values(template.findResources('AWS::CloudWatch::Dashboard'));
  expect(dashboards).toHaveLength(1);
  const body = dashboards[0]!.Properties.DashboardBody as Json;
  const flatten = (v: unknown): string =>
    typeof v === 'string'
      ? v
      : Array.isArray(v)
        ? v.map(flatten).join('')
        : v && typeof v === 'object'
          ? `{${JSON.stringify(v)}}`
          : String(v);
  return flatten(body['Fn::Join']?.[1] ?? body);
};

const alarms = (): [string, Json][] => Object.entries(template.findResources('AWS::CloudWatch::Alarm'));
const alarmByPath = (suffix: string): Json => {
  const found = alarms().filter(([, a]) => String(a.Metadata?.['aws:cdk:path']).endsWith(suffix));
  expect(found.map(([id]) => id)).toHaveLength(1);
  return found[0]![1].Properties as Json;
};
const topicId = (): string => {
  const topics = Object.keys(template.findResources('AWS::SNS::Topic'));
  expect(topics).toHaveLength(1);
  return topics[0]!;
};

describe('observability: tracing', () => {
  it('traces the API stage and every function actively', () => {
    template.hasResourceProperties('AWS::ApiGateway::Stage', { TracingEnabled: true });
    const functions = Object.values(template.findResources('AWS::Lambda::Function')).filter(
      (f) => f.Properties.Environment?.Variables?.POWERTOOLS_SERVICE_NAME,
    );
    expect(functions.length).toBeGreaterThanOrEqual(5);
    for (const f of functions) expect(f.Properties.TracingConfig).toEqual({ Mode: 'Active' });
  });

  it('gives every function the log level and sample rate', () => {
    const functions = Object.values(template.findResources('AWS::Lambda::Function')).filter(
      (f) => f.Properties.Environment?.Variables?.POWERTOOLS_SERVICE_NAME,
    );
    for (const f of functions)
      expect(f.Properties.Environment.Variables).toMatchObject({ POWERTOOLS_LOG_LEVEL: 'INFO', POWERTOOLS_LOGGER_SAMPLE_RATE: '0' });
    const sampled = synthStack({ logSampleRate: '0.25' }).template;
    sampled.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ POWERTOOLS_LOGGER_SAMPLE_RATE: '0.25' }) },
    });
  });
});

describe('observability: trace sampling and access logs', () => {
  it('samples the API stage by its own X-Ray rule: 1 request a second plus traceSampleRate of the rest', () => {
    const rules = Object.values(template.findResources('AWS::XRay::SamplingRule'));
    expect(rules).toHaveLength(1);
    const rule = rules[0]!.Properties.SamplingRule as Json;
    expect(rule).toMatchObject({
      ServiceType: 'AWS::ApiGateway::Stage',
      FixedRate: 0.01,
      ReservoirSize: 1,
      Host: '*',
      HTTPMethod: '*',
      URLPath: '*',
    });
    expect(rule.RuleName).toMatch(/^[A-Za-z0-9]{1,32}$/);
    // The rule matches this stack's stage only: arn:aws:apigateway:<region>::/restapis/<api>/stages/<stage>.
    const [api] = Object.keys(template.findResources('AWS::ApiGateway::RestApi'));
    const [stage] = Object.keys(template.findResources('AWS::ApiGateway::Stage'));
    const arn = (rule.ResourceARN['Fn::Join'][1] as unknown[])
      .map((part) => (typeof part === 'string' ? part : `<${(part as { Ref: string }).Ref}>`))
      .join('');
    expect(arn).toMatch(
      new RegExp(`^arn:(aws|<AWS::Partition>):apigateway:([a-z0-9-]+|<AWS::Region>)::/restapis/<${api}>/stages/<${stage}>$`),
    );
    const sampled = synthStack({ traceSampleRate: '0.2' }).template;
    sampled.hasResourceProperties('AWS::XRay::SamplingRule', { SamplingRule: Match.objectLike({ FixedRate: 0.2 }) });
  });

  it('writes one JSON access log line per request with the request id, route, status, size and latency', () => {
    const stages = Object.values(template.findResources('AWS::ApiGateway::Stage'));
    expect(stages).toHaveLength(1);
    const raw = stages[0]!.Properties.AccessLogSetting.Format as string;
    // The cost model has a sample value for every variable the format uses (bench/cost-model.ts).
    expect(JSON.parse(accessLogLine(raw))).toMatchObject({ method: 'POST', status: '202' });
    const format = JSON.parse(raw) as Record<string, string>;
    expect(format).toEqual({
      requestId: '$context.requestId',
      ip: '$context.identity.sourceIp',
      time: '$context.requestTimeEpoch',
      method: '$context.httpMethod',
      route: '$context.resourcePath',
      status: '$context.status',
      bytes: '$context.responseLength',
      latencyMs: '$context.responseLatency',
    });
  });
});

describe('observability: dashboard', () => {
  it.each([
    ['API requests, 4xx, 5xx', ['"Count"', '"4XXError"', '"5XXError"']],
    ['API latency (ms)', ['"Latency"', 'p50', 'p90', 'p99']],
    ['Events accepted / rejected', ['"EventsAccepted"', '"EventsRejected"']],
    ['Queue: visible messages', ['ApproximateNumberOfMessagesVisible']],
    ['Queue: age of oldest message (s)', ['ApproximateAgeOfOldestMessage']],
    ['DLQ depth', []],
    ['Writer: invocations, errors, throttles', ['"Invocations"', '"Errors"', '"Throttles"']],
    ['Writer: duration (ms) and concurrency', ['"Duration"', '"ConcurrentExecutions"']],
    ['End-to-end lag, received → written (ms)', ['"EndToEndLag"']],
    ['DynamoDB consumed capacity (units)', ['ConsumedWriteCapacityUnits', 'ConsumedReadCapacityUnits']],
    ['DynamoDB throttles', ['WriteThrottleEvents', 'ReadThrottleEvents']],
    ['Cleanup results (daily)', ['"CleanupRuns"', '"ItemsPurged"', '"ErasuresCompleted"', '"CleanupDuration"']],
  ])('has the widget "%s" with its metrics', (title, metrics) => {
    const body = dashboardBody();
    expect(body).toContain(`"title":"${title}"`);
    for (const m of metrics) expect(body).toContain(m);
  });

  it('reads custom metrics from the ActivityTracker namespace with the service dimension only', () => {
    const body = dashboardBody();
    expect(body).toContain('"ActivityTracker","EndToEndLag","service","activity-tracker"');
    expect(body).toContain('"stat":"p99"');
    expect(body).not.toContain('"tenant"');
  });

  it('outputs the dashboard URL', () => {
    const output = template.findOutputs('DashboardUrl');
    expect(JSON.stringify(output)).toContain('console.aws.amazon.com/cloudwatch/home?region=');
    expect(JSON.stringify(output)).toContain('#dashboards:name=');
  });
});

describe('observability: alarms', () => {
  it('sends every alarm, ALARM and OK, to the one alarm topic', () => {
    const topic = topicId();
    expect(alarms().length).toBeGreaterThanOrEqual(8);
    for (const [id, alarm] of alarms()) {
      expect({ id, actions: alarm.Properties.AlarmActions }).toEqual({ id, actions: [{ Ref: topic }] });
      expect({ id, actions: alarm.Properties.OKActions }).toEqual({ id, actions: [{ Ref: topic }] });
    }
  });

  it('encrypts the topic with a rotated customer key CloudWatch may use, and refuses non-TLS publishing', () => {
    const topic = template.findResources('AWS::SNS::Topic')[topicId()]!;
    const keyId = topic.Properties.KmsMasterKeyId['Fn::GetAtt'][0] as string;
    const key = template.findResources('AWS::KMS::Key')[keyId]!;
    expect(key.Properties.EnableKeyRotation).toBe(true);
    expect(JSON.stringify(key.Properties.KeyPolicy)).toContain('cloudwatch.amazonaws.com');
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]),
      },
    });
  });

  it('subscribes the alarmEmail from context, and nothing without it', () => {
    template.resourceCountIs('AWS::SNS::Subscription', 0);
    synthStack({ alarmEmail: 'oncall@example.com' }).template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'oncall@example.com',
    });
  });

  it('alarms on any message in the DLQ', () => {
    const a = alarmByPath('/DeadLetterAlarm/Alarm/Resource');
    expect(a).toMatchObject({
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Namespace: 'AWS/SQS',
      Statistic: 'Maximum',
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
    });
  });

  it('alarms on the age of the oldest message above the threshold from context', () => {
    expect(alarmByPath('/Alarms/QueueAgeHigh/Resource')).toMatchObject({
      MetricName: 'ApproximateAgeOfOldestMessage',
      Threshold: 300,
      ComparisonOperator: 'GreaterThanThreshold',
    });
    const custom = synthStack({ alarmQueueAgeSeconds: '900' }).template;
    custom.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'ApproximateAgeOfOldestMessage', Threshold: 900 });
  });

  it('alarms on the API 5xx rate as a percentage of requests', () => {
    const a = alarmByPath('/Alarms/Api5xxRate/Resource');
    expect(a.Threshold).toBe(1);
    const expression = (a.Metrics as Json[]).find((m) => m.Expression)?.Expression;
    expect(expression).toBe('IF(requests > 0, 100 * errors / requests, 0)');
    expect(
      (a.Metrics as Json[])
        .filter((m) => m.MetricStat)
        .map((m) => m.MetricStat.Metric.MetricName)
        .sort(),
    ).toEqual(['5XXError', 'Count']);
  });

  it('alarms on writer errors', () => {
    expect(alarmByPath('/Alarms/WriterErrors/Resource')).toMatchObject({
      MetricName: 'Errors',
      Namespace: 'AWS/Lambda',
      Statistic: 'Sum',
      Threshold: 1,
    });
  });

  it('alarms on throttles of any of the five functions', () => {
    const a = alarmByPath('/Alarms/FunctionThrottles/Resource');
    const stats = (a.Metrics as Json[]).filter((m) => m.MetricStat);
    expect(stats).toHaveLength(5);
    for (const m of stats) expect(m.MetricStat.Metric.MetricName).toBe('Throttles');
    expect((a.Metrics as Json[]).find((m) => m.Expression)?.Expression).toBe(
      'FILL(ingest, 0) + FILL(query, 0) + FILL(admin, 0) + FILL(writer, 0) + FILL(cleanup, 0)',
    );
  });

  it('alarms on DynamoDB throttles of the table and each index', () => {
    const a = alarmByPath('/Alarms/DynamoDbThrottles/Resource');
    const stats = (a.Metrics as Json[]).filter((m) => m.MetricStat);
    expect(stats).toHaveLength(8);
    const indexes = stats
      .map((m) => (m.MetricStat.Metric.Dimensions as Json[]).find((d) => d.Name === 'GlobalSecondaryIndexName')?.Value)
      .filter(Boolean);
    expect(indexes.sort()).toEqual(['byPurge', 'byPurge', 'byType', 'byType', 'byUser', 'byUser']);
  });

  it('alarms when the cleanup fails', () => {
    expect(alarmByPath('/Alarms/CleanupFailed/Resource')).toMatchObject({ MetricName: 'Errors', Namespace: 'AWS/Lambda', Threshold: 1 });
  });

  it('alarms when no cleanup run completed for 2 days, missing data counting as not run', () => {
    expect(alarmByPath('/Alarms/CleanupNotRun/Resource')).toMatchObject({
      Namespace: 'ActivityTracker',
      MetricName: 'CleanupRuns',
      Dimensions: [{ Name: 'service', Value: 'activity-tracker' }],
      Period: 86_400,
      EvaluationPeriods: 2,
      DatapointsToAlarm: 2,
      Threshold: 1,
      ComparisonOperator: 'LessThanThreshold',
      TreatMissingData: 'breaching',
    });
  });

  it('alarms when an erasure request could not withdraw the exports it makes unlawful', () => {
    expect(alarmByPath('/Alarms/ExportWithdrawalFailed/Resource')).toMatchObject({
      Namespace: 'ActivityTracker',
      MetricName: 'ExportWithdrawalFailures',
      Period: 3600,
      Threshold: 1,
      TreatMissingData: 'notBreaching',
    });
  });

  it('outputs the alarm topic ARN', () => {
    expect(template.findOutputs('AlarmTopicArn')).toBeDefined();
  });
});
