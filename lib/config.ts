import { RetentionDays } from 'aws-cdk-lib/aws-logs';

/**
 * Deploy-time configuration of the Activity Tracker stack.
 *
 * Every value comes from CDK context (`cdk.json` "context", or `cdk deploy -c key=value`) and
 * is validated by {@link loadConfig}. Keys, defaults and meaning:
 *
 * | key | default | meaning |
 * | --- | --- | --- |
 * | `stage` | `dev` | deployment name; only used for tags for now |
 * | `authMode` | `cognito` | `cognito`: the stack creates a user pool; `oidc`: bring your own issuer |
 * | `issuer` | — | `oidc` only, required: expected `iss` (https URL) |
 * | `audience` | — | `oidc` only, required: expected `aud`, comma-separated list allowed |
 * | `jwksUri` | — | `oidc` only, required: JWKS URL (https) |
 * | `tenantClaim` | `tenant_id` | token claim holding the tenant id |
 * | `retentionDays` | `365` | days an event is kept (1..3650) |
 * | `deleteGraceDays` | `30` | days a soft-deleted event can be restored before purge (1..365) |
 * | `shardCount` | `4` | partition-key shards per tenant (1..256) |
 * | `writerBatchSize` | `100` | SQS messages per writer invocation (1..10000; > 10 needs a batching window ≥ 1 s) |
 * | `writerBatchWindowSeconds` | `1` | max seconds the writer's event source gathers a batch (0..300) |
 * | `writerTimeoutSeconds` | `30` | writer function timeout (1..900); the queue's visibility timeout derives from it |
 * | `writerMaxConcurrency` | `10` | max concurrent writer invocations from the queue (2..1000) |
 * | `cleanupSchedule` | `rate(1 day)` | EventBridge schedule of the cleanup function: `rate(...)` or `cron(...)` |
 * | `logLevel` | `INFO` | Powertools log level: TRACE, DEBUG, INFO, WARN, ERROR, CRITICAL, SILENT |
 * | `logRetentionDays` | `30` | retention of the function and access log groups (a CloudWatch Logs retention value) |
 * | `apiThrottleRateLimit` | `100` | API stage steady-state limit, requests per second |
 * | `apiThrottleBurstLimit` | `200` | API stage burst limit, requests |
 * | `maxReceiveCount` | `5` | deliveries of a message before SQS moves it to the DLQ (5..1000) |
 */
export interface StackConfig {
  /** Deployment name (tags only for now). */
  readonly stage: string;
  /** How tokens are issued and verified. */
  readonly auth: AuthConfig;
  /** Claim holding the tenant id, in both auth modes. */
  readonly tenantClaim: string;
  readonly retentionDays: number;
  readonly deleteGraceDays: number;
  readonly shardCount: number;
  readonly writerBatchSize: number;
  readonly writerBatchWindowSeconds: number;
  readonly writerTimeoutSeconds: number;
  readonly writerMaxConcurrency: number;
  readonly cleanupSchedule: string;
  readonly logLevel: LogLevel;
  readonly logRetentionDays: RetentionDays;
  readonly apiThrottleRateLimit: number;
  readonly apiThrottleBurstLimit: number;
  readonly maxReceiveCount: number;
}

/** `cognito`: the stack owns a user pool; `oidc`: an external issuer. */
export type AuthConfig =
  | { readonly mode: 'cognito' }
  | {
      readonly mode: 'oidc';
      readonly issuer: string;
      /** One or more accepted audiences. */
      readonly audience: readonly string[];
      readonly jwksUri: string;
    };

export const LOG_LEVELS = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'CRITICAL', 'SILENT'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Reads one context value; `undefined` when the key is not set. */
export type ContextReader = (key: string) => unknown;

/** Thrown for any invalid deploy-time setting; the message names the context key. */
export class ConfigError extends Error {
  constructor(
    readonly key: string,
    message: string,
  ) {
    super(`Invalid context "${key}": ${message}`);
    this.name = 'ConfigError';
  }
}

const VALID_RETENTION_DAYS: ReadonlySet<number> = new Set(
  Object.values(RetentionDays).filter((v): v is number => typeof v === 'number'),
);

