import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { ConfigError, ENV, parseTenantRetention, SCOPE_FORMATS, type IntVariable, type ScopeFormat } from '../contract';

/**
 * Deploy-time configuration of the Activity Tracker stack.
 *
 * Every value comes from CDK context (`cdk.json` "context", or `cdk deploy -c key=value`) and
 * is validated by {@link loadConfig}. Keys, defaults and meaning:
 *
 * | key | default | meaning |
 * | --- | --- | --- |
 * | `stage` | `dev` | deployment name: the stack is `ActivityTracker-<stage>` (plain `ActivityTracker` for `dev`, see lib/stage.ts), and tags |
 * | `authMode` | `cognito` | `cognito`: the stack creates a user pool; `oidc`: bring your own issuer |
 * | `issuer` | — | `oidc` only, required: expected `iss` (https URL) |
 * | `audience` | — | `oidc` only, required: expected `aud`, comma-separated list allowed |
 * | `jwksUri` | — | `oidc` only, required: JWKS URL (https) |
 * | `tenantClaim` | `tenant_id` | token claim holding the tenant id (1..64 chars of `[A-Za-z0-9_:.-]`; with `cognito`, not a claim Cognito reserves) |
 * | `scopeClaim` | `scope` | `oidc` only: claim holding the scopes (e.g. `scp`) |
 * | `scopeFormat` | `space-separated` | `oidc` only: `space-separated` string or `array`; the `scope` claim itself must be a string |
 * | `cognitoDomainPrefix` | `activity-tracker-<stage>-<account id>` | `cognito` only: prefix of the pool's domain, which serves `/oauth2/token` |
 * | `maxTokenLifetimeSeconds` | `86400` | longest accepted token lifetime, `exp - iat` and `exp - now` (60..604800) |
 * | `clockSkewSeconds` | `60` | tolerance on `exp` and `nbf` (0..300) |
 * | `maxEventsPerRequest` | `500` | events one request of a tenant may carry (1..500; 500 is the API contract's maximum) |
 * | `retentionDays` | `365` | days an event is kept (1..3650) |
 * | `tenantRetentionDays` | — | per-tenant retention overrides, `acme=90,globex=730` (days, 1..3650 each) |
 * | `deleteGraceDays` | `30` | days a soft-deleted event can be restored before purge (1..365) |
 * | `maxOpenErasures` | `100` | erasure requests one tenant may have pending at once (1..100000) |
 * | `cleanupChunkSize` | `100` | items the cleanup handles per chunk (1..1000) |
 * | `cleanupMaxChunks` | — | chunks per cleanup run at most (default: as many as the 15-minute timeout allows) |
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
 * | `logSampleRate` | `0` | share of invocations that log at DEBUG whatever `logLevel` says (0..1, `POWERTOOLS_LOGGER_SAMPLE_RATE`) |
 * | `traceSampleRate` | `0.01` | share of API requests X-Ray traces beyond the first one each second (0..1; X-Ray's own default is 0.05) |
 * | `alarmEmail` | — | e-mail address subscribed to the alarm topic (optional; subscribe anything else to the topic yourself) |
 * | `alarmQueueAgeSeconds` | `300` | alarm when the oldest queued event is older than this (60..259200: the queue keeps messages 4 days, so the alarm leaves at least a day to act) |
 * | `alarmApi5xxPercent` | `1` | alarm when 5xx answers exceed this share of API requests over 5 minutes (0..100) |
 * | `alarmWriterErrors` | `1` | alarm when the writer fails this many invocations in 5 minutes (1..100000) |
 * | `alarmCleanupMissedDays` | `2` | alarm when the cleanup has not run successfully for this many days (1..7, CloudWatch's longest evaluation range; give it more than the schedule's period) |
 */
export interface StackConfig {
  /** Deployment name: stack name (lib/stage.ts) and tags. */
  readonly stage: string;
  /** How tokens are issued and verified. */
  readonly auth: AuthConfig;
  /** Claim holding the tenant id, in both auth modes. */
  readonly tenantClaim: string;
  /** Longest accepted token lifetime, in seconds. */
  readonly maxTokenLifetimeSeconds: number;
  /** Clock-skew tolerance on `exp` and `nbf`, in seconds. */
  readonly clockSkewSeconds: number;
  /** Events one request may carry (abuse limit; at most the contract's 500). */
  readonly maxEventsPerRequest: number;
  readonly retentionDays: number;
  readonly tenantRetentionDays: Readonly<Record<string, number>>;
  readonly deleteGraceDays: number;
  readonly maxOpenErasures: number;
  readonly cleanupChunkSize: number;
  readonly cleanupMaxChunks?: number;
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
  /** Share of invocations that log at DEBUG (0..1). */
  readonly logSampleRate: number;
  /** Share of API requests traced by X-Ray beyond one a second (0..1). */
  readonly traceSampleRate: number;
  /** Alarm thresholds and where alarms go. */
  readonly alarms: AlarmConfig;
}

