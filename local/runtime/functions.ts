/**
 * One pool of isolated execution environments per function (function-runner.ts), each with its
 * template environment resolved to local values plus what Lambda itself sets.
 */
import type { FaultProxy } from '../faults';
import { FunctionPool, type InvocationResult } from '../function-runner';
import { formatFunctionLine, type LocalMetrics } from '../observe';
import { functionArn, resolveFunctionEnvironment } from '../template/intrinsics';
import type { FunctionModel, ResolveContext, TemplateModel } from '../template/model';
import { LOCAL_CREDENTIALS, type FunctionEnvironmentContext, type StartLocalOptions } from './types';

export interface FunctionPoolsOptions {
  readonly model: TemplateModel;
  readonly functions: readonly FunctionModel[];
  /** Function logical id → bundled asset folder. */
  readonly assets: ReadonlyMap<string, string>;
  readonly ctx: ResolveContext;
  readonly envContext: FunctionEnvironmentContext;
  readonly environment?: StartLocalOptions['environment'];
  readonly appDir: string;
  readonly clock: SharedArrayBuffer;
  readonly metrics: LocalMetrics;
  readonly functionLog?: StartLocalOptions['functionLog'];
  readonly logFormat?: StartLocalOptions['logFormat'];
  readonly maxWorkers?: number;
  /** The functions reach DynamoDB and SQS through this proxy (fault injection). */
  readonly faults?: FaultProxy;
}

/** What Lambda sets in every execution environment, pointed at the local emulators. */
const lambdaEnvironment = (
  fn: FunctionModel,
  assetDir: string,
  { region, endpoints }: FunctionEnvironmentContext,
): Record<string, string> => ({
  AWS_REGION: region,
  AWS_DEFAULT_REGION: region,
  AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
  AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
  AWS_ENDPOINT_URL_DYNAMODB: endpoints.dynamodb,
  AWS_ENDPOINT_URL_SQS: endpoints.sqs,
  AWS_ENDPOINT_URL_S3: endpoints.s3,
  AWS_ENDPOINT_URL_SECRETS_MANAGER: endpoints.secretsManager,
  ...(endpoints.eventBridge && { AWS_ENDPOINT_URL_EVENTBRIDGE: endpoints.eventBridge }),
  AWS_ENDPOINT_URL_KMS: endpoints.kms,
  AWS_LAMBDA_FUNCTION_NAME: fn.functionName,
  AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(fn.memoryMb),
  AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
  AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${fn.functionName}`,
  LAMBDA_TASK_ROOT: assetDir,
  _HANDLER: fn.handler,
  // Node 20 runs local mode; the SDK's "use Node 22" notice would repeat on every cold start.
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
});

/** Function logical id → its pool of execution environments. */
export const startFunctionPools = (opts: FunctionPoolsOptions): Map<string, FunctionPool> => {
  const { model, ctx, envContext, faults } = opts;
  const logFormat = opts.logFormat ?? (process.env.LOCAL_LOG_FORMAT === 'json' ? 'json' : 'pretty');
  const colour = process.stdout.isTTY === true && !process.env.NO_COLOR;
  const functionLog =
    opts.functionLog ??
    ((logicalId: string, line: string) =>
      process.stdout.write(`${logFormat === 'json' ? `[${logicalId}] ${line}` : formatFunctionLine(logicalId, line, { colour })}\n`));
  const pools = new Map<string, FunctionPool>();
  for (const fn of opts.functions) {
    const assetDir = opts.assets.get(fn.logicalId)!;
    // The app's variables win over Lambda's; the template's value of any of them is not resolved.
    const overrides = { ...lambdaEnvironment(fn, assetDir, envContext), ...opts.environment?.(fn, envContext) };
    const env = { ...resolveFunctionEnvironment(model, fn, ctx, new Set(Object.keys(overrides))), ...overrides };
    const pool = new FunctionPool({
      logicalId: fn.logicalId,
      // Every line feeds the status page's figures, then goes to the terminal.
      log: (line: string) => {
        opts.metrics.line(fn.logicalId, line);
        functionLog(fn.logicalId, line);
      },
      functionName: fn.functionName,
      functionArn: functionArn(fn, ctx),
      handler: fn.handler,
      assetDir,
      timeoutSeconds: fn.timeoutSeconds,
      memoryMb: fn.memoryMb,
      env,
      repoRoot: opts.appDir,
      clock: opts.clock,
      ...(faults && {
        workerEnv: (workerId: string) => ({
          AWS_ENDPOINT_URL_DYNAMODB: faults.endpoint('dynamodb', fn.logicalId, workerId),
          AWS_ENDPOINT_URL_SQS: faults.endpoint('sqs', fn.logicalId, workerId),
        }),
      }),
      ...(opts.maxWorkers ? { maxWorkers: opts.maxWorkers } : {}),
    });
    pools.set(fn.logicalId, pool);
  }
  return pools;
};

/**
 * An event source's invoke (SQS poller, stream poller): the pool's answer, with a failed
 * invocation also reported as a FAILED line of the function (status page, GET /_local/metrics).
 */
export const reportingInvoke =
  (pool: FunctionPool, functionLogicalId: string, metrics: LocalMetrics) =>
  async (event: unknown): Promise<InvocationResult> => {
    const r = await pool.invoke(event);
    if (!r.ok) {
      metrics.error({
        time: new Date().toISOString(),
        fn: functionLogicalId,
        level: 'FAILED',
        message: `${r.error.errorType}: ${r.error.errorMessage}`,
      });
    }
    return r;
  };
