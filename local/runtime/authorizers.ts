/**
 * API Gateway's authorizers, run from the template before a route's function: a method with
 * COGNITO_USER_POOLS or CUSTOM authorization is refused (401 / 403 / 5xx, through the template's
 * GatewayResponses) unless its authorizer lets the request through, and the function then finds
 * the authorizer's output in `requestContext.authorizer`, as in the cloud.
 *
 * - COGNITO_USER_POOLS: the local issuer stands in for every user pool of the template. The token
 *   must carry its signature (RS256, its key id), its `iss`, an `exp` in the future (and `nbf`, if
 *   any, in the past); a method with AuthorizationScopes needs an access token (`token_use`
 *   `access`) holding one of them, a method without needs an ID token. The claims reach the
 *   function as strings in `claims`.
 * - TOKEN / REQUEST (Lambda authorizers): the function is invoked with API Gateway's event; its
 *   answer is cached per identity source for AuthorizerResultTtlInSeconds, and its policy is
 *   evaluated against the method ARN (an explicit Deny wins; no Allow is 403). `Unauthorized`
 *   thrown by the function is 401; any other failure is AUTHORIZER_CONFIGURATION_ERROR (500).
 */
import { createPublicKey, verify } from 'node:crypto';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import type { FunctionPool } from '../function-runner';
import type { PublicJwk } from '../issuer';
import type { AuthorizerModel, RouteModel } from '../template/model';

/** Why the gateway refuses: the response type it renders and API Gateway's own message. */
export interface AuthorizerRefusal {
  readonly responseType: 'UNAUTHORIZED' | 'ACCESS_DENIED' | 'AUTHORIZER_CONFIGURATION_ERROR';
  readonly status: number;
  readonly message: string;
}

export type AuthorizerOutcome =
  | { readonly ok: true; readonly authorizer: Record<string, unknown> | null }
  | ({ readonly ok: false } & AuthorizerRefusal);

export interface AuthorizersOptions {
  readonly authorizers: readonly AuthorizerModel[];
  readonly poolOf: (functionLogicalId: string) => FunctionPool;
  /** The local issuer: its `iss` and signing key. */
  readonly issuer: { readonly url: string; readonly jwk: PublicJwk };
  readonly region: string;
  readonly accountId: string;
  readonly apiId: string;
  /** The stack's clock (ms): tokens expire by it, like the functions' `Date`. */
  readonly now: () => number;
  readonly log: (line: string) => void;
}

const UNAUTHORIZED: AuthorizerRefusal = { responseType: 'UNAUTHORIZED', status: 401, message: 'Unauthorized' };
const DENIED: AuthorizerRefusal = {
  responseType: 'ACCESS_DENIED',
  status: 403,
  message: 'User is not authorized to access this resource',
};
const CONFIGURATION_ERROR: AuthorizerRefusal = {
  responseType: 'AUTHORIZER_CONFIGURATION_ERROR',
  status: 500,
  message: 'Internal server error',
};
const refuse = (refusal: AuthorizerRefusal): AuthorizerOutcome => ({ ok: false, ...refusal });

/** `method.request.header.NAME` / `method.request.querystring.NAME` of an event; undefined when absent or empty. */
const identityValue = (source: string, event: APIGatewayProxyEvent): string | undefined => {
  const header = /^method\.request\.header\.(.+)$/i.exec(source);
  if (header) {
    const wanted = header[1]!.toLowerCase();
    const found = Object.entries(event.headers ?? {}).find(([name]) => name.toLowerCase() === wanted)?.[1];
    return found ? found : undefined;
  }
  const query = /^method\.request\.querystring\.(.+)$/i.exec(source);
  if (query) return event.queryStringParameters?.[query[1]!] || undefined;
  return undefined;
};

const decodePart = (part: string): Record<string, unknown> | undefined => {
  try {
    const value: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
};

/** `arn:aws:execute-api:*` patterns of a policy statement, `*` and `?` as wildcards. */
const arnMatches = (pattern: string, arn: string): boolean =>
  new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
  ).test(arn);

type Statement = { Effect?: unknown; Action?: unknown; Resource?: unknown };

