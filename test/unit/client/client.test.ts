import {
  ApiError,
  createClient,
  EventRejectedError,
  parseRetryAfter,
  queryString,
  type ClientOptions,
  type TrackEvent,
} from '../../../client';
import type { ClientEvent } from '../../../lambdas/core/envelope';

/** A scripted fetch: each call takes the next answer (a Response factory, or an error to throw). */
const fakeFetch = (script: ((body: any, call: number) => Response | Error)[]) => {
  const calls: { url: string; method: string; headers: Record<string, string>; body: any }[] = [];
  const fn = (async (url: string, init: RequestInit) => {
    const body = init.body === undefined ? undefined : JSON.parse(String(init.body));
    calls.push({ url, method: init.method ?? 'GET', headers: init.headers as Record<string, string>, body });
    const next = script[Math.min(calls.length - 1, script.length - 1)];
    if (!next) throw new Error('no answer scripted');
    const answer = next(body, calls.length - 1);
    if (answer instanceof Error) throw answer;
    return answer;
  }) as unknown as typeof fetch;
  return { fn, calls };
};

const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(body === undefined ? null : JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });
/** 202 with an id per event: `id-<idempotencyKey>`. */
const accept = (body: { events: TrackEvent[] }) =>
  json(202, { results: body.events.map((e) => ({ id: `id-${e.idempotencyKey}` })), accepted: body.events.length, rejected: 0 });
const unavailable = () => json(503, { error: { code: 'enqueue_failed', message: 'retry' } }, { 'retry-after': '1' });

let keyCounter = 0;
const setup = (script: Parameters<typeof fakeFetch>[0], options: Partial<ClientOptions> = {}) => {
  const fetch = fakeFetch(script);
  const sleeps: number[] = [];
  const client = createClient({
    baseUrl: 'https://api.example.com/prod/',
    token: async () => 'tok',
    fetch: fetch.fn,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    random: () => 0.5,
    now: () => new Date('2026-11-21T10:00:00.000Z'),
    newIdempotencyKey: () => `k${++keyCounter}`,
    ...options,
  });
  return { client, calls: fetch.calls, sleeps };
};
const ev = (i: number, extra: Partial<TrackEvent> = {}): TrackEvent => ({ type: 'page.viewed', userId: `u${i}`, ...extra });

beforeEach(() => {
  keyCounter = 0;
});

