import { RetentionDays } from 'aws-cdk-lib/aws-logs';

import {
  ConfigError,
  parseAccessTokenRule,
  parseCorsOrigins,
  parseTenantRetention,
  SCOPE_FORMATS,
  type ScopeFormat,
  type TenantRates,
} from '../contract';
import { CAPACITY_MODES, CONFIG_KEYS, type ConfigKeyName, LOG_LEVELS, TABLE_CLASSES } from './config-keys';
import { checkTenantRates } from './config-rates';

export { CONFIG_KEYS, LOG_LEVELS };

/**
 * Deploy-time configuration of the Activity Tracker stack.
 *
 * Every value comes from CDK context (`cdk.json` "context", or `cdk deploy -c key=value`) and is
 * validated by {@link loadConfig} against {@link CONFIG_KEYS} (lib/config-keys.ts), which holds
 * each key's default, bounds and meaning; docs/configuration.md is generated from it.
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
  /** Seconds the issuer's signing keys are trusted before the JWKS is fetched again. */
  readonly jwksMaxAgeSeconds: number;
  /** How long API Gateway caches its authorizer's answer per token. */
  readonly authorizerCacheSeconds: number;
  /** Events one request may carry (abuse limit; at most the contract's 500). */
  readonly maxEventsPerRequest: number;
  readonly retentionDays: number;
  /** DynamoDB table class of the events table. */
  readonly tableClass: (typeof TABLE_CLASSES)[number];
  /** How the events table and its indexes are billed; `provisioned` carries its auto scaling bounds. */
  readonly capacity: TableCapacity;
  /** Continuous backups (PITR) of the events table. */
  readonly pointInTimeRecovery: boolean;
  readonly tenantRetentionDays: Readonly<Record<string, number>>;
  readonly deleteGraceDays: number;
  readonly maxOpenErasures: number;
  /** Days an export file is kept; lifetime of its download URLs. */
  readonly exportExpiryDays: number;
  /** Origins allowed to read the viewer's routes from a browser; empty: none. */
  readonly corsAllowedOrigins: readonly string[];
  readonly exportUrlSeconds: number;
  /** Per-tenant fairness limits: the defaults and per-tenant overrides. */
  readonly tenantRates: TenantRates;
  readonly tenantRateOverrides: Readonly<Record<string, TenantRates>>;
  /** Requests per IP per 5 minutes a WAF web ACL allows; unset: no web ACL. */
  readonly wafRateLimit?: number;
  readonly cleanupChunkSize: number;
  readonly cleanupMaxChunks?: number;
  readonly shardCount: number;
  readonly writerBatchSize: number;
  readonly writerBatchWindowSeconds: number;
  readonly writerTimeoutSeconds: number;
  readonly writerMaxConcurrency: number;
  readonly cleanupSchedule: string;
  /** Digest period (and schedule) in minutes. */
  readonly digestPeriodMinutes: number;
  /** Object Lock retention of each digest, in days. */
  readonly digestRetentionDays: number;
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
  /** Publish every change on the stack's event bus. */
  readonly busPublishing: boolean;
  /** Archive stored events in S3/Athena (needs busPublishing). */
  readonly archive: boolean;
  readonly archiveRetentionDays: number;
}

export type TableCapacity =
  | { readonly mode: 'on-demand' }
  | {
      readonly mode: 'provisioned';
      readonly write: { readonly min: number; readonly max: number };
      readonly read: { readonly min: number; readonly max: number };
      /** Percent of provisioned capacity auto scaling aims to consume. */
      readonly targetUtilization: number;
    };

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
      /** `typ` or `claim:NAME=VALUE`: what tells an access token from an ID token. */
      readonly accessTokenRule: string;
    };

/**
 * Claims a Cognito pre-token-generation trigger cannot add or override (or that mean something
 * else already): the tenant claim must not be one of them.
 */
const COGNITO_RESERVED_CLAIMS: ReadonlySet<string> = new Set([
  'acr',
  'amr',
  'at_hash',
  'aud',
  'auth_time',
  'azp',
  'client_id',
  'event_id',
  'exp',
  'iat',
  'identities',
  'iss',
  'jti',
  'nbf',
  'nonce',
  'origin_jti',
  'scope',
  'sub',
  'token_use',
  'username',
  'version',
]);

export type LogLevel = (typeof LOG_LEVELS)[number];

