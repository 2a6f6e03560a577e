import { join } from 'node:path';
import { RETENTION_TTL_GRACE_DAYS } from '../../lambdas/core/cleanup';
import { REPO_ROOT, startLocalStack, storedEvent, synthOnce, tenantItems, type LocalStack } from './harness';
import { eventually, request, uniqueTenant } from './http';

/**
 * Soft delete, restore, erasure, retention and the scheduled cleanup, over real HTTP against the
 * local stack. The stack is synthesized with small cleanup chunks and one chunk of work per run,
 * so a single cleanup run is always "interrupted after its first chunk".
 */
const CONTEXT = { cleanupChunkSize: 10, cleanupMaxChunks: 1, retentionDays: 30, deleteGraceDays: 7 };
const DAY = 86_400_000;

let stack: LocalStack;
let table: string;

beforeAll(async () => {
  const outDir = await synthOnce(join(REPO_ROOT, 'cdk.out.test', 'lifecycle'), CONTEXT);
  stack = await startLocalStack({ outDir });
  table = Object.values(stack.tables)[0] as string;
}, 180_000);

afterAll(async () => {
  await stack?.stop();
});

const ALL = 'events:write events:read events:delete events:erase';
const token = (tenant: string, scope = ALL) => stack.token({ tenant, scope });
const post = (tenant: string, events: object[]) => request(stack.baseUrl, 'POST', '/v1/events', { token: token(tenant), body: { events } });
/** Admin actions are recorded in the trail (activity-tracker.*, test/integration/audit.test.ts); these tests count the rest. */
const isAudit = (type: unknown) => typeof type === 'string' && type.startsWith('activity-tracker.');
const list = async (tenant: string, query = '') => {
  const res = await request(stack.baseUrl, 'GET', `/v1/events${query}`, { token: token(tenant) });
  if (res.status === 200) res.body.events = res.body.events.filter((e: { type: string }) => !isAudit(e.type));
  return res;
};
const call = (tenant: string, method: string, path: string, body?: unknown, scope = ALL) =>
  request(stack.baseUrl, method, path, { token: token(tenant, scope), ...(body !== undefined && { body }) });
const listUntil = (tenant: string, query: string, count: number) =>
  eventually(
    async () => {
      const res = await list(tenant, query);
      return res.status === 200 && res.body.events.length === count ? res.body : undefined;
    },
    20_000,
    `${count} events for ${tenant}${query}`,
  );

type Report = Record<string, number | boolean>;
/** One run of every schedule (POST /_local/schedules/run); the cleanup's report. */
const cleanOnce = async (): Promise<Report> => {
  const results = await stack.runSchedules();
  const report = results.find((r) => r.result !== undefined)?.result as Report | undefined;
  expect(report).toBeDefined();
  return report!;
};
/** Runs the cleanup until it reports no more work; returns every run's report. */
const cleanUntilDone = async (maxRuns = 40) => {
  const reports: Report[] = [];
  for (let run = 0; run < maxRuns; run++) {
    const report = await cleanOnce();
    reports.push(report);
    if (!report.more) return reports;
  }
  throw new Error(`cleanup still had work after ${maxRuns} runs: ${JSON.stringify(reports.slice(-3))}`);
};
const itemsOf = async (tenant: string) =>
  (await tenantItems(stack, table, tenant)).filter((item) => !isAudit(storedEvent(item).type)).length;

describe('soft delete and restore', () => {
  it('deletes (204), hides at once (404), restores (200) and shows the event again', async () => {
    const tenant = uniqueTenant('del');
    const id = (await post(tenant, [{ type: 'a', userId: 'u' }])).body.results[0].id;
    await listUntil(tenant, '', 1);
    expect((await call(tenant, 'DELETE', `/v1/events/${id}`)).status).toBe(204);
    expect((await call(tenant, 'GET', `/v1/events/${id}`)).status).toBe(404);
    expect((await list(tenant)).body.events).toEqual([]);
    expect((await call(tenant, 'DELETE', `/v1/events/${id}`)).status).toBe(204); // a second delete is harmless
    const restored = await call(tenant, 'POST', `/v1/events/${id}/restore`);
    expect(restored.status).toBe(200);
    expect(restored.body).toMatchObject({ id, type: 'a', userId: 'u' });
    expect((await call(tenant, 'GET', `/v1/events/${id}`)).status).toBe(200);
    expect((await list(tenant)).body.events.map((e: { id: string }) => e.id)).toEqual([id]);
  });

  it('needs events:delete and events:erase (403 without them)', async () => {
    const tenant = uniqueTenant('scope');
    const id = (await post(tenant, [{ type: 'a', userId: 'u' }])).body.results[0].id;
    const readWrite = 'events:read events:write';
    expect((await call(tenant, 'DELETE', `/v1/events/${id}`, undefined, readWrite)).status).toBe(403);
    expect((await call(tenant, 'POST', `/v1/events/${id}/restore`, undefined, readWrite)).status).toBe(403);
    expect((await call(tenant, 'POST', '/v1/erasures', { userId: 'u' }, 'events:delete')).status).toBe(403);
    const receipt = await call(tenant, 'POST', '/v1/erasures', { userId: 'nobody' });
    expect((await call(tenant, 'GET', `/v1/erasures/${receipt.body.id}`, undefined, 'events:delete')).status).toBe(403);
  });

  it('lets no other tenant delete, restore or read a receipt (404)', async () => {
    const owner = uniqueTenant('own');
    const other = uniqueTenant('oth');
    const id = (await post(owner, [{ type: 'a', userId: 'u' }])).body.results[0].id;
    await listUntil(owner, '', 1);
    expect((await call(other, 'DELETE', `/v1/events/${id}`)).status).toBe(404);
    expect((await call(other, 'POST', `/v1/events/${id}/restore`)).status).toBe(404);
    const receipt = await call(owner, 'POST', '/v1/erasures', { userId: 'someone' });
    expect(receipt.status).toBe(202);
    expect((await call(other, 'GET', `/v1/erasures/${receipt.body.id}`)).status).toBe(404);
    expect((await call(owner, 'GET', `/v1/events/${id}`)).status).toBe(200);
  });
});