/** Allow or Deny of an authorizer's policy for one method ARN; undefined when it is not a policy. */
const evaluatePolicy = (policy: unknown, methodArn: string): 'allow' | 'deny' | undefined => {
  if (typeof policy !== 'object' || policy === null) return undefined;
  const raw = (policy as { Statement?: unknown }).Statement;
  const statements = (Array.isArray(raw) ? raw : [raw]).filter((s): s is Statement => typeof s === 'object' && s !== null);
  if (statements.length === 0) return undefined;
  let allowed = false;
  for (const s of statements) {
    const actions = [s.Action].flat().filter((a): a is string => typeof a === 'string');
    const resources = [s.Resource].flat().filter((r): r is string => typeof r === 'string');
    const applies =
      actions.some((a) => a === '*' || a === 'execute-api:*' || a === 'execute-api:Invoke') &&
      resources.some((r) => arnMatches(r, methodArn));
    if (!applies) continue;
    if (s.Effect === 'Deny') return 'deny';
    if (s.Effect === 'Allow') allowed = true;
  }
  return allowed ? 'allow' : 'deny';
};

/** A Lambda authorizer's context: only strings, numbers and booleans reach the function. */
const contextOf = (answer: Record<string, unknown>): Record<string, unknown> => {
  const out: Record<string, unknown> = { principalId: answer.principalId };
  const context = answer.context;
  if (typeof context === 'object' && context !== null) {
    for (const [key, value] of Object.entries(context)) {
      if (['string', 'number', 'boolean'].includes(typeof value)) out[key] = value;
    }
  }
  return out;
};

