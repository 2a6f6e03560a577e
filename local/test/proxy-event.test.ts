import {
  MalformedProxyResponseError,
  Router,
  buildProxyEvent,
  errorAnswer,
  gatewayErrorAnswer,
  isBinaryMediaType,
  proxyResultToHttp,
  requestTime,
  type RouteMatch,
} from '../proxy-event';
import type { GatewayResponseModel, RouteModel } from '../template/model';

const route = (httpMethod: string, resourcePath: string, functionLogicalId = 'Fn'): RouteModel => ({
  apiLogicalId: 'Api',
  methodLogicalId: `${httpMethod}${resourcePath}`,
  resourcePath,
  httpMethod,
  functionLogicalId,
  authorizationType: 'NONE',
  authorizationScopes: [],
  integrationTimeoutMs: 29_000,
});

describe('Router', () => {
  const router = new Router([
    route('POST', '/v1/events', 'Ingest'),
    route('GET', '/v1/events', 'Query'),
    route('GET', '/v1/events/{id}', 'Query'),
    route('GET', '/v1/events/latest', 'Latest'),
    route('POST', '/v1/events/{id}/restore', 'Admin'),
    route('ANY', '/files/{proxy+}', 'Files'),
    route('GET', '/', 'Root'),
  ]);

  const found = (method: string, path: string) => {
    const r = router.lookup(method, path);
    if (r.kind !== 'found') throw new Error(`expected a route, got ${r.kind}`);
    return { fn: r.match.route.functionLogicalId, resource: r.match.route.resourcePath, params: r.match.pathParameters };
  };

  it('matches static paths and the method', () => {
    expect(found('POST', '/v1/events')).toEqual({ fn: 'Ingest', resource: '/v1/events', params: null });
    expect(found('GET', '/v1/events')).toEqual({ fn: 'Query', resource: '/v1/events', params: null });
    expect(found('GET', '/')).toEqual({ fn: 'Root', resource: '/', params: null });
  });

  it('binds path parameters as sent (API Gateway REST leaves them percent-encoded)', () => {
    expect(found('GET', '/v1/events/abc%2Bd')).toEqual({ fn: 'Query', resource: '/v1/events/{id}', params: { id: 'abc%2Bd' } });
    expect(found('POST', '/v1/events/x1/restore')).toEqual({ fn: 'Admin', resource: '/v1/events/{id}/restore', params: { id: 'x1' } });
  });

  it('prefers a static segment over a parameter', () => {
    expect(found('GET', '/v1/events/latest').fn).toBe('Latest');
  });

  it('matches greedy {proxy+} resources and ANY methods', () => {
    expect(found('DELETE', '/files/a/b/c.txt')).toEqual({ fn: 'Files', resource: '/files/{proxy+}', params: { proxy: 'a/b/c.txt' } });
  });

  it('tolerates one trailing slash', () => {
    expect(found('GET', '/v1/events/').fn).toBe('Query');
  });

  it('reports unknown paths and missing methods apart', () => {
    expect(router.lookup('GET', '/v2/events')).toEqual({ kind: 'not_found' });
    expect(router.lookup('GET', '/v1/events/a/b')).toEqual({ kind: 'not_found' });
    expect(router.lookup('GET', '/v1//events')).toEqual({ kind: 'not_found' });
    expect(router.lookup('DELETE', '/v1/events/x')).toEqual({
      kind: 'method_not_allowed',
      allowed: ['GET'],
      resourcePath: '/v1/events/{id}',
    });
  });
});

