import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import { gunzipSync } from 'node:zlib';
import { type Browser, ensureChromium, launchBrowser } from './cdp';
import { REPO_ROOT, startLocalStack, synthOnce, type LocalStack } from './harness';
import { EXPORT_LIMITS } from '../../contract';
import { eventually, request, uniqueTenant } from './http';

/**
 * Exports over the local stack: the API, the queue-driven worker, the multipart upload to the S3
 * emulator (fauxqs) and the presigned download, end to end; and the viewer (<activity-log>, with
 * a viewer token) in headless Chromium, in Cognito mode (the viewer's read routes run the token
 * authorizer, which verifies viewer tokens) with one allowed origin for browser reads (CORS).
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

  it('deletes the file and marks the export failed/erased when its user is erased after it, at the erasure request', async () => {
    const job = await exportAndWait({ userId: 'carol', format: 'ndjson' });
    expect((await download(job.url)).status).toBe(200);
    expect((await request(stack.baseUrl, 'POST', '/v1/erasures', { token: token(tenant), body: { userId: 'carol' } })).status).toBe(202);
    // Gone at once, before anyone asks for the export again (and so long after the erasure's marker is).
    expect((await download(job.url)).status).toBe(404);
    const after = await request(stack.baseUrl, 'GET', `/v1/exports/${job.id}`, { token: token(tenant) });
    expect(after.body).toMatchObject({ status: 'failed', reason: 'erased', url: null });
  });
});

describe('the viewer (<activity-log>) in headless Chromium', () => {
  const viewerTenant = uniqueTenant('viewer');
  const hostile = '<img src="https://attacker.example/x.png" onerror="fetch(\'https://attacker.example/\')">';
  let chromium: string | undefined;
  let browser: Browser | undefined;
  let billedId: string;
  const root = "document.querySelector('activity-log').shadowRoot";
  const rowTypes = `[...${root}.querySelectorAll('tbody tr[data-id] td:nth-child(2)')].map((td) => td.textContent)`;

  let suiteStarted = 0;

  beforeAll(async () => {
    suiteStarted = Date.now();
    chromium = ensureChromium(REPO_ROOT, 'viewer browser test');
    // The README walk-through's events (the bad one is rejected), a hostile user id, and enough
    // events of another user for two pages of 10.
    const now = Date.now();
    const at = (msAgo: number) => new Date(now - msAgo).toISOString().replace(/\.\d{3}Z$/, 'Z');
    const events = [
      {
        type: 'customer.billed',
        userId: 'u-42',
        occurredAt: at(0),
        target: { type: 'invoice', id: 'inv-9' },
        idempotencyKey: 'bill-inv-9',
        details: { amount: 1200, currency: 'EUR' },
      },
      { type: 'user.login', userId: 'u-42' },
      { type: 'Not Valid', userId: 'u-42' },
      { type: 'xss.probe', userId: hostile, occurredAt: at(30_000), details: { html: '<script>alert(1)</script>' } },
      ...Array.from({ length: 11 }, (_, i) => ({ type: 'doc.viewed', userId: 'u-7', occurredAt: at((i + 1) * 60_000) })),
    ];
    const posted = await request(stack.baseUrl, 'POST', '/v1/events', { token: token(viewerTenant), body: { events } });
    expect([posted.status, posted.body.accepted, posted.body.rejected]).toEqual([202, 14, 1]);
    billedId = posted.body.results[0].id;
    const day = 86_400_000;
    const midnight = Math.floor(now / day) * day;
    const statsQuery = `from=${at(now - midnight + 29 * day)}&to=${at(now - midnight - day)}`;
    // Listed and counted (the stats follow the stream within seconds) before the page loads.
    await eventually(async () => {
      const list = await request(stack.baseUrl, 'GET', '/v1/events?limit=100', { token: token(viewerTenant) });
      const stats = await request(stack.baseUrl, 'GET', `/v1/stats?${statsQuery}`, { token: token(viewerTenant) });
      return list.body.events.length === 14 && stats.body.total === 14 ? true : undefined;
    }, 30_000);
    if (chromium) browser = await launchBrowser(chromium);
  }, 660_000);

  afterAll(async () => {
    await browser?.close();
    process.stdout.write(
      `viewer tests (events in and counted, Chromium, both tests): ${((Date.now() - suiteStarted) / 1000).toFixed(1)} s\n`,
    );
  });

  it('lists the walk-through events, shows stats and details (keyboard), pages, filters by type, and fetches only from the stack', async () => {
    // `npm start` prints where the demo is.
    expect(stack.output()).toContain(`[local] viewer demo: ${stack.baseUrl}/_local/viewer\n`);
    if (!browser) return;
    const started = Date.now();
    await browser.navigate(`${stack.baseUrl}/_local/viewer?tenant=${viewerTenant}`);
    await browser.waitFor(`${root}.querySelectorAll('tbody tr[data-id]').length === 10`);
    const firstPage = await browser.evaluate<string[]>(rowTypes);
    expect(firstPage.slice(0, 3).sort()).toEqual(['customer.billed', 'user.login', 'xss.probe']);
    expect(firstPage.slice(3)).toEqual(Array(7).fill('doc.viewed'));
    // Attacker-controlled text stays text: no element is made of it, nothing is fetched for it.
    expect(await browser.evaluate(`${root}.querySelectorAll('img, script').length + document.querySelectorAll('img').length`)).toBe(0);
    expect(
      await browser.evaluate(`[...${root}.querySelectorAll('tbody td')].some((td) => td.textContent === ${JSON.stringify(hostile)})`),
    ).toBe(true);

    // Stats: the total and the top types of the last 30 days, and a bar per day.
    await browser.waitFor(`${root}.querySelector('[data-total]')?.textContent === '14'`);
    const top = await browser.evaluate<string[]>(
      `[...${root}.querySelectorAll('.top li')].map((li) => li.children[0].textContent + '=' + li.children[1].textContent)`,
    );
    expect(top).toEqual(['doc.viewed=11', 'customer.billed=1', 'user.login=1', 'xss.probe=1']);
    expect(await browser.evaluate(`${root}.querySelectorAll('.hist > span').length`)).toBe(30);

    // Details by keyboard: focus the event's button, press Enter; focus moves to the details.
    await browser.evaluate(`${root}.querySelector('tr[data-id="${billedId}"] button').focus()`);
    await browser.press('Enter');
    await browser.waitFor(`${root}.querySelector('section.details pre')`);
    const details = await browser.evaluate<string>(`${root}.querySelector('section.details').textContent`);
    expect(details).toContain('invoice inv-9');
    expect(details).toContain('"currency": "EUR"');
    expect(await browser.evaluate(`${root}.activeElement?.textContent`)).toBe('Event details');
    // Into cdk.out.test (ignored); VIEWER_SCREENSHOT=docs/img/viewer-demo.png refreshes the docs' picture.
    const file = resolve(REPO_ROOT, process.env.VIEWER_SCREENSHOT ?? join('cdk.out.test', 'viewer-demo.png'));
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, await browser.screenshot());
    process.stdout.write(`viewer screenshot: ${file}\n`);

    // The next page (the API's cursor), and back.
    await browser.evaluate(`[...${root}.querySelectorAll('nav button')].find((b) => b.textContent === 'Next page').click()`);
    await browser.waitFor(`${root}.querySelectorAll('tbody tr[data-id]').length === 4`);
    expect(await browser.evaluate<string[]>(rowTypes)).toEqual(Array(4).fill('doc.viewed'));
    expect(await browser.evaluate(`${root}.querySelector('nav span').textContent`)).toBe('Page 2');
    await browser.evaluate(`[...${root}.querySelectorAll('nav button')].find((b) => b.textContent === 'Previous page').click()`);
    await browser.waitFor(`${root}.querySelectorAll('tbody tr[data-id]').length === 10`);

    // Filter by type: the list and the stats follow.
    await browser.evaluate(
      `(() => { const r = ${root}; r.querySelector('#al-type').value = 'customer.billed'; r.querySelector('form').requestSubmit(); })()`,
    );
    await browser.waitFor(`${root}.querySelectorAll('tbody tr[data-id]').length === 1`);
    expect(await browser.evaluate<string[]>(rowTypes)).toEqual(['customer.billed']);
    await browser.waitFor(`${root}.querySelector('[data-total]')?.textContent === '1'`);

    // Nothing but the stack: every request went to its origin (data: URLs are the browser's own icons).
    const origin = new URL(stack.baseUrl).origin;
    const outside = browser.requests.filter((url) => !url.startsWith('data:') && new URL(url).origin !== origin);
    expect(outside).toEqual([]);
    const paths = browser.requests.filter((url) => url.startsWith(origin)).map((url) => new URL(url).pathname);
    expect(paths).toEqual(
      expect.arrayContaining(['/_local/viewer', '/viewer/activity-log.js', '/v1/events', '/v1/stats', `/v1/events/${billedId}`]),
    );
    expect(browser.requests.some((url) => url.includes('cursor='))).toBe(true);
    expect(browser.problems.filter((p) => p.startsWith('exception'))).toEqual([]);
    process.stdout.write(`viewer browser test: ${((Date.now() - started) / 1000).toFixed(1)} s in Chromium\n`);
  });

  it("shows a user-bound viewer token only that user's events, the user filter fixed", async () => {
    if (!browser) return;
    await browser.navigate(`${stack.baseUrl}/_local/viewer?tenant=${viewerTenant}&userId=u-42`);
    await browser.waitFor(`${root}.querySelectorAll('tbody tr[data-id]').length === 2`);
    expect((await browser.evaluate<string[]>(rowTypes)).sort()).toEqual(['customer.billed', 'user.login']);
    expect(await browser.evaluate(`[${root}.querySelector('#al-userId').value, ${root}.querySelector('#al-userId').readOnly]`)).toEqual([
      'u-42',
      true,
    ]);
    await browser.waitFor(`${root}.querySelector('[data-total]')?.textContent === '2'`);
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
