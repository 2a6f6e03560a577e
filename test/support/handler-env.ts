import type { APIGatewayProxyEvent, Context } from 'aws-lambda';
import { ENV } from '../../contract';
import { ForbiddenError, UnauthorizedError } from '../../lambdas/core/errors';

/**
 * The handler modules wire their real adapters at import, so handler tests give them a complete
 * configuration first (and pass fakes to the exported factories). Call before requiring a handler.
 */
export const HANDLER_TEST_ENV: Readonly<Record<string, string>> = {
  AWS_REGION: 'us-east-1',
  [ENV.queueUrl.name]: 'http://127.0.0.1:1/queue',
  [ENV.tableName.name]: 'events',
  [ENV.queueVisibilityTimeoutSeconds.name]: '181',
  [ENV.keysSecretArn.name]: 'arn:aws:secretsmanager:us-east-1:000000000000:secret:keys',
  [ENV.authIssuer.name]: 'https://issuer.test',
  [ENV.authAudience.name]: 'aud',
  [ENV.authJwksUri.name]: 'https://issuer.test/jwks.json',
  [ENV.shardCount.name]: '2',
  [ENV.retentionDays.name]: '30',
  [ENV.deleteGraceDays.name]: '30',
};

export const configureHandlerEnv = (overrides: Record<string, string | undefined> = {}): void => {
  Object.assign(process.env, HANDLER_TEST_ENV);
  for (const [name, value] of Object.entries(overrides)) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
};

/** A Lambda context good enough for handlers under test. */
export const lambdaContext = (awsRequestId = 'req-1'): Context =>
  ({ awsRequestId, functionName: 'fn', getRemainingTimeInMillis: () => 30_000 }) as unknown as Context;

/** A fake authenticator: the token text names tenant and scopes, e.g. "acme events:read". */
export const fakeAuthenticate = async (event: { headers: Record<string, string | undefined> | null }, scope: string) => {
  const token = event.headers?.authorization?.replace('Bearer ', '');
  if (!token) throw new UnauthorizedError();
  const [tenant, ...scopes] = token.split(' ');
  if (!scopes.includes(scope)) throw new ForbiddenError(`needs ${scope}`);
  return { tenant: tenant as string, scopes: new Set(scopes) };
};

/** A REST API (v1) proxy event for GET /v1/events, with whatever the test overrides. */
export const proxyEvent = (over: Partial<APIGatewayProxyEvent>): APIGatewayProxyEvent =>
  ({
    httpMethod: 'GET',
    resource: '/v1/events',
    path: '/v1/events',
    headers: {},
    multiValueHeaders: {},
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    pathParameters: null,
    body: null,
    isBase64Encoded: false,
    requestContext: { requestId: 'r1', identity: { sourceIp: '198.51.100.1', userAgent: 'jest' } },
    ...over,
  }) as APIGatewayProxyEvent;
