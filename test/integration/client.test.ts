import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createClient, EventRejectedError, type ActivityTrackerClient, type Event } from '../../client';
import { responseChecker } from '../support/openapi';
import { REPO_ROOT, startLocalStack, synthOnce, type LocalStack } from './harness';
import { eventually, uniqueTenant } from './http';

/** The typed client (client/) against the local stack, over real HTTP. */
let stack: LocalStack;

beforeAll(async () => {
  const outDir = await synthOnce(join(REPO_ROOT, 'cdk.out.test', 'default'));
  stack = await startLocalStack({ outDir });
}, 180_000);

afterAll(async () => {
  await stack?.stop();
});

const ALL = 'events:write events:read events:delete events:erase';

/** Real fetch, every response checked against openapi.yaml; `loseResponses` drops the first n POST answers after the server handled them. */
const checkedFetch = (loseResponses = 0): typeof fetch => {
  let lost = 0;
  return (async (input: string | URL | Request, init?: RequestInit) => {
    const res = await fetch(input, init);
    const text = await res.text();
    const url = new URL(String(input));
    const problems = responseChecker().check(init?.method ?? 'GET', url.pathname, res.status, res.headers, text);
    if (problems.length > 0) throw new Error(`response does not match openapi.yaml:\n${problems.join('\n')}`);
    if (init?.method === 'POST' && lost < loseResponses) {
      lost++;
      throw new TypeError('fetch failed: connection reset (simulated after the server answered)');
    }
    return new Response(text === '' ? null : text, { status: res.status, headers: res.headers });
  }) as typeof fetch;
};

const clientFor = (tenant: string, loseResponses = 0): ActivityTrackerClient =>
  createClient({
    baseUrl: stack.baseUrl,
    token: () => stack.token({ tenant, scope: ALL }),
    fetch: checkedFetch(loseResponses),
    batch: { flushIntervalMs: 50 },
    retry: { baseDelayMs: 10 },
  });

const waitForCount = (client: ActivityTrackerClient, userId: string, count: number) =>
  eventually(
    async () => {
      const events = await client.events.list({ userId }).all();
      return events.length === count ? events : undefined;
    },
    20_000,
    `${count} events of ${userId}`,
  );

describe('client against the local stack', () => {
  it('tracks events in batches, surfaces a per-event error, and reads them back page by page', async () => {
    const client = clientFor(uniqueTenant('client'));
    const tracked = Array.from({ length: 12 }, (_, i) => client.track({ type: 'page.viewed', userId: 'alice', details: { n: i } }));
    const bad = client.track({ type: 'Not Valid', userId: 'alice' });
    await client.flush();
    const ids = await Promise.all(tracked);
    expect(new Set(ids).size).toBe(12);
    await expect(bad).rejects.toBeInstanceOf(EventRejectedError);
    await expect(bad).rejects.toMatchObject({ code: 'type_invalid' });

    await waitForCount(client, 'alice', 12);
    const pages: number[] = [];
    const seen: Event[] = [];
    for await (const page of client.events.list({ userId: 'alice', limit: 5, order: 'asc' }).pages()) {
      pages.push(page.events.length);
      seen.push(...page.events);
    }
    expect(pages).toEqual([5, 5, 2]);
    // Events tracked in the same millisecond share occurredAt, so only the set is certain, not the order.
    expect(seen.map((e) => e.details?.n as number).sort((x, y) => x - y)).toEqual(Array.from({ length: 12 }, (_, i) => i));
    expect(new Set(seen.map((e) => e.id))).toEqual(new Set(ids));
    const filtered = await client.events.list({ details: { n: 3 } }).all();
    expect(filtered.map((e) => e.id)).toEqual([ids[3]]);
    await client.close();
  });

  it('retries a batch whose response was lost, and the idempotency keys keep it to one stored copy', async () => {
    const client = clientFor(uniqueTenant('client-retry'), 2);
    const ids = await Promise.all([
      client.track({ type: 'order.placed', userId: 'bob' }),
      client.track({ type: 'order.placed', userId: 'bob' }),
    ]);
    expect(new Set(ids).size).toBe(2);
    await waitForCount(client, 'bob', 2);
    // The writer has had time for all three copies of each event; still exactly two stored.
    await new Promise((r) => setTimeout(r, 1500));
    expect((await client.events.list({ userId: 'bob' }).all()).map((e) => e.id).sort()).toEqual([...ids].sort());
    await client.close();
  });

  it('gets, deletes, restores and erases', async () => {
    const tenant = uniqueTenant('client-life');
    const client = clientFor(tenant);
    const id = await client.track({ type: 'user.login', userId: 'carol', target: { type: 'app', id: 'web' } });
    const [stored] = await waitForCount(client, 'carol', 1);
    expect(stored).toMatchObject({ id, type: 'user.login', userId: 'carol', target: { type: 'app', id: 'web' } });
    expect((await client.events.get(id)).id).toBe(id);
    await client.events.delete(id);
    await expect(client.events.get(id)).rejects.toMatchObject({ status: 404, code: 'not_found' });
    expect((await client.events.restore(id)).id).toBe(id);

    const receipt = await client.erasures.create('carol');
    expect(receipt).toMatchObject({ status: 'pending', erased: 0, completedAt: null });
    expect(await client.events.list({ userId: 'carol' }).all()).toEqual([]);
    await stack.runSchedules();
    expect(await client.erasures.get(receipt.id)).toMatchObject({ id: receipt.id, status: 'completed', erased: 1 });
    await client.close();
  });

  it('runs examples/track.ts against local mode with a token from `npm run --silent token`', async () => {
    const result = await new Promise<{ code: number | null; out: string }>((done) => {
      const child = spawn(join(REPO_ROOT, 'node_modules', '.bin', 'tsx'), [join(REPO_ROOT, 'examples', 'track.ts')], {
        cwd: REPO_ROOT,
        env: { ...process.env, API_URL: stack.baseUrl, TENANT: uniqueTenant('example') },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      child.stdout.on('data', (c: Buffer) => (out += c.toString()));
      child.stderr.on('data', (c: Buffer) => (out += c.toString()));
      child.on('exit', (code) => done({ code, out }));
    });
    expect(result.out).toContain('tracked 3 events');
    expect(result.out).toContain('rejected as expected: type_invalid');
    expect(result.out).toMatch(/customer\.billed \{"amount":1200,"currency":"EUR"\}/);
    expect(result.code).toBe(0);
  }, 60_000);
});