describe('buildProxyEvent', () => {
  const match: RouteMatch = { route: route('GET', '/v1/events/{id}', 'Query'), pathParameters: { id: 'e%201' } };
  const now = new Date('2026-11-21T10:00:00.000Z');
  const base = {
    match,
    stage: 'prod',
    requestId: 'req-1',
    apiId: 'local',
    accountId: '000000000000',
    binaryMediaTypes: [] as string[],
    now,
  };

  it('takes headers and parameters named like Object.prototype members as plain names', () => {
    const event = buildProxyEvent(
      {
        method: 'GET',
        url: '/v1/events/e1?toString=1&__proto__=2&constructor=3&constructor=4',
        rawHeaders: ['Host', '127.0.0.1:3000', 'constructor', 'x', '__proto__', 'y'],
        body: Buffer.alloc(0),
        sourceIp: '127.0.0.1',
        localPort: 3000,
      },
      base,
    );
    const roundTrip = JSON.parse(JSON.stringify(event));
    expect(roundTrip.queryStringParameters).toEqual({ toString: '1', ['__proto__']: '2', constructor: '4' });
    expect(Object.keys(roundTrip.multiValueQueryStringParameters).sort()).toEqual(['__proto__', 'constructor', 'toString']);
    expect(roundTrip.multiValueQueryStringParameters.constructor).toEqual(['3', '4']);
    expect(Object.keys(roundTrip.headers)).toEqual(expect.arrayContaining(['constructor', '__proto__']));
  });

  it('builds the REST (v1) proxy event', () => {
    const event = buildProxyEvent(
      {
        method: 'GET',
        url: '/v1/events/e%201?details.amount=12&tag=a&tag=b%20c&flag',
        rawHeaders: ['Host', '127.0.0.1:3000', 'User-Agent', 'curl/8', 'Authorization', 'Bearer t', 'X-Multi', '1', 'x-multi', '2'],
        body: Buffer.alloc(0),
        sourceIp: '127.0.0.1',
        localPort: 3000,
      },
      base,
    );
    expect(event).toMatchObject({
      resource: '/v1/events/{id}',
      path: '/v1/events/e%201',
      httpMethod: 'GET',
      queryStringParameters: { 'details.amount': '12', tag: 'b c', flag: '' },
      multiValueQueryStringParameters: { 'details.amount': ['12'], tag: ['a', 'b c'], flag: [''] },
      pathParameters: { id: 'e%201' },
      stageVariables: null,
      body: null,
      isBase64Encoded: false,
      requestContext: {
        requestId: 'req-1',
        resourcePath: '/v1/events/{id}',
        httpMethod: 'GET',
        path: '/prod/v1/events/e%201',
        stage: 'prod',
        accountId: '000000000000',
        requestTimeEpoch: now.getTime(),
        requestTime: '21/Nov/2026:10:00:00 +0000',
        domainName: '127.0.0.1:3000',
        identity: { sourceIp: '127.0.0.1', userAgent: 'curl/8' },
      },
    });
    expect(event.headers).toMatchObject({
      Host: '127.0.0.1:3000',
      Authorization: 'Bearer t',
      'X-Multi': '2',
      'X-Forwarded-For': '127.0.0.1',
    });
    expect(event.multiValueHeaders['X-Multi']).toEqual(['1', '2']);
  });

  it('passes a text body as a string and nulls absent query and path parameters', () => {
    const event = buildProxyEvent(
      {
        method: 'POST',
        url: '/v1/events',
        rawHeaders: ['Content-Type', 'application/json'],
        body: Buffer.from('{"é":1}'),
        sourceIp: '10.0.0.1',
        localPort: 3000,
      },
      { ...base, match: { route: route('POST', '/v1/events'), pathParameters: null } },
    );
    expect(event).toMatchObject({
      body: '{"é":1}',
      isBase64Encoded: false,
      queryStringParameters: null,
      multiValueQueryStringParameters: null,
      pathParameters: null,
    });
  });

  it('base64-encodes a body of a binary media type, or one that is not UTF-8', () => {
    const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0xff, 0xfe]);
    const binary = buildProxyEvent(
      { method: 'POST', url: '/x', rawHeaders: ['Content-Type', 'image/png'], body: png, sourceIp: '127.0.0.1', localPort: 3000 },
      { ...base, binaryMediaTypes: ['image/*'] },
    );
    expect(binary).toMatchObject({ body: png.toString('base64'), isBase64Encoded: true });
    const notUtf8 = buildProxyEvent(
      { method: 'POST', url: '/x', rawHeaders: ['Content-Type', 'application/json'], body: png, sourceIp: '127.0.0.1', localPort: 3000 },
      base,
    );
    expect(notUtf8.isBase64Encoded).toBe(true);
  });

  it('matches binary media types with wildcards', () => {
    expect(isBinaryMediaType('image/png; q=1', ['image/*'])).toBe(true);
    expect(isBinaryMediaType('application/json', ['image/*'])).toBe(false);
    expect(isBinaryMediaType(undefined, ['*/*'])).toBe(true);
  });

  it('formats requestTime like API Gateway', () => {
    expect(requestTime(new Date('2026-03-05T07:08:09Z'))).toBe('05/Mar/2026:07:08:09 +0000');
  });
});