/** Reads one context value; `undefined` when the key is not set. */
export type ContextReader = (key: string) => unknown;

const VALID_RETENTION_DAYS: ReadonlySet<number> = new Set(Object.values(RetentionDays).filter((v): v is number => typeof v === 'number'));

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

  const stage = str(ctx, 'stage');
  if (!/^[A-Za-z0-9][A-Za-z0-9-]{0,31}$/.test(stage)) {
    throw new ConfigError('stage', `expected 1..32 letters, digits or '-', got ${show(stage)}`);
  }

  const auth = loadAuth(ctx);

  const tenantClaim = str(ctx, 'tenantClaim');
  if (!/^[A-Za-z0-9_:.-]{1,64}$/.test(tenantClaim)) {
    throw new ConfigError('tenantClaim', `expected 1..64 characters of [A-Za-z0-9_:.-], got ${show(tenantClaim)}`);
  }
  if (auth.mode === 'cognito' && (COGNITO_RESERVED_CLAIMS.has(tenantClaim) || tenantClaim.startsWith('cognito:'))) {
    throw new ConfigError('tenantClaim', `${show(tenantClaim)} is a claim Cognito sets itself; choose another name (e.g. tenant_id)`);
  }

  const writerBatchSize = int(ctx, 'writerBatchSize');
  const writerBatchWindowSeconds = int(ctx, 'writerBatchWindowSeconds');
  // Lambda rejects SQS batches above 10 without a batching window of at least one second.
  if (writerBatchSize > 10 && writerBatchWindowSeconds < 1) {
    throw new ConfigError(
      'writerBatchWindowSeconds',
      `must be at least 1 when writerBatchSize is above 10 (writerBatchSize=${writerBatchSize})`,
    );
  }

  const cleanupSchedule = str(ctx, 'cleanupSchedule');
  checkSchedule(cleanupSchedule);

  const maxEventsPerRequest = int(ctx, 'maxEventsPerRequest');
  const { tenantRates, tenantRateOverrides } = checkTenantRates(
    { requestsPerSecond: int(ctx, 'tenantRequestsPerSecond'), eventsPerSecond: int(ctx, 'tenantEventsPerSecond') },
    ctx('tenantRateOverrides'),
    maxEventsPerRequest,
  );

  const logLevel = str(ctx, 'logLevel').toUpperCase();
  if (!(CONFIG_KEYS.logLevel.values ?? []).includes(logLevel)) {
    throw new ConfigError('logLevel', `expected one of ${LOG_LEVELS.join(', ')}, got ${show(logLevel)}`);
  }

  const tableClass = str(ctx, 'tableClass');
  if (!(TABLE_CLASSES as readonly string[]).includes(tableClass)) {
    throw new ConfigError('tableClass', `expected one of ${TABLE_CLASSES.join(', ')}, got ${show(tableClass)}`);
  }

  const capacity = tableCapacity(ctx);

  const logRetentionDays = int(ctx, 'logRetentionDays');
  if (!VALID_RETENTION_DAYS.has(logRetentionDays)) {
    throw new ConfigError(
      'logRetentionDays',
      `expected a CloudWatch Logs retention (${[...VALID_RETENTION_DAYS].join(', ')}), got ${logRetentionDays}`,
    );
  }

  const busPublishing = onOff('busPublishing', str(ctx, 'busPublishing'));
  const archive = onOff('archive', ctx('archive') === undefined ? (stage === 'prod' ? 'on' : 'off') : str(ctx, 'archive'));
  if (archive && !busPublishing) throw new ConfigError('archive', 'needs busPublishing=on (the archive is fed from the bus)');

  return {
    stage,
    auth,
    tenantClaim,
    maxTokenLifetimeSeconds: int(ctx, 'maxTokenLifetimeSeconds'),
    clockSkewSeconds: int(ctx, 'clockSkewSeconds'),
    jwksMaxAgeSeconds: int(ctx, 'jwksMaxAgeSeconds'),
    authorizerCacheSeconds: int(ctx, 'authorizerCacheSeconds'),
    maxEventsPerRequest,
    retentionDays: int(ctx, 'retentionDays'),
    tableClass: tableClass as (typeof TABLE_CLASSES)[number],
    capacity,
    pointInTimeRecovery: onOff('pointInTimeRecovery', str(ctx, 'pointInTimeRecovery')),
    tenantRetentionDays: tenantRetention(ctx),
    deleteGraceDays: int(ctx, 'deleteGraceDays'),
    maxOpenErasures: int(ctx, 'maxOpenErasures'),
    exportExpiryDays: int(ctx, 'exportExpiryDays'),
    exportUrlSeconds: int(ctx, 'exportUrlSeconds'),
    corsAllowedOrigins: corsOrigins(ctx),
    tenantRates,
    tenantRateOverrides,
    ...(ctx('wafRateLimit') !== undefined ? { wafRateLimit: int(ctx, 'wafRateLimit') } : {}),
    cleanupChunkSize: int(ctx, 'cleanupChunkSize'),
    ...(ctx('cleanupMaxChunks') !== undefined ? { cleanupMaxChunks: int(ctx, 'cleanupMaxChunks') } : {}),
    shardCount: int(ctx, 'shardCount'),
    writerBatchSize,
    writerBatchWindowSeconds,
    writerTimeoutSeconds: int(ctx, 'writerTimeoutSeconds'),
    writerMaxConcurrency: int(ctx, 'writerMaxConcurrency'),
    cleanupSchedule,
    digestPeriodMinutes: int(ctx, 'digestPeriodMinutes'),
    digestRetentionDays: int(ctx, 'digestRetentionDays'),
    logLevel: logLevel as LogLevel,
    logRetentionDays: logRetentionDays as RetentionDays,
    apiThrottleRateLimit: num(ctx, 'apiThrottleRateLimit'),
    apiThrottleBurstLimit: int(ctx, 'apiThrottleBurstLimit'),
    maxReceiveCount: int(ctx, 'maxReceiveCount'),
    logSampleRate: num(ctx, 'logSampleRate'),
    traceSampleRate: num(ctx, 'traceSampleRate'),
    alarms: loadAlarms(ctx),
    busPublishing,
    archive,
    archiveRetentionDays: int(ctx, 'archiveRetentionDays'),
  };
};

