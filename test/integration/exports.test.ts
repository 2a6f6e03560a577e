import { join } from 'node:path';
import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import { gunzipSync } from 'node:zlib';
import { REPO_ROOT, startLocalStack, synthOnce, type LocalStack } from './harness';
import { EXPORT_LIMITS } from '../../contract';
import { eventually, request, uniqueTenant } from './http';

/**
 * Exports over the local stack: the API, the queue-driven worker, the multipart upload to the S3
 * emulator (fauxqs) and the presigned download, end to end.
 */
let stack: LocalStack;
const APP_ORIGIN = 'https://app.example.com';
const tenant = uniqueTenant('export');
const other = uniqueTenant('export-other');
let ids: Record<string, string[]> = {};

const token = (t: string, scope = 'events:write events:read events:delete events:erase events:export') => stack.token({ tenant: t, scope });

beforeAll(async () => {
  // One allowed origin for the viewer's browser reads (CORS), tested below on this same stack.
  const outDir = await synthOnce(join(REPO_ROOT, 'cdk.out.test', 'exports'), { corsAllowedOrigins: APP_ORIGIN });
  stack = await startLocalStack({ outDir });
  const events = [
    { type: 'login', userId: 'alice', occurredAt: '2026-11-01T10:00:00Z' },
    {
      type: 'doc.viewed',
      userId: 'alice',
      occurredAt: '2026-11-02T10:00:00Z',
      details: { title: '=HYPERLINK("http://x","y")', note: 'a,"b"\nc é' },
    },
    { type: 'login', userId: 'bob', occurredAt: '2026-11-03T10:00:00Z', target: { type: 'doc', id: '+1' } },
    { type: 'login', userId: 'alice', occurredAt: '2026-11-04T10:00:00Z' },
    { type: 'login', userId: 'carol', occurredAt: '2026-11-05T10:00:00Z' },
  ];
  const posted = await request(stack.baseUrl, 'POST', '/v1/events', { token: token(tenant), body: { events } });
  expect(posted.status).toBe(202);
  const all = posted.body.results.map((r: { id: string }) => r.id) as string[];
  ids = { alice: [all[0]!, all[1]!, all[3]!], bob: [all[2]!], carol: [all[4]!] };
  await eventually(async () => {
    const res = await request(stack.baseUrl, 'GET', '/v1/events?limit=100', { token: token(tenant) });
    return res.body.events.length === 5 ? true : undefined;
  });
  // A deleted event of alice is not exported.
  expect((await request(stack.baseUrl, 'DELETE', `/v1/events/${ids.alice![2]}`, { token: token(tenant) })).status).toBe(204);
}, 240_000);

afterAll(async () => {
  await stack?.stop();
});

const exportAndWait = async (body: unknown) => {
  const created = await request(stack.baseUrl, 'POST', '/v1/exports', { token: token(tenant), body });
  expect(created.status).toBe(202);
  expect(created.body.status).toBe('pending');
  return eventually(
    async () => {
      const res = await request(stack.baseUrl, 'GET', `/v1/exports/${created.body.id}`, { token: token(tenant) });
      expect(res.status).toBe(200);
      return res.body.status === 'completed' ? res.body : undefined;
    },
    30_000,
    'the export to complete',
  );
};

const download = async (url: string): Promise<{ status: number; text: string }> => {
  const res = await fetch(url);
  if (res.status !== 200) return { status: res.status, text: await res.text() };
  return { status: 200, text: gunzipSync(Buffer.from(await res.arrayBuffer())).toString('utf8') };
};

