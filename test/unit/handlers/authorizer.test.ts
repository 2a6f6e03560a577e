import type { APIGatewayTokenAuthorizerEvent } from 'aws-lambda';
import { ServiceUnavailableError, UnauthorizedError } from '../../../lambdas/core/errors';
import { callerFromAuthorizer } from '../../../lambdas/shared/http-handler';
import { createTokenVerifier, type VerifyToken } from '../../../lambdas/adapters/jwt-authenticator';
import { mintViewerToken } from '../../../lambdas/core/viewer-token';
import type { AuthConfig } from '../../../lambdas/shared/config';
import { testKeyring } from '../../support/fakes';
import { configureHandlerEnv, lambdaContext } from '../../support/handler-env';
import { rsaKeys, signJwt } from '../../support/jwt';

configureHandlerEnv({ POWERTOOLS_LOG_LEVEL: 'SILENT', POWERTOOLS_DEV: 'true' });
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { createAuthorizerHandler } =
  require('../../../lambdas/handlers/authorizer') as typeof import('../../../lambdas/handlers/authorizer');

const METHOD_ARN = 'arn:aws:execute-api:eu-west-1:123456789012:abc123/prod/GET/v1/events/xyz';
const event = (authorizationToken: string): APIGatewayTokenAuthorizerEvent => ({
  type: 'TOKEN',
  authorizationToken,
  methodArn: METHOD_ARN,
});
const handlerWith = (verify: VerifyToken) => {
  const fn = createAuthorizerHandler({ verify });
  return (e: APIGatewayTokenAuthorizerEvent) => fn(e, lambdaContext());
};

describe('OIDC token authorizer', () => {
  it('allows the whole stage for a valid token and passes tenant, scopes, subject and client in the context', async () => {
    const handler = handlerWith(async () => ({
      principal: { tenant: 'acme', subject: 'svc-1', scopes: new Set(['events:read', 'events:write']) },
      clientId: 'client-9',
    }));
    const out = await handler(event('Bearer a.b.c'));
    expect(out).toEqual({
      principalId: 'svc-1',
      policyDocument: {
        Version: '2012-10-17',
        Statement: [
          { Action: 'execute-api:Invoke', Effect: 'Allow', Resource: 'arn:aws:execute-api:eu-west-1:123456789012:abc123/prod/*' },
        ],
      },
      context: { tenant: 'acme', scopes: 'events:read events:write', sub: 'svc-1', clientId: 'client-9' },
    });
  });

  it("throws exactly 'Unauthorized' (API Gateway's 401) for a token the verifier refuses", async () => {
    const handler = handlerWith(async () => {
      throw new UnauthorizedError();
    });
    await expect(handler(event('Bearer forged.token.here'))).rejects.toThrow(/^Unauthorized$/);
  });

  it('fails (a gateway 5xx, never an Allow) when the issuer keys are unavailable', async () => {
    const handler = handlerWith(async () => {
      throw new ServiceUnavailableError('auth_unavailable', 'down');
    });
    const failure = handler(event('Bearer a.b.c'));
    await expect(failure).rejects.toThrow('token keys unavailable');
    await expect(failure).rejects.not.toThrow(/^Unauthorized$/);
  });
});

/**
 * Cognito mode: the token authorizer of the viewer's read routes, with the settings the stack gives
 * it (the pool's issuer and JWKS, token_use access, one of the resource server's scopes), verifying
 * real RS256 tokens against a local JWKS, and viewer tokens with the stack's keys.
 */
