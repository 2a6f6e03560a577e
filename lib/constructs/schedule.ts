import { Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';

export interface CleanupScheduleProps {
  /** The function to run on schedule. */
  readonly cleanup: IFunction;
  /**
   * EventBridge schedule expression.
   * @default 'rate(1 day)'
   */
  readonly expression?: string;
}

/** Runs the cleanup (retention, soft-delete purge, erasure) on a schedule, with nobody involved. */
export class CleanupSchedule extends Construct {
  readonly rule: Rule;

  constructor(scope: Construct, id: string, props: CleanupScheduleProps) {
    super(scope, id);

    this.rule = new Rule(this, 'Rule', {
      description: 'Activity Tracker cleanup: retention, soft-delete purge, erasure',
      schedule: Schedule.expression(props.expression ?? 'rate(1 day)'),
      // A cleanup is resumable, so a failed run is retried by the next one rather than at length here.
      targets: [new LambdaFunction(props.cleanup, { retryAttempts: 2 })],
    });
  }
}
