/** Base of every stage's CloudFormation stack name. */
export const STACK_BASE_NAME = 'ActivityTracker';

/**
 * The stack id and name of a stage, so several stages live side by side in one account and region
 * (`-c stage=staging` → `ActivityTracker-staging`). The default stage `dev` keeps the plain name it
 * had before stages existed, so an existing deployment is upgraded in place, not duplicated.
 */
export const stackNameFor = (stage: string): string => (stage === 'dev' ? STACK_BASE_NAME : `${STACK_BASE_NAME}-${stage}`);
