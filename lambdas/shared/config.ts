import {
  ConfigError,
  ENV,
  parseCorsOrigins,
  parseTenantRates,
  parseTenantRetention,
  SCOPE_FORMATS,
  type EnvVariable,
  type IntVariable,
  type ScopeFormat,
  type TenantRates,
  type TextVariable,
} from '../../contract';
import { corsPolicy, type CorsPolicy } from '../core/cors';
import { tenantLimits } from '../core/rate-limit';
import { parseAccessTokenRule, type AccessTokenRule } from '../../contract';

/**
 * Runtime configuration: read from the environment once per cold start, validated, and loud
 * when something required is missing. The variables, their bounds and defaults are the contract's
 * ENV (the stack sets them from the same map). Emulator endpoints (local mode) are configuration
 * too: AWS_ENDPOINT_URL_<SERVICE> when set, never an `if (local)` branch.
 */
type Env = Readonly<Record<string, string | undefined>>;

const invalid = (variable: EnvVariable, reason: string): ConfigError => new ConfigError(variable.name, reason, 'environment');

export const requireString = (env: Env, variable: EnvVariable): string => {
  const value = env[variable.name];
  if (value === undefined || value.trim() === '') throw invalid(variable, 'is required');
  return value;
};

export const optionalString = (env: Env, variable: TextVariable & { readonly default: string }): string =>
  env[variable.name] ?? variable.default;

/** An integer within the variable's bounds; its default when unset, if it has one (otherwise it is required). */
export const readInt = (env: Env, variable: IntVariable): number => {
  const raw = env[variable.name];
  if (raw === undefined || raw === '') {
    if (variable.default !== undefined) return variable.default;
    throw invalid(variable, 'is required');
  }
  const { min, max } = variable;
  if (!/^-?\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    throw invalid(variable, `must be an integer from ${min} to ${max} (got '${raw}')`);
  }
  return Number(raw);
};

/** Like readInt, but undefined when the variable is unset. */
export const readOptionalInt = (env: Env, variable: IntVariable): number | undefined =>
  env[variable.name] === undefined || env[variable.name] === '' ? undefined : readInt(env, variable);

export interface AuthConfig {
  readonly issuer: string;
  /** Expected audiences; empty = the issuer's tokens carry none (Cognito access tokens). */
  readonly audience: string[];
  readonly jwksUri: string;
  readonly tenantClaim: string;
  readonly scopePrefix: string;
  readonly scopeClaim: string;
  readonly scopeFormat: ScopeFormat;
  readonly maxTokenLifetimeSeconds: number;
  readonly clockSkewSeconds: number;
  /** What tells an access token from an ID token (core/auth.ts). */
  readonly accessTokenRule: AccessTokenRule;
  /** How long fetched signing keys are trusted before the JWKS is fetched again. */
  readonly jwksMaxAgeSeconds: number;
  /** A token needs one of these (claim `scope`, as written by the issuer); empty: not checked here. */
  readonly requiredScopes: readonly string[];
}

const isLoopback = (url: URL): boolean => ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname);

