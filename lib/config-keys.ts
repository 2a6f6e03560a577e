import { ENV, SCOPE_FORMATS } from '../contract';

/**
 * The one definition of the deploy-time configuration: every CDK context key with its default,
 * bounds or allowed values and meaning. `loadConfig` (lib/config.ts) validates with these fields,
 * and `npm run docs` (scripts/config-docs.ts) renders docs/configuration.md's reference from them;
 * a test fails when that page drifts. Numeric bounds are plain fields on purpose: a bound shared
 * with the functions comes from contract/env.ts, so deploy time and run time agree.
 */
export interface ConfigKeySpec {
  /** Value used when the key is not set; absent: the setting is off or derived (see `defaultText`). */
  readonly default?: string | number;
  /** Shown as the default in the docs when it is computed at deploy time. */
  readonly defaultText?: string;
  readonly kind: 'string' | 'integer' | 'number' | 'list';
  /** Inclusive bounds of a number (of each entry's number for a list). */
  readonly min?: number;
  readonly max?: number;
  /** The only accepted values. */
  readonly values?: readonly string[];
  /** Accepted values in words, where bounds or a list of values do not say it. */
  readonly allowed?: string;
  /** Used only in this auth mode (set in the other, it is rejected). */
  readonly authMode?: 'cognito' | 'oidc';
  /** Required (in `authMode`): there is no default. */
  readonly required?: boolean;
  /** What it does; Markdown, one line. */
  readonly meaning: string;
}

export const TABLE_CLASSES = ['STANDARD', 'STANDARD_INFREQUENT_ACCESS'] as const;

export const CAPACITY_MODES = ['on-demand', 'provisioned'] as const;

export const LOG_LEVELS = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'CRITICAL', 'SILENT'] as const;