describe('proxyResultToHttp', () => {
  it('returns status, merged headers and body', () => {
    const answer = proxyResultToHttp({
      statusCode: 202,
      headers: { 'Content-Type': 'application/json', 'X-One': 'a', 'Set-Cookie': 'ignored' },
      multiValueHeaders: { 'set-cookie': ['a=1', 'b=2'] },
      body: '{"ok":true}',
    });
    expect(answer.statusCode).toBe(202);
    expect(answer.headers).toEqual([
      ['Content-Type', 'application/json'],
      ['X-One', 'a'],
      ['set-cookie', 'a=1'],
      ['set-cookie', 'b=2'],
    ]);
    expect(answer.body.toString()).toBe('{"ok":true}');
  });

  it('decodes a base64 body and defaults the content type to JSON', () => {
    const answer = proxyResultToHttp({ statusCode: 200, body: Buffer.from([1, 2, 3]).toString('base64'), isBase64Encoded: true });
    expect([...answer.body]).toEqual([1, 2, 3]);
    expect(answer.headers).toEqual([['Content-Type', 'application/json']]);
  });

  it.each([
    [null],
    ['ok'],
    [{ body: 'x' }],
    [{ statusCode: 99 }],
    [{ statusCode: 200, body: { a: 1 } }],
    [{ statusCode: 200, headers: { a: {} } }],
  ])('rejects the malformed response %j (API Gateway answers 502)', (result) => {
    expect(() => proxyResultToHttp(result)).toThrow(MalformedProxyResponseError);
  });
});

describe('gatewayErrorAnswer', () => {
  const responses: GatewayResponseModel[] = [
    {
      apiLogicalId: 'Api',
      responseType: 'MISSING_AUTHENTICATION_TOKEN',
      statusCode: 404,
      templates: { 'application/json': '{"error":{"code":"not_found","message":"Route not found"}}' },
      headers: { 'Access-Control-Allow-Origin': '*' },
    },
    {
      apiLogicalId: 'Api',
      responseType: 'DEFAULT_4XX',
      templates: { 'application/json': '{"error":{"code":"bad_request","message":$context.error.messageString}}' },
      headers: {},
    },
    {
      apiLogicalId: 'Api',
      responseType: 'DEFAULT_5XX',
      templates: { 'application/json': '{"error":{"code":"internal_error","message":"Internal server error"}}' },
      headers: {},
    },
  ];
  const fallback = errorAnswer(418, 'fallback', 'used when the template customizes nothing');

  it('uses the template response of the specific type', () => {
    const a = gatewayErrorAnswer(responses, {
      responseType: 'MISSING_AUTHENTICATION_TOKEN',
      status: 403,
      message: 'Missing Authentication Token',
      requestId: 'r',
      fallback,
    });
    expect(a.statusCode).toBe(404);
    expect(JSON.parse(a.body.toString())).toEqual({ error: { code: 'not_found', message: 'Route not found' } });
    expect(a.headers).toContainEqual(['Access-Control-Allow-Origin', '*']);
  });

  it('maps a header from the request (method.request.header.*), leaving it out when the request has none', () => {
    const echo: GatewayResponseModel[] = [{ ...responses[0]!, headers: {}, requestHeaders: { 'Access-Control-Allow-Origin': 'Origin' } }];
    const options = { responseType: 'MISSING_AUTHENTICATION_TOKEN', status: 403, message: 'x', requestId: 'r', fallback };
    const withOrigin = gatewayErrorAnswer(echo, { ...options, requestHeaders: { origin: 'https://app.example' } });
    expect(withOrigin.headers).toContainEqual(['Access-Control-Allow-Origin', 'https://app.example']);
    const without = gatewayErrorAnswer(echo, { ...options, requestHeaders: {} });
    expect(without.headers.map(([name]) => name)).not.toContain('Access-Control-Allow-Origin');
  });

  it('falls back to DEFAULT_4XX/5XX with API Gateway status and message', () => {
    const tooLarge = gatewayErrorAnswer(responses, {
      responseType: 'REQUEST_TOO_LARGE',
      status: 413,
      message: 'Request Too Long',
      requestId: 'r',
      fallback,
    });
    expect(tooLarge.statusCode).toBe(413);
    expect(JSON.parse(tooLarge.body.toString())).toEqual({ error: { code: 'bad_request', message: 'Request Too Long' } });
    const crash = gatewayErrorAnswer(responses, {
      responseType: 'DEFAULT_5XX',
      status: 502,
      message: 'Internal server error',
      requestId: 'r',
      fallback,
    });
    expect(crash.statusCode).toBe(502);
    expect(JSON.parse(crash.body.toString())).toEqual({ error: { code: 'internal_error', message: 'Internal server error' } });
  });

  it('uses the fallback when the template customizes nothing', () => {
    expect(
      gatewayErrorAnswer([], { responseType: 'DEFAULT_5XX', status: 502, message: 'Internal server error', requestId: 'r', fallback }),
    ).toBe(fallback);
  });
});