describe('Cognito mode: the token authorizer of the viewer reads', () => {
  const POOL = 'https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Pool1';
  const cognitoConfig: AuthConfig = {
    issuer: POOL,
    audience: [],
    jwksUri: `${POOL}/.well-known/jwks.json`,
    tenantClaim: 'tenant_id',
    scopePrefix: 'activity-tracker/',
    scopeClaim: 'scope',
    scopeFormat: 'space-separated',
    maxTokenLifetimeSeconds: 86_400,
    clockSkewSeconds: 60,
    accessTokenRule: { kind: 'claim', claim: 'token_use', value: 'access' },
    jwksMaxAgeSeconds: 900,
    requiredScopes: ['events:write', 'events:read', 'events:delete', 'events:erase', 'events:export'].map((s) => `activity-tracker/${s}`),
  };
  const pool = rsaKeys('pool-key');
  const stranger = rsaKeys('pool-key');
  const jwks = { keys: [pool.publicJwk] };
  const fetched: string[] = [];
  const fetcher = {
    fetch: async (uri: string) => {
      fetched.push(uri);
      return new TextEncoder().encode(JSON.stringify(jwks)).buffer as ArrayBuffer;
    },
  };
  const keyring = testKeyring();
  const nowS = () => Math.floor(Date.now() / 1000);
  // What Cognito writes into a client-credentials access token (no aud, no typ header).
  const accessToken = (extra: Record<string, unknown> = {}, keys = pool) =>
    signJwt(
      keys,
      {
        iss: POOL,
        sub: 'client-1',
        client_id: 'client-1',
        token_use: 'access',
        scope: 'activity-tracker/events:read activity-tracker/events:write',
        tenant_id: 'acme',
        iat: nowS(),
        exp: nowS() + 3600,
        ...extra,
      },
      { typ: undefined },
    );
  const handler = (() => {
    const fn = createAuthorizerHandler({ verify: createTokenVerifier(cognitoConfig, fetcher), keyring: async () => keyring });
    return (token: string) => fn(event(`Bearer ${token}`), lambdaContext());
  })();

  it("allows a pool access token holding one of the API's scopes, with its scopes unprefixed in the context", async () => {
    const out = await handler(accessToken());
    expect(out.context).toEqual({ tenant: 'acme', scopes: 'events:read events:write', sub: 'client-1', clientId: 'client-1' });
    expect(out.policyDocument.Statement[0]).toMatchObject({ Effect: 'Allow' });
    expect(fetched).toContain(`${POOL}/.well-known/jwks.json`);
  });

  it.each([
    ['an ID token of the pool', () => accessToken({ token_use: 'id' })],
    ["a token holding none of the API's scopes", () => accessToken({ scope: 'other-api/events:read' })],
    ['a token with no scope at all', () => accessToken({ scope: undefined })],
    ['a token of another pool', () => accessToken({ iss: 'https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Other' })],
    ['a token signed with another key under the same kid', () => accessToken({}, stranger)],
    ['an expired token', () => accessToken({ iat: nowS() - 7200, exp: nowS() - 3600 })],
    ['a token with no tenant claim', () => accessToken({ tenant_id: undefined })],
    [
      'alg none',
      () =>
        signJwt(
          pool,
          { iss: POOL, token_use: 'access', scope: 'activity-tracker/events:read', tenant_id: 'acme', exp: nowS() + 60 },
          { alg: 'none', typ: undefined },
        ),
    ],
    [
      'HS256 keyed with the public key',
      () =>
        signJwt(
          pool,
          { iss: POOL, token_use: 'access', scope: 'activity-tracker/events:read', tenant_id: 'acme', exp: nowS() + 60 },
          { alg: 'HS256', typ: undefined },
        ),
    ],
  ])("refuses %s with exactly 'Unauthorized'", async (_name, token) => {
    await expect(handler(token())).rejects.toThrow(/^Unauthorized$/);
  });

  it('allows a viewer token: read scope and the viewer flag only, bound to its user', async () => {
    const viewer = mintViewerToken(keyring, { tenant: 'acme', userId: 'u-1', exp: nowS() + 600 }, nowS());
    await expect(handler(viewer)).resolves.toMatchObject({
      principalId: 'viewer:acme',
      context: { tenant: 'acme', scopes: 'events:read', viewer: 'true', viewerUser: 'u-1' },
    });
  });

  it('refuses a viewer token edited after minting, or signed with other keys', async () => {
    const viewer = mintViewerToken(keyring, { tenant: 'acme', userId: 'u-1', exp: nowS() + 600 }, nowS());
    const [h, p, sig] = viewer.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(p, 'base64url').toString('utf8'));
    const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
    for (const edited of [
      { ...claims, tenant: 'globex' },
      { ...claims, usr: undefined },
      { ...claims, exp: claims.exp + 86_400 },
    ]) {
      await expect(handler(`${h}.${b64(edited)}.${sig}`)).rejects.toThrow(/^Unauthorized$/);
    }
    const otherKeys = testKeyring(JSON.stringify({ current: '1', k1: `${'c'.repeat(40)}another-stack` }));
    await expect(handler(mintViewerToken(otherKeys, { tenant: 'acme', exp: nowS() + 600 }, nowS()))).rejects.toThrow(/^Unauthorized$/);
  });
});

describe('the functions read the caller from the authorizer output', () => {
  const caller = callerFromAuthorizer({ tenantClaim: 'tenant_id', scopePrefix: 'activity-tracker/' });
  const withAuthorizer = (authorizer: unknown) => ({ headers: {}, requestContext: { authorizer } }) as never;

  it('takes tenant, subject and unprefixed scopes from Cognito claims (all strings)', async () => {
    const claims = { tenant_id: 'acme', sub: 'c1', scope: 'activity-tracker/events:read other/events:write', exp: '1900000000' };
    await expect(caller(withAuthorizer({ claims }), 'events:read')).resolves.toEqual({
      tenant: 'acme',
      subject: 'c1',
      scopes: new Set(['events:read']),
    });
    // Another resource server's scope grants nothing here.
    await expect(caller(withAuthorizer({ claims }), 'events:write')).rejects.toMatchObject({
      status: 403,
      message: "this route needs the scope 'events:write'",
    });
  });

  it("takes them from a Lambda authorizer's context", async () => {
    const context = { principalId: 'svc', tenant: 'globex', scopes: 'events:erase', sub: 'svc', clientId: '' };
    await expect(caller(withAuthorizer(context), 'events:erase')).resolves.toMatchObject({ tenant: 'globex', subject: 'svc' });
  });

  it('answers 401 when no authorizer ran or the tenant is not a valid tenant id (fails closed)', async () => {
    for (const authorizer of [
      null,
      undefined,
      {},
      { claims: { scope: 'activity-tracker/events:read' } },
      { tenant: 'a#b', scopes: 'events:read' },
    ]) {
      await expect(caller(withAuthorizer(authorizer), 'events:read')).rejects.toMatchObject({ status: 401 });
    }
  });
});
