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
  readonly maxTokenLifetimeSeconds: number;
  readonly clockSkewSeconds: number;
}

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
  return {
    issuer: requireString(env, 'AUTH_ISSUER'),
    audience: (env.AUTH_AUDIENCE ?? '').split(',').map((a) => a.trim()).filter(Boolean),
    jwksUri,
    tenantClaim: optionalString(env, 'AUTH_TENANT_CLAIM', 'tenant_id'),
    scopePrefix: optionalString(env, 'AUTH_SCOPE_PREFIX', ''),
    maxTokenLifetimeSeconds: requireInt(env, 'AUTH_MAX_TOKEN_LIFETIME_SECONDS', 60, 7 * 86_400, 86_400),
    clockSkewSeconds: requireInt(env, 'AUTH_CLOCK_SKEW_SECONDS', 0, 300, 60),
  };
};

/** Optional endpoint override for one AWS service (local emulators). */
export const endpointFor = (env: Env, service: 'DYNAMODB' | 'SQS' | 'SECRETS_MANAGER'): string | undefined =>
  env[`AWS_ENDPOINT_URL_${service}`] || env.AWS_ENDPOINT_URL || undefined;