describe('client: track', () => {
  it('fills in occurredAt and an idempotencyKey, and keeps those the caller gave', async () => {
    const { client, calls } = setup([accept]);
    const a = client.track(ev(1));
    const b = client.track(ev(2, { occurredAt: '2026-01-01T00:00:00Z', idempotencyKey: 'mine' }));
    await client.flush();
    expect(await a).toBe('id-k1');
    expect(await b).toBe('id-mine');
    expect(calls[0]!.body.events).toEqual([
      { type: 'page.viewed', userId: 'u1', occurredAt: '2026-11-21T10:00:00.000Z', idempotencyKey: 'k1' },
      { type: 'page.viewed', userId: 'u2', occurredAt: '2026-01-01T00:00:00Z', idempotencyKey: 'mine' },
    ]);
    expect(calls[0]).toMatchObject({
      url: 'https://api.example.com/prod/v1/events',
      method: 'POST',
      headers: { authorization: 'Bearer tok', 'content-type': 'application/json' },
    });
  });

  it('sends a batch as soon as it holds maxEvents events', async () => {
    const { client, calls } = setup([accept], { batch: { maxEvents: 3, flushIntervalMs: 60_000 } });
    const ids = Array.from({ length: 7 }, (_, i) => client.track(ev(i)));
    await new Promise((r) => setImmediate(r));
    expect(calls.map((c) => c.body.events.length)).toEqual([3, 3]);
    await client.flush();
    expect(calls.map((c) => c.body.events.length)).toEqual([3, 3, 1]);
    expect(await Promise.all(ids)).toEqual(Array.from({ length: 7 }, (_, i) => `id-k${i + 1}`));
  });

  it('never sends more than 500 events or maxBytes bytes in one request', async () => {
    const { client, calls } = setup([accept], { batch: { maxEvents: 10_000, maxBytes: 4096, flushIntervalMs: 60_000 } });
    const big = 'x'.repeat(900);
    const all = Array.from({ length: 20 }, (_, i) => client.track(ev(i, { details: { big } })));
    const many = Array.from({ length: 1200 }, (_, i) => client.track(ev(i)));
    await client.flush();
    await Promise.all([...all, ...many]);
    for (const call of calls) {
      expect(call.body.events.length).toBeLessThanOrEqual(500);
      expect(new TextEncoder().encode(JSON.stringify(call.body)).length).toBeLessThanOrEqual(4096);
    }
    expect(calls.reduce((n, c) => n + c.body.events.length, 0)).toBe(1220);
    expect(calls[0]!.body.events).toHaveLength(4);

    const { client: byCount, calls: countCalls } = setup([accept], { batch: { maxEvents: 10_000, flushIntervalMs: 60_000 } });
    const ids = Array.from({ length: 1200 }, (_, i) => byCount.track(ev(i)));
    await byCount.flush();
    await Promise.all(ids);
    expect(countCalls.map((c) => c.body.events.length)).toEqual([500, 500, 200]);
  });

  it('rejects at once an event too large for any request', async () => {
    const onError = jest.fn();
    const { client, calls } = setup([accept], { batch: { maxBytes: 2048 }, onError });
    await expect(client.track(ev(1, { details: { big: 'x'.repeat(3000) } }))).rejects.toMatchObject({
      name: 'EventRejectedError',
      code: 'event_too_large',
    });
    expect(onError).toHaveBeenCalledTimes(1);
    await client.flush();
    expect(calls).toHaveLength(0);
  });

  it('sends what is buffered after flushIntervalMs without a flush()', async () => {
    const { client, calls } = setup([accept], { batch: { flushIntervalMs: 20 } });
    const ids = [client.track(ev(1)), client.track(ev(2))];
    expect(calls).toHaveLength(0);
    expect(await Promise.all(ids)).toEqual(['id-k1', 'id-k2']);
    expect(calls).toHaveLength(1);
    expect(calls[0]!.body.events).toHaveLength(2);
  });

  it('retries 503 and network errors with the same body, so the idempotency keys never change', async () => {
    const { client, calls, sleeps } = setup([
      unavailable,
      () => new TypeError('fetch failed'),
      () => json(500, { error: { code: 'internal_error', message: 'x' } }),
      accept,
    ]);
    const id = client.track(ev(1));
    await client.flush();
    expect(await id).toBe('id-k1');
    expect(calls).toHaveLength(4);
    for (const call of calls) expect(call.body).toEqual(calls[0]!.body);
    // Retry-After: 1 → 1000 ms; then full jitter with random 0.5: 0.5 × 200 × 2^1, 0.5 × 200 × 2^2.
    expect(sleeps).toEqual([1000, 200, 400]);
  });

  it('honours Retry-After on 429, in seconds or as an HTTP date, capped by maxRetryAfterMs', async () => {
    const { client, sleeps } = setup(
      [
        () => json(429, { error: { code: 'rate_limited', message: 'slow down' } }, { 'retry-after': '3' }),
        () => json(429, { error: { code: 'throttled', message: 'slow down' } }, { 'retry-after': 'Sat, 21 Nov 2026 10:00:05 GMT' }),
        () => json(429, { error: { code: 'throttled', message: 'slow down' } }, { 'retry-after': '3600' }),
        accept,
      ],
      { retry: { maxRetryAfterMs: 10_000 } },
    );
    const id = client.track(ev(1));
    await client.flush();
    await id;
    expect(sleeps).toEqual([3000, 5000, 10_000]);
    expect(parseRetryAfter('soon', 0)).toBeUndefined();
  });

  it('gives up after maxAttempts and rejects every event of the batch with the last error', async () => {
    const onError = jest.fn();
    const { client, calls } = setup([unavailable], { retry: { maxAttempts: 3 }, onError });
    const ids = [client.track(ev(1)), client.track(ev(2))];
    await client.flush();
    for (const id of ids) await expect(id).rejects.toMatchObject({ name: 'ApiError', status: 503, code: 'enqueue_failed' });
    expect(calls).toHaveLength(3);
    expect(onError).toHaveBeenCalledTimes(2);
  });

  it('does not retry 400, 401, 403 or 413', async () => {
    for (const status of [400, 401, 403, 413]) {
      const { client, calls } = setup([() => json(status, { error: { code: `c${status}`, message: 'no' } })]);
      const id = client.track(ev(1));
      await client.flush();
      await expect(id).rejects.toBeInstanceOf(ApiError);
      expect(calls).toHaveLength(1);
    }
  });

  it("surfaces per-event errors to that event's caller and keeps the others", async () => {
    const onError = jest.fn();
    const { client } = setup(
      [
        (_body) =>
          json(202, { results: [{ id: 'a' }, { error: { code: 'type_invalid', message: 'bad type' } }], accepted: 1, rejected: 1 }),
      ],
      { onError },
    );
    const good = client.track(ev(1));
    const bad = client.track({ type: 'Bad', userId: 'u' });
    await client.flush();
    expect(await good).toBe('a');
    const error: EventRejectedError = await bad.catch((e) => e);
    expect(error).toBeInstanceOf(EventRejectedError);
    expect(error.code).toBe('type_invalid');
    expect(error.event).toMatchObject({ type: 'Bad', idempotencyKey: 'k2' });
    expect(onError).toHaveBeenCalledWith(error, expect.objectContaining({ type: 'Bad' }));
  });

  it('sends again, alone and with the same key, an event the API could not queue', async () => {
    const { client, calls } = setup([
      (_body) =>
        json(202, { results: [{ id: 'a' }, { error: { code: 'enqueue_failed', message: 'retry it' } }], accepted: 1, rejected: 1 }),
      accept,
    ]);
    const ids = [client.track(ev(1)), client.track(ev(2))];
    await client.flush();
    expect(await Promise.all(ids)).toEqual(['a', 'id-k2']);
    expect(calls[1]!.body.events).toEqual([calls[0]!.body.events[1]]);
  });

  it('close() flushes, then refuses new events', async () => {
    const { client, calls } = setup([accept], { batch: { flushIntervalMs: 60_000 } });
    const id = client.track(ev(1));
    await client.close();
    expect(await id).toBe('id-k1');
    expect(calls).toHaveLength(1);
    await expect(client.track(ev(2))).rejects.toThrow('closed');
  });

  it('with flushOnExit, sends what is buffered when the process is about to exit', async () => {
    const { client, calls } = setup([accept], { batch: { flushIntervalMs: 60_000 }, flushOnExit: true });
    const id = client.track(ev(1));
    process.emit('beforeExit', 0);
    expect(await id).toBe('id-k1');
    expect(calls).toHaveLength(1);
    await client.close();
    expect(process.listeners('beforeExit')).toHaveLength(0);
  });

  it('generates a distinct random key per event by default, the same one on every retry', async () => {
    const { client, calls } = setup([unavailable, accept], { newIdempotencyKey: undefined });
    const ids = [client.track(ev(1)), client.track(ev(2))];
    await client.flush();
    await Promise.all(ids);
    const [first, second] = calls[0]!.body.events.map((e: TrackEvent) => e.idempotencyKey);
    expect(first).toMatch(/^[0-9a-f-]{32,36}$/);
    expect(first).not.toBe(second);
    expect(calls[1]!.body).toEqual(calls[0]!.body);
  });

  it('asks the token provider for every request', async () => {
    let n = 0;
    const { client, calls } = setup([unavailable, accept], { token: () => `t${++n}` });
    const id = client.track(ev(1));
    await client.flush();
    await id;
    expect(calls.map((c) => c.headers.authorization)).toEqual(['Bearer t1', 'Bearer t2']);
  });
});

