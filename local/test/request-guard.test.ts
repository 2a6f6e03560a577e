import { createServer, request, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { guardHost, guardRequests, refuseRequest } from '../runtime/request-guard';

const PORT = 3000;
const refuse = (method: string, url: string, headers: IncomingHttpHeaders) => {
  const answer = refuseRequest({ method, url, headers }, PORT);
  return answer && { status: answer.statusCode, code: JSON.parse(answer.body.toString()).error.code as string };
};
const curl = (extra: IncomingHttpHeaders = {}): IncomingHttpHeaders => ({
  host: '127.0.0.1:3000',
  'user-agent': 'curl/8',
  accept: '*/*',
  ...extra,
});
// What Node's fetch (undici) sends: sec-fetch-mode, but neither Origin nor Sec-Fetch-Site.
const nodeFetch = (extra: IncomingHttpHeaders = {}): IncomingHttpHeaders => ({
  host: '127.0.0.1:3000',
  'sec-fetch-mode': 'cors',
  ...extra,
});
const json = { 'content-type': 'application/json', 'content-length': '17' };

describe('Host: only the runtime’s own loopback names (DNS rebinding)', () => {
  it.each(['127.0.0.1:3000', 'localhost:3000', 'LOCALHOST:3000', '[::1]:3000'])('accepts %s', (host) => {
    expect(refuse('GET', '/v1/events', { host })).toBeUndefined();
    expect(refuse('GET', '/_local/health', { host })).toBeUndefined();
  });

  it.each([
    ['a foreign name', 'evil.example:3000'],
    ['a foreign name without port', 'evil.example'],
    ['a name ending in localhost', 'localhost.evil.example:3000'],
    ['another port', '127.0.0.1:3001'],
    ['no port (port 80 implied)', '127.0.0.1'],
    ['another loopback spelling', '127.1:3000'],
    ['a private address', '192.168.1.10:3000'],
    ['userinfo', 'evil@127.0.0.1:3000'],
    ['empty', ''],
  ])('refuses %s with 421 before routing', (_, host) => {
    expect(refuse('GET', '/v1/events', { host })).toEqual({ status: 421, code: 'misdirected_request' });
    expect(refuse('POST', '/_local/clock', { host, ...json })).toEqual({ status: 421, code: 'misdirected_request' });
  });

  it('refuses a request without Host', () => {
    expect(refuse('GET', '/_local/health', {})).toEqual({ status: 421, code: 'misdirected_request' });
  });

  it('accepts a Host without port when the runtime listens on port 80', () => {
    expect(refuseRequest({ method: 'GET', url: '/', headers: { host: 'localhost' } }, 80)).toBeUndefined();
    expect(refuseRequest({ method: 'GET', url: '/', headers: { host: 'localhost:80' } }, 80)).toBeUndefined();
  });
});

describe('mutating /_local routes: no cross-origin request, JSON only', () => {
  const routes = ['/_local/clock', '/_local/schedules/run', '/_local/faults', '/_local/anything'];

  it.each(routes)('refuses a cross-site text/plain POST to %s (Origin: http://evil.example)', (path) => {
    expect(refuse('POST', path, curl({ origin: 'http://evil.example', 'content-type': 'text/plain', 'content-length': '17' }))).toEqual({
      status: 403,
      code: 'cross_origin_refused',
    });
  });

  it.each([
    'http://evil.example',
    'null',
    'http://127.0.0.1:3001',
    'https://127.0.0.1:3000',
    'http://localhost.evil.example:3000',
    'http://127.0.0.1:3000/path',
  ])('refuses Origin %s even with a JSON body', (origin) => {
    expect(refuse('POST', '/_local/clock', curl({ origin, ...json }))).toEqual({ status: 403, code: 'cross_origin_refused' });
  });

  it.each(['cross-site', 'same-site', 'CROSS-SITE'])('refuses Sec-Fetch-Site: %s without Origin', (site) => {
    expect(refuse('POST', '/_local/schedules/run', curl({ 'sec-fetch-site': site, ...json }))).toEqual({
      status: 403,
      code: 'cross_origin_refused',
    });
  });

  it.each(['PUT', 'DELETE', 'PATCH'])('treats %s like POST', (method) => {
    expect(refuse(method, '/_local/faults', curl({ origin: 'http://evil.example', ...json }))?.status).toBe(403);
    expect(refuse(method, '/_local/faults', curl({ 'content-type': 'text/plain', 'content-length': '2' }))?.status).toBe(415);
  });

  it.each([
    ['text/plain', { 'content-type': 'text/plain', 'content-length': '17' }],
    ['a form (curl -d)', { 'content-type': 'application/x-www-form-urlencoded', 'content-length': '17' }],
    ['multipart', { 'content-type': 'multipart/form-data; boundary=x', 'content-length': '17' }],
    ['a body without Content-Type', { 'content-length': '17' }],
    ['a chunked body without Content-Type', { 'transfer-encoding': 'chunked' }],
    ['Content-Type text/plain on an empty body', { 'content-type': 'text/plain' }],
  ])('refuses %s with 415 (no simple request reaches the route)', (_, headers) => {
    expect(refuse('POST', '/_local/clock', curl(headers))).toEqual({ status: 415, code: 'unsupported_media_type' });
  });

  it('refuses a bodiless POST once a browser shows itself (Origin or Sec-Fetch-Site), even same-origin', () => {
    expect(refuse('POST', '/_local/schedules/run', curl({ origin: 'http://127.0.0.1:3000' }))?.status).toBe(415);
    expect(refuse('POST', '/_local/schedules/run', curl({ 'sec-fetch-site': 'same-origin' }))?.status).toBe(415);
  });

  it('accepts what curl sends: a bodiless POST (curl -X POST) and a JSON POST', () => {
    expect(refuse('POST', '/_local/schedules/run', curl())).toBeUndefined();
    expect(refuse('POST', '/_local/schedules/run', curl({ 'content-length': '0' }))).toBeUndefined();
    expect(refuse('POST', '/_local/clock', curl(json))).toBeUndefined();
    expect(refuse('POST', '/_local/clock', curl({ ...json, 'content-type': 'Application/JSON; charset=utf-8' }))).toBeUndefined();
  });

  it('accepts what Node’s fetch sends: no body, or a JSON body', () => {
    expect(refuse('POST', '/_local/schedules/run', nodeFetch({ 'content-length': '0' }))).toBeUndefined();
    expect(refuse('POST', '/_local/clock', nodeFetch(json))).toBeUndefined();
    // fetch(url, { method: 'POST', body: JSON.stringify(x) }) without a header sends text/plain: refused.
    expect(refuse('POST', '/_local/clock', nodeFetch({ 'content-type': 'text/plain;charset=UTF-8', 'content-length': '17' }))?.status).toBe(
      415,
    );
  });

  it('accepts a same-origin JSON POST from the runtime’s own page', () => {
    for (const origin of ['http://127.0.0.1:3000', 'http://localhost:3000', 'http://[::1]:3000']) {
      expect(refuse('POST', '/_local/clock', curl({ origin, 'sec-fetch-site': 'same-origin', ...json }))).toBeUndefined();
    }
  });

  it('leaves reads alone: GET routes and the API routes are not subject to the Origin rule', () => {
    expect(refuse('GET', '/_local/clock', curl({ origin: 'http://evil.example', 'sec-fetch-site': 'cross-site' }))).toBeUndefined();
    expect(refuse('GET', '/_local/jwks.json', curl({ 'sec-fetch-site': 'cross-site' }))).toBeUndefined();
    expect(refuse('POST', '/v1/events', curl({ origin: 'http://evil.example', 'content-type': 'text/plain' }))).toBeUndefined();
  });
});

describe('guardRequests', () => {
  let server: Server;
  let port: number;
  let reached: string[];
  beforeAll(async () => {
    reached = [];
    server = createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    port = (server.address() as AddressInfo).port;
    server.on(
      'request',
      guardRequests(port, (req, res) => {
        reached.push(`${req.method} ${req.url}`);
        res.end('ok');
      }),
    );
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  const send = (headers: Record<string, string>, body = '') =>
    new Promise<{ status: number; body: string; type: string | undefined }>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, method: 'POST', path: '/_local/clock', headers, setHost: false }, (res) => {
        let data = '';
        res.on('data', (c) => (data += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: data, type: res.headers['content-type'] }));
      });
      req.on('error', reject);
      req.end(body);
    });

  it('answers a refusal itself, as JSON, and never calls the handler', async () => {
    const foreign = await send({ host: `evil.example:${port}`, 'content-type': 'application/json' }, '{"advanceMs":1}');
    expect(foreign.status).toBe(421);
    expect(foreign.type).toBe('application/json');
    expect(JSON.parse(foreign.body).error.code).toBe('misdirected_request');
    const crossSite = await send(
      { host: `127.0.0.1:${port}`, origin: 'http://evil.example', 'content-type': 'text/plain' },
      '{"advanceMs":1}',
    );
    expect(crossSite.status).toBe(403);
    expect(reached).toEqual([]);
    const ok = await send({ host: `localhost:${port}`, 'content-type': 'application/json' }, '{"advanceMs":1}');
    expect(ok).toMatchObject({ status: 200, body: 'ok' });
    expect(reached).toEqual(['POST /_local/clock']);
  });
});

describe('guardHost (the emulators)', () => {
  it('runs the server’s own listener only for a loopback Host with its port', async () => {
    const seen: string[] = [];
    const server = createServer((req, res) => {
      seen.push(String(req.headers.host));
      res.end('{}');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const { port } = server.address() as AddressInfo;
    guardHost(server);
    const get = (host: string) =>
      new Promise<number>((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port, path: '/', headers: { host }, setHost: false, agent: false }, (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        });
        req.on('error', reject);
        req.end();
      });
    try {
      expect(await get(`evil.example:${port}`)).toBe(421);
      expect(await get(`127.0.0.1:${port + 1}`)).toBe(421);
      expect(seen).toEqual([]);
      expect(await get(`127.0.0.1:${port}`)).toBe(200);
      expect(await get(`localhost:${port}`)).toBe(200);
      expect(seen).toEqual([`127.0.0.1:${port}`, `localhost:${port}`]);
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});