const keys = {
  stage: {
    default: 'dev',
    kind: 'string',
    allowed: '1..32 letters, digits or `-`',
    meaning: 'deployment name: the stack is `ActivityTracker-<stage>` (plain `ActivityTracker` for `dev`, see lib/stage.ts), and tags',
  },
  authMode: {
    default: 'cognito',
    kind: 'string',
    values: ['cognito', 'oidc'],
    meaning:
      '`cognito`: the stack creates a Cognito user pool, resource server, domain and tenant-claim trigger; `oidc`: bring your own issuer',
  },
  issuer: {
    kind: 'string',
    authMode: 'oidc',
    required: true,
    allowed: 'an https URL',
    meaning: 'expected `iss` of accepted tokens',
  },
  audience: {
    kind: 'string',
    authMode: 'oidc',
    required: true,
    allowed: 'comma-separated list allowed',
    meaning: 'expected `aud` of accepted tokens (any of the list)',
  },
  jwksUri: {
    kind: 'string',
    authMode: 'oidc',
    required: true,
    allowed: 'an https URL',
    meaning: "the issuer's JWKS URL",
  },
  tenantClaim: {
    default: ENV.authTenantClaim.default,
    kind: 'string',
    allowed: '1..64 characters of `[A-Za-z0-9_:.-]`',
    meaning: 'token claim holding the tenant id; in Cognito mode not a claim Cognito sets itself (`sub`, `client_id`, `scope`, …)',
  },
  scopeClaim: {
    default: 'scope',
    kind: 'string',
    authMode: 'oidc',
    allowed: '1..64 characters of `[A-Za-z0-9_:.-]`',
    meaning: 'claim holding the scopes (e.g. `scp`)',
  },
  scopeFormat: {
    default: 'space-separated',
    kind: 'string',
    authMode: 'oidc',
    values: SCOPE_FORMATS,
    meaning: 'how the scope claim lists scopes; the `scope` claim itself must be a string (use `scopeClaim` for an array)',
  },
  accessTokenRule: {
    default: ENV.authAccessTokenRule.default,
    kind: 'string',
    authMode: 'oidc',
    allowed: '`typ` or `claim:NAME=VALUE`',
    meaning:
      "what tells an access token from an ID token of the same issuer: `typ` — the header's `typ` is `at+jwt` (RFC 9068); `claim:NAME=VALUE` — a claim has that value (e.g. `claim:token_type=access_token`). Cognito mode always uses `claim:token_use=access`",
  },
  jwksMaxAgeSeconds: {
    default: ENV.authJwksMaxAgeSeconds.default,
    kind: 'integer',
    min: ENV.authJwksMaxAgeSeconds.min,
    max: ENV.authJwksMaxAgeSeconds.max,
    meaning:
      "how long the issuer's signing keys are trusted before the JWKS is fetched again (a key removed at the issuer stops working within this time; OIDC mode: the token authorizer)",
  },
  authorizerCacheSeconds: {
    default: 60,
    kind: 'integer',
    min: 0,
    max: 3600,
    meaning:
      "how long API Gateway reuses its authorizer's answer for the same token (0: verify every request); a cached answer can outlive the token's expiry by up to this time",
  },
  cognitoDomainPrefix: {
    defaultText: '`activity-tracker-<stage>-<account id>`',
    kind: 'string',
    authMode: 'cognito',
    allowed: '1..63 lower-case letters, digits or `-`, not starting or ending with `-`, without `aws`, `amazon` or `cognito`',
    meaning:
      "prefix of the pool's domain (`https://<prefix>.auth.<region>.amazoncognito.com`, which serves `/oauth2/token`), unique per region",
  },
  maxTokenLifetimeSeconds: {
    default: 86_400,
    kind: 'integer',
    min: ENV.authMaxTokenLifetimeSeconds.min,
    max: ENV.authMaxTokenLifetimeSeconds.max,
    meaning: 'longest accepted token lifetime: both `exp - iat` and `exp - now` (OIDC mode: checked by the token authorizer)',
  },
  clockSkewSeconds: {
    default: 60,
    kind: 'integer',
    min: ENV.authClockSkewSeconds.min,
    max: ENV.authClockSkewSeconds.max,
    meaning: 'tolerance on `exp` and `nbf` (OIDC mode: the token authorizer)',
  },
  maxEventsPerRequest: {
    default: 500,
    kind: 'integer',
    min: ENV.maxEventsPerRequest.min,
    max: ENV.maxEventsPerRequest.max,
    meaning: "events one request may carry (500 is the API contract's maximum); above it: 413 `too_many_events`",
  },
  retentionDays: {
    default: 365,
    kind: 'integer',
    min: ENV.retentionDays.min,
    max: ENV.retentionDays.max,
    meaning:
      'days an event is kept after it was received; expired events are hidden at once and deleted by DynamoDB TTL (free), or by the cleanup when TTL has not deleted them within 3 days',
  },
  tableClass: {
    default: 'STANDARD_INFREQUENT_ACCESS',
    kind: 'string',
    values: TABLE_CLASSES,
    meaning:
      'DynamoDB table class of the events table: Standard-IA stores for 60 % less and writes for 25 % more, so it costs less from about 90 days of retention (docs/performance.md); `STANDARD` for shorter retention',
  },
  capacityMode: {
    default: 'on-demand',
    kind: 'string',
    values: CAPACITY_MODES,
    meaning:
      'billing of the events table and its indexes: `provisioned` with auto scaling (`provisioned*` keys) costs less for a steady workload and pays for idle capacity under bursty traffic (docs/performance.md prices both)',
  },
  provisionedMinWriteUnits: {
    default: 5,
    kind: 'integer',
    min: 1,
    max: 40_000,
    meaning: 'with `capacityMode=provisioned`: the fewest write capacity units auto scaling keeps on the table and on each index',
  },
  provisionedMaxWriteUnits: {
    default: 1000,
    kind: 'integer',
    min: 1,
    max: 40_000,
    meaning: 'with `capacityMode=provisioned`: the most write capacity units auto scaling sets on the table and on each index',
  },
  provisionedMinReadUnits: {
    default: 5,
    kind: 'integer',
    min: 1,
    max: 40_000,
    meaning: 'with `capacityMode=provisioned`: the fewest read capacity units auto scaling keeps on the table and on each index',
  },
  provisionedMaxReadUnits: {
    default: 500,
    kind: 'integer',
    min: 1,
    max: 40_000,
    meaning: 'with `capacityMode=provisioned`: the most read capacity units auto scaling sets on the table and on each index',
  },
  provisionedTargetUtilization: {
    default: 70,
    kind: 'integer',
    min: 20,
    max: 90,
    meaning: 'with `capacityMode=provisioned`: the consumed share of provisioned capacity, in percent, auto scaling aims at',
  },
  pointInTimeRecovery: {
    default: 'on',
    kind: 'string',
    values: ['on', 'off'],
    meaning:
      "continuous backups of the events table (restore to any second of the last 35 days), billed on the table's size: at 365 days of retention the largest single line of the lifetime cost (docs/performance.md); `off` only where the archive or another copy is the backup",
  },
  tenantRetentionDays: {
    kind: 'list',
    min: ENV.retentionDays.min,
    max: ENV.retentionDays.max,
    allowed: '`tenant=days` entries separated by commas',
    meaning: 'per-tenant retention overrides, e.g. `acme=90,globex=730`',
  },
  deleteGraceDays: {
    default: 30,
    kind: 'integer',
    min: ENV.deleteGraceDays.min,
    max: ENV.deleteGraceDays.max,
    meaning: 'days a soft-deleted event can be restored before the cleanup purges it',
  },
  maxOpenErasures: {
    default: 100,
    kind: 'integer',
    min: ENV.maxOpenErasures.min,
    max: ENV.maxOpenErasures.max,
    meaning: 'erasure requests one tenant may have pending at once; beyond: 429 `too_many_erasures`',
  },
  exportExpiryDays: {
    default: ENV.exportExpiryDays.default,
    kind: 'integer',
    min: ENV.exportExpiryDays.min,
    max: ENV.exportExpiryDays.max,
    meaning: 'days an export file stays in the export bucket (its lifecycle rule deletes it after)',
  },
  exportUrlSeconds: {
    default: ENV.exportUrlSeconds.default,
    kind: 'integer',
    min: ENV.exportUrlSeconds.min,
    max: ENV.exportUrlSeconds.max,
    meaning: 'lifetime of the download URL GET /v1/exports/{id} returns (a new one on each GET)',
  },
  tenantRequestsPerSecond: {
    default: ENV.tenantRequestsPerSecond.default,
    kind: 'integer',
    min: ENV.tenantRequestsPerSecond.min,
    max: ENV.tenantRequestsPerSecond.max,
    meaning:
      'requests per second one tenant may make, all routes together, across every function instance; beyond: 429 `rate_limited` with `Retry-After` (docs/security.md, "Fairness")',
  },
  tenantEventsPerSecond: {
    default: ENV.tenantEventsPerSecond.default,
    kind: 'integer',
    min: ENV.tenantEventsPerSecond.min,
    max: ENV.tenantEventsPerSecond.max,
    meaning: 'events per second one tenant may send (at least `maxEventsPerRequest`); beyond: 429 `rate_limited` with `Retry-After`',
  },
  tenantRateOverrides: {
    kind: 'list',
    allowed: '`tenant=requests/events` entries separated by commas (each within the bounds above)',
    meaning: 'per-tenant limits instead of the two defaults above, e.g. `acme=200/5000,globex=10/500`',
  },
  corsAllowedOrigins: {
    defaultText: 'none (no browser reads from another origin)',
    kind: 'list',
    allowed: 'origins separated by commas: `https://host[:port]` (http only on localhost/127.0.0.1); never `*`',
    meaning:
      "origins whose pages may read the viewer's routes (GET /v1/events, /v1/events/{id}, /v1/stats) from a browser: those routes answer the preflight, and their answers and the gateway's errors name the allowed `Origin` (docs/security.md)",
  },
  wafRateLimit: {
    defaultText: 'off (no web ACL)',
    kind: 'integer',
    min: 10,
    max: 2_000_000_000,
    meaning:
      'when set, a WAF web ACL on the API stage blocks an IP address that sends more than this many requests in 5 minutes (before any function runs; WAF bills per ACL, rule and request)',
  },
  cleanupChunkSize: {
    default: 100,
    kind: 'integer',
    min: ENV.cleanupChunkSize.min,
    max: ENV.cleanupChunkSize.max,
    meaning: 'items the cleanup handles per chunk',
  },
  cleanupMaxChunks: {
    defaultText: 'as many as the timeout allows',
    kind: 'integer',
    min: ENV.cleanupMaxChunks.min,
    max: ENV.cleanupMaxChunks.max,
    meaning: 'chunks with work per cleanup run at most (the cleanup stops between chunks before its 15-minute timeout)',
  },
  shardCount: {
    default: 4,
    kind: 'integer',
    min: ENV.shardCount.min,
    max: ENV.shardCount.max,
    meaning:
      'partition-key shards per tenant: about 1,000 writes/s per shard; raise it, never lower it (docs/performance.md, "Hot tenants")',
  },
  writerBatchSize: {
    default: 100,
    kind: 'integer',
    min: 1,
    max: 10_000,
    meaning: 'SQS messages per writer invocation (above 10 needs `writerBatchWindowSeconds` ≥ 1)',
  },
  writerBatchWindowSeconds: {
    default: 1,
    kind: 'integer',
    min: 0,
    max: 300,
    meaning: "longest time the writer's event source gathers a batch",
  },
  writerTimeoutSeconds: {
    default: 30,
    kind: 'integer',
    min: 1,
    max: 900,
    meaning: "writer function timeout; the queue's visibility timeout is 6 × this + the batching window",
  },
  writerMaxConcurrency: {
    default: 10,
    kind: 'integer',
    min: 2,
    max: 1000,
    meaning: 'most concurrent writer invocations from the queue',
  },
  digestPeriodMinutes: {
    default: 60,
    kind: 'integer',
    min: ENV.digestPeriodMinutes.min,
    max: ENV.digestPeriodMinutes.max,
    meaning: "length of a digest period: the digest function seals each tenant's events stored in it (also its schedule, in minutes)",
  },
  digestRetentionDays: {
    default: 400,
    kind: 'integer',
    min: 1,
    max: 36_500,
    meaning: 'days the digest bucket keeps each digest under Object Lock (compliance mode: nobody can delete or overwrite it sooner)',
  },
  cleanupSchedule: {
    default: 'rate(1 day)',
    kind: 'string',
    allowed: '`rate(<n> <unit>)` or `cron(<6 fields>)`',
    meaning: 'EventBridge schedule of the cleanup function',
  },
  logLevel: {
    default: 'INFO',
    kind: 'string',
    values: LOG_LEVELS,
    meaning: 'Powertools log level (any casing)',
  },
  logRetentionDays: {
    default: 30,
    kind: 'integer',
    allowed: 'a CloudWatch Logs retention value (1, 3, 5, 7, 14, 30, 60, 90, …)',
    meaning: 'retention of the function and API access log groups',
  },
  apiThrottleRateLimit: {
    default: 100,
    kind: 'number',
    min: 1,
    max: 1_000_000,
    meaning: 'API stage steady-state limit, requests per second (beyond: 429 `throttled`)',
  },
  apiThrottleBurstLimit: {
    default: 200,
    kind: 'integer',
    min: 1,
    max: 1_000_000,
    meaning: 'API stage burst limit, requests',
  },
  maxReceiveCount: {
    default: 5,
    kind: 'integer',
    // SQS allows 1..1000; below 5, throttled (never processed) messages may reach the DLQ.
    min: 5,
    max: 1000,
    meaning: 'deliveries of a message before SQS moves it to the DLQ',
  },
  logSampleRate: {
    default: 0,
    kind: 'number',
    min: 0,
    max: 1,
    meaning: 'share of invocations that log at DEBUG whatever `logLevel` says (`POWERTOOLS_LOGGER_SAMPLE_RATE`)',
  },
  traceSampleRate: {
    default: 0.01,
    kind: 'number',
    min: 0,
    max: 1,
    meaning: "share of API requests X-Ray traces beyond the first one each second (X-Ray's own default is 0.05)",
  },
  busPublishing: {
    default: 'on',
    kind: 'string',
    values: ['on', 'off'],
    meaning:
      "publish every change (stored, deleted, restored events, completed erasures) on the stack's EventBridge bus (docs/consumers.md); `off`: no bus, no publisher",
  },
  archive: {
    defaultText: '`on` in the `prod` stage, `off` otherwise',
    kind: 'string',
    values: ['on', 'off'],
    meaning:
      'archive every stored event in S3 as Parquet partitioned by tenant and date, with a Glue table for Athena (docs/consumers.md, "Archive"); an erasure removes the user\'s rows from it (the archive eraser, Athena); needs `busPublishing=on`',
  },
  archiveRetentionDays: {
    default: 1095,
    kind: 'integer',
    min: 1,
    max: 3650,
    meaning: 'days archived files are kept before the bucket lifecycle deletes them',
  },
  alarmEmail: {
    kind: 'string',
    allowed: 'an e-mail address',
    meaning: 'subscribed to the alarm topic (optional; subscribe anything else to the topic yourself)',
  },
  alarmQueueAgeSeconds: {
    default: 300,
    kind: 'integer',
    // The events queue keeps messages 4 days (lib/constructs/queue.ts): the alarm must fire well before.
    min: 60,
    max: 259_200,
    meaning:
      'alarm when the oldest queued event is older than this (the queue keeps messages 4 days, so the alarm leaves at least a day to act)',
  },
  alarmApi5xxPercent: {
    default: 1,
    kind: 'number',
    min: 0,
    max: 100,
    meaning: 'alarm when 5xx answers exceed this share (%) of API requests over 5 minutes',
  },
  alarmWriterErrors: {
    default: 1,
    kind: 'integer',
    min: 1,
    max: 100_000,
    meaning: 'alarm when the writer fails this many invocations in 5 minutes',
  },
  alarmCleanupMissedDays: {
    default: 2,
    kind: 'integer',
    // CloudWatch evaluates daily periods over at most 7 days.
    min: 1,
    max: 7,
    meaning:
      "alarm when the cleanup has not run successfully for this many days (7 is CloudWatch's longest evaluation range; give it more than the schedule's period)",
  },
} satisfies Record<string, ConfigKeySpec>;

export type ConfigKeyName = keyof typeof keys;

/** Every deploy-time setting, in the order the docs list them. */
export const CONFIG_KEYS: Readonly<Record<ConfigKeyName, ConfigKeySpec>> = keys;
