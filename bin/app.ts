#!/usr/bin/env node
import { App, Validations } from 'aws-cdk-lib';
import { ActivityTrackerStack } from '../lib/activity-tracker-stack';
import { ConfigError } from '../contract';
import { loadConfig, type StackConfig } from '../lib/config';
import { nagPacks } from '../lib/nag';
import { stackNameFor } from '../lib/stage';

const app = new App();
// cdk-nag on every synth: a finding that is not acknowledged (lib/nag-suppressions.ts) fails it.
Validations.of(app).addPlugins(...nagPacks());

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

new ActivityTrackerStack(app, stackNameFor(config.stage), {
  config,
  env: account || region ? { account, region } : undefined,
});
