import { parseAccessTokenRule, type AccessTokenRule, type ScopeFormat } from '../core/auth';

/**
 * Runtime configuration: read from the environment once per cold start, validated, and loud
 * when something required is missing. Emulator endpoints (local mode) are configuration too:
 * AWS_ENDPOINT_URL_<SERVICE> when set, never an `if (local)` branch.
 */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

type Env = Readonly<Record<string, string | undefined>>;

export const requireString = (env: Env, name: string): string => {
  const value = env[name];
  if (value === undefined || value.trim() === '') throw new ConfigError(`environment variable ${name} is required`);
  return value;
};

export const optionalString = (env: Env, name: string, fallback: string): string => env[name] ?? fallback;

export const requireInt = (env: Env, name: string, min: number, max: number, fallback?: number): number => {
  const raw = env[name];
  if (raw === undefined || raw === '') {
    if (fallback !== undefined) return fallback;
    throw new ConfigError(`environment variable ${name} is required`);
  }
  if (!/^-?\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    throw new ConfigError(`environment variable ${name} must be an integer from ${min} to ${max} (got '${raw}')`);
  }
  return Number(raw);
};

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
}

const SCOPE_FORMATS: readonly ScopeFormat[] = ['space-separated', 'array'];

const isLoopback = (url: URL): boolean => ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname);

export const readAuthConfig = (env: Env): AuthConfig => {
  const jwksUri = requireString(env, 'AUTH_JWKS_URI');
  let url: URL;
  try {
    url = new URL(jwksUri);
  } catch {
    throw new ConfigError(`AUTH_JWKS_URI is not a URL: ${jwksUri}`);
  }
  // Plain http is only for the local issuer on this machine.
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopback(url))) {
    throw new ConfigError('AUTH_JWKS_URI must be https (http only on a loopback address)');
  }
  const scopeFormat = optionalString(env, 'AUTH_SCOPE_FORMAT', 'space-separated') as ScopeFormat;
  if (!SCOPE_FORMATS.includes(scopeFormat)) {
    throw new ConfigError(`AUTH_SCOPE_FORMAT must be one of ${SCOPE_FORMATS.join(', ')} (got '${scopeFormat}')`);
  }
  const scopeClaim = optionalString(env, 'AUTH_SCOPE_CLAIM', 'scope');
  // aws-jwt-verify only accepts a string `scope` claim.
  if (scopeClaim === 'scope' && scopeFormat !== 'space-separated') {
    throw new ConfigError("AUTH_SCOPE_FORMAT must be space-separated when the scope claim is 'scope'");
  }
  const ruleText = optionalString(env, 'AUTH_ACCESS_TOKEN_RULE', 'typ');
  const accessTokenRule = parseAccessTokenRule(ruleText);
  if (!accessTokenRule) throw new ConfigError(`AUTH_ACCESS_TOKEN_RULE must be 'typ' or 'claim:NAME=VALUE' (got '${ruleText}')`);
  return {
    issuer: requireString(env, 'AUTH_ISSUER'),
    audience: (env.AUTH_AUDIENCE ?? '').split(',').map((a) => a.trim()).filter(Boolean),
    jwksUri,
    tenantClaim: optionalString(env, 'AUTH_TENANT_CLAIM', 'tenant_id'),
    scopePrefix: optionalString(env, 'AUTH_SCOPE_PREFIX', ''),
    scopeClaim,
    scopeFormat,
    maxTokenLifetimeSeconds: requireInt(env, 'AUTH_MAX_TOKEN_LIFETIME_SECONDS', 60, 7 * 86_400, 86_400),
    clockSkewSeconds: requireInt(env, 'AUTH_CLOCK_SKEW_SECONDS', 0, 300, 60),
    accessTokenRule,
    jwksMaxAgeSeconds: requireInt(env, 'AUTH_JWKS_MAX_AGE_SECONDS', 60, 86_400, 900),
  };
};

/** Optional endpoint override for one AWS service (local emulators). */
export const endpointFor = (env: Env, service: 'DYNAMODB' | 'SQS' | 'SECRETS_MANAGER' | 'COGNITO_IDENTITY_PROVIDER'): string | undefined =>
  env[`AWS_ENDPOINT_URL_${service}`] || env.AWS_ENDPOINT_URL || undefined;

/**
 * Retention in days per tenant: RETENTION_DAYS for all, TENANT_RETENTION_DAYS overrides some
 * (`acme=90,globex=730`). Applied when an event is received (it sets the event's expiry).
 */
export const readRetention = (env: Env): ((tenant: string) => number) => {
  const fallback = requireInt(env, 'RETENTION_DAYS', 1, 3650);
  const overrides = new Map<string, number>();
  for (const entry of (env.TENANT_RETENTION_DAYS ?? '').split(',').map((e) => e.trim()).filter(Boolean)) {
    const match = /^([A-Za-z0-9_-]{1,64})=(\d{1,4})$/.exec(entry);
    if (!match || Number(match[2]) < 1 || Number(match[2]) > 3650) {
      throw new ConfigError(`TENANT_RETENTION_DAYS entries must look like tenant=days with 1..3650 days (got '${entry}')`);
    }
    overrides.set(match[1] as string, Number(match[2]));
  }
  return (tenant) => overrides.get(tenant) ?? fallback;
};
