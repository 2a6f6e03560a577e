import { join } from 'node:path';
import { REPO_ROOT, startLocalStack, synthOnce, type LocalStack } from './harness';
import { eventually, request, uniqueTenant } from './http';
import { setFaults } from '../support/faults';

/**
 * The audit trail over the local stack: admin actions recorded as events with the actor and the
 * target, the reserved type prefix, and the erasure cutoff (events received after the request are
 * kept, also those still in the queue). Fast redelivery (visibility timeout 6 × 2 s) and the fault
 * proxy hold an event in the queue across an erasure request.
 */
const CONTEXT = { writerBatchSize: 10, writerBatchWindowSeconds: 0, writerTimeoutSeconds: 2, logLevel: 'ERROR' };

let stack: LocalStack;

beforeAll(async () => {
  const outDir = await synthOnce(join(REPO_ROOT, 'cdk.out.test', 'audit'), CONTEXT);
  stack = await startLocalStack({ outDir, env: { LOCAL_FAULTS: '1' } });
}, 180_000);

afterAll(async () => {
  await stack?.stop();
});

const ALL = 'events:write events:read events:delete events:erase';
const token = (tenant: string, sub = 'admin-1', scope = ALL) => stack.token({ tenant, scope, sub });
const call = (tenant: string, method: string, path: string, body?: unknown, sub?: string) =>
  request(stack.baseUrl, method, path, { token: token(tenant, sub), ...(body !== undefined && { body }) });
const post = (tenant: string, events: object[]) => call(tenant, 'POST', '/v1/events', { events });
type Event = { id: string; type: string; userId: string; target?: { type: string; id: string }; details?: Record<string, unknown> };
const listUntil = (tenant: string, query: string, done: (events: Event[]) => boolean, what: string) =>
  eventually(
    async () => {
      const res = await call(tenant, 'GET', `/v1/events${query}`);
      return res.status === 200 && done(res.body.events) ? (res.body.events as Event[]) : undefined;
    },
    30_000,
    what,
  );

describe('admin actions are audit records', () => {
  it('refuses client events with the reserved prefix (type_reserved), alone and in a batch', async () => {
    const tenant = uniqueTenant('rsv');
    const single = await call(tenant, 'POST', '/v1/events', { type: 'activity-tracker.event.deleted', userId: 'u' });
    expect(single.status).toBe(400);
    expect(single.body.error.code).toBe('type_reserved');
    const batch = await post(tenant, [
      { type: 'activity-tracker.x', userId: 'u' },
      { type: 'ok', userId: 'u' },
    ]);
    expect(batch.status).toBe(202);
    expect(batch.body.results[0].error.code).toBe('type_reserved');
    expect(batch.body.accepted).toBe(1);
  });

  it('records delete and restore with the actor, its client and the target, readable and not deletable', async () => {
    const tenant = uniqueTenant('aud');
    const id = (await post(tenant, [{ type: 'a', userId: 'u' }])).body.results[0].id;
    await listUntil(tenant, '', (e) => e.length === 1, 'the event');
    expect((await call(tenant, 'DELETE', `/v1/events/${id}`, undefined, 'alice-admin')).status).toBe(204);
    expect((await call(tenant, 'DELETE', `/v1/events/${id}`, undefined, 'alice-admin')).status).toBe(204); // recorded once
    expect((await call(tenant, 'POST', `/v1/events/${id}/restore`, undefined, 'bob-admin')).status).toBe(200);
    const events = await listUntil(tenant, '?order=asc', (e) => e.length === 3, 'the event and two audit records');
    const [deleted, restored] = events.filter((e) => e.type.startsWith('activity-tracker.'));
    expect(deleted).toMatchObject({
      type: 'activity-tracker.event.deleted',
      userId: 'alice-admin',
      target: { type: 'event', id },
      details: { clientId: 'local-client' },
    });
    expect(restored).toMatchObject({ type: 'activity-tracker.event.restored', userId: 'bob-admin', target: { type: 'event', id } });
    // Found by the actor like any user's history, and protected from the API.
    const byActor = await call(tenant, 'GET', '/v1/events?userId=alice-admin');
    expect(byActor.body.events.map((e: Event) => e.id)).toEqual([deleted?.id]);
    const refused = await call(tenant, 'DELETE', `/v1/events/${deleted?.id}`);
    expect(refused.status).toBe(403);
    expect(refused.body.error.code).toBe('audit_record_immutable');
    expect((await call(tenant, 'POST', `/v1/events/${deleted?.id}/restore`)).body.error.code).toBe('audit_record_immutable');
  });
});

describe('erasure cutoff', () => {
  afterEach(async () => {
    await setFaults(stack.baseUrl, []);
  });

  it('erases what was received up to the request (also from the queue) and keeps what came after; the record survives', async () => {
    const tenant = uniqueTenant('cut');
    // One event of the user is held in the queue: its writes fail until the request is in.
    await setFaults(stack.baseUrl, [{ kind: 'error', rate: 1, service: 'dynamodb', functions: ['Writer'], bodyIncludes: 'held-in-queue' }]);
    await post(tenant, [{ type: 'held-in-queue', userId: 'erin' }]);
    await post(tenant, [{ type: 'stored-before', userId: 'erin' }]);
    await listUntil(tenant, '?userId=erin', (e) => e.some((x) => x.type === 'stored-before'), 'the stored event');
    const receipt = await call(tenant, 'POST', '/v1/erasures', { userId: 'erin' }, 'dpo');
    expect(receipt.status).toBe(202);
    // After the request: new data, visible at once, while the erasure is still pending.
    await post(tenant, [{ type: 'sent-after', userId: 'erin' }]);
    await setFaults(stack.baseUrl, []);
    const after = await listUntil(tenant, '?userId=erin', (e) => e.some((x) => x.type === 'sent-after'), 'the later event');
    expect(after.map((e) => e.type)).toEqual(['sent-after']);

    // The cleanup completes it; the held event reaches the table only after redelivery (after the
    // queue's visibility timeout, which a slow run may already have waited out: then this pass erases
    // it too) and is hidden and swept.
    await stack.runSchedules();
    const completed = (await call(tenant, 'GET', `/v1/erasures/${receipt.body.id}`)).body;
    expect(completed.status).toBe('completed');
    expect([1, 2]).toContain(completed.erased);
    await eventually(
      async () => {
        await stack.runSchedules();
        const done = await call(tenant, 'GET', `/v1/erasures/${receipt.body.id}`);
        return done.body.erased === 2 ? true : undefined;
      },
      40_000,
      'the held event erased by a sweep',
    );
    const kept = await call(tenant, 'GET', '/v1/events?userId=erin');
    expect(kept.body.events.map((e: Event) => e.type)).toEqual(['sent-after']);

    // The trail: who asked, and the completion, under the receipt id; never the erased userId.
    const trail = await listUntil(
      tenant,
      '?order=asc',
      (e) => e.some((x) => x.type === 'activity-tracker.erasure.completed'),
      'the erasure records',
    );
    const records = trail.filter((e) => e.type.startsWith('activity-tracker.'));
    expect(records).toEqual([
      expect.objectContaining({
        type: 'activity-tracker.erasure.requested',
        userId: 'dpo',
        target: { type: 'erasure', id: receipt.body.id },
      }),
      expect.objectContaining({
        type: 'activity-tracker.erasure.completed',
        userId: 'activity-tracker',
        target: { type: 'erasure', id: receipt.body.id },
      }),
    ]);
    expect(JSON.stringify(records)).not.toContain('erin');
  }, 120_000);
});
