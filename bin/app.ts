#!/usr/bin/env node
import { App } from 'aws-cdk-lib';
import { ActivityTrackerStack } from '../lib/activity-tracker-stack';
import { ConfigError, loadConfig, type StackConfig } from '../lib/config';

const app = new App();

let config: StackConfig;
try {
  config = loadConfig((key) => app.node.tryGetContext(key));
} catch (error) {
  // A bad setting is the user's to fix: say which one, without a stack trace.
  if (!(error instanceof ConfigError)) throw error;
  console.error(error.message);
  process.exit(1);
}

// The CLI sets these from the current credentials and region; without them the stack is
// environment-agnostic.
const account = process.env.CDK_DEFAULT_ACCOUNT;
const region = process.env.CDK_DEFAULT_REGION;

new ActivityTrackerStack(app, 'ActivityTracker', {
  config,
  env: account || region ? { account, region } : undefined,
});
