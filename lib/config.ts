import { RetentionDays } from 'aws-cdk-lib/aws-logs';

import { ConfigError, parseCorsOrigins, type TenantRates } from '../contract';
import { type AlarmConfig, loadAlarms } from './config/alarms';
import { type AuthConfig, loadAuth, loadTenantClaim } from './config/auth';
import { LOG_LEVELS } from './config/keys-observability';
import { TABLE_CLASSES } from './config/keys-table';
import { checkTenantRates } from './config/rates';
import { type ContextReader, int, num, onOff, show, str } from './config/read';
import { type TableCapacity, tableCapacity, tenantRetention } from './config/table';
import { CONFIG_KEYS } from './config-keys';

export { CONFIG_KEYS, LOG_LEVELS };
export type { AlarmConfig, AuthConfig, ContextReader, TableCapacity };

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

export type LogLevel = (typeof LOG_LEVELS)[number];

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

  const tenantClaim = loadTenantClaim(ctx, auth);

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
