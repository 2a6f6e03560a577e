import { createRateLimiter, type RateCounter } from '../../../lambdas/core/rate-limit';
import { MemoryTable, RecordingQueue, testKeyring } from '../../support/fakes';
import { configureHandlerEnv, fakeAuthenticate, lambdaContext, proxyEvent } from '../../support/handler-env';

configureHandlerEnv({ POWERTOOLS_METRICS_NAMESPACE: 'Test', POWERTOOLS_DEV: 'true', POWERTOOLS_LOG_LEVEL: 'SILENT' });

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { createIngestHandler } = require('../../../lambdas/handlers/ingest') as typeof import('../../../lambdas/handlers/ingest');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { createQueryHandler } = require('../../../lambdas/handlers/query') as typeof import('../../../lambdas/handlers/query');

/** A shared counter per tenant and second, as the DynamoDB adapter keeps it. */
const memoryCounter = (): RateCounter & { counts: Map<string, { requests: number; events: number }> } => {
  const counts = new Map<string, { requests: number; events: number }>();
  return {
    counts,
    take: async (tenant, second, take, limits) => {
      const c = counts.get(`${tenant}/${second}`) ?? { requests: 0, events: 0 };
      const next = { requests: c.requests + (take.requests ?? 0), events: c.events + (take.events ?? 0) };
      if (next.requests > limits.requestsPerSecond || next.events > limits.eventsPerSecond) return false;
      counts.set(`${tenant}/${second}`, next);
      return true;
    },
  };
};

const NOW = Date.parse('2026-12-01T10:00:00.250Z');
const keyring = testKeyring();
const context = lambdaContext();

const setup = (limits = { requestsPerSecond: 3, eventsPerSecond: 10 }) => {
  const counter = memoryCounter();
  const admit = createRateLimiter({ counter, limits: () => limits, now: () => NOW });
  const queue = new RecordingQueue();
  const ingest = createIngestHandler({
    authenticate: fakeAuthenticate,
    queue,
    keyring: async () => keyring,
    shardCount: 2,
    retentionDays: () => 30,
    admit,
  });
  const query = createQueryHandler({
    authenticate: fakeAuthenticate,
    store: new MemoryTable(),
    keyring: async () => keyring,
    shardCount: 2,
    admit,
  });
  const post = (tenant: string, events: number) =>
    ingest(
      proxyEvent({
        httpMethod: 'POST',
        headers: { authorization: `Bearer ${tenant} events:write`, 'content-type': 'application/json' },
        body: JSON.stringify({ events: Array.from({ length: events }, (_, i) => ({ type: 'a', userId: `u${i}` })) }),
      }),
      context,
    );
  const get = (tenant: string) => query(proxyEvent({ headers: { authorization: `Bearer ${tenant} events:read` } }), context);
  return { counter, queue, post, get };
};

describe('handlers under the per-tenant rate limit', () => {
  it('answers 429 rate_limited with an integer Retry-After once a tenant exceeds its requests per second', async () => {
    const { post, get } = setup();
    expect((await post('acme', 1)).statusCode).toBe(202);
    expect((await get('acme')).statusCode).toBe(200);
    expect((await post('acme', 1)).statusCode).toBe(202);
    const refused = await get('acme');
    expect(refused.statusCode).toBe(429);
    expect(refused.headers?.['retry-after']).toBe('1');
    expect(JSON.parse(refused.body)).toEqual({
      error: { code: 'rate_limited', message: 'more than 3 requests per second for this tenant; retry after 1 s' },
    });
    // Another tenant is not affected.
    expect((await get('globex')).statusCode).toBe(200);
  });

  it('counts events on ingest, and enqueues nothing for a refused request', async () => {
    const { post, queue } = setup({ requestsPerSecond: 100, eventsPerSecond: 10 });
    expect((await post('acme', 8)).statusCode).toBe(202);
    const sent = queue.sent.length;
    const refused = await post('acme', 3);
    expect([refused.statusCode, JSON.parse(refused.body).error.code]).toEqual([429, 'rate_limited']);
    expect(JSON.parse(refused.body).error.message).toContain('10 events per second');
    expect(queue.sent.length).toBe(sent);
    expect((await post('acme', 2)).statusCode).toBe(202);
  });

  it('counts a request whose body is refused before any event is read', async () => {
    const { post } = setup({ requestsPerSecond: 2, eventsPerSecond: 10 });
    // Two malformed bodies (400) use up the tenant's two requests: junk is not free.
    expect((await post('acme', 0)).statusCode).toBe(400);
    expect((await post('acme', 0)).statusCode).toBe(400);
    expect((await post('acme', 1)).statusCode).toBe(429);
  });
});
