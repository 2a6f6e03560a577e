import { ingest } from '../../../lambdas/core/ingest';
import { decodeMessage } from '../../../lambdas/core/message';
import { getEvent, parseEventQuery, queryEvents, type EventQuery } from '../../../lambdas/core/query';
import { MemoryTable, RecordingQueue, testKeyring } from '../../support/fakes';

const keyring = testKeyring();
const NOW = Date.parse('2026-11-21T12:00:00Z');
const SHARDS = 4;

/** Ingests through the real core into the in-memory table, as the writer would store it. */
const seed = async (table: MemoryTable, events: object[], tenant = 'acme'): Promise<string[]> => {
  const queue = new RecordingQueue();
  const sent = queue.sent;
  const out = await ingest(
    { tenant, body: JSON.stringify({ events }), contentType: 'application/json', source: {} },
    { queue, keyring, shardCount: SHARDS, retentionDays: () => 30, now: () => NOW },
  );
  await table.putBatch(sent.flatMap((m) => decodeMessage(m.body).map((d) => d.item)));
  return out.results.map((r) => (r as { id: string }).id);
};

const q = (params: Record<string, string>): EventQuery =>
  parseEventQuery(Object.fromEntries(Object.entries(params).map(([k, v]) => [k, [v]])));
const deps = (table: MemoryTable, now = NOW) => ({ store: table, keyring, shardCount: SHARDS, now: () => now });
const at = (minute: number) => new Date(Date.parse('2026-11-21T00:00:00Z') + minute * 60_000).toISOString();

