import * as path from 'node:path';
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Architecture, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';

/** Repository root: holds package-lock.json, tsconfig.json and lambdas/. */
const PROJECT_ROOT = path.resolve(__dirname, '..', '..');

/** Service name and metrics namespace shared by every function (see the internal contract). */
export const SERVICE_NAME = 'activity-tracker';
export const METRICS_NAMESPACE = 'ActivityTracker';

/**
 * How every function is bundled (esbuild through NodejsFunction). The cold-start benchmark builds
 * its reference bundles with the same settings.
 */
export const BUNDLING = {
  format: OutputFormat.ESM,
  // The latest Node.js runtime runs the functions; node22 output still runs locally on Node 20+.
  target: 'node22',
  mainFields: ['module', 'main'],
  // esbuild's ESM output has no `require`; CommonJS dependencies bundled into it still call it.
  banner: "import { createRequire } from 'module';const require = createRequire(import.meta.url);",
  minify: true,
  sourceMap: true,
  sourcesContent: false,
  // Provided by the Lambda Node.js runtime.
  externalModules: ['@aws-sdk/*'],
  /** Node options the functions run with (source maps cost at import too). */
  nodeOptions: '--enable-source-maps',
} as const;

export interface ServiceFunctionProps {
  /** Handler file name without extension: the entry is `lambdas/handlers/<handler>.ts`. */
  readonly handler: string;
  /** A short description shown in the Lambda console. */
  readonly description: string;
  /** Retention of the function's log group. */
  readonly logRetention: RetentionDays;
  /** Powertools log level (`POWERTOOLS_LOG_LEVEL`). */
  readonly logLevel: string;
  /**
   * Share of invocations that log at DEBUG whatever the level (`POWERTOOLS_LOGGER_SAMPLE_RATE`).
   * @default 0
   */
  readonly logSampleRate?: number;
  /**
   * Function-specific environment, merged over the shared Powertools and Node variables.
   * @default - only the shared variables
   */
  readonly environment?: Readonly<Record<string, string>>;
  /**
   * @default Duration.seconds(10)
   */
  readonly timeout?: Duration;
  /**
   * @default 512
   */
  readonly memorySize?: number;
}

/**
 * The one place that holds the Lambda defaults of this service: Node.js 24 on arm64, X-Ray active
 * tracing, a log group with retention that is removed with the stack, and an esbuild bundle
 * (ESM, minified, source maps) of `lambdas/handlers/<handler>.ts` with the runtime's AWS SDK
 * left out.
 *
 * The log group is created next to the function, as `<id>LogGroup`, so the function's log
 * retention is part of the template rather than left to Lambda's never-expiring default.
 */
export const createServiceFunction = (scope: Construct, id: string, props: ServiceFunctionProps): NodejsFunction => {
  const logGroup = new LogGroup(scope, `${id}LogGroup`, {
    retention: props.logRetention,
    removalPolicy: RemovalPolicy.DESTROY,
  });
  // A role that may write to this log group only, rather than AWSLambdaBasicExecutionRole's
  // "any log group in the account".
  const role = new Role(scope, `${id}Role`, { assumedBy: new ServicePrincipal('lambda.amazonaws.com') });
  logGroup.grantWrite(role);

  return new NodejsFunction(scope, id, {
    description: props.description,
    entry: path.join(PROJECT_ROOT, 'lambdas', 'handlers', `${props.handler}.ts`),
    handler: 'handler',
    projectRoot: PROJECT_ROOT,
    depsLockFilePath: path.join(PROJECT_ROOT, 'package-lock.json'),
    runtime: Runtime.NODEJS_24_X,
    role,
    architecture: Architecture.ARM_64,
    tracing: Tracing.ACTIVE,
    memorySize: props.memorySize ?? 512,
    timeout: props.timeout ?? Duration.seconds(10),
    logGroup,
    environment: {
      POWERTOOLS_SERVICE_NAME: SERVICE_NAME,
      POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
      POWERTOOLS_LOG_LEVEL: props.logLevel,
      POWERTOOLS_LOGGER_SAMPLE_RATE: String(props.logSampleRate ?? 0),
      NODE_OPTIONS: BUNDLING.nodeOptions,
      ...props.environment,
    },
    bundling: {
      format: BUNDLING.format,
      target: BUNDLING.target,
      mainFields: [...BUNDLING.mainFields],
      banner: BUNDLING.banner,
      minify: BUNDLING.minify,
      sourceMap: BUNDLING.sourceMap,
      sourcesContent: BUNDLING.sourcesContent,
      externalModules: [...BUNDLING.externalModules],
    },
  });
};
