/**
 * Hot tenants: one tenant's writes spread evenly over N shards, and timelines merge the shards back
 * in exact order, page after page, with cursors that resume where the previous page stopped.
 */
import { ingest } from '../../../lambdas/core/ingest';
import { decodeMessage } from '../../../lambdas/core/message';
import type { EventItem } from '../../../lambdas/core/item-keys';
import { parseTenantPartition } from '../../../lambdas/core/item-keys';
import { parseEventQuery, queryEvents, type PublicEvent } from '../../../lambdas/core/query';
import { MemoryTable, testKeyring } from '../../support/fakes';

const keyring = testKeyring();
const TYPES = ['a.one', 'b.two', 'c.three'];

/** Items for `count` events of one tenant, built by the real ingest core, 500 per request. */
const ingestItems = async (tenant: string, count: number, shardCount: number, startMs: number): Promise<EventItem[]> => {
  const items: EventItem[] = [];
  const queue = {
    send: async (messages: readonly { body: string }[]) => {
      for (const m of messages) items.push(...decodeMessage(m.body).map((d) => d.item));
      return new Set<string>();
    },
  };
  for (let offset = 0; offset < count; offset += 500) {
    const events = Array.from({ length: Math.min(500, count - offset) }, (_, i) => ({
      type: TYPES[(offset + i) % TYPES.length],
      userId: `u${(offset + i) % 7}`,
      // Several events share a millisecond: the merge must order by the full id, not the time.
      occurredAt: new Date(startMs + Math.floor((offset + i) / 3)).toISOString(),
    }));
    await ingest(
      { tenant, body: JSON.stringify({ events }), contentType: 'application/json', source: {} },
      { queue, keyring, shardCount, retentionDays: () => 30, now: () => startMs + 3_600_000 },
    );
  }
  return items;
};

const pageAll = async (
  table: MemoryTable,
  tenant: string,
  params: Record<string, string>,
  shardCount: number,
  now: number,
): Promise<PublicEvent[]> => {
  const seen: PublicEvent[] = [];
  let cursor: string | undefined;
  for (let pages = 0; pages < 10_000; pages++) {
    const query = parseEventQuery(Object.fromEntries(Object.entries({ ...params, ...(cursor && { cursor }) }).map(([k, v]) => [k, [v]])));
    const page = await queryEvents(tenant, query, { store: table, keyring, shardCount, now: () => now });
    seen.push(...page.events);
    if (!page.nextCursor) return seen;
    cursor = page.nextCursor;
  }
  throw new Error('too many pages');
};

describe('hot-tenant write sharding', () => {
  it('spreads 100,000 events of one tenant over 8 shards with max/mean ≤ 1.1', async () => {
    const shardCount = 8;
    const items = await ingestItems('hot', 100_000, shardCount, Date.parse('2026-11-01T00:00:00Z'));
    const perShard = new Array<number>(shardCount).fill(0);
    for (const item of items) perShard[parseTenantPartition(item.pk)!.shard]! += 1;
    const mean = items.length / shardCount;
    expect(items).toHaveLength(100_000);
    expect(Math.max(...perShard) / mean).toBeLessThanOrEqual(1.1);
    expect(Math.min(...perShard)).toBeGreaterThan(0);
  }, 120_000);

  describe('merging the shards', () => {
    const shardCount = 8;
    const startMs = Date.parse('2026-11-01T00:00:00Z');
    const now = startMs + 3_600_000;
    const table = new MemoryTable();
    let items: EventItem[] = [];

    beforeAll(async () => {
      items = await ingestItems('hot', 6_000, shardCount, startMs);
      await table.putBatch(items);
    });

    const expected = (filter: (item: EventItem) => boolean, order: 'asc' | 'desc') => {
      const list = items
        .filter(filter)
        .map((item) => item.sk)
        .sort();
      return order === 'desc' ? list.reverse() : list;
    };
    /** Public events carry no internal id: map them back through the stored JSON (unique per event here). */
    const skOf = (() => {
      let map: Map<string, string> | undefined;
      return (event: PublicEvent) => {
        map ??= new Map(items.map((item) => [item.e, item.sk]));
        const { id: _id, ...stored } = event;
        return map.get(JSON.stringify(stored));
      };
    })();

    it.each([
      ['tenant timeline, newest first', {}, 'desc', () => true],
      ['tenant timeline, oldest first', { order: 'asc' }, 'asc', () => true],
      ['type timeline (sharded like the tenant)', { type: 'b.two' }, 'desc', (item: EventItem) => item.t.endsWith('#b.two')],
      [
        'user timeline',
        { userId: 'u3', order: 'asc' },
        'asc',
        (item: EventItem) => item.u === items.find((i) => JSON.parse(i.e).userId === 'u3')!.u,
      ],
    ] as const)('%s: every event once, in exact id order, across pages of 250', async (_name, params, order, filter) => {
      const events = await pageAll(table, 'hot', { ...params, limit: '250' }, shardCount, now);
      const got = events.map(skOf);
      expect(got).toEqual(expected(filter as (item: EventItem) => boolean, order));
      expect(new Set(events.map((e) => e.id)).size).toBe(events.length);
    });
  });
});