/** Where alarms go and when they fire (see lib/constructs/alarms.ts). */
export interface AlarmConfig {
  /** Subscribed to the alarm topic by e-mail when set. */
  readonly email?: string;
  readonly queueAgeSeconds: number;
  readonly api5xxPercent: number;
  readonly writerErrors: number;
  readonly cleanupMissedDays: number;
}

/** `cognito`: the stack owns a user pool; `oidc`: an external issuer. */
export type AuthConfig =
  | {
      readonly mode: 'cognito';
      /** Prefix of the pool's Cognito domain; unset: derived from the stage and the account. */
      readonly domainPrefix?: string;
    }
  | {
      readonly mode: 'oidc';
      readonly issuer: string;
      /** One or more accepted audiences. */
      readonly audience: readonly string[];
      readonly jwksUri: string;
      /** Claim holding the scopes. */
      readonly scopeClaim: string;
      readonly scopeFormat: ScopeFormat;
    };

/**
 * Claims a Cognito pre-token-generation trigger cannot add or override (or that mean something
 * else already): the tenant claim must not be one of them.
 */
const COGNITO_RESERVED_CLAIMS: ReadonlySet<string> = new Set([
  'acr', 'amr', 'at_hash', 'aud', 'auth_time', 'azp', 'client_id', 'event_id', 'exp', 'iat', 'identities',
  'iss', 'jti', 'nbf', 'nonce', 'origin_jti', 'scope', 'sub', 'token_use', 'username', 'version',
]);

export const LOG_LEVELS = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'CRITICAL', 'SILENT'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Reads one context value; `undefined` when the key is not set. */
export type ContextReader = (key: string) => unknown;

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
 * @throws ConfigError (contract/errors.ts) naming the first bad key
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

  const tenantClaim = str(ctx, 'tenantClaim', ENV.authTenantClaim.default);
  if (!/^[A-Za-z0-9_:.-]{1,64}$/.test(tenantClaim)) {
    throw new ConfigError('tenantClaim', `expected 1..64 characters of [A-Za-z0-9_:.-], got ${show(tenantClaim)}`);
  }
  if (auth.mode === 'cognito' && (COGNITO_RESERVED_CLAIMS.has(tenantClaim) || tenantClaim.startsWith('cognito:'))) {
    throw new ConfigError('tenantClaim', `${show(tenantClaim)} is a claim Cognito sets itself; choose another name (e.g. tenant_id)`);
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
    maxTokenLifetimeSeconds: envInt(ctx, 'maxTokenLifetimeSeconds', ENV.authMaxTokenLifetimeSeconds),
    clockSkewSeconds: envInt(ctx, 'clockSkewSeconds', ENV.authClockSkewSeconds),
    maxEventsPerRequest: envInt(ctx, 'maxEventsPerRequest', ENV.maxEventsPerRequest),
    retentionDays: envInt(ctx, 'retentionDays', ENV.retentionDays, 365),
    tenantRetentionDays: tenantRetention(ctx),
    deleteGraceDays: envInt(ctx, 'deleteGraceDays', ENV.deleteGraceDays, 30),
    maxOpenErasures: envInt(ctx, 'maxOpenErasures', ENV.maxOpenErasures),
    cleanupChunkSize: envInt(ctx, 'cleanupChunkSize', ENV.cleanupChunkSize),
    ...(ctx('cleanupMaxChunks') !== undefined && { cleanupMaxChunks: envInt(ctx, 'cleanupMaxChunks', ENV.cleanupMaxChunks, 1) }),
    shardCount: envInt(ctx, 'shardCount', ENV.shardCount, 4),
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
    logSampleRate: num(ctx, 'logSampleRate', 0, 0, 1),
    traceSampleRate: num(ctx, 'traceSampleRate', 0.01, 0, 1),
    alarms: loadAlarms(ctx),
  };
};