/** Runs each route's authorizer; one instance per API server (it holds the result caches). */
export const createAuthorizers = (opts: AuthorizersOptions) => {
  const byId = new Map(opts.authorizers.map((a) => [a.logicalId, a]));
  const publicKey = createPublicKey({ key: { ...opts.issuer.jwk }, format: 'jwk' });
  const cache = new Map<string, { readonly expires: number; readonly value: unknown }>();
  const cached = (key: string): unknown => {
    const hit = cache.get(key);
    if (hit && hit.expires > Date.now()) return hit.value;
    cache.delete(key);
    return undefined;
  };
  const remember = (key: string, ttlSeconds: number, value: unknown) => {
    if (ttlSeconds > 0) cache.set(key, { expires: Date.now() + ttlSeconds * 1000, value });
  };

  /** The verified claims of a token of the local issuer, or undefined. */
  const verifyCognito = (identity: string): Record<string, unknown> | undefined => {
    const token = identity.replace(/^bearer\s+/i, '').trim();
    const parts = token.split('.');
    if (parts.length !== 3) return undefined;
    const [h, p, s] = parts as [string, string, string];
    const header = decodePart(h);
    const payload = decodePart(p);
    if (!header || !payload || header.alg !== opts.issuer.jwk.alg || header.kid !== opts.issuer.jwk.kid) return undefined;
    if (!verify('sha256', Buffer.from(`${h}.${p}`), publicKey, Buffer.from(s, 'base64url'))) return undefined;
    const nowSeconds = opts.now() / 1000;
    if (payload.iss !== opts.issuer.url || typeof payload.exp !== 'number' || payload.exp <= nowSeconds) return undefined;
    if (payload.nbf !== undefined && (typeof payload.nbf !== 'number' || payload.nbf > nowSeconds)) return undefined;
    return payload;
  };

  const cognito = (authorizer: AuthorizerModel, route: RouteModel, identity: string): AuthorizerOutcome => {
    const key = `${authorizer.logicalId}\n${identity}`;
    let claims = cached(key) as Record<string, unknown> | undefined;
    // A cached answer is reused within its TTL, but never past the token's own expiry.
    if (!claims || (claims.exp as number) <= opts.now() / 1000) {
      claims = verifyCognito(identity);
      if (!claims) return refuse(UNAUTHORIZED);
      remember(key, authorizer.ttlSeconds, claims);
    }
    if (route.authorizationScopes.length > 0) {
      const scopes = typeof claims.scope === 'string' ? claims.scope.split(' ') : [];
      if (claims.token_use !== 'access' || !route.authorizationScopes.some((scope) => scopes.includes(scope))) return refuse(UNAUTHORIZED);
    } else if (claims.token_use !== 'id') return refuse(UNAUTHORIZED);
    const strings = Object.fromEntries(
      Object.entries(claims).map(([name, value]) => [name, typeof value === 'string' ? value : JSON.stringify(value)]),
    );
    return { ok: true, authorizer: { claims: strings } };
  };

  const lambda = async (authorizer: AuthorizerModel, event: APIGatewayProxyEvent, identities: string[]): Promise<AuthorizerOutcome> => {
    const { stage, httpMethod, resourcePath } = event.requestContext;
    const methodArn = `arn:aws:execute-api:${opts.region}:${opts.accountId}:${opts.apiId}/${stage}/${httpMethod}${event.path}`;
    const key = `${authorizer.logicalId}\n${identities.join('\n')}`;
    let answer = cached(key) as Record<string, unknown> | undefined;
    if (!answer) {
      if (!authorizer.functionLogicalId) return refuse(CONFIGURATION_ERROR);
      const authEvent =
        authorizer.type === 'TOKEN'
          ? { type: 'TOKEN', authorizationToken: identities[0], methodArn }
          : {
              type: 'REQUEST',
              methodArn,
              resource: resourcePath,
              path: event.path,
              httpMethod,
              headers: event.headers,
              multiValueHeaders: event.multiValueHeaders,
              queryStringParameters: event.queryStringParameters,
              multiValueQueryStringParameters: event.multiValueQueryStringParameters,
              pathParameters: event.pathParameters,
              stageVariables: event.stageVariables,
              requestContext: event.requestContext,
            };
      const result = await opts.poolOf(authorizer.functionLogicalId).invoke(authEvent);
      if (!result.ok) {
        if (result.error.errorMessage === 'Unauthorized') return refuse(UNAUTHORIZED);
        opts.log(`authorizer ${authorizer.functionLogicalId} failed: ${result.error.errorType}: ${result.error.errorMessage}`);
        return refuse(CONFIGURATION_ERROR);
      }
      if (
        typeof result.payload !== 'object' ||
        result.payload === null ||
        evaluatePolicy((result.payload as Record<string, unknown>).policyDocument, methodArn) === undefined
      ) {
        opts.log(`authorizer ${authorizer.functionLogicalId} returned no policy`);
        return refuse(CONFIGURATION_ERROR);
      }
      answer = result.payload as Record<string, unknown>;
      remember(key, authorizer.ttlSeconds, answer);
    }
    // The cached policy is evaluated again for each method, as API Gateway does.
    if (evaluatePolicy(answer.policyDocument, methodArn) !== 'allow') return refuse(DENIED);
    return { ok: true, authorizer: contextOf(answer) };
  };

  /** What the gateway does for a route before its function: let through (with the authorizer output) or refuse. */
  return async (route: RouteModel, event: APIGatewayProxyEvent): Promise<AuthorizerOutcome> => {
    if (route.authorizationType === 'NONE') return { ok: true, authorizer: null };
    const authorizer = route.authorizerLogicalId ? byId.get(route.authorizerLogicalId) : undefined;
    if (!authorizer) return refuse(CONFIGURATION_ERROR);
    const identities = authorizer.identitySource.map((source) => identityValue(source, event));
    // A missing identity source is refused before any authorizer runs.
    if (identities.length === 0 || identities.some((v) => v === undefined)) {
      if (authorizer.type !== 'REQUEST' || authorizer.ttlSeconds > 0) return refuse(UNAUTHORIZED);
    }
    const present = identities.filter((v): v is string => v !== undefined);
    if (authorizer.type === 'COGNITO_USER_POOLS') return cognito(authorizer, route, present[0] ?? '');
    if (authorizer.type === 'TOKEN' && authorizer.identityValidationExpression) {
      if (!new RegExp(authorizer.identityValidationExpression).test(present[0] ?? '')) return refuse(UNAUTHORIZED);
    }
    return lambda(authorizer, event, present);
  };
};