/**
 * Validates every deploy-time setting and applies defaults.
 *
 * Pure: everything comes through `getContext` (no `process.env`), so it is unit-tested directly.
 * Values given with `-c key=value` arrive as strings; numbers are parsed strictly
 * ("10", not "10abc", "1e1" or " 10").
 *
 * @throws ConfigError naming the first bad key
 */
export const loadConfig = (getContext: ContextReader): StackConfig => {
  const ctx = (key: string): unknown => {
    const value = getContext(key);
    // `-c key=` and an explicit null mean "not set", like an absent key.
    return value === null || value === '' ? undefined : value;
  };

  const stage = str(ctx, 'stage', 'dev');
  if (!/^[A-Za-z0-9][A-Za-z0-9-]{0,31}$/.test(stage)) {
    throw new ConfigError('stage', `expected 1..32 letters, digits or '-', got ${show(stage)}`);
  }

  const auth = loadAuth(ctx);

  const tenantClaim = str(ctx, 'tenantClaim', 'tenant_id');
  if (!/^[A-Za-z0-9_:.-]{1,64}$/.test(tenantClaim)) {
    throw new ConfigError('tenantClaim', `expected 1..64 characters of [A-Za-z0-9_:.-], got ${show(tenantClaim)}`);
  }

  const writerBatchSize = int(ctx, 'writerBatchSize', 100, 1, 10_000);
  const writerBatchWindowSeconds = int(ctx, 'writerBatchWindowSeconds', 1, 0, 300);
  // Lambda rejects SQS batches above 10 without a batching window of at least one second.
  if (writerBatchSize > 10 && writerBatchWindowSeconds < 1) {
    throw new ConfigError(
      'writerBatchWindowSeconds',
      `must be at least 1 when writerBatchSize is above 10 (writerBatchSize=${writerBatchSize})`,
    );
  }

  const cleanupSchedule = str(ctx, 'cleanupSchedule', 'rate(1 day)');
  checkSchedule(cleanupSchedule);

  const logLevel = str(ctx, 'logLevel', 'INFO').toUpperCase();
  if (!(LOG_LEVELS as readonly string[]).includes(logLevel)) {
    throw new ConfigError('logLevel', `expected one of ${LOG_LEVELS.join(', ')}, got ${show(logLevel)}`);
  }

  const logRetentionDays = int(ctx, 'logRetentionDays', 30, 1, Number.MAX_SAFE_INTEGER);
  if (!VALID_RETENTION_DAYS.has(logRetentionDays)) {
    throw new ConfigError(
      'logRetentionDays',
      `expected a CloudWatch Logs retention (${[...VALID_RETENTION_DAYS].join(', ')}), got ${logRetentionDays}`,
    );
  }

  return {
    stage,
    auth,
    tenantClaim,
    retentionDays: int(ctx, 'retentionDays', 365, 1, 3650),
    deleteGraceDays: int(ctx, 'deleteGraceDays', 30, 1, 365),
    shardCount: int(ctx, 'shardCount', 4, 1, 256),
    writerBatchSize,
    writerBatchWindowSeconds,
    writerTimeoutSeconds: int(ctx, 'writerTimeoutSeconds', 30, 1, 900),
    writerMaxConcurrency: int(ctx, 'writerMaxConcurrency', 10, 2, 1000),
    cleanupSchedule,
    logLevel: logLevel as LogLevel,
    logRetentionDays: logRetentionDays as RetentionDays,
    apiThrottleRateLimit: num(ctx, 'apiThrottleRateLimit', 100, 1, 1_000_000),
    apiThrottleBurstLimit: int(ctx, 'apiThrottleBurstLimit', 200, 1, 1_000_000),
    // SQS allows 1..1000; below 5, throttled (never processed) messages may reach the DLQ.
    maxReceiveCount: int(ctx, 'maxReceiveCount', 5, 5, 1000),
  };
};

const OIDC_KEYS = ['issuer', 'audience', 'jwksUri'] as const;

