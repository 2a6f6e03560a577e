import { join } from 'node:path';
import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { REPO_ROOT, startLocalStack, synthOnce, type LocalStack } from './harness';
import { eventually, request, uniqueTenant } from './http';
import { setFaults } from '../support/faults';
import { recount } from '../../scripts/stats-recount';
import { RETENTION_TTL_GRACE_DAYS } from '../../lambdas/core/cleanup';
import { COUNTER_GRACE_DAYS, COUNTER_RELEASE_DAYS, MONTH_GRACE_DAYS, userDigest } from '../../lambdas/core/stats-counters';

/**
 * GET /v1/stats over real HTTP against the local stack: events go ingest → queue → writer → table,
 * the local runtime turns the table's writes into stream records and drives the stats consumer
 * from its event source mapping, and the route answers from the counters.
 */
const CONTEXT = {
  writerBatchSize: 10,
  writerBatchWindowSeconds: 0,
  retentionDays: 30,
  deleteGraceDays: 7,
  logLevel: 'ERROR',
  tenantRequestsPerSecond: 10_000,
  tenantEventsPerSecond: 1_000_000,
};
const DAY = 86_400_000;
const ALL = 'events:write events:read events:delete events:erase';

let stack: LocalStack;

beforeAll(async () => {
  const outDir = await synthOnce(join(REPO_ROOT, 'cdk.out.test', 'stats'), CONTEXT);
  stack = await startLocalStack({ outDir, env: { LOCAL_FAULTS: '1' } });
}, 180_000);

afterAll(async () => {
  // The figure docs/performance.md quotes: write → counted, over every record of this suite.
  if (stack) {
    const metrics = (await (await fetch(`${stack.baseUrl}/_local/metrics`)).json()) as { streams: { mapping: string; lag: unknown }[] };
    console.log(`stream lag: ${JSON.stringify(metrics.streams.map((s) => ({ mapping: s.mapping, ...(s.lag as object) })))}`);
  }
  await stack?.stop();
});

const call = (tenant: string, method: string, path: string, body?: unknown, scope = ALL) =>
  request(stack.baseUrl, method, path, { token: stack.token({ tenant, scope }), ...(body !== undefined && { body }) });
const stats = (tenant: string, query: string) => call(tenant, 'GET', `/v1/stats?${query}`);
/** Polls the stats until `check` accepts the body. */
const statsUntil = (tenant: string, query: string, check: (body: { total: number; [k: string]: unknown }) => boolean, timeoutMs = 30_000) =>
  eventually(
    async () => {
      const res = await stats(tenant, query);
      expect(res.status).toBe(200);
      return check(res.body) ? res.body : undefined;
    },
    timeoutMs,
    `stats ${query} for ${tenant}`,
  );

const day0 = Math.floor(Date.now() / DAY) * DAY - 4 * DAY;
const at = (days: number, hours = 1) => new Date(day0 + days * DAY + hours * 3_600_000).toISOString();
const iso = (ms: number) => new Date(ms).toISOString();
const range = `from=${iso(day0)}&to=${iso(day0 + 4 * DAY)}`;

/** Every counter item of a tenant, straight from the counters table. */
const counterItems = async (tenant: string) => {
  const table = Object.entries(stack.tables).find(([id]) => id.startsWith('StatsCounters'))![1];
  const out = await stack.ddb.send(
    new ScanCommand({
      TableName: table,
      FilterExpression: 'begins_with(pk, :t)',
      ExpressionAttributeValues: { ':t': { S: `${tenant}#` } },
    }),
  );
  return (out.Items ?? []).map((i) => unmarshall(i));
};

const send = async (tenant: string, events: object[]) => {
  const res = await call(tenant, 'POST', '/v1/events', { events });
  expect(res.status).toBe(202);
  expect(res.body.rejected).toBe(0);
  return (res.body.results as { id: string }[]).map((r) => r.id);
};

