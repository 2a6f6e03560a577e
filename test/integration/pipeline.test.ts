import { join } from 'node:path';
import { UpdateItemCommand, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { REPO_ROOT, startLocalStack, synthOnce, tenantItems, type LocalStack } from './harness';
import { eventually, request, uniqueTenant } from './http';

/**
 * The whole pipeline over real HTTP against the local stack: the synthesized template, the
 * bundled functions, dynalite and fauxqs, and tokens from the local issuer verified by
 * aws-jwt-verify.
 */
let stack: LocalStack;
let table: string;

beforeAll(async () => {
  const outDir = await synthOnce(join(REPO_ROOT, 'cdk.out.test', 'default'));
  stack = await startLocalStack({ outDir });
  table = Object.values(stack.tables)[0] as string;
}, 180_000);

afterAll(async () => {
  await stack?.stop();
});

const ALL = 'events:write events:read events:delete events:erase';
const tokenFor = (tenant: string, scope = ALL) => stack.token({ tenant, scope });
const post = (tenant: string, body: unknown) => request(stack.baseUrl, 'POST', '/v1/events', { token: tokenFor(tenant), body });
const list = (tenant: string, query = '') => request(stack.baseUrl, 'GET', `/v1/events${query}`, { token: tokenFor(tenant) });
const at = (minute: number) => new Date(Date.parse('2026-11-01T00:00:00Z') + minute * 60_000).toISOString();

/** Waits until a query returns `count` events (the writer runs asynchronously). */
const listUntil = async (tenant: string, query: string, count: number) =>
  eventually(
    async () => {
      const res = await list(tenant, query);
      return res.status === 200 && res.body.events.length === count ? res.body : undefined;
    },
    20_000,
    `${count} events for ${query}`,
  );

describe('pipeline: ingest → SQS → writer → DynamoDB → query', () => {
  it('answers a batch with one invalid event with 202, 2 ids and 1 error, and both events are readable by user, type and time range, newest first', async () => {
    const tenant = uniqueTenant('batch');
    const res = await post(tenant, {
      events: [
        {
          type: 'customer.billed',
          userId: 'alice',
          occurredAt: at(1),
          target: { type: 'invoice', id: 'inv-1' },
          details: { amount: 1200 },
        },
        { type: 'Not A Type', userId: 'alice' },
        { type: 'customer.billed', userId: 'alice', occurredAt: at(2) },
      ],
    });
    expect(res.status).toBe(202);
    expect(res.body.accepted).toBe(2);
    expect(res.body.rejected).toBe(1);
    expect(res.body.results[1].error.code).toBe('type_invalid');
    const [first, , second] = res.body.results.map((r: { id?: string }) => r.id);

    const byUser = await listUntil(tenant, '?userId=alice', 2);
    expect(byUser.events.map((e: { id: string }) => e.id)).toEqual([second, first]);
    expect(byUser.events[1]).toMatchObject({
      type: 'customer.billed',
      userId: 'alice',
      occurredAt: at(1),
      target: { type: 'invoice', id: 'inv-1' },
      details: { amount: 1200 },
    });
    expect(byUser.events[1].source.ip).toBe('127.0.0.1');

    const byType = await list(tenant, '?type=customer.billed');
    expect(byType.body.events.map((e: { id: string }) => e.id)).toEqual([second, first]);

    const range = await list(tenant, `?from=${encodeURIComponent(at(0))}&to=${encodeURIComponent(at(3))}`);
    expect(range.body.events.map((e: { id: string }) => e.id)).toEqual([second, first]);
    const narrow = await list(tenant, `?from=${encodeURIComponent(at(2))}&to=${encodeURIComponent(at(3))}`);
    expect(narrow.body.events.map((e: { id: string }) => e.id)).toEqual([second]);

    const one = await request(stack.baseUrl, 'GET', `/v1/events/${first}`, { token: tokenFor(tenant) });
    expect(one.status).toBe(200);
    expect(one.body.id).toBe(first);
  });

  it('pages through 25 events in pages of 10 without gaps or duplicates', async () => {
    const tenant = uniqueTenant('pages');
    const res = await post(tenant, {
      events: Array.from({ length: 25 }, (_, i) => ({ type: 'page.viewed', userId: `u${i % 4}`, occurredAt: at(i) })),
    });
    expect(res.body.accepted).toBe(25);
    const expected = res.body.results.map((r: { id: string }) => r.id).reverse();
    await listUntil(tenant, '?limit=100', 25);

    const seen: string[] = [];
    const sizes: number[] = [];
    let cursor: string | null = null;
    do {
      const page: any = await list(tenant, `?limit=10${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      expect(page.status).toBe(200);
      sizes.push(page.body.events.length);
      seen.push(...page.body.events.map((e: { id: string }) => e.id));
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(sizes).toEqual([10, 10, 5]);
    expect(seen).toEqual(expected);
    expect(new Set(seen).size).toBe(25);
  });

  it('rejects a tampered cursor, and a cursor reused with another filter, with 400', async () => {
    const tenant = uniqueTenant('cursor');
    await post(tenant, { events: Array.from({ length: 3 }, (_, i) => ({ type: 'a', userId: 'u', occurredAt: at(i) })) });
    const page = await listUntil(tenant, '?limit=1', 1);
    const cursor: string = page.nextCursor;
    expect(cursor).toEqual(expect.any(String));
    const flip = (c: string | undefined) => (c === 'A' ? 'B' : 'A');
    const tampered = flip(cursor[0]) + cursor.slice(1);
    const edited = cursor.slice(0, 5) + flip(cursor[5]) + cursor.slice(6);
    expect(new Set([cursor, tampered, edited]).size).toBe(3);
    for (const bad of [tampered, edited]) {
      const res = await list(tenant, `?limit=1&cursor=${encodeURIComponent(bad)}`);
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('invalid_cursor');
    }
    const otherFilter = await list(tenant, `?limit=1&type=a&cursor=${encodeURIComponent(cursor)}`);
    expect(otherFilter.status).toBe(400);
    const good = await list(tenant, `?limit=1&cursor=${encodeURIComponent(cursor)}`);
    expect(good.status).toBe(200);
  });

  it('stores one event for the same idempotencyKey sent twice', async () => {
    const tenant = uniqueTenant('idem');
    const event = { type: 'order.placed', userId: 'bob', occurredAt: at(5), idempotencyKey: 'order-77' };
    const a = await post(tenant, event);
    const b = await post(tenant, { events: [event] });
    expect(a.status).toBe(202);
    expect(b.body.results[0].id).toBe(a.body.results[0].id);
    await listUntil(tenant, '', 1);
    // Give the second message time to be written too, then count the items in the table itself.
    await eventually(async () => {
      const stats = await stack.stats();
      const poller = Object.entries(stats.pollers).find(([id]) => id.includes('Writer'))?.[1];
      return poller && poller.succeededRecords >= 2 ? true : undefined;
    });
    expect(await tenantItems(stack, table, tenant)).toHaveLength(1);
  });

  it('shows another tenant nothing: no events, 404 for the id', async () => {
    const owner = uniqueTenant('owner');
    const other = uniqueTenant('other');
    const res = await post(owner, { type: 'secret.read', userId: 'carol' });
    const id = res.body.results[0].id;
    await listUntil(owner, '', 1);
    expect((await list(other)).body.events).toEqual([]);
    expect((await list(other, '?userId=carol')).body.events).toEqual([]);
    const cross = await request(stack.baseUrl, 'GET', `/v1/events/${id}`, { token: tokenFor(other) });
    expect(cross.status).toBe(404);
    expect(cross.text).not.toContain(owner);
  });

  it('answers 401 without a token and 403 without the route scope', async () => {
    const noToken = await request(stack.baseUrl, 'GET', '/v1/events');
    expect(noToken.status).toBe(401);
    expect(noToken.headers.get('www-authenticate')).toContain('Bearer');
    const readOnly = await request(stack.baseUrl, 'POST', '/v1/events', {
      token: tokenFor('acme', 'events:read'),
      body: { type: 'a', userId: 'u' },
    });
    expect(readOnly.status).toBe(403);
    const writeOnly = await request(stack.baseUrl, 'GET', '/v1/events', { token: tokenFor('acme', 'events:write') });
    expect(writeOnly.status).toBe(403);
  });

  it('answers whole-request errors with 400, 413 and 415 and a JSON error', async () => {
    const token = tokenFor('acme');
    const malformed = await request(stack.baseUrl, 'POST', '/v1/events', { token, rawBody: '{"type":' });
    expect(malformed.status).toBe(400);
    expect(malformed.body.error.code).toBe('invalid_json');
    const tooMany = await request(stack.baseUrl, 'POST', '/v1/events', {
      token,
      body: { events: Array.from({ length: 501 }, () => ({ type: 'a', userId: 'u' })) },
    });
    expect(tooMany.status).toBe(413);
    const tooBig = await request(stack.baseUrl, 'POST', '/v1/events', {
      token,
      rawBody: JSON.stringify({ type: 'a', userId: 'u', details: { s: 'x'.repeat(1024 * 1024) } }),
    });
    expect(tooBig.status).toBe(413);
    const notJson = await request(stack.baseUrl, 'POST', '/v1/events', {
      token,
      rawBody: 'type=a',
      contentType: 'application/x-www-form-urlencoded',
    });
    expect(notJson.status).toBe(415);
    expect(notJson.body.error.code).toBe('unsupported_media_type');
  });

  it('purges a soft-deleted event once the grace period is over, and keeps a younger one', async () => {
    const tenant = uniqueTenant('purge');
    const res = await post(tenant, {
      events: [
        { type: 'a', userId: 'u', occurredAt: at(1) },
        { type: 'a', userId: 'u', occurredAt: at(2) },
      ],
    });
    expect(res.body.accepted).toBe(2);
    await listUntil(tenant, '', 2);
    // Find both items and soft-delete them as the delete route does: one 31 days ago, one today.
    const keys = (await tenantItems(stack, table, tenant)).map((item) => ({ pk: item.pk?.S as string, sk: item.sk?.S as string }));
    expect(keys).toHaveLength(2);
    const deletedAt = [Date.now() - 31 * 86_400_000, Date.now()];
    for (const [i, key] of keys.entries()) {
      await stack.ddb.send(
        new UpdateItemCommand({
          TableName: table,
          Key: { pk: { S: key.pk }, sk: { S: key.sk } },
          UpdateExpression: 'SET d = :d, p = :p',
          ExpressionAttributeValues: { ':d': { N: String(deletedAt[i]) }, ':p': { S: `D#${key.pk.split('#')[1]}` } },
        }),
      );
    }
    expect((await list(tenant)).body.events).toEqual([]);

    const results = await stack.runSchedules();
    const cleanup = results.find((r) => r.error === undefined && r.result !== undefined);
    expect(cleanup?.result).toMatchObject({ more: false });
    expect((cleanup?.result as { purged: number } | undefined)?.purged).toBeGreaterThanOrEqual(1);
    const gone = await stack.ddb.send(new GetItemCommand({ TableName: table, Key: { pk: { S: keys[0]!.pk }, sk: { S: keys[0]!.sk } } }));
    expect(gone.Item).toBeUndefined();
    const kept = await stack.ddb.send(new GetItemCommand({ TableName: table, Key: { pk: { S: keys[1]!.pk }, sk: { S: keys[1]!.sk } } }));
    expect(kept.Item?.d?.N).toBe(String(deletedAt[1]));
  });
});