describe('erasure', () => {
  it('hides the user at once; the cleanup, cut short after each chunk, ends like an uninterrupted one with the right count', async () => {
    const tenant = uniqueTenant('gdpr');
    const namesakeTenant = uniqueTenant('twin');
    const res = await post(
      tenant,
      Array.from({ length: 30 }, (_, i) => ({ type: 'page.viewed', userId: i < 25 ? 'erin' : 'frank' })),
    );
    expect(res.body.accepted).toBe(30);
    await post(namesakeTenant, [{ type: 'page.viewed', userId: 'erin' }]);
    await listUntil(tenant, '?limit=100', 30);
    await listUntil(namesakeTenant, '', 1);

    const receipt = await call(tenant, 'POST', '/v1/erasures', { userId: 'erin' });
    expect(receipt.status).toBe(202);
    expect(receipt.body).toMatchObject({ id: expect.any(String), status: 'pending', erased: 0, requestedAt: expect.any(String) });
    expect(receipt.text).not.toContain('erin');
    // Hidden at once, before any cleanup ran.
    expect((await list(tenant, '?userId=erin')).body.events).toEqual([]);
    expect((await list(tenant, '?limit=100')).body.events.map((e: { userId: string }) => e.userId)).toEqual(Array(5).fill('frank'));
    // A second request while pending returns the same receipt.
    expect((await call(tenant, 'POST', '/v1/erasures', { userId: 'erin' })).body.id).toBe(receipt.body.id);

    // One run does one chunk of 10: cut short, the receipt shows progress, nothing is visible.
    expect(await cleanOnce()).toMatchObject({ more: true, erased: 10 });
    const midway = await call(tenant, 'GET', `/v1/erasures/${receipt.body.id}`);
    expect(midway.body).toMatchObject({ status: 'pending', erased: 10, completedAt: null });
    expect((await list(tenant, '?userId=erin')).body.events).toEqual([]);

    const reports = await cleanUntilDone();
    expect(reports.length).toBeGreaterThan(1);
    const done = await call(tenant, 'GET', `/v1/erasures/${receipt.body.id}`);
    expect(done.body).toMatchObject({ id: receipt.body.id, status: 'completed', erased: 25, completedAt: expect.any(String) });
    expect(await itemsOf(tenant)).toBe(5);
    expect((await list(tenant, '?limit=100')).body.events).toHaveLength(5);
    expect((await list(namesakeTenant, '?userId=erin')).body.events).toHaveLength(1);
  });
});

describe('retention (the clock moves; nothing sleeps)', () => {
  afterAll(async () => {
    await stack.setClockOffset(0);
  });

  it('hides events past retention at once, the cleanup purges them, and a soft delete is purged after the grace period', async () => {
    const tenant = uniqueTenant('ret');
    const res = await post(tenant, [
      { type: 'old', userId: 'u' },
      { type: 'old', userId: 'u' },
      { type: 'deleted', userId: 'u' },
    ]);
    const deletedId = res.body.results[2].id;
    await listUntil(tenant, '', 3);
    expect((await call(tenant, 'DELETE', `/v1/events/${deletedId}`)).status).toBe(204);

    await stack.setClockOffset(8 * DAY); // past the 7-day grace period
    expect((await call(tenant, 'POST', `/v1/events/${deletedId}/restore`)).status).toBe(404);
    await cleanUntilDone();
    expect(await itemsOf(tenant)).toBe(2);
    expect((await list(tenant)).body.events).toHaveLength(2);

    await stack.setClockOffset(31 * DAY); // past the 30-day retention
    expect((await list(tenant)).body.events).toEqual([]);
    expect(await itemsOf(tenant)).toBe(2); // hidden before any purge
    // TTL's turn first (free deletes): the cleanup leaves them for RETENTION_TTL_GRACE_DAYS.
    expect((await cleanUntilDone()).reduce((n, r) => n + (r.expired as number), 0)).toBe(0);
    expect(await itemsOf(tenant)).toBe(2);
    await stack.setClockOffset((31 + RETENTION_TTL_GRACE_DAYS) * DAY); // TTL has not deleted them: the cleanup does
    const reports = await cleanUntilDone();
    expect(reports.reduce((n, r) => n + (r.expired as number), 0)).toBeGreaterThanOrEqual(2);
    expect(await itemsOf(tenant)).toBe(0);
  });
});
