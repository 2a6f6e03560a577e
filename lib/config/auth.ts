import { ConfigError, parseAccessTokenRule, SCOPE_FORMATS, type ScopeFormat } from '../../contract';
import { CONFIG_KEYS, type ConfigKeyName } from '../config-keys';
import { type ContextReader, show, str } from './read';

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

/** The claim holding the tenant id: in Cognito mode, one the pre-token-generation trigger may set. */
export const loadTenantClaim = (ctx: ContextReader, auth: AuthConfig): string => {
  const tenantClaim = str(ctx, 'tenantClaim');
  if (!/^[A-Za-z0-9_:.-]{1,64}$/.test(tenantClaim)) {
    throw new ConfigError('tenantClaim', `expected 1..64 characters of [A-Za-z0-9_:.-], got ${show(tenantClaim)}`);
  }
  if (auth.mode === 'cognito' && (COGNITO_RESERVED_CLAIMS.has(tenantClaim) || tenantClaim.startsWith('cognito:'))) {
    throw new ConfigError('tenantClaim', `${show(tenantClaim)} is a claim Cognito sets itself; choose another name (e.g. tenant_id)`);
  }
  return tenantClaim;
};

const keysOfMode = (mode: 'cognito' | 'oidc') =>
  (Object.keys(CONFIG_KEYS) as ConfigKeyName[]).filter((key) => CONFIG_KEYS[key].authMode === mode);
const OIDC_KEYS = keysOfMode('oidc');
const COGNITO_KEYS = keysOfMode('cognito');

export const loadAuth = (ctx: ContextReader): AuthConfig => {
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