describe('GET /v1/stats', () => {
  const tenant = uniqueTenant('stats');
  const other = uniqueTenant('stats-other');
  let loginIds: string[] = [];

  beforeAll(async () => {
    loginIds = await send(tenant, [
      ...Array.from({ length: 5 }, (_, i) => ({ type: 'user.login', userId: `u${i % 2}`, occurredAt: at(0) })),
      ...Array.from({ length: 3 }, () => ({ type: 'page.view', userId: 'u0', occurredAt: at(1) })),
      ...Array.from({ length: 3 }, () => ({
        type: 'invoice.paid',
        userId: 'u1',
        occurredAt: at(0, 5),
        target: { type: 'invoice', id: 'i' },
      })),
      ...Array.from({ length: 2 }, () => ({ type: 'page.view', userId: 'u1', occurredAt: at(2), target: { type: 'page', id: 'p' } })),
    ]);
    await send(other, [{ type: 'user.login', userId: 'u0', occurredAt: at(0) }]);
    await statsUntil(tenant, range, (b) => b.total === 13);
  }, 60_000);

  it('ranks the top types by count, ties by key, over a range', async () => {
    const res = await stats(tenant, `${range}&groupBy=type`);
    expect(res.body).toEqual({
      from: iso(day0),
      to: iso(day0 + 4 * DAY),
      interval: null,
      groupBy: 'type',
      total: 13,
      groups: [
        { key: 'page.view', count: 5 },
        { key: 'user.login', count: 5 },
        { key: 'invoice.paid', count: 3 },
      ],
      buckets: [],
    });
    const top1 = await stats(tenant, `${range}&groupBy=type&limit=1`);
    expect(top1.body.groups).toEqual([{ key: 'page.view', count: 5 }]);
  });

  it('keys hour, day and user items by the day their events expire, and expires them two days after it (the TTL attribute x)', async () => {
    const items = await counterItems(tenant);
    expect(items.length).toBeGreaterThan(0);
    // Each event expires 30 days after it was received (a minute ago at most): its hour, day and
    // user items are keyed by that UTC day and expire COUNTER_GRACE_DAYS after it ends.
    const receivedBy = Date.now();
    const days = [receivedBy - 120_000, receivedBy].map((ms) => new Date(ms + 30 * DAY).toISOString().slice(0, 10));
    const [months, others] = [items.filter((i) => String(i.pk).endsWith('#M')), items.filter((i) => !String(i.pk).endsWith('#M'))];
    for (const item of others) {
      const day = String(item.sk).split('#')[1]!;
      expect(days).toContain(day);
      expect(item.x).toBe(Date.parse(`${day}T00:00:00Z`) / 1000 + (1 + COUNTER_GRACE_DAYS) * 86_400);
    }
    expect(
      others.filter((i) => String(i.pk).endsWith('#D') && String(i.sk).startsWith(`${iso(day0).slice(0, 10)}#`)).length,
    ).toBeGreaterThan(0);
    // A month item is whole, and expires a week after the last event its month can hold.
    expect(months.length).toBeGreaterThan(0);
    for (const item of months) {
      expect(String(item.sk)).toMatch(/^\d{4}-\d{2}$/);
      const monthEnd = Date.UTC(Number(String(item.sk).slice(0, 4)), Number(String(item.sk).slice(5, 7)), 1);
      const left = (item.x as number) - receivedBy / 1000 - (30 + MONTH_GRACE_DAYS) * 86_400;
      expect(left).toBeGreaterThan(-300);
      expect(left).toBeLessThanOrEqual((monthEnd - Date.parse(at(0, 1))) / 1000 + 5);
    }
  });

  it('fills every bucket of the range, zeros included, with their own top groups', async () => {
    const res = await stats(tenant, `${range}&interval=day&groupBy=type&limit=1`);
    expect(res.body.buckets).toEqual([
      { start: iso(day0), count: 8, groups: [{ key: 'user.login', count: 5 }] },
      { start: iso(day0 + DAY), count: 3, groups: [{ key: 'page.view', count: 3 }] },
      { start: iso(day0 + 2 * DAY), count: 2, groups: [{ key: 'page.view', count: 2 }] },
      { start: iso(day0 + 3 * DAY), count: 0, groups: [] },
    ]);
    const hours = await stats(tenant, `from=${iso(day0)}&to=${iso(day0 + 6 * 3_600_000)}&interval=hour`);
    expect(hours.body.buckets.map((b: { count: number }) => b.count)).toEqual([0, 5, 0, 0, 0, 3]);
  });

  it("gives one user's activity per day by type", async () => {
    const res = await stats(tenant, `${range}&interval=day&groupBy=type&userId=u1`);
    expect(res.body.total).toBe(7);
    expect(res.body.buckets.map((b: { count: number; groups: unknown }) => [b.count, b.groups])).toEqual([
      [
        5,
        [
          { key: 'invoice.paid', count: 3 },
          { key: 'user.login', count: 2 },
        ],
      ],
      [0, []],
      [2, [{ key: 'page.view', count: 2 }]],
      [0, []],
    ]);
  });

  it('filters by type and target type, and groups by target type', async () => {
    expect((await stats(tenant, `${range}&type=page.view`)).body.total).toBe(5);
    expect((await stats(tenant, `${range}&targetType=invoice`)).body.total).toBe(3);
    expect((await stats(tenant, `${range}&groupBy=targetType`)).body.groups).toEqual([
      { key: 'invoice', count: 3 },
      { key: 'page', count: 2 },
    ]);
    expect((await stats(tenant, `${range}&type=page.view&groupBy=targetType`)).body.groups).toEqual([{ key: 'page', count: 2 }]);
  });

  it("never shows another tenant's counts", async () => {
    // The other tenant's event is counted on its own stream shard: wait for it, then it is exactly 1.
    expect((await statsUntil(other, range, (b) => b.total >= 1)).total).toBe(1);
    expect((await stats(uniqueTenant('nobody'), range)).body.total).toBe(0);
  });

  it.each([
    ['', "'from' is required"],
    [`from=${iso(day0)}`, "'to' is required"],
    [`from=yesterday&to=${iso(day0)}`, "'from' must be an RFC 3339"],
    [`from=${iso(day0 + DAY)}&to=${iso(day0)}`, "'from' must be before 'to'"],
    [`${range}&interval=week`, "'interval' must be one of"],
    [`${range}&groupBy=user`, "'groupBy' must be one of"],
    [`${range}&limit=0`, "'limit' must be an integer"],
    [`${range}&color=red`, "unknown parameter 'color'"],
    [`${range}&userId=u1&interval=hour`, "'userId' works with interval"],
    [`from=${iso(day0 + 1000)}&to=${iso(day0 + DAY)}&interval=day`, "'from' must fall on midnight UTC"],
    [`from=${iso(day0 - 40 * DAY)}&to=${iso(day0)}&interval=hour`, 'at most 744'],
  ])('answers 400 invalid_query for %j', async (query, message) => {
    const res = await stats(tenant, query);
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('invalid_query');
    expect(res.body.error.message).toContain(message);
  });

  it('needs events:read', async () => {
    const res = await call(tenant, 'GET', `/v1/stats?${range}`, undefined, 'events:write');
    expect(res.status).toBe(403);
  });

  it('counts down on delete, up on restore, down on erasure', async () => {
    const id = loginIds[0]!;
    expect((await call(tenant, 'DELETE', `/v1/events/${id}`)).status).toBe(204);
    await statsUntil(tenant, `${range}&type=user.login`, (b) => b.total === 4);
    expect((await call(tenant, 'POST', `/v1/events/${id}/restore`)).status).toBe(200);
    await statsUntil(tenant, `${range}&type=user.login`, (b) => b.total === 5);
    // u1's two events of day 2 are hidden before the erasure (which then purges them with the rest).
    for (const hidden of loginIds.slice(11, 13)) expect((await call(tenant, 'DELETE', `/v1/events/${hidden}`)).status).toBe(204);
    await statsUntil(tenant, range, (b) => b.total === 11);
    expect((await call(tenant, 'POST', '/v1/erasures', { userId: 'u1' })).status).toBe(202);
    for (let run = 0; run < 5; run++) await stack.runSchedules();
    const body = await statsUntil(tenant, range, (b) => b.total === 6);
    expect(body.total).toBe(6);
    expect((await stats(tenant, `${range}&userId=u1`)).body.total).toBe(0);
    // u1's own counter items, all zeros now, are released: they expire in COUNTER_RELEASE_DAYS, not
    // with their bucket's retention a month away; u0's keep theirs.
    const userItems = async (userId: string) =>
      (await counterItems(tenant)).filter((i) => String(i.pk).endsWith(`#U#${userDigest(userId)}`));
    const released = await eventually(
      async () => {
        const items = await userItems('u1');
        return items.length > 0 && items.every((i) => (i.x as number) <= Date.now() / 1000 + COUNTER_RELEASE_DAYS * 86_400)
          ? items
          : undefined;
      },
      30_000,
      "u1's counter items released",
    );
    for (const item of released) {
      expect(item.x as number).toBeGreaterThan(Date.now() / 1000 + COUNTER_RELEASE_DAYS * 86_400 - 120);
      expect(
        Object.entries(item)
          .filter(([k]) => k.startsWith('c:'))
          .every(([, v]) => v === 0),
      ).toBe(true);
    }
    const kept = await userItems('u0');
    expect(kept.length).toBeGreaterThan(0);
    expect(kept.every((i) => (i.x as number) > Date.now() / 1000 + 20 * 86_400)).toBe(true);
  }, 60_000);
});