const loadAlarms = (ctx: ContextReader): AlarmConfig => {
  const email = ctx('alarmEmail') === undefined ? undefined : str(ctx, 'alarmEmail', '');
  if (email !== undefined && !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email)) {
    throw new ConfigError('alarmEmail', `expected an e-mail address, got ${show(email)}`);
  }
  return {
    ...(email !== undefined && { email }),
    // The events queue keeps messages 4 days (lib/constructs/queue.ts): the alarm must fire well before.
    queueAgeSeconds: int(ctx, 'alarmQueueAgeSeconds', 300, 60, 259_200),
    api5xxPercent: num(ctx, 'alarmApi5xxPercent', 1, 0, 100),
    writerErrors: int(ctx, 'alarmWriterErrors', 1, 1, 100_000),
    // CloudWatch evaluates daily periods over at most 7 days.
    cleanupMissedDays: int(ctx, 'alarmCleanupMissedDays', 2, 1, 7),
  };
};

/** `tenantRetentionDays=acme=90,globex=730`: per-tenant retention overrides. */
const tenantRetention = (ctx: ContextReader): Record<string, number> => {
  const raw = ctx('tenantRetentionDays');
  return raw === undefined || raw === '' ? {} : parseTenantRetention(String(raw), 'tenantRetentionDays', 'context');
};

const OIDC_KEYS = ['issuer', 'audience', 'jwksUri', 'scopeClaim', 'scopeFormat'] as const;
const COGNITO_KEYS = ['cognitoDomainPrefix'] as const;

const loadAuth = (ctx: ContextReader): AuthConfig => {
  const mode = str(ctx, 'authMode', 'cognito');
  if (mode === 'cognito') {
    // Settings that would be silently ignored are rejected instead.
    for (const key of OIDC_KEYS) {
      if (ctx(key) !== undefined) {
        throw new ConfigError(key, 'is only used with authMode=oidc (the cognito mode derives it from the user pool)');
      }
    }
    const domainPrefix = ctx('cognitoDomainPrefix') === undefined ? undefined : str(ctx, 'cognitoDomainPrefix', '');
    if (domainPrefix !== undefined && (!/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/.test(domainPrefix) || /aws|amazon|cognito/.test(domainPrefix))) {
      throw new ConfigError(
        'cognitoDomainPrefix',
        `expected 1..63 lower-case letters, digits or '-' (not starting or ending with '-', without "aws", "amazon" or "cognito"), got ${show(domainPrefix)}`,
      );
    }
    return domainPrefix === undefined ? { mode } : { mode, domainPrefix };
  }
  if (mode !== 'oidc') {
    throw new ConfigError('authMode', `expected "cognito" or "oidc", got ${show(mode)}`);
  }
  for (const key of COGNITO_KEYS) {
    if (ctx(key) !== undefined) throw new ConfigError(key, 'is only used with authMode=cognito');
  }
  const issuer = httpsUrl(ctx, 'issuer');
  const jwksUri = httpsUrl(ctx, 'jwksUri');
  const audience = required(ctx, 'audience', 'authMode=oidc')
    .split(',')
    .map((a) => a.trim());
  if (audience.some((a) => a === '')) {
    throw new ConfigError('audience', 'expected a comma-separated list of non-empty audiences');
  }
  const scopeClaim = str(ctx, 'scopeClaim', ENV.authScopeClaim.default);
  if (!/^[A-Za-z0-9_:.-]{1,64}$/.test(scopeClaim)) {
    throw new ConfigError('scopeClaim', `expected 1..64 characters of [A-Za-z0-9_:.-], got ${show(scopeClaim)}`);
  }
  const scopeFormat = str(ctx, 'scopeFormat', ENV.authScopeFormat.default);
  if (!(SCOPE_FORMATS as readonly string[]).includes(scopeFormat)) {
    throw new ConfigError('scopeFormat', `expected one of ${SCOPE_FORMATS.join(', ')}, got ${show(scopeFormat)}`);
  }
  // aws-jwt-verify rejects a `scope` claim that is not a string: arrays only come in other claims.
  if (scopeClaim === 'scope' && scopeFormat !== 'space-separated') {
    throw new ConfigError('scopeFormat', 'must be space-separated when scopeClaim is "scope" (set scopeClaim, e.g. "scp", for an array)');
  }
  return { mode, issuer, audience, jwksUri, scopeClaim, scopeFormat: scopeFormat as ScopeFormat };
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

/**
 * An integer setting the stack passes on to the functions as `variable`: the bounds are the ones
 * the functions check, the default theirs unless the deployment has its own (`fallback`).
 */
const envInt = (ctx: ContextReader, key: string, variable: IntVariable, fallback = variable.default): number => {
  if (fallback === undefined) throw new Error(`no default for ${key}`);
  return int(ctx, key, fallback, variable.min, variable.max);
};

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
