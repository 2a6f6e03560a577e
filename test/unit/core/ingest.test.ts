import { ingest, type EventQueue } from '../../../lambdas/core/ingest';
import { decodeMessage, type QueueMessage } from '../../../lambdas/core/message';
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
    const out = await ingest(request({ events: [{ type: 'a', userId: 'u1' }, { type: 'BAD', userId: 'u1' }, { type: 'b', userId: 'u2' }] }), deps(queue));
    expect(out.accepted).toBe(2);
    expect(out.rejected).toBe(1);
    expect(out.results[0]).toHaveProperty('id');
    expect(out.results[1]).toEqual({ error: { code: 'type_invalid', message: expect.any(String) } });
    expect(out.results[2]).toHaveProperty('id');
    expect(queue.sent).toHaveLength(2);
  });

  it('fixes ids before enqueue: the public id resolves to the queued item, with tenant, shard and expiry', async () => {
    const queue = new FakeQueue();
    const out = await ingest(request({ type: 'login', userId: 'u1', occurredAt: '2026-11-21T10:00:00Z' }), deps(queue));
    const id = (out.results[0] as { id: string }).id;
    const { item, idempotent } = decodeMessage((queue.sent[0] as QueueMessage).body);
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
    expect(queue.sent).toHaveLength(2);
    expect(decodeMessage((queue.sent[0] as QueueMessage).body).idempotent).toBe(true);
    const otherTenant = await ingest(request(event, 'globex'), deps(queue));
    expect(otherTenant.results[0]).not.toEqual(first.results[0]);
  });

  it('reports an error, not an id, for an event that could not be enqueued', async () => {
    const queue = new FakeQueue();
    queue.failIds.add('1');
    const out = await ingest(request({ events: [{ type: 'a', userId: 'u' }, { type: 'b', userId: 'u' }] }), deps(queue));
    expect(out.results[0]).toHaveProperty('id');
    expect(out.results[1]).toEqual({ error: { code: 'enqueue_failed', message: expect.any(String) } });
    expect(out.accepted).toBe(1);
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
    for (const m of queue.sent) {
      const pk = decodeMessage(m.body).item.pk;
      counts.set(pk, (counts.get(pk) ?? 0) + 1);
    }
    expect([...counts.keys()].sort()).toEqual(['acme#0', 'acme#1', 'acme#2', 'acme#3']);
  });
});