describe('counters under consumer faults', () => {
  it('equal a recount from the events after faults, deletes, restores and an erasure', async () => {
    const tenant = uniqueTenant('exact');
    const types = ['a.one', 'b.two', 'c.three', 'd.four'];
    const N = Number(process.env.STATS_EXACT_EVENTS ?? 600);
    await setFaults(stack.baseUrl, [
      { kind: 'error', rate: 0.1, service: 'dynamodb', functions: ['StatsConsumer'], operations: ['UpdateItem'] },
      { kind: 'drop-after', rate: 0.03, service: 'dynamodb', functions: ['StatsConsumer'], operations: ['UpdateItem'] },
      { kind: 'kill-after', rate: 0.005, service: 'dynamodb', functions: ['StatsConsumer'], operations: ['UpdateItem'] },
    ]);
    const ids: string[] = [];
    for (let i = 0; i < N; i += 100) {
      ids.push(
        ...(await send(
          tenant,
          Array.from({ length: Math.min(100, N - i) }, (_, j) => ({
            type: types[(i + j) % types.length],
            userId: `u${(i + j) % 7}`,
            occurredAt: at((i + j) % 4, (i + j) % 24),
          })),
        )),
      );
    }
    // Wait for every event to be stored before deleting some of them.
    await eventually(
      async () => {
        const res = await call(tenant, 'GET', `/v1/events?limit=1000&from=${iso(day0)}&to=${iso(day0 + 4 * DAY)}`);
        return res.body.events?.length === N ? true : undefined;
      },
      60_000,
      'every event stored',
    );
    for (const id of ids.slice(0, 30)) expect((await call(tenant, 'DELETE', `/v1/events/${id}`)).status).toBe(204);
    for (const id of ids.slice(0, 10)) expect((await call(tenant, 'POST', `/v1/events/${id}/restore`)).status).toBe(200);
    expect((await call(tenant, 'POST', '/v1/erasures', { userId: 'u3' })).status).toBe(202);
    for (let run = 0; run < 5; run++) await stack.runSchedules();
    // Faults stop; the retried batches catch up.
    const faults = await setFaults(stack.baseUrl, []);

    // The recount: every visible event, by day and type, from GET /v1/events.
    const events: { type: string; occurredAt: string }[] = [];
    let cursor: string | null = null;
    do {
      const res = await call(
        tenant,
        'GET',
        `/v1/events?limit=1000&from=${iso(day0)}&to=${iso(day0 + 4 * DAY)}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
      );
      events.push(...res.body.events);
      cursor = res.body.nextCursor;
    } while (cursor);
    const expected = new Map<string, number>();
    for (const e of events) {
      const key = `${e.occurredAt.slice(0, 10)} ${e.type}`;
      expected.set(key, (expected.get(key) ?? 0) + 1);
    }
    const query = `${range}&interval=day&groupBy=type&limit=100`;
    let counted = new Map<string, number>();
    const read = async () => {
      const res = await stats(tenant, query);
      counted = new Map();
      for (const b of res.body.buckets as { start: string; groups: { key: string; count: number }[] }[]) {
        for (const g of b.groups) counted.set(`${b.start.slice(0, 10)} ${g.key}`, g.count);
      }
      return res.body.total === events.length && [...expected].every(([k, v]) => counted.get(k) === v) ? true : undefined;
    };
    await eventually(read, 90_000, 'counters equal to the recount').catch(() => undefined);
    const drift = [...new Set([...expected.keys(), ...counted.keys()])].filter((k) => (expected.get(k) ?? 0) !== (counted.get(k) ?? 0));
    // The recount command over every counter cell (hour, day, month, per user) of the whole table.
    // Day counters can be caught up while an hour or user item of the same batch still waits for its
    // retry (each counter item is one update): recount until the consumer has caught up or time runs out.
    const tables = Object.entries(stack.tables);
    const recountNow = () =>
      recount({
        eventsTable: tables.find(([id]) => id.startsWith('Storage'))![1],
        statsTable: tables.find(([id]) => id.startsWith('StatsCounters'))![1],
        region: stack.region,
        endpoint: stack.endpoints.dynamodb,
        repair: false,
      });
    let report = await recountNow();
    await eventually(
      async () => {
        report = await recountNow();
        return report.driftedCells === 0 ? true : undefined;
      },
      60_000,
      'recount without drift',
    ).catch(() => undefined);
    if (drift.length) console.log(drift.map((k) => `${k}: expected ${expected.get(k) ?? 0}, counted ${counted.get(k) ?? 0}`).join('\n'));
    console.log(
      `stats exactness: ${N} events, 30 deletes, 10 restores, 1 erasure; ${faults.total} faults injected; ` +
        `${expected.size} counters checked over HTTP (day × type), drift found in ${drift.length}; ` +
        `stats:recount: ${report.events} event items, ${report.counterItems} counter items, drift found in ${report.driftedCells} cells`,
    );
    expect(drift).toEqual([]);
    expect(report.drift).toEqual([]);
    expect(faults.total).toBeGreaterThan(0);
    // The erased user's items, emptied through the faults' retries (and bisected batches), are released.
    const erased = await eventually(
      async () => {
        const items = (await counterItems(tenant)).filter((i) => String(i.pk).endsWith(`#U#${userDigest('u3')}`));
        return items.length > 0 && items.every((i) => (i.x as number) <= Date.now() / 1000 + COUNTER_RELEASE_DAYS * 86_400)
          ? items
          : undefined;
      },
      30_000,
      "u3's counter items released",
    );
    // Four days of u3's events, on one or more shards each.
    expect(erased.length).toBeGreaterThanOrEqual(4);
  }, 300_000);
});

