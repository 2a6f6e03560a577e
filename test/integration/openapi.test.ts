import { join } from 'node:path';
import { LIMITS, PUBLIC_ROUTES } from '../../contract';
import { VIEWER_VERSIONED_FILE } from '../../lambdas/core/viewer-asset';
import { responseChecker } from '../support/openapi';
import { REPO_ROOT, startLocalStack, synthOnce, type LocalStack } from './harness';
import { eventually, request, uniqueTenant, type HttpResult } from './http';

/**
 * Every route and documented status against the local stack; `request()` checks each response
 * against openapi.yaml (status documented, headers, body schema), and the end asserts that every
 * documented (route, status) was seen, except those no local test can provoke (5xx, and the
 * gateway's throttling 429). Synthesized with maxOpenErasures=1 so 429 too_many_erasures is reachable.
 */
let stack: LocalStack;

beforeAll(async () => {
  const outDir = await synthOnce(join(REPO_ROOT, 'cdk.out.test', 'openapi'), { maxOpenErasures: 1 });
  stack = await startLocalStack({ outDir });
}, 180_000);

afterAll(async () => {
  await stack?.stop();
});

const ALL = ['events:write', 'events:read', 'events:delete', 'events:erase', 'events:export'];
const seen = new Set<string>();

const call = async (
  method: string,
  path: string,
  opts: { tenant?: string; scope?: string; body?: unknown; rawBody?: string; contentType?: string; noToken?: boolean } = {},
): Promise<HttpResult> => {
  const token = opts.noToken ? undefined : stack.token({ tenant: opts.tenant ?? 'acme', scope: opts.scope ?? ALL.join(' ') });
  const res = await request(stack.baseUrl, method, path, {
    ...(token && { token }),
    ...(opts.body !== undefined && { body: opts.body }),
    ...(opts.rawBody !== undefined && { rawBody: opts.rawBody }),
    ...(opts.contentType !== undefined && { contentType: opts.contentType }),
  });
  const op = responseChecker().find(method, path);
  if (op) seen.add(`${op.route} ${res.status}`);
  return res;
};

const at = (minute: number) => new Date(Date.parse('2026-11-01T00:00:00Z') + minute * 60_000).toISOString();

