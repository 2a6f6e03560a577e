import { Duration } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, TreatMissingData, type IAlarmAction } from 'aws-cdk-lib/aws-cloudwatch';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

export interface DeadLetterAlarmProps {
  /** The dead-letter queue to watch. */
  readonly deadLetterQueue: IQueue;
  /**
   * Where the alarm goes (an SNS topic action, say); more can be added to `alarm` later.
   * @default no action
   */
  readonly actions?: readonly IAlarmAction[];
}

/**
 * Fires as soon as one message sits in the dead-letter queue: each one is an acknowledged event
 * that is not stored yet. The operator fixes the cause and redrives (docs/operating.md, "Redriving the dead-letter queue").
 */
export class DeadLetterAlarm extends Construct {
  readonly alarm: Alarm;

  constructor(scope: Construct, id: string, props: DeadLetterAlarmProps) {
    super(scope, id);
    this.alarm = new Alarm(this, 'Alarm', {
      alarmDescription:
        'Events are in the dead-letter queue: they were acknowledged but not stored. Fix the cause, then redrive: ' +
        'aws sqs start-message-move-task --source-arn <DLQ ARN> (the DlqUrl output names the queue).',
      metric: props.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1), statistic: 'Maximum' }),
      threshold: 0,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    for (const action of props.actions ?? []) this.alarm.addAlarmAction(action);
  }
}