describe('exports', () => {
  it("exports exactly a user's visible events as gzip NDJSON, downloadable from the URL", async () => {
    const job = await exportAndWait({ userId: 'alice', format: 'ndjson' });
    expect(job).toMatchObject({ format: 'ndjson', events: 2 });
    expect(new URL(job.url).origin).toBe(new URL(stack.endpoints.sqs).origin);
    expect(Date.parse(job.expiresAt) - Date.now()).toBeLessThanOrEqual(15 * 60 * 1000);
    const file = await download(job.url);
    expect(file.status).toBe(200);
    expect(job.bytes).toBeGreaterThan(0);
    const lines = file.text
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(lines.map((e) => e.id)).toEqual(ids.alice!.slice(0, 2));
    expect(lines.every((e) => e.userId === 'alice')).toBe(true);
    expect(lines[1].details.note).toBe('a,"b"\nc é');
  });

  it("records each export request and each download URL handed out in the tenant's trail", async () => {
    const job = await exportAndWait({ userId: 'bob', format: 'csv' });
    for (const type of ['activity-tracker.export.requested', 'activity-tracker.export.downloaded']) {
      const records = await eventually(async () => {
        const res = await request(stack.baseUrl, 'GET', `/v1/events?type=${type}`, { token: token(tenant) });
        const mine = res.body.events.filter((e: { target?: { id: string } }) => e.target?.id === job.id);
        return mine.length > 0 ? mine : undefined;
      });
      expect(records[0].target).toEqual({ type: 'export', id: job.id });
      expect(JSON.stringify(records[0])).not.toContain('bob');
    }
  });

  it('exports a range of the tenant as CSV, with formula cells escaped', async () => {
    const job = await exportAndWait({ format: 'csv', from: '2026-11-02T00:00:00Z', to: '2026-11-05T00:00:00Z' });
    expect(job.events).toBe(2);
    const { text } = await download(job.url);
    const rows = text.split('\r\n').filter(Boolean);
    expect(rows[0]).toBe('id,type,userId,occurredAt,receivedAt,targetType,targetId,sourceIp,sourceUserAgent,details');
    expect(rows).toHaveLength(3);
    expect(text).toContain(`"{""title"":""=HYPERLINK(\\""http://x\\"",\\""y\\"")""`);
    expect(text).toContain(",doc,'+1,");
    expect(text).not.toMatch(/,\+1,/);
  });

  it('answers 404 to another tenant, 403 without the scope, 400 naming a bad field', async () => {
    const created = await request(stack.baseUrl, 'POST', '/v1/exports', {
      token: token(tenant),
      body: { format: 'ndjson', userId: 'bob' },
    });
    expect((await request(stack.baseUrl, 'GET', `/v1/exports/${created.body.id}`, { token: token(other) })).status).toBe(404);
    const noScope = await request(stack.baseUrl, 'POST', '/v1/exports', { token: token(tenant, 'events:read'), body: { format: 'csv' } });
    expect(noScope.status).toBe(403);
    for (const [body, words] of [
      [{ format: 'xml' }, 'format'],
      [{}, 'format'],
      [{ format: 'csv', from: 'yesterday' }, 'from'],
      [{ format: 'csv', tenant: other }, 'tenant'],
    ] as const) {
      const res = await request(stack.baseUrl, 'POST', '/v1/exports', { token: token(tenant), body });
      expect(res.status).toBe(400);
      expect(res.body.error.message).toContain(words);
    }
  });

  it('deletes the file and marks the export failed/erased when its user is erased after it', async () => {
    const job = await exportAndWait({ userId: 'carol', format: 'ndjson' });
    expect((await download(job.url)).status).toBe(200);
    expect((await request(stack.baseUrl, 'POST', '/v1/erasures', { token: token(tenant), body: { userId: 'carol' } })).status).toBe(202);
    const after = await request(stack.baseUrl, 'GET', `/v1/exports/${job.id}`, { token: token(tenant) });
    expect(after.body).toMatchObject({ status: 'failed', reason: 'erased', url: null });
    expect((await download(job.url)).status).toBe(404);
  });
});

describe('pending exports per tenant', () => {
  it(`refuses the request beyond ${EXPORT_LIMITS.maxPending} pending with 429 too_many_exports, naming the limit`, async () => {
    // Jobs put straight into the table and never queued stay pending: the limit is met exactly.
    const busy = uniqueTenant('export-busy');
    const table = Object.entries(stack.tables).find(([id]) => id.startsWith('StorageTable'))![1];
    const expiry = String(Math.floor(Date.now() / 1000) + 86_400);
    const job = (i: number, status: string) =>
      new PutItemCommand({
        TableName: table,
        Item: {
          pk: { S: `${busy}#J` },
          sk: { S: `0000000000000-seeded-${i}` },
          s: { S: status },
          f: { S: 'ndjson' },
          q: { S: '{}' },
          ra: { N: String(Date.now()) },
          n: { N: '0' },
          b: { N: '0' },
          np: { N: '0' },
          x: { N: expiry },
        },
      });
    for (let i = 0; i < EXPORT_LIMITS.maxPending; i += 1) await stack.ddb.send(job(i, 'pending'));
    const post = () => request(stack.baseUrl, 'POST', '/v1/exports', { token: token(busy), body: { format: 'ndjson' } });
    const refused = await post();
    expect(refused.status).toBe(429);
    expect(refused.body.error.code).toBe('too_many_exports');
    expect(refused.body.error.message).toMatch(`at most ${EXPORT_LIMITS.maxPending} export requests may be pending`);
    // One of them completed: a place is free again.
    await stack.ddb.send(job(0, 'completed'));
    expect((await post()).status).toBe(202);
  });
});

