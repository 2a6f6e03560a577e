import { JwtVerifier } from 'aws-jwt-verify';
import { FetchError, JwksNotAvailableInCacheError, JwksValidationError, NonRetryableFetchError } from 'aws-jwt-verify/error';
import type { Fetcher } from 'aws-jwt-verify/https';
import { SimpleJwksCache, type JwkWithKid, type Jwks, type JwksCache } from 'aws-jwt-verify/jwk';
import type { DecomposedJwt } from 'aws-jwt-verify/jwt';
import { bearerToken, checkVerifiedToken, principalFromClaims, type AuthSettings, type Principal } from '../core/auth';
import { ServiceUnavailableError, UnauthorizedError } from '../core/errors';
import type { AuthConfig } from '../shared/config';

/**
 * Fetches the JWKS with the platform's fetch, bounded in time. aws-jwt-verify's own fetcher only
 * speaks https; this one also reaches the local issuer on http://127.0.0.1 (configuration allows
 * plain http on loopback only), so local mode runs the very same verification code path.
 */
export class JwksFetcher implements Fetcher {
  constructor(private readonly timeoutMs = 3000) {}

  async fetch(uri: string): Promise<ArrayBuffer> {
    let response: Response;
    try {
      response = await fetch(uri, { signal: AbortSignal.timeout(this.timeoutMs), redirect: 'error' });
    } catch (error) {
      throw new FetchError(uri, (error as Error).message);
    }
    if (response.status !== 200) throw new NonRetryableFetchError(uri, `Status code is ${response.status}, expected 200`);
    return response.arrayBuffer();
  }
}

/**
 * aws-jwt-verify's cache keeps a JWKS for the life of the execution environment, so a key the
 * issuer removed (rotated out, or revoked after a leak) would stay trusted in warm containers.
 * This one starts over once its keys are older than `maxAgeMs`: the next token refetches the
 * JWKS, and if the issuer cannot be reached then, verification answers 503 (it fails closed).
 */
export class ExpiringJwksCache implements JwksCache {
  private inner: SimpleJwksCache;
  private startedAt: number;

  constructor(
    private readonly fetcher: Fetcher,
    private readonly maxAgeMs: number,
    private readonly now: () => number = () => Date.now(),
  ) {
    this.inner = new SimpleJwksCache({ fetcher });
    this.startedAt = now();
  }

  private current(): SimpleJwksCache {
    if (this.now() - this.startedAt >= this.maxAgeMs) {
      this.inner = new SimpleJwksCache({ fetcher: this.fetcher });
      this.startedAt = this.now();
    }
    return this.inner;
  }

  getJwk(jwksUri: string, decomposedJwt: DecomposedJwt): Promise<JwkWithKid> {
    return this.current().getJwk(jwksUri, decomposedJwt);
  }

  getCachedJwk(jwksUri: string, decomposedJwt: DecomposedJwt): JwkWithKid {
    return this.current().getCachedJwk(jwksUri, decomposedJwt);
  }

  addJwks(jwksUri: string, jwks: Jwks): void {
    this.current().addJwks(jwksUri, jwks);
  }

  getJwks(jwksUri: string): Promise<Jwks> {
    return this.current().getJwks(jwksUri);
  }
}

/** A verified caller, and the OAuth client its token was issued to (`client_id`, or `azp`), if named. */
export interface VerifiedToken {
  readonly principal: Principal;
  readonly clientId?: string;
}

/** Verifies the value of an Authorization header (`Bearer <JWT>`); throws 401 or 503, never accepts a bad token. */
export type VerifyToken = (authorization: string | undefined) => Promise<VerifiedToken>;

/**
 * Builds the verifier once per cold start (the OIDC Lambda authorizer): the verifier and its JWKS
 * cache live as long as the execution environment; an unknown `kid` makes aws-jwt-verify refetch
 * the JWKS (rate-limited by its penalty box). A JWKS that cannot be fetched is a
 * ServiceUnavailableError, never an acceptance. Scopes are not checked here: the token's scopes
 * go to the function, which checks the route's (the gateway caches one answer per token).
 */
export const createTokenVerifier = (config: AuthConfig, fetcher: Fetcher = new JwksFetcher()): VerifyToken => {
  const settings: AuthSettings = {
    tenantClaim: config.tenantClaim,
    scopePrefix: config.scopePrefix,
    scopeClaim: config.scopeClaim,
    scopeFormat: config.scopeFormat,
    maxTokenLifetimeSeconds: config.maxTokenLifetimeSeconds,
    clockSkewSeconds: config.clockSkewSeconds,
    accessToken: config.accessTokenRule,
  };
  const verifier = JwtVerifier.create(
    {
      issuer: config.issuer,
      audience: config.audience.length > 0 ? config.audience : null,
      jwksUri: config.jwksUri,
      graceSeconds: config.clockSkewSeconds,
      // Cognito mode: the token needs one of the API's scopes, as the Cognito authorizer asks.
      ...(config.requiredScopes.length > 0 && { scope: [...config.requiredScopes] }),
      customJwtCheck: ({ header, payload }) => checkVerifiedToken(header, payload, settings, Date.now() / 1000),
    },
    { jwksCache: new ExpiringJwksCache(fetcher, config.jwksMaxAgeSeconds * 1000) },
  );

  return async (authorization) => {
    const token = bearerToken({ authorization });
    let payload: Record<string, unknown>;
    try {
      payload = (await verifier.verify(token)) as Record<string, unknown>;
    } catch (error) {
      // The issuer's keys could not be had (down, or not a JWKS): nothing can be verified.
      if (error instanceof FetchError || error instanceof JwksNotAvailableInCacheError || error instanceof JwksValidationError) {
        throw new ServiceUnavailableError('auth_unavailable', 'token keys are unavailable; retry shortly', { cause: error });
      }
      throw new UnauthorizedError();
    }
    const client = typeof payload.client_id === 'string' ? payload.client_id : typeof payload.azp === 'string' ? payload.azp : undefined;
    return { principal: principalFromClaims(payload, settings), ...(client !== undefined && { clientId: client }) };
  };
};
