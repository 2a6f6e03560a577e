import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { ActivityTrackerStack } from '../../lib/activity-tracker-stack';
import { loadConfig } from '../../lib/config';

const CDK_JSON_CONTEXT = (JSON.parse(readFileSync(join(__dirname, '..', '..', 'cdk.json'), 'utf8')) as { context: Record<string, unknown> })
  .context;

const template = (): Template => {
  const app = new App({ context: { ...CDK_JSON_CONTEXT, 'aws:cdk:bundling-stacks': [] } });
  const config = loadConfig((key) => app.node.tryGetContext(key));
  return Template.fromStack(new ActivityTrackerStack(app, 'ActivityTracker', { config }));
};

describe('dead-letter queue alarm', () => {
  it('fires when one message is visible in the dead-letter queue', () => {
    const t = template();
    const queues = t.findResources('AWS::SQS::Queue');
    const source = Object.values(queues).find((q) => q.Properties?.RedrivePolicy);
    const dlqLogicalId = source!.Properties.RedrivePolicy.deadLetterTargetArn['Fn::GetAtt'][0] as string;
    t.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [dlqLogicalId, 'QueueName'] } }],
      Statistic: 'Maximum',
      ComparisonOperator: 'GreaterThanThreshold',
      Threshold: 0,
      EvaluationPeriods: 1,
      TreatMissingData: 'notBreaching',
      AlarmDescription: Match.stringLikeRegexp('start-message-move-task'),
    });
  });
});