export const readAuthConfig = (env: Env): AuthConfig => {
  const jwksUri = requireString(env, ENV.authJwksUri);
  let url: URL;
  try {
    url = new URL(jwksUri);
  } catch {
    throw invalid(ENV.authJwksUri, `is not a URL: ${jwksUri}`);
  }
  // Plain http is only for the local issuer on this machine.
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopback(url))) {
    throw invalid(ENV.authJwksUri, 'must be https (http only on a loopback address)');
  }
  const scopeFormat = optionalString(env, ENV.authScopeFormat) as ScopeFormat;
  if (!SCOPE_FORMATS.includes(scopeFormat)) {
    throw invalid(ENV.authScopeFormat, `must be one of ${SCOPE_FORMATS.join(', ')} (got '${scopeFormat}')`);
  }
  const scopeClaim = optionalString(env, ENV.authScopeClaim);
  // aws-jwt-verify only accepts a string `scope` claim.
  if (scopeClaim === 'scope' && scopeFormat !== 'space-separated') {
    throw invalid(ENV.authScopeFormat, "must be space-separated when the scope claim is 'scope'");
  }
  const requiredScopes = optionalString(env, ENV.authRequiredScopes)
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  // aws-jwt-verify checks required scopes in the `scope` claim only.
  if (requiredScopes.length > 0 && scopeClaim !== 'scope') {
    throw invalid(ENV.authRequiredScopes, "needs the scope claim 'scope'");
  }
  const ruleText = optionalString(env, ENV.authAccessTokenRule);
  const accessTokenRule = parseAccessTokenRule(ruleText);
  if (!accessTokenRule) throw invalid(ENV.authAccessTokenRule, `must be 'typ' or 'claim:NAME=VALUE' (got '${ruleText}')`);
  return {
    issuer: requireString(env, ENV.authIssuer),
    audience: optionalString(env, ENV.authAudience)
      .split(',')
      .map((a) => a.trim())
      .filter(Boolean),
    jwksUri,
    tenantClaim: optionalString(env, ENV.authTenantClaim),
    scopePrefix: optionalString(env, ENV.authScopePrefix),
    scopeClaim,
    scopeFormat,
    maxTokenLifetimeSeconds: readInt(env, ENV.authMaxTokenLifetimeSeconds),
    clockSkewSeconds: readInt(env, ENV.authClockSkewSeconds),
    accessTokenRule,
    jwksMaxAgeSeconds: readInt(env, ENV.authJwksMaxAgeSeconds),
    requiredScopes,
  };
};

/** What the API functions need to read the caller from the authorizer's output (core/auth.ts). */
export const readContextSettings = (env: Env): { tenantClaim: string; scopePrefix: string } => ({
  tenantClaim: optionalString(env, ENV.authTenantClaim),
  scopePrefix: optionalString(env, ENV.authScopePrefix),
});

/** Origins allowed to read from a browser (CORS_ALLOWED_ORIGINS); none when unset. */
export const readCorsPolicy = (env: Env): CorsPolicy => {
  try {
    return corsPolicy(parseCorsOrigins(optionalString(env, ENV.corsAllowedOrigins)));
  } catch (error) {
    throw invalid(ENV.corsAllowedOrigins, (error as Error).message);
  }
};

/** Optional endpoint override for one AWS service (local emulators). */
export const endpointFor = (
  env: Env,
  service: 'DYNAMODB' | 'SQS' | 'SECRETS_MANAGER' | 'COGNITO_IDENTITY_PROVIDER' | 'EVENTBRIDGE' | 'S3' | 'KMS' | 'ATHENA',
): string | undefined => env[`AWS_ENDPOINT_URL_${service}`] || env.AWS_ENDPOINT_URL || undefined;

/**
 * Retention in days per tenant: RETENTION_DAYS for all, TENANT_RETENTION_DAYS overrides some
 * (`acme=90,globex=730`). Applied when an event is received (it sets the event's expiry).
 */
export const readRetention = (env: Env): ((tenant: string) => number) => {
  const fallback = readInt(env, ENV.retentionDays);
  const overrides = new Map(
    Object.entries(parseTenantRetention(optionalString(env, ENV.tenantRetentionDays), ENV.tenantRetentionDays.name, 'environment')),
  );
  return (tenant) => overrides.get(tenant) ?? fallback;
};

/**
 * Per-tenant fairness limits: TENANT_REQUESTS_PER_SECOND and TENANT_EVENTS_PER_SECOND for all,
 * TENANT_RATE_OVERRIDES for some (`acme=200/5000`).
 */
export const readRateLimits = (env: Env): ((tenant: string) => TenantRates) =>
  tenantLimits(
    { requestsPerSecond: readInt(env, ENV.tenantRequestsPerSecond), eventsPerSecond: readInt(env, ENV.tenantEventsPerSecond) },
    parseTenantRates(optionalString(env, ENV.tenantRateOverrides), ENV.tenantRateOverrides.name, 'environment'),
  );
