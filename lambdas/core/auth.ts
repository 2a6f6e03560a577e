import { TENANT_PATTERN, type Scope, type ScopeFormat } from '../../contract';
import { ForbiddenError, UnauthorizedError } from './errors';

/**
 * The parts of authentication that aws-jwt-verify does not do: which algorithms we accept, that a
 * token expires and not too far away, the tenant claim, and scopes per route. The signature,
 * issuer, audience, exp and nbf are checked by aws-jwt-verify in the adapter.
 */
export interface Principal {
  readonly tenant: string;
  readonly subject?: string;
  readonly scopes: ReadonlySet<string>;
}

export interface AuthSettings {
  readonly tenantClaim: string;
  /** Stripped from each scope (Cognito resource-server scopes look like `activity-tracker/events:read`). */
  readonly scopePrefix: string;
  /** Claim holding the scopes: `scope` by default. */
  readonly scopeClaim: string;
  /** Scopes in the other format grant nothing (403), rather than being guessed at. */
  readonly scopeFormat: ScopeFormat;
  readonly maxTokenLifetimeSeconds: number;
  /**
   * Required value of the `token_use` claim, when the issuer sets one: `access` for Cognito, so an
   * ID token of the same pool is never taken for an access token.
   */
  readonly tokenUse?: string;
}

export const ALLOWED_ALGORITHMS: ReadonlySet<string> = new Set(['RS256', 'ES256']);

/** Extracts the bearer token from the Authorization header (any casing of the header name). */
export const bearerToken = (headers: Readonly<Record<string, string | undefined>> | null | undefined): string => {
  const entry = Object.entries(headers ?? {}).find(([name]) => name.toLowerCase() === 'authorization');
  const match = entry?.[1] ? /^Bearer\s+([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*)\s*$/i.exec(entry[1]) : null;
  if (!match) throw new UnauthorizedError('an Authorization: Bearer <JWT> header is required');
  return match[1] as string;
};

/**
 * Checks run after aws-jwt-verify has verified the signature (its customJwtCheck hook), so they
 * only ever see authentic claims. Each throws with a reason; the caller answers 401.
 */
export const checkVerifiedToken = (
  header: { alg?: unknown },
  payload: Record<string, unknown>,
  settings: AuthSettings,
  nowSeconds: number,
): void => {
  if (typeof header.alg !== 'string' || !ALLOWED_ALGORITHMS.has(header.alg)) throw new Error('token algorithm not allowed');
  if (typeof payload.exp !== 'number') throw new Error('token has no exp');
  if (settings.tokenUse !== undefined && payload.token_use !== settings.tokenUse) throw new Error(`token_use must be ${settings.tokenUse}`);
  const issuedAt = typeof payload.iat === 'number' ? payload.iat : nowSeconds;
  if (payload.exp - issuedAt > settings.maxTokenLifetimeSeconds || payload.exp - nowSeconds > settings.maxTokenLifetimeSeconds) {
    throw new Error('token lifetime above the allowed maximum');
  }
  tenantOf(payload, settings.tenantClaim);
};

const tenantOf = (payload: Record<string, unknown>, claim: string): string => {
  const tenant = payload[claim];
  if (typeof tenant !== 'string' || !TENANT_PATTERN.test(tenant)) throw new Error('token has no valid tenant claim');
  return tenant;
};

/** The caller, from verified claims. The tenant comes from the token only, never from the request. */
export const principalFromClaims = (payload: Record<string, unknown>, settings: AuthSettings): Principal => {
  let tenant: string;
  try {
    tenant = tenantOf(payload, settings.tenantClaim);
  } catch {
    throw new UnauthorizedError('the token carries no valid tenant claim');
  }
  const raw = scopesOf(payload[settings.scopeClaim], settings.scopeFormat);
  const scopes = new Set<string>();
  for (const scope of raw) {
    if (typeof scope !== 'string' || scope.length === 0) continue;
    if (settings.scopePrefix === '') scopes.add(scope);
    else if (scope.startsWith(settings.scopePrefix)) scopes.add(scope.slice(settings.scopePrefix.length));
  }
  return { tenant, scopes, ...(typeof payload.sub === 'string' && { subject: payload.sub }) };
};

const scopesOf = (claim: unknown, format: ScopeFormat): unknown[] => {
  if (format === 'space-separated') return typeof claim === 'string' ? claim.split(' ') : [];
  return Array.isArray(claim) ? claim : [];
};

export const requireScope = (principal: Principal, scope: Scope): void => {
  if (!principal.scopes.has(scope)) throw new ForbiddenError(`this route needs the scope '${scope}'`);
};
