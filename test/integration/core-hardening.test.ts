import { join } from 'node:path';
import { functionJsonLines, REPO_ROOT, startLocalStack, synthOnce, type LocalStack } from './harness';
import { eventually, request, uniqueTenant } from './http';

/**
 * Issue 17 over real HTTP on the local stack: a deeply nested body is a per-event 400-class error,
 * never a 5xx; `from` not before `to` is 400 `invalid_query`; NFC and NFD spellings are one user; an
 * idempotency key replayed with another payload keeps the first and is reported (metric and log).
 */
type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

let stack: LocalStack;

beforeAll(async () => {
  const outDir = await synthOnce(join(REPO_ROOT, 'cdk.out.test', 'default'));
  stack = await startLocalStack({ outDir, env: { LOCAL_LOG_FORMAT: 'json' } });
}, 180_000);

afterAll(async () => {
  await stack?.stop();
});

const linesOf = (prefix: string): Json[] => functionJsonLines(stack.output(), prefix);

describe('core hardening on the local stack (issue 17)', () => {
  const tenant = uniqueTenant('core');
  const token = () => stack.token({ tenant, scope: 'events:write events:read events:erase' });

  it('answers a 20,000-level nested details with a per-event error and keeps the batch-mates; a top-level one with 400', async () => {
    const deep = `${'['.repeat(20_000)}${']'.repeat(20_000)}`;
    const batch = await request(stack.baseUrl, 'POST', '/v1/events', {
      token: token(),
      rawBody: `{"events":[{"type":"a.b","userId":"u","details":{"x":${deep}}},{"type":"a.b","userId":"u"}]}`,
    });
    expect(batch.status).toBe(202);
    expect(batch.body.results[0].error.code).toBe('details_too_deep');
    expect(batch.body.results[1].id).toEqual(expect.any(String));
    const single = await request(stack.baseUrl, 'POST', '/v1/events', {
      token: token(),
      rawBody: `{"type":"a.b","userId":"u","details":{"x":${deep}}}`,
    });
    expect(single.status).toBe(400);
    expect((await request(stack.baseUrl, 'POST', '/v1/events', { token: token(), rawBody: deep })).status).toBe(400);
    const huge = await request(stack.baseUrl, 'POST', '/v1/events', {
      token: token(),
      rawBody: '{"type":"a.b","userId":"u","details":{"n":1e400}}',
    });
    expect([huge.status, huge.body.error.code]).toEqual([400, 'number_invalid']);
  }, 60_000);

  it('answers from not before to with 400 invalid_query', async () => {
    const res = await request(stack.baseUrl, 'GET', '/v1/events?from=2026-11-21T10:00:00Z&to=2026-11-21T09:00:00Z', { token: token() });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('invalid_query');
    expect(res.body.error.message).toMatch(/'from'.*'to'/);
  });

  it('stores NFC: an NFC and an NFD spelling are one user for the userId filter', async () => {
    const nfc = 'Ren\u00e9e';
    const nfd = 'Rene\u0301e';
    const res = await request(stack.baseUrl, 'POST', '/v1/events', {
      token: token(),
      body: {
        events: [
          { type: 'nfc.test', userId: nfc },
          { type: 'nfc.test', userId: nfd },
        ],
      },
    });
    expect(res.body.accepted).toBe(2);
    const found = await eventually(async () => {
      const q = await request(stack.baseUrl, 'GET', `/v1/events?userId=${encodeURIComponent(nfd)}`, { token: token() });
      return q.body.events.length === 2 ? q.body.events : undefined;
    });
    expect(found.map((e: Json) => e.userId)).toEqual([nfc, nfc]);
  }, 60_000);

  it('keeps the first payload of an idempotency key replayed with another, and reports the conflict', async () => {
    const event = (amount: number) => ({
      type: 'billing.charge',
      userId: 'payer',
      occurredAt: '2026-01-01T00:00:00Z',
      idempotencyKey: 'charge-1',
      details: { amount },
    });
    const first = await request(stack.baseUrl, 'POST', '/v1/events', { token: token(), body: event(1) });
    expect(first.status).toBe(202);
    const id = first.body.results[0].id as string;
    await eventually(async () =>
      (await request(stack.baseUrl, 'GET', `/v1/events/${id}`, { token: token() })).status === 200 ? true : undefined,
    );
    const conflictsBefore = linesOf('FunctionsWriter').filter((l) => l.message?.startsWith('idempotency conflict')).length;

    const replay = await request(stack.baseUrl, 'POST', '/v1/events', { token: token(), body: event(999_999) });
    expect(replay.status).toBe(202);
    expect(replay.body.results[0].id).toBe(id);

    const warned = await eventually(
      async () => {
        const lines = linesOf('FunctionsWriter').filter((l) => l.message?.startsWith('idempotency conflict'));
        return lines.length > conflictsBefore ? lines[lines.length - 1] : undefined;
      },
      30_000,
      'the conflict log line',
    );
    expect(warned).toMatchObject({ level: 'WARN', tenant, id: expect.stringMatching(/^[0-9A-Z]{24}$/) });
    expect(JSON.stringify(warned)).not.toContain(id);
    expect(JSON.stringify(warned)).not.toContain('999999');
    const emf = linesOf('FunctionsWriter').filter((l) => l._aws?.CloudWatchMetrics && l.IdempotencyConflicts !== undefined);
    expect(emf.reduce((sum, d) => sum + Number(d.IdempotencyConflicts), 0)).toBeGreaterThanOrEqual(1);

    const stored = await request(stack.baseUrl, 'GET', `/v1/events/${id}`, { token: token() });
    expect(stored.body.details).toEqual({ amount: 1 });
    console.log(
      `idempotency conflict: same id ${replay.body.results[0].id === id}, stored amount ${stored.body.details.amount}, EMF IdempotencyConflicts ${emf.length}`,
    );
  }, 90_000);
});