const corsOrigins = (ctx: ContextReader): string[] => {
  const raw = ctx('corsAllowedOrigins');
  if (raw === undefined) return [];
  try {
    return parseCorsOrigins(String(raw));
  } catch (error) {
    throw new ConfigError('corsAllowedOrigins', (error as Error).message);
  }
};

const onOff = (key: 'busPublishing' | 'archive' | 'pointInTimeRecovery', value: string): boolean => {
  if (value !== 'on' && value !== 'off') throw new ConfigError(key, `expected "on" or "off", got ${show(value)}`);
  return value === 'on';
};

const tableCapacity = (ctx: ContextReader): TableCapacity => {
  const mode = str(ctx, 'capacityMode');
  if (!(CAPACITY_MODES as readonly string[]).includes(mode)) {
    throw new ConfigError('capacityMode', `expected one of ${CAPACITY_MODES.join(', ')}, got ${show(mode)}`);
  }
  if (mode === 'on-demand') return { mode: 'on-demand' };
  const bounds = (unit: 'Write' | 'Read') => {
    const [minKey, maxKey] = [`provisionedMin${unit}Units`, `provisionedMax${unit}Units`] as const;
    const min = int(ctx, minKey);
    const max = int(ctx, maxKey);
    if (min > max) throw new ConfigError(maxKey, `must be at least provisionedMin${unit}Units (${min}), got ${max}`);
    return { min, max };
  };
  return { mode: 'provisioned', write: bounds('Write'), read: bounds('Read'), targetUtilization: int(ctx, 'provisionedTargetUtilization') };
};

const loadAlarms = (ctx: ContextReader): AlarmConfig => {
  const email = ctx('alarmEmail') === undefined ? undefined : str(ctx, 'alarmEmail');
  if (email !== undefined && !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email)) {
    throw new ConfigError('alarmEmail', `expected an e-mail address, got ${show(email)}`);
  }
  return {
    ...(email !== undefined && { email }),
    queueAgeSeconds: int(ctx, 'alarmQueueAgeSeconds'),
    api5xxPercent: num(ctx, 'alarmApi5xxPercent'),
    writerErrors: int(ctx, 'alarmWriterErrors'),
    cleanupMissedDays: int(ctx, 'alarmCleanupMissedDays'),
  };
};

