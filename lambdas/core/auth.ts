import {
  TENANT_PATTERN,
  VIEWER_ROUTES,
  VIEWER_USER_FILTERED_ROUTES,
  type AccessTokenRule,
  type Scope,
  type ScopeFormat,
} from '../../contract';
import { ForbiddenError, UnauthorizedError } from './errors';
import { canonicalId } from './json-bounds';

/**
 * Authentication in two places that never overlap: API Gateway's authorizer verifies the token
 * (a Cognito authorizer, or the OIDC Lambda authorizer through ../adapters/jwt-authenticator.ts), and
 * the functions read the caller from its output (principalFromAuthorizer) and check the route's
 * scope. Below, the parts of token verification that aws-jwt-verify does not do: which algorithms we accept, that a
 * token expires and not too far away, the tenant claim, and scopes per route. The signature,
 * issuer, audience, exp and nbf are checked by aws-jwt-verify in the adapter.
 */
export interface Principal {
  readonly tenant: string;
  readonly subject?: string;
  /** The OAuth client the token was issued to (`client_id`), when the token says. */
  readonly clientId?: string;
  readonly scopes: ReadonlySet<string>;
  /** A viewer token's caller (./viewer-token.ts): read routes only, and one user's events when `userId` is set. */
  readonly viewer?: { readonly userId?: string };
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
  /** Tolerance on time claims: an `iat` further ahead than this is refused. */
  readonly clockSkewSeconds: number;
  /** What tells an access token from an ID token of the same issuer (both carry `aud`, tenant and scopes). */
  readonly accessToken: AccessTokenRule;
}

const ACCESS_TOKEN_TYPES: ReadonlySet<string> = new Set(['at+jwt', 'application/at+jwt']);

const isAccessToken = (header: { typ?: unknown }, payload: Record<string, unknown>, rule: AccessTokenRule): boolean =>
  rule.kind === 'typ'
    ? typeof header.typ === 'string' && ACCESS_TOKEN_TYPES.has(header.typ.toLowerCase())
    : payload[rule.claim] === rule.value;

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
  header: { alg?: unknown; typ?: unknown },
  payload: Record<string, unknown>,
  settings: AuthSettings,
  nowSeconds: number,
): void => {
  if (typeof header.alg !== 'string' || !ALLOWED_ALGORITHMS.has(header.alg)) throw new Error('token algorithm not allowed');
  if (typeof payload.exp !== 'number') throw new Error('token has no exp');
  if (!isAccessToken(header, payload, settings.accessToken)) throw new Error('not an access token');
  if (typeof payload.iat === 'number' && payload.iat > nowSeconds + settings.clockSkewSeconds)
    throw new Error('token issued in the future');
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
export const principalFromClaims = (
  payload: Record<string, unknown>,
  settings: Pick<AuthSettings, 'tenantClaim' | 'scopePrefix' | 'scopeClaim' | 'scopeFormat'>,
): Principal => {
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
  return {
    tenant,
    scopes,
    ...(typeof payload.sub === 'string' && { subject: payload.sub }),
    ...(typeof payload.client_id === 'string' && payload.client_id !== '' && { clientId: payload.client_id }),
  };
};

const scopesOf = (claim: unknown, format: ScopeFormat): unknown[] => {
  if (format === 'space-separated') return typeof claim === 'string' ? claim.split(' ') : [];
  return Array.isArray(claim) ? claim : [];
};

export const requireScope = (principal: Principal, scope: Scope): void => {
  if (!principal.scopes.has(scope)) throw new ForbiddenError(`this route needs the scope '${scope}'`);
};

/**
 * What a viewer token may reach: the routes of VIEWER_ROUTES by name, and, when it is bound to one
 * user, only that user's events on the routes that filter by user (the `userId` filter must be
 * exactly its user). GET /v1/events/{id} checks the event's user itself (query handler).
 */
export const requireViewerAccess = (principal: Principal, route: string, userIdFilter: string | undefined): void => {
  if (!principal.viewer) return;
  if (!VIEWER_ROUTES.has(route)) throw new ForbiddenError('a viewer token opens only the read routes');
  const bound = principal.viewer.userId;
  if (
    bound !== undefined &&
    VIEWER_USER_FILTERED_ROUTES.has(route) &&
    (userIdFilter === undefined || canonicalId(userIdFilter) !== bound)
  ) {
    throw new ForbiddenError(`this viewer token reads only one user's events: pass userId=<that user>`);
  }
};

/**
 * What a Lambda authorizer (OIDC mode) puts into `requestContext.authorizer`: API Gateway passes
 * only strings, numbers and booleans, so the scopes travel space-joined, already without prefix.
 */
export interface AuthorizerContext {
  readonly tenant: string;
  readonly scopes: string;
  readonly sub: string;
  readonly clientId: string;
  /** `true` for a viewer token; its user (empty: the whole tenant) in `viewerUser`. */
  readonly viewer?: 'true';
  readonly viewerUser?: string;
}

/** The context of a viewer token: read scope only, whatever else is asked for. */
export const viewerAuthorizerContext = (grant: { tenant: string; userId?: string }): AuthorizerContext => ({
  tenant: grant.tenant,
  scopes: 'events:read',
  sub: '',
  clientId: '',
  viewer: 'true',
  viewerUser: grant.userId ?? '',
});

export const authorizerContext = (principal: Principal, clientId: string | undefined): AuthorizerContext => ({
  tenant: principal.tenant,
  scopes: [...principal.scopes].join(' '),
  sub: principal.subject ?? '',
  clientId: clientId ?? '',
});

/** How the functions read the caller from the gateway's authorizer output. */
export interface ContextSettings {
  /** Claim holding the tenant in a Cognito authorizer's `claims`. */
  readonly tenantClaim: string;
  /** Stripped from each Cognito scope (`activity-tracker/events:read` → `events:read`). */
  readonly scopePrefix: string;
}

/**
 * The caller as API Gateway's authorizer established it: a Cognito authorizer's `claims` (every
 * value a string; the gateway verified signature, issuer, expiry and access-token use), or a Lambda
 * authorizer's context (./authorizerContext). No authorizer output means no verified caller: 401,
 * so a route deployed without an authorizer fails closed.
 */
export const principalFromAuthorizer = (authorizer: unknown, settings: ContextSettings): Principal => {
  if (typeof authorizer !== 'object' || authorizer === null) throw new UnauthorizedError();
  const output = authorizer as Record<string, unknown>;
  if (typeof output.claims === 'object' && output.claims !== null) {
    return principalFromClaims(output.claims as Record<string, unknown>, {
      ...settings,
      scopeClaim: 'scope',
      scopeFormat: 'space-separated',
    });
  }
  const tenant = output.tenant;
  if (typeof tenant !== 'string' || !TENANT_PATTERN.test(tenant)) throw new UnauthorizedError('the token carries no valid tenant claim');
  const scopes = new Set(typeof output.scopes === 'string' ? output.scopes.split(' ').filter(Boolean) : []);
  // API Gateway passes context values as strings; `true` too, to be safe on either side.
  if (output.viewer === 'true' || output.viewer === true) {
    const user = typeof output.viewerUser === 'string' && output.viewerUser !== '' ? output.viewerUser : undefined;
    return { tenant, scopes: new Set(['events:read']), viewer: user === undefined ? {} : { userId: user } };
  }
  return {
    tenant,
    scopes,
    ...(typeof output.sub === 'string' && output.sub !== '' && { subject: output.sub }),
    ...(typeof output.clientId === 'string' && output.clientId !== '' && { clientId: output.clientId }),
  };
};
