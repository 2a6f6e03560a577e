import { ingest, type EventQueue } from '../../../lambdas/core/ingest';
import { decodeMessage, MESSAGE_BUDGET_BYTES, type MessageEntry, type QueueMessage } from '../../../lambdas/core/message';
import { decodePublicId } from '../../../lambdas/core/public-id';
import { testKeyring } from '../../support/fakes';

const NOW = Date.parse('2026-11-21T12:00:00Z');

class FakeQueue implements EventQueue {
  sent: QueueMessage[] = [];
  failIds = new Set<string>();
  failAll = false;
  async send(messages: readonly QueueMessage[]): Promise<ReadonlySet<string>> {
    if (this.failAll) return new Set(messages.map((m) => m.id));
    const failed = new Set(messages.filter((m) => this.failIds.has(m.id)).map((m) => m.id));
    this.sent.push(...messages.filter((m) => !failed.has(m.id)));
    return failed;
  }
  /** The events of every message sent, in order. */
  get entries(): MessageEntry[] {
    return this.sent.flatMap((m) => decodeMessage(m.body));
  }
}

const keyring = testKeyring();
const deps = (queue: FakeQueue) => ({ queue, keyring, shardCount: 4, retentionDays: () => 30, now: () => NOW });
const request = (body: unknown, tenant = 'acme') => ({
  tenant,
  body: JSON.stringify(body),
  contentType: 'application/json',
  source: { ip: '203.0.113.9', userAgent: 'curl/8' },
});

describe('ingest', () => {
  it('answers per event in request order and enqueues only the valid ones', async () => {
    const queue = new FakeQueue();
    const out = await ingest(
      request({
        events: [
          { type: 'a', userId: 'u1' },
          { type: 'BAD', userId: 'u1' },
          { type: 'b', userId: 'u2' },
        ],
      }),
      deps(queue),
    );
    expect(out.accepted).toBe(2);
    expect(out.rejected).toBe(1);
    expect(out.results[0]).toHaveProperty('id');
    expect(out.results[1]).toEqual({ error: { code: 'type_invalid', message: expect.any(String) } });
    expect(out.results[2]).toHaveProperty('id');
    expect(queue.entries.map((e) => JSON.parse(e.item.e).type)).toEqual(['a', 'b']);
  });

  it("packs a request's events, in order, into as few messages as fit one 64 KB billing chunk", async () => {
    const queue = new FakeQueue();
    const events = Array.from({ length: 120 }, (_, n) => ({ type: 'a', userId: `u${n}`, details: { blob: 'x'.repeat(900) } }));
    const out = await ingest({ ...request({ events }), correlationId: 'req-1' }, deps(queue));
    expect(out.accepted).toBe(120);
    for (const m of queue.sent)
      expect(m.body.length + 'correlationId'.length + 'String'.length + 'req-1'.length).toBeLessThanOrEqual(MESSAGE_BUDGET_BYTES);
    // ~1.1 KB per event: ≥ 50 fit one message, so 120 events need 3 messages, not 120.
    expect(queue.sent).toHaveLength(3);
    expect(queue.entries.map((e) => JSON.parse(e.item.e).userId)).toEqual(events.map((e) => e.userId));
    expect(queue.sent.every((m) => m.correlationId === 'req-1')).toBe(true);
  });

  it('fixes ids before enqueue: the public id resolves to the queued item, with tenant, shard and expiry', async () => {
    const queue = new FakeQueue();
    const out = await ingest(request({ type: 'login', userId: 'u1', occurredAt: '2026-11-21T10:00:00Z' }), deps(queue));
    const id = (out.results[0] as { id: string }).id;
    const { item, idempotent } = queue.entries[0] as MessageEntry;
    const ref = decodePublicId(keyring, 'acme', id);
    expect(ref).toBeDefined();
    expect(item.pk).toBe(`acme#${ref?.shard}`);
    expect(item.sk).toBe(ref?.internalId);
    expect(item.x).toBe(Math.floor(NOW / 1000) + 30 * 86400);
    expect(idempotent).toBe(false);
    expect(JSON.parse(item.e)).toEqual({
      type: 'login',
      userId: 'u1',
      occurredAt: '2026-11-21T10:00:00Z',
      receivedAt: '2026-11-21T12:00:00.000Z',
      source: { ip: '203.0.113.9', userAgent: 'curl/8' },
    });
  });

  it('gives the same idempotencyKey the same id, across requests, and enqueues one copy per request', async () => {
    const queue = new FakeQueue();
    const event = { type: 'a', userId: 'u1', occurredAt: '2026-11-21T10:00:00Z', idempotencyKey: 'abc' };
    const first = await ingest(request({ events: [event, event] }), deps(queue));
    const second = await ingest(request(event), deps(queue));
    expect(first.results[0]).toEqual(first.results[1]);
    expect(second.results[0]).toEqual(first.results[0]);
    expect(queue.entries).toHaveLength(2);
    expect((queue.entries[0] as MessageEntry).idempotent).toBe(true);
    const otherTenant = await ingest(request(event, 'globex'), deps(queue));
    expect(otherTenant.results[0]).not.toEqual(first.results[0]);
  });

  it('reports an error, not an id, for each event of a message that could not be enqueued', async () => {
    const queue = new FakeQueue();
    queue.failIds.add('1');
    // 25 KB events: two share the first message, the third travels in the second.
    const event = (type: string) => ({ type, userId: 'u', details: { blob: 'x'.repeat(25 * 1024) } });
    const out = await ingest(request({ events: [event('a'), event('b'), event('c')] }), deps(queue));
    expect(out.results[0]).toHaveProperty('id');
    expect(out.results[1]).toHaveProperty('id');
    expect(out.results[2]).toEqual({ error: { code: 'enqueue_failed', message: expect.any(String) } });
    expect(out.accepted).toBe(2);
    expect(queue.entries.map((e) => JSON.parse(e.item.e).type)).toEqual(['a', 'b']);
  });

  it('fails the whole request with 503 when nothing could be enqueued', async () => {
    const queue = new FakeQueue();
    queue.failAll = true;
    await expect(ingest(request({ type: 'a', userId: 'u' }), deps(queue))).rejects.toMatchObject({ status: 503 });
  });

  it('answers a single invalid event with 400 and its code', async () => {
    await expect(ingest(request({ type: 'a' }), deps(new FakeQueue()))).rejects.toMatchObject({ status: 400, code: 'userId_required' });
  });

  it('rejects an event above 32 KiB and keeps its neighbours', async () => {
    const queue = new FakeQueue();
    const big = { type: 'a', userId: 'u', details: { blob: 'x'.repeat(33 * 1024) } };
    const out = await ingest(request({ events: [big, { type: 'a', userId: 'u' }] }), deps(queue));
    expect(out.results[0]).toEqual({ error: { code: 'event_too_large', message: expect.any(String) } });
    expect(out.results[1]).toHaveProperty('id');
  });

  it('spreads events over the shards', async () => {
    const queue = new FakeQueue();
    await ingest(request({ events: Array.from({ length: 400 }, () => ({ type: 'a', userId: 'u' })) }), deps(queue));
    const counts = new Map<string, number>();
    for (const { item } of queue.entries) {
      const pk = item.pk;
      counts.set(pk, (counts.get(pk) ?? 0) + 1);
    }
    expect([...counts.keys()].sort()).toEqual(['acme#0', 'acme#1', 'acme#2', 'acme#3']);
  });
});