const loadAuth = (ctx: ContextReader): AuthConfig => {
  const mode = str(ctx, 'authMode', 'cognito');
  if (mode === 'cognito') {
    // Settings that would be silently ignored are rejected instead.
    for (const key of OIDC_KEYS) {
      if (ctx(key) !== undefined) {
        throw new ConfigError(key, 'is only used with authMode=oidc (the cognito mode derives it from the user pool)');
      }
    }
    return { mode };
  }
  if (mode !== 'oidc') {
    throw new ConfigError('authMode', `expected "cognito" or "oidc", got ${show(mode)}`);
  }
  const issuer = httpsUrl(ctx, 'issuer');
  const jwksUri = httpsUrl(ctx, 'jwksUri');
  const audience = required(ctx, 'audience', 'authMode=oidc')
    .split(',')
    .map((a) => a.trim());
  if (audience.some((a) => a === '')) {
    throw new ConfigError('audience', 'expected a comma-separated list of non-empty audiences');
  }
  return { mode, issuer, audience, jwksUri };
};

const required = (ctx: ContextReader, key: string, when: string): string => {
  const value = ctx(key);
  if (value === undefined) throw new ConfigError(key, `is required when ${when}`);
  if (typeof value !== 'string') throw new ConfigError(key, `expected a string, got ${show(value)}`);
  return value.trim();
};

const httpsUrl = (ctx: ContextReader, key: string): string => {
  const value = required(ctx, key, 'authMode=oidc');
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(key, `expected an https URL, got ${show(value)}`);
  }
  if (url.protocol !== 'https:') throw new ConfigError(key, `expected an https URL, got ${show(value)}`);
  return value;
};

const str = (ctx: ContextReader, key: string, fallback: string): string => {
  const value = ctx(key);
  if (value === undefined) return fallback;
  if (typeof value !== 'string') throw new ConfigError(key, `expected a string, got ${show(value)}`);
  return value.trim();
};

const num = (ctx: ContextReader, key: string, fallback: number, min: number, max: number): number =>
  parseNumber(ctx, key, fallback, min, max, /^\d+(\.\d+)?$/, 'a number');

const int = (ctx: ContextReader, key: string, fallback: number, min: number, max: number): number =>
  parseNumber(ctx, key, fallback, min, max, /^-?\d+$/, 'an integer');

const parseNumber = (
  ctx: ContextReader,
  key: string,
  fallback: number,
  min: number,
  max: number,
  pattern: RegExp,
  what: string,
): number => {
  const raw = ctx(key);
  if (raw === undefined) return fallback;
  let value: number;
  if (typeof raw === 'number') {
    value = raw;
  } else if (typeof raw === 'string' && pattern.test(raw)) {
    value = Number(raw);
  } else {
    throw new ConfigError(key, `expected ${what}, got ${show(raw)}`);
  }
  if (!Number.isFinite(value) || (what === 'an integer' && !Number.isInteger(value))) {
    throw new ConfigError(key, `expected ${what}, got ${show(raw)}`);
  }
  if (value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `at least ${min}` : `between ${min} and ${max}`;
    throw new ConfigError(key, `expected ${what} ${range}, got ${value}`);
  }
  return value;
};

const RATE = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/;
// Six space-separated fields: minutes hours day-of-month month day-of-week year.
const CRON = /^cron\(\S+( \S+){5}\)$/;

const checkSchedule = (expression: string): void => {
  const rate = RATE.exec(expression);
  if (rate) {
    const value = Number(rate[1]);
    const plural = rate[2]?.endsWith('s') ?? false;
    // EventBridge wants "rate(1 day)" but "rate(2 days)".
    if (value < 1 || plural !== value > 1) {
      throw new ConfigError('cleanupSchedule', `invalid rate expression ${show(expression)} (e.g. "rate(1 day)", "rate(12 hours)")`);
    }
    return;
  }
  if (!CRON.test(expression)) {
    throw new ConfigError(
      'cleanupSchedule',
      `expected "rate(<n> <unit>)" or "cron(<6 fields>)", got ${show(expression)}`,
    );
  }
};

const show = (value: unknown): string => JSON.stringify(value) ?? String(value);
