import { JwtVerifier } from 'aws-jwt-verify';
import { FetchError, JwksNotAvailableInCacheError, JwksValidationError, NonRetryableFetchError } from 'aws-jwt-verify/error';
import type { Fetcher } from 'aws-jwt-verify/https';
import { SimpleJwksCache } from 'aws-jwt-verify/jwk';
import type { Scope } from '../../contract';
import { bearerToken, checkVerifiedToken, principalFromClaims, requireScope, type AuthSettings, type Principal } from '../core/auth';
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

export type Authenticate = (headers: Readonly<Record<string, string | undefined>> | null, scope: Scope) => Promise<Principal>;

/**
 * Builds the authenticator once per cold start: the verifier and its JWKS cache live as long as
 * the execution environment; an unknown `kid` makes aws-jwt-verify refetch the JWKS (rate-limited
 * by its penalty box). A JWKS that cannot be fetched answers 503, never an acceptance.
 */
export const createAuthenticator = (config: AuthConfig, fetcher: Fetcher = new JwksFetcher()): Authenticate => {
  const settings: AuthSettings = {
    tenantClaim: config.tenantClaim,
    scopePrefix: config.scopePrefix,
    scopeClaim: config.scopeClaim,
    scopeFormat: config.scopeFormat,
    maxTokenLifetimeSeconds: config.maxTokenLifetimeSeconds,
    ...(config.tokenUse !== undefined && { tokenUse: config.tokenUse }),
  };
  const verifier = JwtVerifier.create(
    {
      issuer: config.issuer,
      audience: config.audience.length > 0 ? config.audience : null,
      jwksUri: config.jwksUri,
      graceSeconds: config.clockSkewSeconds,
      customJwtCheck: ({ header, payload }) => checkVerifiedToken(header, payload, settings, Date.now() / 1000),
    },
    { jwksCache: new SimpleJwksCache({ fetcher }) },
  );

  return async (headers, scope) => {
    const token = bearerToken(headers);
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
    const principal = principalFromClaims(payload, settings);
    requireScope(principal, scope);
    return principal;
  };
};