describe('the viewer from another origin (Cognito mode, CORS)', () => {
  const viewerToken = async (userId?: string): Promise<string> => {
    const session = await request(stack.baseUrl, 'POST', '/v1/viewer-sessions', {
      token: token(tenant),
      body: { ttlSeconds: 60, ...(userId !== undefined && { userId }) },
    });
    expect(session.status).toBe(201);
    return session.body.token as string;
  };
  const preflight = (path: string, origin: string) =>
    fetch(`${stack.baseUrl}${path}`, {
      method: 'OPTIONS',
      headers: { Origin: origin, 'Access-Control-Request-Method': 'GET', 'Access-Control-Request-Headers': 'authorization' },
    });

  it('answers the preflight of the viewer reads for the allowed origin only', async () => {
    for (const path of ['/v1/events', `/v1/events/${ids.alice![0]}`, '/v1/stats']) {
      const allowed = await preflight(path, APP_ORIGIN);
      expect([path, allowed.status]).toEqual([path, 204]);
      expect(allowed.headers.get('access-control-allow-origin')).toBe(APP_ORIGIN);
      expect(allowed.headers.get('access-control-allow-headers')).toMatch(/Authorization/);
      expect(allowed.headers.get('access-control-allow-methods')).toBe('GET');
      expect(allowed.headers.get('access-control-allow-credentials')).toBeNull();
      expect(allowed.headers.get('vary')).toBe('Origin');
      const other = await preflight(path, 'https://evil.example');
      expect(other.headers.get('access-control-allow-origin')).toBeNull();
    }
  });

  it("reads with a viewer token from the allowed origin, and can read the gateway's 401 to refresh it", async () => {
    const viewer = await viewerToken('alice');
    const origin = { Origin: APP_ORIGIN };
    const list = await request(stack.baseUrl, 'GET', '/v1/events?userId=alice', { token: viewer, headers: origin });
    expect(list.status).toBe(200);
    expect(list.body.events.map((e: { userId: string }) => e.userId)).toEqual(['alice', 'alice']);
    expect(list.headers.get('access-control-allow-origin')).toBe(APP_ORIGIN);
    expect(list.headers.get('vary')).toBe('Origin');
    // The viewer's own refusals (403 from the function) are readable too.
    const refused = await request(stack.baseUrl, 'GET', '/v1/events?userId=bob', { token: viewer, headers: origin });
    expect(refused.status).toBe(403);
    expect(refused.headers.get('access-control-allow-origin')).toBe(APP_ORIGIN);
    const expired = await request(stack.baseUrl, 'GET', '/v1/events?userId=alice', { headers: origin });
    expect(expired.status).toBe(401);
    expect(expired.headers.get('access-control-allow-origin')).toBe(APP_ORIGIN);
    // Another origin is never named, on data or on errors.
    const evil = await request(stack.baseUrl, 'GET', '/v1/events?userId=alice', {
      token: viewer,
      headers: { Origin: 'https://evil.example' },
    });
    expect(evil.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('refuses the viewer token on the routes a viewer may not use, in Cognito mode at the gateway (401)', async () => {
    const viewer = await viewerToken();
    expect((await request(stack.baseUrl, 'POST', '/v1/exports', { token: viewer, body: { format: 'ndjson' } })).status).toBe(401);
    const stats = `/v1/stats?from=${encodeURIComponent('2026-11-01T00:00:00Z')}&to=${encodeURIComponent('2026-11-06T00:00:00Z')}`;
    expect((await request(stack.baseUrl, 'GET', stats, { token: viewer })).status).toBe(200);
  });
});
