import type { APIGatewayProxyEvent } from 'aws-lambda';
import { parseCorsOrigins } from '../../../contract';
import { corsHeaders, corsPolicy, preflightHeaders } from '../../../lambdas/core/cors';
import { ForbiddenError } from '../../../lambdas/core/errors';
import { readCorsPolicy } from '../../../lambdas/shared/config';
import { configureHandlerEnv, lambdaContext } from '../../support/handler-env';

configureHandlerEnv({ POWERTOOLS_LOG_LEVEL: 'SILENT', POWERTOOLS_DEV: 'true' });
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { httpHandler } = require('../../../lambdas/shared/http-handler') as typeof import('../../../lambdas/shared/http-handler');

const APP = 'https://app.example.com';
const policy = corsPolicy([APP, 'http://localhost:5173']);

describe('CORS origins', () => {
  it('accepts https origins and http on loopback, and drops duplicates', () => {
    expect(parseCorsOrigins(` ${APP}, http://localhost:5173,${APP}`)).toEqual([APP, 'http://localhost:5173']);
    expect(parseCorsOrigins('')).toEqual([]);
  });

  it.each([
    ['*', '*'],
    ['a path', `${APP}/`],
    ['plain http off loopback', 'http://app.example.com'],
    ['upper case (browsers send it lower case)', 'https://App.example.com'],
    ['a wildcard host', 'https://*.example.com'],
    ['no scheme', 'app.example.com'],
  ])('refuses %s, naming it', (_name, origin) => {
    expect(() => parseCorsOrigins(`${APP},${origin}`)).toThrow(`'${origin}' is not an origin`);
    expect(() => readCorsPolicy({ CORS_ALLOWED_ORIGINS: origin })).toThrow(/CORS_ALLOWED_ORIGINS/);
  });
});

describe('CORS headers', () => {
  it('echo an allowed origin, with Vary: Origin and no credentials', () => {
    expect(corsHeaders(policy, APP)).toEqual({
      'Access-Control-Allow-Origin': APP,
      'Access-Control-Expose-Headers': 'X-Request-Id, Retry-After, WWW-Authenticate',
      Vary: 'Origin',
    });
  });

  it('name no origin for another origin, or none, and add nothing when CORS is off', () => {
    expect(corsHeaders(policy, 'https://evil.example')).toEqual({ Vary: 'Origin' });
    expect(corsHeaders(policy, `${APP}.evil.example`)).toEqual({ Vary: 'Origin' });
    expect(corsHeaders(policy, undefined)).toEqual({ Vary: 'Origin' });
    expect(corsHeaders(corsPolicy([]), APP)).toEqual({});
  });

  it('answer a preflight from an allowed origin with GET, Authorization and a cache time', () => {
    expect(preflightHeaders(policy, APP)).toMatchObject({
      'Access-Control-Allow-Origin': APP,
      'Access-Control-Allow-Methods': 'GET',
      'Access-Control-Allow-Headers': 'Authorization, X-Request-Id',
      'Access-Control-Max-Age': '600',
    });
    expect(preflightHeaders(policy, 'https://evil.example')).toEqual({ Vary: 'Origin' });
  });
});

describe('the HTTP frame with a CORS policy', () => {
  const calls: string[] = [];
  const handler = httpHandler(async (event) => {
    calls.push(event.httpMethod);
    if (event.queryStringParameters?.fail) throw new ForbiddenError('no');
    return { statusCode: 200, body: '{}' };
  }, policy);
  const request = (httpMethod: string, origin?: string, query?: Record<string, string>) =>
    handler(
      {
        httpMethod,
        resource: '/v1/events',
        headers: origin ? { Origin: origin } : {},
        queryStringParameters: query ?? null,
        requestContext: { requestId: 'r-1' },
      } as unknown as APIGatewayProxyEvent,
      lambdaContext(),
    );

  it('answers a preflight itself (204), without running the route', async () => {
    const res = await request('OPTIONS', APP);
    expect(res.statusCode).toBe(204);
    expect(res.headers).toMatchObject({ 'Access-Control-Allow-Origin': APP, 'Access-Control-Allow-Methods': 'GET' });
    const refused = await request('OPTIONS', 'https://evil.example');
    expect(refused.statusCode).toBe(204);
    expect(refused.headers?.['Access-Control-Allow-Origin']).toBeUndefined();
    expect(calls).toEqual([]);
  });

  it('names the allowed origin on answers and errors alike', async () => {
    expect((await request('GET', APP)).headers).toMatchObject({ 'Access-Control-Allow-Origin': APP, Vary: 'Origin' });
    const error = await request('GET', APP, { fail: '1' });
    expect(error.statusCode).toBe(403);
    expect(error.headers).toMatchObject({ 'Access-Control-Allow-Origin': APP });
    expect((await request('GET', 'https://evil.example')).headers?.['Access-Control-Allow-Origin']).toBeUndefined();
  });
});
