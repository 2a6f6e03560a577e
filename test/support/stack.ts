import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { ActivityTrackerStack } from '../../lib/activity-tracker-stack';
import { loadConfig } from '../../lib/config';

/** The feature flags of cdk.json, so tests synthesize what `cdk synth` does. */
const CDK_JSON_CONTEXT = (JSON.parse(readFileSync(join(__dirname, '..', '..', 'cdk.json'), 'utf8')) as { context: Record<string, unknown> })
  .context;

/** Context of the external-issuer mode. */
export const OIDC_CONTEXT = {
  authMode: 'oidc',
  issuer: 'https://issuer.example.com',
  audience: 'activity-tracker',
  jwksUri: 'https://issuer.example.com/.well-known/jwks.json',
} as const;

/** The stack as bin/app.ts builds it, with bundling skipped. */
export const synthStack = (context: Record<string, unknown> = {}) => {
  const app = new App({
    context: { ...CDK_JSON_CONTEXT, 'aws:cdk:enable-path-metadata': true, 'aws:cdk:bundling-stacks': [], ...context },
  });
  const stack = new ActivityTrackerStack(app, 'ActivityTracker', { config: loadConfig((key) => app.node.tryGetContext(key)) });
  return { app, stack, template: Template.fromStack(stack) };
};
