import { ENV, SCOPE_FORMATS } from '../../contract';
import type { ConfigKeySpec } from './key-spec';

/**
 * Configuration keys of authentication (lib/config-keys.ts combines every area's keys): the auth mode,
 * the issuer and its tokens, and how long their answers are trusted.
 */

/** The auth mode, the OIDC issuer, the tenant and scope claims, token lifetimes and caching. */
export const AUTH_KEYS = {
  authMode: {
    default: 'cognito',
    kind: 'string',
    values: ['cognito', 'oidc'],
    meaning:
      '`cognito`: the stack creates a Cognito user pool, resource server, domain and tenant-claim trigger; `oidc`: bring your own issuer',
  },
  issuer: {
    kind: 'string',
    authMode: 'oidc',
    required: true,
    allowed: 'an https URL',
    meaning: 'expected `iss` of accepted tokens',
  },
  audience: {
    kind: 'string',
    authMode: 'oidc',
    required: true,
    allowed: 'comma-separated list allowed',
    meaning: 'expected `aud` of accepted tokens (any of the list)',
  },
  jwksUri: {
    kind: 'string',
    authMode: 'oidc',
    required: true,
    allowed: 'an https URL',
    meaning: "the issuer's JWKS URL",
  },
  tenantClaim: {
    default: ENV.authTenantClaim.default,
    kind: 'string',
    allowed: '1..64 characters of `[A-Za-z0-9_:.-]`',
    meaning: 'token claim holding the tenant id; in Cognito mode not a claim Cognito sets itself (`sub`, `client_id`, `scope`, …)',
  },
  scopeClaim: {
    default: 'scope',
    kind: 'string',
    authMode: 'oidc',
    allowed: '1..64 characters of `[A-Za-z0-9_:.-]`',
    meaning: 'claim holding the scopes (e.g. `scp`)',
  },
  scopeFormat: {
    default: 'space-separated',
    kind: 'string',
    authMode: 'oidc',
    values: SCOPE_FORMATS,
    meaning: 'how the scope claim lists scopes; the `scope` claim itself must be a string (use `scopeClaim` for an array)',
  },
  accessTokenRule: {
    default: ENV.authAccessTokenRule.default,
    kind: 'string',
    authMode: 'oidc',
    allowed: '`typ` or `claim:NAME=VALUE`',
    meaning:
      "what tells an access token from an ID token of the same issuer: `typ` — the header's `typ` is `at+jwt` (RFC 9068); `claim:NAME=VALUE` — a claim has that value (e.g. `claim:token_type=access_token`). Cognito mode always uses `claim:token_use=access`",
  },
  jwksMaxAgeSeconds: {
    default: ENV.authJwksMaxAgeSeconds.default,
    kind: 'integer',
    min: ENV.authJwksMaxAgeSeconds.min,
    max: ENV.authJwksMaxAgeSeconds.max,
    meaning:
      "how long the issuer's signing keys are trusted before the JWKS is fetched again (a key removed at the issuer stops working within this time; OIDC mode: the token authorizer)",
  },
  authorizerCacheSeconds: {
    default: 60,
    kind: 'integer',
    min: 0,
    max: 3600,
    meaning:
      "how long API Gateway reuses its authorizer's answer for the same token (0: verify every request); a cached answer can outlive the token's expiry by up to this time",
  },
  cognitoDomainPrefix: {
    defaultText: '`activity-tracker-<stage>-<account id>`',
    kind: 'string',
    authMode: 'cognito',
    allowed: '1..63 lower-case letters, digits or `-`, not starting or ending with `-`, without `aws`, `amazon` or `cognito`',
    meaning:
      "prefix of the pool's domain (`https://<prefix>.auth.<region>.amazoncognito.com`, which serves `/oauth2/token`), unique per region",
  },
  maxTokenLifetimeSeconds: {
    default: 86_400,
    kind: 'integer',
    min: ENV.authMaxTokenLifetimeSeconds.min,
    max: ENV.authMaxTokenLifetimeSeconds.max,
    meaning: 'longest accepted token lifetime: both `exp - iat` and `exp - now` (OIDC mode: checked by the token authorizer)',
  },
  clockSkewSeconds: {
    default: 60,
    kind: 'integer',
    min: ENV.authClockSkewSeconds.min,
    max: ENV.authClockSkewSeconds.max,
    meaning: 'tolerance on `exp` and `nbf` (OIDC mode: the token authorizer)',
  },
} satisfies Record<string, ConfigKeySpec>;