describe('query', () => {
  it('merges the shards newest first, and oldest first with order=asc', async () => {
    const table = new MemoryTable();
    await seed(
      table,
      Array.from({ length: 40 }, (_, i) => ({ type: 'a', userId: `u${i % 3}`, occurredAt: at(i) })),
    );
    const desc = await queryEvents('acme', q({}), deps(table));
    expect(desc.events.map((e) => e.occurredAt)).toEqual(Array.from({ length: 40 }, (_, i) => at(39 - i)));
    const asc = await queryEvents('acme', q({ order: 'asc' }), deps(table));
    expect(asc.events.map((e) => e.occurredAt)).toEqual(Array.from({ length: 40 }, (_, i) => at(i)));
  });

  it('pages through every event exactly once, in order, across shards', async () => {
    const table = new MemoryTable();
    const ids = await seed(
      table,
      Array.from({ length: 25 }, (_, i) => ({ type: 'a', userId: 'u', occurredAt: at(i) })),
    );
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await queryEvents('acme', q({ limit: '10', ...(cursor && { cursor }) }), deps(table));
      seen.push(...page.events.map((e) => e.id));
      cursor = page.nextCursor ?? undefined;
      pages++;
    } while (cursor);
    expect(pages).toBe(3);
    expect(seen).toEqual([...ids].reverse());
  });

  it('serves user, type and time filters from their timelines', async () => {
    const table = new MemoryTable();
    await seed(table, [
      { type: 'login', userId: 'alice', occurredAt: at(1) },
      { type: 'logout', userId: 'alice', occurredAt: at(2) },
      { type: 'login', userId: 'bob', occurredAt: at(3) },
      { type: 'login', userId: 'alice', occurredAt: at(4) },
    ]);
    table.queries = [];
    const alice = await queryEvents('acme', q({ userId: 'alice' }), deps(table));
    expect(alice.events.map((e) => e.occurredAt)).toEqual([at(4), at(2), at(1)]);
    expect(table.queries.every((r) => r.index === 'byUser')).toBe(true);

    table.queries = [];
    const logins = await queryEvents('acme', q({ type: 'login' }), deps(table));
    expect(logins.events.map((e) => e.userId)).toEqual(['alice', 'bob', 'alice']);
    expect(table.queries).toHaveLength(SHARDS);
    expect(table.queries.every((r) => r.index === 'byType')).toBe(true);

    const window = await queryEvents('acme', q({ from: at(2), to: at(4) }), deps(table));
    expect(window.events.map((e) => e.occurredAt)).toEqual([at(3), at(2)]);

    const both = await queryEvents('acme', q({ userId: 'alice', type: 'login' }), deps(table));
    expect(both.events.map((e) => e.occurredAt)).toEqual([at(4), at(1)]);
  });

  it('narrows by targetId and details equality', async () => {
    const table = new MemoryTable();
    await seed(table, [
      {
        type: 'billed',
        userId: 'u',
        target: { type: 'invoice', id: 'inv-1' },
        details: { amount: 1200, currency: 'EUR' },
        occurredAt: at(1),
      },
      {
        type: 'billed',
        userId: 'u',
        target: { type: 'invoice', id: 'inv-2' },
        details: { amount: 99, currency: 'EUR' },
        occurredAt: at(2),
      },
    ]);
    expect((await queryEvents('acme', q({ targetId: 'inv-2' }), deps(table))).events).toHaveLength(1);
    const eur1200 = await queryEvents('acme', q({ 'details.amount': '1200', 'details.currency': 'EUR' }), deps(table));
    expect(eur1200.events.map((e) => e.target?.id)).toEqual(['inv-1']);
  });

  it('hides deleted and expired items even before cleanup or TTL', async () => {
    const table = new MemoryTable();
    const ids = await seed(table, [
      { type: 'a', userId: 'u', occurredAt: at(1) },
      { type: 'a', userId: 'u', occurredAt: at(2) },
    ]);
    const [first] = table.all().sort((a, b) => (a.sk < b.sk ? -1 : 1));
    if (first) first.d = NOW;
    expect((await queryEvents('acme', q({}), deps(table))).events.map((e) => e.id)).toEqual([ids[1]]);
    await expect(getEvent('acme', ids[0] as string, deps(table))).rejects.toMatchObject({ status: 404 });
    const later = NOW + 31 * 86_400_000;
    expect((await queryEvents('acme', q({}), deps(table, later))).events).toEqual([]);
    await expect(getEvent('acme', ids[1] as string, deps(table, later))).rejects.toMatchObject({ status: 404 });
  });

  it('keeps tenants apart: no events, no ids, no cursors across tenants', async () => {
    const table = new MemoryTable();
    const [acmeId] = await seed(
      table,
      [
        { type: 'a', userId: 'u' },
        { type: 'a', userId: 'u' },
      ],
      'acme',
    );
    expect((await queryEvents('globex', q({}), deps(table))).events).toEqual([]);
    await expect(getEvent('globex', acmeId as string, deps(table))).rejects.toMatchObject({ status: 404 });
    expect((await getEvent('acme', acmeId as string, deps(table))).id).toBe(acmeId);
    const page = await queryEvents('acme', q({ limit: '1' }), deps(table));
    await expect(queryEvents('globex', q({ limit: '1', cursor: page.nextCursor as string }), deps(table))).rejects.toMatchObject({
      status: 400,
    });
    await expect(queryEvents('acme', q({ limit: '1', userId: 'u', cursor: page.nextCursor as string }), deps(table))).rejects.toMatchObject(
      {
        status: 400,
      },
    );
  });

  it('reads little more than it returns when merging shards', async () => {
    // Shards get random shares of the newest 100; whatever the draw, reads stay near the page size.
    for (let run = 0; run < 10; run++) {
      const table = new MemoryTable();
      await seed(
        table,
        Array.from({ length: 400 }, (_, i) => ({ type: 'a', userId: 'u', occurredAt: at(i) })),
      );
      const page = await queryEvents('acme', q({ limit: '100' }), deps(table));
      expect(page.events).toHaveLength(100);
      expect(page.itemsRead / 100).toBeLessThanOrEqual(1.5);
    }
  });

  it('never returns the internal id or the tenant', async () => {
    const table = new MemoryTable();
    await seed(table, [{ type: 'a', userId: 'u' }]);
    const [event] = (await queryEvents('acme', q({}), deps(table))).events;
    const text = JSON.stringify(event);
    expect(text).not.toContain((table.all()[0] as { sk: string }).sk);
    expect(text).not.toContain('acme');
  });

  it.each([
    [{ limit: '0' }],
    [{ limit: '1001' }],
    [{ limit: 'ten' }],
    [{ order: 'sideways' }],
    [{ from: 'yesterday' }],
    [{ type: 'UPPER' }],
    [{ colour: 'red' }],
    [{ 'details.': 'x' }],
  ])('rejects the bad parameter %j with 400', (params) => {
    expect(() => q(params)).toThrow(expect.objectContaining({ status: 400 }));
  });

  it('rejects a repeated parameter', () => {
    expect(() => parseEventQuery({ userId: ['a', 'b'] })).toThrow(expect.objectContaining({ status: 400 }));
  });
});
