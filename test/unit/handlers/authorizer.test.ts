import type { APIGatewayTokenAuthorizerEvent } from 'aws-lambda';
import { ServiceUnavailableError, UnauthorizedError } from '../../../lambdas/core/errors';
import { callerFromAuthorizer } from '../../../lambdas/shared/http-handler';
import type { VerifyToken } from '../../../lambdas/adapters/jwt-authenticator';
import { configureHandlerEnv, lambdaContext } from '../../support/handler-env';

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