describe('the API against openapi.yaml', () => {
  let tenant: string;
  let id: string;

  beforeAll(async () => {
    tenant = uniqueTenant('oas');
    const res = await call('POST', '/v1/events', {
      tenant,
      body: { type: 'user.login', userId: 'u1', occurredAt: at(1), target: { type: 'page', id: 'p1' }, details: { a: 1 } },
    });
    expect(res.status).toBe(202);
    id = res.body.results[0].id;
    await eventually(
      async () => ((await call('GET', `/v1/events/${id}`, { tenant })).status === 200 ? true : undefined),
      20_000,
      'event stored',
    );
  });

  it('POST /v1/events: 202, 400, 413, 415', async () => {
    const batch = await call('POST', '/v1/events', {
      tenant,
      body: {
        events: [
          { type: 'a', userId: 'u2' },
          { type: 'Bad', userId: 'u2' },
        ],
      },
    });
    expect([batch.status, batch.body.accepted, batch.body.rejected]).toEqual([202, 1, 1]);
    expect((await call('POST', '/v1/events', { tenant, rawBody: '{nope' })).body.error.code).toBe('invalid_json');
    expect((await call('POST', '/v1/events', { tenant, body: { type: 'Bad', userId: 'u' } })).status).toBe(400);
    const tooMany = await call('POST', '/v1/events', {
      tenant,
      body: { events: Array.from({ length: LIMITS.maxEventsPerRequest + 1 }, () => ({ type: 'a', userId: 'u' })) },
    });
    expect([tooMany.status, tooMany.body.error.code]).toEqual([413, 'too_many_events']);
    const huge = await call('POST', '/v1/events', {
      tenant,
      body: { type: 'a', userId: 'u', details: { blob: 'x'.repeat(LIMITS.maxBodyBytes) } },
    });
    expect([huge.status, huge.body.error.code]).toEqual([413, 'payload_too_large']);
    expect((await call('POST', '/v1/events', { tenant, rawBody: 'type=a', contentType: 'text/plain' })).status).toBe(415);
  });

  it('GET /v1/events: 200 with a cursor, 400', async () => {
    const page = await call('GET', '/v1/events?limit=1&order=asc&details.a=1', { tenant });
    expect(page.status).toBe(200);
    expect(page.body.events[0].id).toBe(id);
    expect((await call('GET', '/v1/events?limit=0', { tenant })).status).toBe(400);
    expect((await call('GET', '/v1/events?colour=red', { tenant })).body.error.code).toBe('unknown_parameter');
  });

  it('GET/DELETE /v1/events/{id} and restore: 200, 204, 404', async () => {
    expect((await call('GET', `/v1/events/${id}`, { tenant })).status).toBe(200);
    expect((await call('GET', `/v1/events/${id}`, { tenant: uniqueTenant('other') })).status).toBe(404);
    expect((await call('DELETE', `/v1/events/${id}`, { tenant })).status).toBe(204);
    expect((await call('GET', `/v1/events/${id}`, { tenant })).status).toBe(404);
    expect((await call('DELETE', `/v1/events/nope`, { tenant })).status).toBe(404);
    expect((await call('POST', `/v1/events/${id}/restore`, { tenant })).status).toBe(200);
    expect((await call('POST', `/v1/events/nope/restore`, { tenant })).status).toBe(404);
  });

  it('erasures: 202, 200 pending and completed, 400, 404, 415, 429', async () => {
    const erasing = uniqueTenant('oas-erase');
    const created = await call('POST', '/v1/erasures', { tenant: erasing, body: { userId: 'u1' } });
    expect([created.status, created.body.status]).toEqual([202, 'pending']);
    const second = await call('POST', '/v1/erasures', { tenant: erasing, body: { userId: 'u2' } });
    expect([second.status, second.body.error.code]).toEqual([429, 'too_many_erasures']);
    expect((await call('POST', '/v1/erasures', { tenant: erasing, body: { user: 'u1' } })).status).toBe(400);
    expect((await call('POST', '/v1/erasures', { tenant: erasing, rawBody: 'u1', contentType: 'text/plain' })).status).toBe(415);
    expect((await call('GET', `/v1/erasures/${created.body.id}`, { tenant: erasing })).body.status).toBe('pending');
    expect((await call('GET', `/v1/erasures/${created.body.id}`, { tenant })).status).toBe(404);
    await stack.runSchedules();
    const done = await call('GET', `/v1/erasures/${created.body.id}`, { tenant: erasing });
    expect([done.status, done.body.status]).toEqual([200, 'completed']);
  });

  it('GET /v1/stats: 200, 400', async () => {
    const ok = await call('GET', '/v1/stats?from=2026-11-01T00:00:00Z&to=2026-12-01T00:00:00Z&interval=day&groupBy=type', { tenant });
    expect(ok.status).toBe(200);
    expect(ok.body.buckets).toHaveLength(30);
    expect((await call('GET', '/v1/stats?from=2026-11-01T00:00:00Z', { tenant })).status).toBe(400);
  });

  it('exports and viewer sessions: 201, 202, 200, 400, 404, 415', async () => {
    const created = await call('POST', '/v1/exports', { tenant, body: { format: 'ndjson', userId: 'u2' } });
    expect([created.status, created.body.status]).toEqual([202, 'pending']);
    expect((await call('GET', `/v1/exports/${created.body.id}`, { tenant })).status).toBe(200);
    expect((await call('GET', `/v1/exports/${created.body.id}`, { tenant: uniqueTenant('other') })).status).toBe(404);
    expect((await call('POST', '/v1/exports', { tenant, body: { format: 'xml' } })).status).toBe(400);
    expect((await call('POST', '/v1/exports', { tenant, rawBody: 'csv', contentType: 'text/plain' })).status).toBe(415);
    expect((await call('POST', '/v1/viewer-sessions', { tenant, body: { ttlSeconds: 5 } })).status).toBe(400);
    expect((await call('POST', '/v1/viewer-sessions', { tenant, rawBody: 'x', contentType: 'text/plain' })).status).toBe(415);
    expect((await call('POST', '/v1/viewer-sessions', { tenant, body: { userId: 'u2', ttlSeconds: 60 } })).status).toBe(201);
  });

  it('GET /viewer/{file}: 200 without a token (the module, CORS-open), 404 for any other file', async () => {
    const current = await call('GET', '/viewer/activity-log.js', { noToken: true });
    expect([current.status, current.headers.get('access-control-allow-origin')]).toEqual([200, '*']);
    expect(current.headers.get('cache-control')).toBe('public, max-age=300');
    const versioned = await call('GET', `/viewer/${VIEWER_VERSIONED_FILE}`, { noToken: true });
    expect([versioned.status, versioned.headers.get('cache-control')]).toEqual([200, 'public, max-age=31536000, immutable']);
    expect((await call('GET', '/viewer/activity-log.0123456789ab.js', { noToken: true })).status).toBe(404);
  });

  it('answers 401 without a token and 403 without the documented scope, on every route', async () => {
    for (const { route, path, operation } of responseChecker().operations.filter((o) => !PUBLIC_ROUTES.has(o.route))) {
      const method = route.split(' ')[0] as string;
      const concrete = path.replace('{id}', id);
      const body = method === 'POST' ? { userId: 'x' } : undefined;
      const anonymous = await call(method, concrete, { tenant, noToken: true, ...(body && { body }) });
      expect([route, anonymous.status]).toEqual([route, 401]);
      expect(anonymous.headers.get('www-authenticate')).toMatch(/^Bearer/);
      const scope = operation['x-scope'] as string;
      const others = ALL.filter((s) => s !== scope).join(' ');
      const forbidden = await call(method, concrete, { tenant, scope: others, ...(body && { body }) });
      expect([route, forbidden.status]).toEqual([route, 403]);
      const allowed = await call(method, concrete, { tenant, scope, ...(body && { body }) });
      expect([route, allowed.status === 401 || allowed.status === 403]).toEqual([route, false]);
    }
  });

  it('saw every documented status of every route that a local test can provoke', () => {
    const unreachable = new Set(['500', '502', '503', '504']);
    const missing: string[] = [];
    for (const { route, operation } of responseChecker().operations) {
      for (const status of Object.keys(operation.responses)) {
        if (unreachable.has(status)) continue;
        // 429 is the gateway's throttling everywhere but on POST /v1/erasures (too_many_erasures).
        if (status === '429' && route !== 'POST /v1/erasures') continue;
        if (!seen.has(`${route} ${status}`)) missing.push(`${route} ${status}`);
      }
    }
    expect(missing).toEqual([]);
  });
});
