import type { APIGatewayProxyEvent } from 'aws-lambda';
import { generateKeyPairSync } from 'node:crypto';
import { createAuthorizers } from '../runtime/authorizers';
import { jwkThumbprint, signToken, type IssuerKeys } from '../issuer';
import type { FunctionPool } from '../function-runner';
import type { AuthorizerModel, RouteModel } from '../template/model';

const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const pub = publicKey.export({ format: 'jwk' }) as { n: string; e: string };
const keys: IssuerKeys = { privateKey, jwk: { kty: 'RSA', n: pub.n, e: pub.e, kid: jwkThumbprint(pub), alg: 'RS256', use: 'sig' } };
const ISSUER = 'http://127.0.0.1:3000/_local/issuer';

const route = (over: Partial<RouteModel>): RouteModel => ({
  apiLogicalId: 'Api',
  methodLogicalId: 'M',
  resourcePath: '/v1/events',
  httpMethod: 'GET',
  functionLogicalId: 'Fn',
  authorizationType: 'COGNITO_USER_POOLS',
  authorizerLogicalId: 'Auth',
  authorizationScopes: ['rs/events:read'],
  integrationTimeoutMs: 29_000,
  ...over,
});
const event = (headers: Record<string, string>, method = 'GET'): APIGatewayProxyEvent =>
  ({ path: '/v1/events', headers, requestContext: { stage: 'prod', httpMethod: method, resourcePath: '/v1/events' } }) as never;

const setup = (authorizer: Partial<AuthorizerModel>, answer?: (e: unknown) => unknown) => {
  const calls: unknown[] = [];
  const pool = {
    invoke: async (e: unknown) => {
      calls.push(e);
      try {
        return { ok: true, payload: answer?.(e) };
      } catch (error) {
        return { ok: false, error: { errorType: 'Error', errorMessage: (error as Error).message } };
      }
    },
  } as unknown as FunctionPool;
  const authorize = createAuthorizers({
    authorizers: [
      {
        logicalId: 'Auth',
        apiLogicalId: 'Api',
        type: 'COGNITO_USER_POOLS',
        identitySource: ['method.request.header.Authorization'],
        ttlSeconds: 300,
        ...authorizer,
      },
    ],
    poolOf: () => pool,
    issuer: { url: ISSUER, jwk: keys.jwk },
    region: 'us-east-1',
    accountId: '000000000000',
    apiId: 'local',
    now: () => Date.now(),
    log: () => {},
  });
  return { authorize, calls };
};
const token = (scope: string, claims: Record<string, unknown> = {}) => signToken(keys, { tenant: 'acme', scope, claims, port: 3000 });

describe('Cognito user pool authorizer (the local issuer stands in for the pool)', () => {
  const { authorize } = setup({});
  it('lets an access token with one of the method scopes through, with its claims as strings', async () => {
    const out = await authorize(route({}), event({ Authorization: `Bearer ${token('rs/events:read')}` }));
    expect(out).toMatchObject({ ok: true, authorizer: { claims: { tenant_id: 'acme', scope: 'rs/events:read', token_use: 'access' } } });
    expect(typeof (out as unknown as { authorizer: { claims: { exp: unknown } } }).authorizer.claims.exp).toBe('string');
  });
  it.each([
    ['no header', {}],
    ['a missing scope', { authorization: `Bearer ${token('rs/events:write')}` }],
    ['an ID token', { authorization: `Bearer ${token('rs/events:read', { token_use: 'id' })}` }],
    ['an expired token', { authorization: `Bearer ${token('rs/events:read', { exp: Math.floor(Date.now() / 1000) - 1 })}` }],
    ['another issuer', { authorization: `Bearer ${token('rs/events:read', { iss: 'https://evil.example' })}` }],
  ])('answers 401 (UNAUTHORIZED) for %s', async (_name, headers) => {
    expect(await authorize(route({}), event(headers))).toMatchObject({ ok: false, status: 401, responseType: 'UNAUTHORIZED' });
  });
});

describe('Lambda TOKEN authorizer', () => {
  const allow = (resource: string) => () => ({
    principalId: 'p',
    policyDocument: { Version: '2012-10-17', Statement: [{ Action: 'execute-api:Invoke', Effect: 'Allow', Resource: resource }] },
    context: { tenant: 'acme', nested: { dropped: true } },
  });
  const custom = { type: 'TOKEN' as const, functionLogicalId: 'AuthFn', identityValidationExpression: '^Bearer .+$' };
  const customRoute = route({ authorizationType: 'CUSTOM', authorizationScopes: [] });

  it('invokes the function once per token within the TTL and passes its context (scalars) and principalId', async () => {
    const { authorize, calls } = setup(custom, allow('arn:aws:execute-api:us-east-1:000000000000:local/prod/*'));
    for (let i = 0; i < 3; i++) {
      expect(await authorize(customRoute, event({ authorization: 'Bearer x.y.z' }))).toEqual({
        ok: true,
        authorizer: { principalId: 'p', tenant: 'acme' },
      });
    }
    expect(calls).toEqual([
      {
        type: 'TOKEN',
        authorizationToken: 'Bearer x.y.z',
        methodArn: 'arn:aws:execute-api:us-east-1:000000000000:local/prod/GET/v1/events',
      },
    ]);
  });

  it('answers 403 when the (cached) policy does not allow this method', async () => {
    const { authorize } = setup(custom, allow('arn:aws:execute-api:us-east-1:000000000000:local/prod/POST/*'));
    expect(await authorize(customRoute, event({ authorization: 'Bearer x.y.z' }, 'POST'))).toMatchObject({ ok: true });
    expect(await authorize(customRoute, event({ authorization: 'Bearer x.y.z' }, 'GET'))).toMatchObject({ ok: false, status: 403 });
  });

  it("answers 401 for 'Unauthorized', and without invoking for a token the validation expression refuses", async () => {
    const { authorize, calls } = setup(custom, () => {
      throw new Error('Unauthorized');
    });
    expect(await authorize(customRoute, event({ authorization: 'Basic abc' }))).toMatchObject({ ok: false, status: 401 });
    expect(calls).toHaveLength(0);
    expect(await authorize(customRoute, event({ authorization: 'Bearer x.y.z' }))).toMatchObject({ ok: false, status: 401 });
  });

  it('answers AUTHORIZER_CONFIGURATION_ERROR when the function fails otherwise, never letting the request through', async () => {
    const { authorize } = setup(custom, () => {
      throw new Error('token keys unavailable');
    });
    expect(await authorize(customRoute, event({ authorization: 'Bearer x.y.z' }))).toMatchObject({
      ok: false,
      status: 500,
      responseType: 'AUTHORIZER_CONFIGURATION_ERROR',
    });
  });
});