// Last in the file: it leaves hour, day and user counts of an event the cleanup deleted under a
// shifted clock, which the whole-table recount above (real clock) would call drift.
describe('retention', () => {
  it('an event leaves the counts at the end of the day it expires; its removal counts down its month alone', async () => {
    const tenant = uniqueTenant('expire');
    await send(tenant, [{ type: 'x.y', userId: 'u', occurredAt: at(0) }]);
    await statsUntil(tenant, range, (b) => b.total === 1);
    const before = await counterItems(tenant);
    const offset = (31 + RETENTION_TTL_GRACE_DAYS) * DAY;
    // Past the 30-day retention, the end of its day and the grace the cleanup leaves TTL (dynalite has no TTL).
    await stack.setClockOffset(offset);
    try {
      // Gone from the hour, day and user counts before anything removes it: the query leaves out items whose expiry day has ended.
      expect((await stats(tenant, range)).body.total).toBe(0);
      expect((await stats(tenant, `${range}&interval=hour`)).body.total).toBe(0);
      expect((await stats(tenant, `${range}&userId=u`)).body.total).toBe(0);
      for (let run = 0; run < 3; run++) await stack.runSchedules();
      // The cleanup deleted it, and that counts its month down.
      const month = new Date(day0).toISOString().slice(0, 7);
      const monthRange = `from=${month}-01T00:00:00Z&to=${new Date(Date.UTC(Number(month.slice(0, 4)), Number(month.slice(5, 7)), 1)).toISOString()}`;
      await statsUntil(tenant, monthRange, (b) => b.total === 0);
      // No other counter item was written: the same items, the same counts, checkpoints and expiries.
      const after = await counterItems(tenant);
      const key = (i: Record<string, unknown>) => `${i.pk} ${i.sk}`;
      const notMonth = (i: Record<string, unknown>) => !String(i.pk).endsWith('#M');
      expect(after.filter(notMonth).sort((a, b) => key(a).localeCompare(key(b)))).toEqual(
        before.filter(notMonth).sort((a, b) => key(a).localeCompare(key(b))),
      );
      expect(after.filter((i) => !notMonth(i)).map((i) => i[Object.keys(i).find((k) => k.startsWith('c:'))!])).toEqual([0]);
    } finally {
      await stack.setClockOffset(0);
    }
  }, 120_000);
});
