import { LIMITS } from './limits';
import { SCOPE_FORMATS } from './scopes';

/** An environment variable the stack sets on a function and the function reads. */
export interface EnvVariable {
  readonly name: string;
}

/**
 * A text variable; `default` is what the function assumes when the stack leaves it unset (a
 * variable without one is required).
 */
export interface TextVariable extends EnvVariable {
  readonly default?: string;
}

/**
 * An integer variable. The stack validates the deploy-time setting against the same bounds the
 * function checks at cold start; `default` as for text variables.
 */
export interface IntVariable extends EnvVariable {
  readonly min: number;
  readonly max: number;
  readonly default?: number;
}

/**
 * The functions' environment: set by lib/constructs/functions.ts and cognito-auth.ts, read once per
 * cold start by lambdas/shared/config.ts.
 */
export const ENV = {
  tableName: { name: 'TABLE_NAME' },
  queueUrl: { name: 'QUEUE_URL' },
  /** The stats counters table (GET /v1/stats and its stream consumer). */
  statsTableName: { name: 'STATS_TABLE_NAME' },
  /** The id and cursor keys (a Secrets Manager secret). */
  keysSecretArn: { name: 'KEYS_SECRET_ARN' },

  // Token verification: the OIDC mode's token authorizer reads these. The API functions read only
  // AUTH_TENANT_CLAIM and AUTH_SCOPE_PREFIX (the caller comes from the gateway's authorizer).
  authIssuer: { name: 'AUTH_ISSUER' },
  /** Comma-separated; empty: the issuer's tokens carry no `aud` (Cognito access tokens). */
  authAudience: { name: 'AUTH_AUDIENCE', default: '' },
  authJwksUri: { name: 'AUTH_JWKS_URI' },
  authTenantClaim: { name: 'AUTH_TENANT_CLAIM', default: 'tenant_id' },
  authScopePrefix: { name: 'AUTH_SCOPE_PREFIX', default: '' },
  authScopeClaim: { name: 'AUTH_SCOPE_CLAIM', default: 'scope' },
  authScopeFormat: { name: 'AUTH_SCOPE_FORMAT', default: SCOPE_FORMATS[0] },
  /** What tells an access token from an ID token: `typ` (RFC 9068 `at+jwt`) or `claim:NAME=VALUE`. */
  authAccessTokenRule: { name: 'AUTH_ACCESS_TOKEN_RULE', default: 'typ' },
  /** Seconds fetched signing keys are trusted before the JWKS is fetched again. */
  authJwksMaxAgeSeconds: { name: 'AUTH_JWKS_MAX_AGE_SECONDS', min: 60, max: 86_400, default: 900 },
  authMaxTokenLifetimeSeconds: { name: 'AUTH_MAX_TOKEN_LIFETIME_SECONDS', min: 60, max: 7 * 86_400, default: 86_400 },
  authClockSkewSeconds: { name: 'AUTH_CLOCK_SKEW_SECONDS', min: 0, max: 300, default: 60 },
  /**
   * Comma-separated scopes, as the issuer writes them in `scope`: a token needs one of them (the
   * Cognito authorizer's AuthorizationScopes rule, kept by the token authorizer of the Cognito
   * mode's read routes). Empty: not checked (OIDC mode; the functions check each route's scope).
   */
  authRequiredScopes: { name: 'AUTH_REQUIRED_SCOPES', default: '' },
  /** The claim the Cognito pre-token-generation trigger writes the tenant into. */
  tenantClaim: { name: 'TENANT_CLAIM' },

  /** Partition-key shards per tenant; the key layout allows three digits. */
  shardCount: { name: 'SHARD_COUNT', min: 1, max: 256 },
  retentionDays: { name: 'RETENTION_DAYS', min: 1, max: 3650 },
  /** `acme=90,globex=730` (see parseTenantRetention). */
  tenantRetentionDays: { name: 'TENANT_RETENTION_DAYS', default: '' },
  deleteGraceDays: { name: 'DELETE_GRACE_DAYS', min: 1, max: 365 },
  maxEventsPerRequest: { name: 'MAX_EVENTS_PER_REQUEST', min: 1, max: LIMITS.maxEventsPerRequest, default: LIMITS.maxEventsPerRequest },
  /** Per-tenant fairness (lambdas/core/rate-limit.ts): requests per second on every route, events per second on ingest. */
  tenantRequestsPerSecond: { name: 'TENANT_REQUESTS_PER_SECOND', min: 1, max: 100_000, default: 50 },
  tenantEventsPerSecond: { name: 'TENANT_EVENTS_PER_SECOND', min: 1, max: 1_000_000, default: 1000 },
  /** `acme=200/5000,globex=10/100` (see parseTenantRates). */
  tenantRateOverrides: { name: 'TENANT_RATE_OVERRIDES', default: '' },
  maxOpenErasures: { name: 'MAX_OPEN_ERASURES', min: 1, max: 100_000, default: 100 },
  cleanupChunkSize: { name: 'CLEANUP_CHUNK_SIZE', min: 1, max: 1000, default: 100 },
  /** Unset: as many chunks as the cleanup's timeout allows. */
  cleanupMaxChunks: { name: 'CLEANUP_MAX_CHUNKS', min: 1, max: 1_000_000 },
  /** The custom EventBridge bus the publisher puts every change on (lambdas/handlers/publisher.ts). */
  eventBusName: { name: 'EVENT_BUS_NAME' },
  /** The archive eraser (lambdas/handlers/archive-eraser.ts): the archive's bucket and Glue database, its Athena workgroup, its work bucket (staging, progress markers), its dead-letter queue. */
  archiveBucket: { name: 'ARCHIVE_BUCKET' },
  archiveDatabase: { name: 'ARCHIVE_DATABASE' },
  athenaWorkGroup: { name: 'ATHENA_WORKGROUP' },
  eraserWorkBucket: { name: 'ERASER_WORK_BUCKET' },
  eraserQueueUrl: { name: 'ERASER_QUEUE_URL' },
  eraserDeadLetterUrl: { name: 'ERASER_DEAD_LETTER_URL' },
  /** Exports (POST /v1/exports): the bucket the files go to, the queue the export worker consumes. */
  exportBucket: { name: 'EXPORT_BUCKET' },
  exportQueueUrl: { name: 'EXPORT_QUEUE_URL' },
  /** Days an export file is kept (the bucket's lifecycle rule); GET /v1/exports/{id} reports the expiry. */
  exportExpiryDays: { name: 'EXPORT_EXPIRY_DAYS', min: 1, max: 365, default: 7 },
  /** Lifetime of a download URL, regenerated on each GET /v1/exports/{id} (≤ 15 minutes). */
  exportUrlSeconds: { name: 'EXPORT_URL_SECONDS', min: 60, max: 900, default: 900 },
  /** Bytes of gzip one multipart part holds before it is uploaded (S3's minimum part is 5 MiB). */
  exportPartBytes: { name: 'EXPORT_PART_BYTES', min: 5 * 1024 * 1024, max: 100 * 1024 * 1024, default: 8 * 1024 * 1024 },
  /** Origins allowed to read the viewer's routes from a browser (comma-separated; empty: none). contract/cors.ts */
  corsAllowedOrigins: { name: 'CORS_ALLOWED_ORIGINS', default: '' },
  /** The digests (lambdas/handlers/digest.ts): period length, bucket and signing key. */
  digestPeriodMinutes: { name: 'DIGEST_PERIOD_MINUTES', min: 1, max: 1440, default: 60 },
  digestBucket: { name: 'DIGEST_BUCKET' },
  digestKeyId: { name: 'DIGEST_KEY_ID' },
  /** SQS allows up to 12 hours. */
  queueVisibilityTimeoutSeconds: { name: 'QUEUE_VISIBILITY_TIMEOUT_SECONDS', min: 1, max: 43_200 },
} as const satisfies Record<string, TextVariable | IntVariable>;