/** `tenantRetentionDays=acme=90,globex=730`: per-tenant retention overrides. */
const tenantRetention = (ctx: ContextReader): Record<string, number> => {
  const raw = ctx('tenantRetentionDays');
  return raw === undefined || raw === '' ? {} : parseTenantRetention(String(raw), 'tenantRetentionDays', 'context');
};

const keysOfMode = (mode: 'cognito' | 'oidc') =>
  (Object.keys(CONFIG_KEYS) as ConfigKeyName[]).filter((key) => CONFIG_KEYS[key].authMode === mode);
const OIDC_KEYS = keysOfMode('oidc');
const COGNITO_KEYS = keysOfMode('cognito');

const loadAuth = (ctx: ContextReader): AuthConfig => {
  const mode = str(ctx, 'authMode');
  if (mode === 'cognito') {
    // Settings that would be silently ignored are rejected instead.
    for (const key of OIDC_KEYS) {
      if (ctx(key) !== undefined) {
        throw new ConfigError(key, 'is only used with authMode=oidc (the cognito mode derives it from the user pool)');
      }
    }
    const domainPrefix = ctx('cognitoDomainPrefix') === undefined ? undefined : str(ctx, 'cognitoDomainPrefix');
    if (
      domainPrefix !== undefined &&
      (!/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/.test(domainPrefix) || /aws|amazon|cognito/.test(domainPrefix))
    ) {
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
  const scopeClaim = str(ctx, 'scopeClaim');
  if (!/^[A-Za-z0-9_:.-]{1,64}$/.test(scopeClaim)) {
    throw new ConfigError('scopeClaim', `expected 1..64 characters of [A-Za-z0-9_:.-], got ${show(scopeClaim)}`);
  }
  const scopeFormat = str(ctx, 'scopeFormat');
  if (!(CONFIG_KEYS.scopeFormat.values ?? []).includes(scopeFormat)) {
    throw new ConfigError('scopeFormat', `expected one of ${SCOPE_FORMATS.join(', ')}, got ${show(scopeFormat)}`);
  }
  // aws-jwt-verify rejects a `scope` claim that is not a string: arrays only come in other claims.
  if (scopeClaim === 'scope' && scopeFormat !== 'space-separated') {
    throw new ConfigError('scopeFormat', 'must be space-separated when scopeClaim is "scope" (set scopeClaim, e.g. "scp", for an array)');
  }
  const accessTokenRule = str(ctx, 'accessTokenRule');
  if (!parseAccessTokenRule(accessTokenRule)) {
    throw new ConfigError('accessTokenRule', `expected "typ" or "claim:NAME=VALUE", got ${show(accessTokenRule)}`);
  }
  return { mode, issuer, audience, jwksUri, scopeClaim, scopeFormat: scopeFormat as ScopeFormat, accessTokenRule };
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

/** A string setting; its default comes from CONFIG_KEYS ('' when it has none). */
const str = (ctx: ContextReader, key: ConfigKeyName): string => {
  const value = ctx(key);
  if (value === undefined) return String(CONFIG_KEYS[key].default ?? '');
  if (typeof value !== 'string') throw new ConfigError(key, `expected a string, got ${show(value)}`);
  return value.trim();
};

/** A numeric setting, its default and bounds from CONFIG_KEYS. */
const num = (ctx: ContextReader, key: ConfigKeyName): number => parseNumber(ctx, key, /^\d+(\.\d+)?$/, 'a number');

const int = (ctx: ContextReader, key: ConfigKeyName): number => parseNumber(ctx, key, /^-?\d+$/, 'an integer');

const parseNumber = (ctx: ContextReader, key: ConfigKeyName, pattern: RegExp, what: string): number => {
  const { default: fallback, min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER } = CONFIG_KEYS[key];
  const raw = ctx(key);
  if (raw === undefined) {
    // Only settings with a numeric default are read unconditionally (optional ones are read when set).
    if (typeof fallback !== 'number') throw new Error(`CONFIG_KEYS.${key} has no numeric default`);
    return fallback;
  }
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
    const range =
      max === Number.MAX_SAFE_INTEGER
        ? `at least ${min}`
        : min === Number.MIN_SAFE_INTEGER
          ? `at most ${max}`
          : `between ${min} and ${max}`;
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
    throw new ConfigError('cleanupSchedule', `expected "rate(<n> <unit>)" or "cron(<6 fields>)", got ${show(expression)}`);
  }
};

const show = (value: unknown): string => JSON.stringify(value) ?? String(value);