describe('client: reads, lifecycle, erasures', () => {
  it('lists every event across pages, and the pages themselves', async () => {
    const page = (ids: string[], nextCursor: string | null) => () => json(200, { events: ids.map((id) => ({ id })), nextCursor });
    const { client, calls } = setup([page(['a', 'b'], 'c1'), page(['c'], 'c2'), page([], null)]);
    const ids: string[] = [];
    for await (const event of client.events.list({
      userId: 'u 1',
      details: { currency: 'EUR', amount: 12 },
      limit: 2,
      from: new Date('2026-01-01T00:00:00Z'),
    }))
      ids.push(event.id);
    expect(ids).toEqual(['a', 'b', 'c']);
    expect(calls.map((c) => c.url)).toEqual([
      'https://api.example.com/prod/v1/events?userId=u+1&from=2026-01-01T00%3A00%3A00.000Z&limit=2&details.currency=EUR&details.amount=12',
      'https://api.example.com/prod/v1/events?userId=u+1&from=2026-01-01T00%3A00%3A00.000Z&limit=2&cursor=c1&details.currency=EUR&details.amount=12',
      'https://api.example.com/prod/v1/events?userId=u+1&from=2026-01-01T00%3A00%3A00.000Z&limit=2&cursor=c2&details.currency=EUR&details.amount=12',
    ]);
    const { client: c2 } = setup([page(['a'], 'c1'), page(['b'], null)]);
    const sizes: number[] = [];
    for await (const p of c2.events.list().pages()) sizes.push(p.events.length);
    expect(sizes).toEqual([1, 1]);
    expect(queryString({})).toBe('');
  });

  it('reads stats with the query it is given', async () => {
    const body = { from: 'a', to: 'b', interval: 'day', groupBy: 'type', total: 3, groups: [{ key: 't', count: 3 }], buckets: [] };
    const { client, calls } = setup([() => json(200, body)]);
    expect(
      await client.stats({
        from: '2026-11-01T00:00:00Z',
        to: '2026-12-01T00:00:00Z',
        interval: 'day',
        groupBy: 'type',
        userId: 'u 1',
        limit: 5,
      }),
    ).toEqual(body);
    expect(calls[0]!.url.replace('https://api.example.com/prod', '')).toBe(
      '/v1/stats?from=2026-11-01T00%3A00%3A00Z&to=2026-12-01T00%3A00%3A00Z&interval=day&groupBy=type&userId=u+1&limit=5',
    );
  });

  it('gets, deletes and restores events, and creates and reads erasures', async () => {
    const { client, calls } = setup([
      () => json(200, { id: 'e/1' }),
      () => new Response(null, { status: 204 }),
      () => json(200, { id: 'e/1' }),
      () => json(202, { id: 'r1', status: 'pending', erased: 0, requestedAt: 'x', completedAt: null }),
      () => json(200, { id: 'r1', status: 'completed', erased: 3, requestedAt: 'x', completedAt: 'y' }),
    ]);
    expect(await client.events.get('e/1')).toEqual({ id: 'e/1' });
    expect(await client.events.delete('e/1')).toBeUndefined();
    expect(await client.events.restore('e/1')).toEqual({ id: 'e/1' });
    expect((await client.erasures.create('u-7')).status).toBe('pending');
    expect((await client.erasures.get('r1')).erased).toBe(3);
    expect(calls.map((c) => `${c.method} ${c.url.replace('https://api.example.com/prod', '')}`)).toEqual([
      'GET /v1/events/e%2F1',
      'DELETE /v1/events/e%2F1',
      'POST /v1/events/e%2F1/restore',
      'POST /v1/erasures',
      'GET /v1/erasures/r1',
    ]);
    expect(calls[3]!.body).toEqual({ userId: 'u-7' });
  });

  it('turns an error answer into an ApiError with the code and status', async () => {
    const { client } = setup([() => json(404, { error: { code: 'not_found', message: 'event not found' } })]);
    await expect(client.events.get('x')).rejects.toMatchObject({ status: 404, code: 'not_found', message: 'event not found' });
  });
});

// The client's event type and the server's stay the same shape (a compile-time check).
const toServer = (e: TrackEvent): ClientEvent => e;
const toClient = (e: ClientEvent): TrackEvent => e;
void toServer;
void toClient;
