import { countBatch, type CounterWriteStore } from '../../../lambdas/core/stats-consumer';
import type { EventItem } from '../../../lambdas/core/item-keys';
import { packItem } from '../../../lambdas/core/payload';
import {
  bucketKey,
  COUNTER_GRACE_DAYS,
  COUNTER_RELEASE_DAYS,
  counterAttribute,
  expiryDayKey,
  MONTH_GRACE_DAYS,
  padSequence,
  planCounters,
  recountDrift,
  type ChangeRecord,
} from '../../../lambdas/core/stats-counters';
import { bucketStarts, parseStatsQuery, queryStats, type CounterReadStore } from '../../../lambdas/core/stats-query';
import { lambdaStreamImage } from '../../support/fakes';

/** An expiry (epoch s) far ahead: the event is within its retention. */
const FAR = 4_102_444_800;
/** The sort key suffix of the counter items of events expiring at FAR. */
const FAR_DAY = `#${expiryDayKey(FAR)}`;
const eventImage = (over: { type?: string; occurredAt?: string; userId?: string; d?: number; target?: object; x?: number } = {}) => ({
  pk: 'acme#1',
  sk: 'id',
  e: JSON.stringify({
    type: over.type ?? 'user.login',
    userId: over.userId ?? 'u1',
    occurredAt: over.occurredAt ?? '2026-12-31T23:30:00Z',
    ...(over.target && { target: over.target }),
  }),
  x: over.x ?? FAR,
  ...(over.d !== undefined && { d: over.d }),
});
let seq = 0;
const rec = (oldImage?: object, newImage?: object, atMs?: number): ChangeRecord => ({
  sequenceNumber: String(++seq),
  ...(atMs !== undefined && { atMs }),
  ...(oldImage && { oldImage: oldImage as Record<string, unknown> }),
  ...(newImage && { newImage: newImage as Record<string, unknown> }),
});
const LOGIN = counterAttribute('user.login', null);

/** An in-memory counters table with the store's conditional semantics and injectable failures. */
class FakeCounters implements CounterWriteStore, CounterReadStore {
  items = new Map<string, Record<string, unknown>>();
  failNext = 0;
  /** Apply the write, then fail (the caller cannot tell it was applied). */
  failAfterApply = 0;
  /** Which items' writes `failAfterApply` fails. */
  failAfterApplyTo = (_pk: string) => true;
  async apply(
    pk: string,
    sk: string,
    add: Readonly<Record<string, number>>,
    lastSeq: string,
    c: { below: string } | { equals: string },
    expiresAt?: number,
  ) {
    if (this.failNext > 0) {
      this.failNext--;
      throw new Error('injected');
    }
    const key = `${pk}|${sk}`;
    const item = this.items.get(key) ?? { pk, sk };
    const q = item.q as string | undefined;
    const ok = 'below' in c ? q === undefined || q < c.below : q === c.equals;
    if (!ok) return false;
    for (const [a, d] of Object.entries(add)) item[a] = ((item[a] as number | undefined) ?? 0) + d;
    item.q = lastSeq;
    if (expiresAt !== undefined) item.x = expiresAt;
    this.items.set(key, item);
    if (this.failAfterApply > 0 && this.failAfterApplyTo(pk)) {
      this.failAfterApply--;
      throw new Error('injected after apply');
    }
    return true;
  }
  async checkpoint(pk: string, sk: string) {
    return this.items.get(`${pk}|${sk}`)?.q as string | undefined;
  }
  async releaseIfEmpty(pk: string, sk: string, expiresAt: number) {
    const item = this.items.get(`${pk}|${sk}`);
    if (!item || Object.entries(item).some(([k, v]) => k.startsWith('c:') && v !== 0)) return false;
    if (typeof item.x === 'number' && item.x <= expiresAt) return false;
    item.x = expiresAt;
    return true;
  }
  async readCounters(pk: string, from: string, to: string) {
    return [...this.items.values()].filter((i) => i.pk === pk && (i.sk as string) >= from && (i.sk as string) <= to);
  }
}

describe('planCounters', () => {
  it('coalesces a batch into one update per counter item, with hour, day, month and user cells', () => {
    const updates = planCounters([
      rec(undefined, eventImage()),
      rec(undefined, eventImage()),
      rec(undefined, eventImage({ userId: 'u2' })),
    ]);
    const keys = updates.map((u) => `${u.pk} ${u.sk}`).sort();
    expect(keys).toEqual(expect.arrayContaining([`acme#1#H 2026-12-31T23${FAR_DAY}`, `acme#1#D 2026-12-31${FAR_DAY}`, 'acme#1#M 2026-12']));
    expect(FAR_DAY).toBe('#2100-01-01');
    expect(updates).toHaveLength(5); // H, D, M and two users
    const day = updates.find((u) => u.pk === 'acme#1#D')!;
    expect(day.contributions.map((c) => c.delta)).toEqual([1, 1, 1]);
  });

  it('counts a soft delete down, a restore up, the purge of a deleted item not at all, an erasure down', () => {
    const visible = eventImage();
    const deleted = eventImage({ d: 5 });
    const deltas = (r: ChangeRecord) =>
      planCounters([r])
        .find((u) => u.pk === 'acme#1#M')
        ?.contributions.map((c) => c.delta) ?? [];
    expect(deltas(rec(visible, deleted))).toEqual([-1]);
    expect(deltas(rec(deleted, visible))).toEqual([1]);
    expect(deltas(rec(deleted, undefined))).toEqual([]);
    expect(deltas(rec(visible, undefined))).toEqual([-1]);
    // Items that are not events: rate counters, erasure markers.
    expect(planCounters([rec(undefined, { pk: '$rate#acme', sk: '1', r: 1 }), rec(undefined, { pk: 'acme#X', sk: 'u', r: 'x' })])).toEqual(
      [],
    );
  });

  it('marks the user item of an event hidden or removed before its expiry for release, never at the end of retention', () => {
    const atMs = Date.UTC(2027, 0, 10);
    const released = (records: ChangeRecord[]) => planCounters(records).filter((u) => u.releaseWhenEmpty);
    const user = planCounters([rec(undefined, eventImage())]).find((u) => u.pk.includes('#U#'))!;
    const mark = { pk: user.pk, sk: user.sk, releaseWhenEmpty: true };
    // An erasure's delete, a soft delete: the user item is counted down and marked.
    expect(released([rec(eventImage(), undefined, atMs)])).toEqual([
      expect.objectContaining({ ...mark, contributions: [expect.objectContaining({ delta: -1 })] }),
    ]);
    expect(released([rec(eventImage(), eventImage({ d: 5 }), atMs)])).toEqual([expect.objectContaining(mark)]);
    // The purge (or erasure) of an event already hidden counts nothing, and still marks the item: it may hold only zeros now.
    expect(released([rec(eventImage({ d: 5 }), undefined, atMs)])).toEqual([
      { ...mark, firstRecord: expect.any(String), contributions: [] },
    ]);
    // Removed after its expiry: the end of its retention (TTL, or the cleanup's backstop), not marked, not counted in the user item.
    const expired = eventImage({ x: atMs / 1000 - 60 });
    expect(released([rec(expired, undefined, atMs)])).toEqual([]);
    expect(planCounters([rec(expired, undefined, atMs)]).find((u) => u.pk === user.pk)).toBeUndefined();
    // A restore, an insert: nothing to release; nor without the record's time.
    expect(released([rec(eventImage({ d: 5 }), eventImage(), atMs), rec(undefined, eventImage(), atMs)])).toEqual([]);
    expect(released([rec(eventImage(), undefined)])).toEqual([]);
  });

  it('counts an event stored deflated (y instead of e) like any other, in the consumer and the recount', () => {
    const big = eventImage({ target: { type: 'doc', id: 'x'.repeat(2000) } });
    const packed = packItem({ ...big, u: 'acme#h', t: 'acme#1#user.login' } as EventItem) as unknown as Record<string, unknown>;
    expect(packed.y).toBeInstanceOf(Uint8Array);
    expect(packed.e).toBeUndefined();
    const cells = (r: ChangeRecord) =>
      planCounters([r]).map((u) => `${u.pk} ${u.sk} ${u.contributions.map((c) => `${c.attribute}${c.delta}`)}`);
    expect(cells(rec(undefined, packed))).toEqual(cells(rec(undefined, big)));
    expect(cells(rec(undefined, packed))).toHaveLength(4);
    expect(cells(rec(packed, undefined))).toEqual(cells(rec(big, undefined)));
    // As the consumer gets it from Lambda: the bytes as base64 in the record's JSON.
    const streamed = lambdaStreamImage(packed);
    expect(typeof streamed.y).toBe('string');
    expect(cells(rec(undefined, streamed))).toEqual(cells(rec(undefined, big)));
    expect(cells(rec(streamed, undefined))).toEqual(cells(rec(big, undefined)));
    expect(recountDrift([packed], [])).toHaveLength(4);
  });

  it('keys hour, day and user items by the UTC day their events expire, and expires them two days after it ends', () => {
    const x = Date.UTC(2027, 11, 15, 10, 30) / 1000;
    const ends = Date.UTC(2027, 11, 16) / 1000 + COUNTER_GRACE_DAYS * 86_400;
    expect([COUNTER_GRACE_DAYS, MONTH_GRACE_DAYS]).toEqual([2, 7]);
    const updates = planCounters([rec(undefined, eventImage({ occurredAt: '2026-12-15T10:30:00Z', x }))]);
    expect(Object.fromEntries(updates.map((u) => [u.pk.replace(/^acme#1#/, '').replace(/#.*/, ''), [u.sk, u.expiresAt]]))).toEqual({
      H: ['2026-12-15T10#2027-12-15', ends],
      D: ['2026-12-15#2027-12-15', ends],
      // A month item is whole: a week past the last event its month can hold (10:30 → Jan 1 00:00 is 16 days 13.5 h).
      M: ['2026-12', x + 16 * 86_400 + 48_600 + MONTH_GRACE_DAYS * 86_400],
      U: ['2026-12-15#2027-12-15', ends],
    });
    // An event of the same hour received a day later (late) expires a day later: an item of its own.
    const late = eventImage({ occurredAt: '2026-12-15T10:40:00Z', x: x + 86_400 });
    const hours = planCounters([rec(undefined, eventImage({ occurredAt: '2026-12-15T10:30:00Z', x })), rec(undefined, late)]).filter(
      (u) => u.pk === 'acme#1#H',
    );
    expect(hours.map((u) => [u.sk, u.expiresAt])).toEqual([
      ['2026-12-15T10#2027-12-15', ends],
      ['2026-12-15T10#2027-12-16', ends + 86_400],
    ]);
    // A count down gives an hour, day or user item its expiry too (it may be the item's first write:
    // an event counted under an older layout); a month item's none (its event may be older than others).
    const down = planCounters([rec(late, undefined)]);
    expect(down.find((u) => u.pk === 'acme#1#H')?.expiresAt).toBe(ends + 86_400);
    expect(down.find((u) => u.pk.includes('#U#'))?.expiresAt).toBe(ends + 86_400);
    expect(down.find((u) => u.pk === 'acme#1#M')?.expiresAt).toBeUndefined();
    // An item without an expiry: keyed by its bucket alone, and none given.
    const { x: _, ...timeless } = eventImage();
    expect(planCounters([rec(undefined, timeless)]).every((u) => u.expiresAt === undefined && !u.sk.includes('#'))).toBe(true);
  });

  it('counts only the month down at or after an expiry: a TTL delete, the cleanup, any change of an expired item', () => {
    const x = Date.UTC(2027, 11, 15, 10, 30) / 1000;
    const event = eventImage({ x });
    const counted = (r: ChangeRecord) => planCounters([r]).map((u) => [u.pk, u.contributions.map((c) => c.delta), u.expiresAt]);
    expect(counted(rec(event, undefined, x * 1000))).toEqual([['acme#1#M', [-1], undefined]]);
    expect(counted(rec(event, undefined, x * 1000 + 3 * 86_400_000))).toEqual([['acme#1#M', [-1], undefined]]);
    expect(counted(rec(event, eventImage({ x, d: 5 }), x * 1000 + 1))).toEqual([['acme#1#M', [-1], undefined]]);
    // A millisecond before it, an erasure's delete counts down everywhere.
    expect(planCounters([rec(event, undefined, x * 1000 - 1)]).map((u) => u.contributions[0]?.delta)).toEqual([-1, -1, -1, -1]);
  });

  it('the recount names the expiry a repair gives the counter items it creates', () => {
    const x = Date.UTC(2027, 11, 1, 10) / 1000;
    const stored = [eventImage({ occurredAt: '2026-12-01T10:00:00Z', x })];
    const now = Date.UTC(2026, 11, 2);
    const drift = recountDrift(stored, [], now);
    const day = drift.find((d) => d.pk === 'acme#1#D')!;
    expect([day.sk, day.expected, day.counted]).toEqual(['2026-12-01#2027-12-01', 1, 0]);
    expect(day.expiresAt).toBe(x + 14 * 3600 + COUNTER_GRACE_DAYS * 86_400);
    // From the start of the expiry day neither the events nor the hour, day and user items compare:
    // TTL removes the events without counting them down there, and once the day ends no query reads them.
    const dayItem = { pk: 'acme#1#D', sk: '2026-12-01#2027-12-01', [LOGIN]: 3, q: '1' };
    const dayStarts = Date.UTC(2027, 11, 1);
    for (const at of [dayStarts, Date.UTC(2027, 11, 1, 12), Date.UTC(2027, 11, 2)]) {
      // The month item stays whole (counted down at removal): still compared.
      expect(recountDrift(stored, [dayItem], at).map((d) => d.pk)).toEqual(['acme#1#M']);
    }
    expect(recountDrift(stored, [dayItem], dayStarts - 1)).toHaveLength(4);
    // A count the stored events do not call for is drift (expected 0); the repair zeroes its item,
    // which then expires in COUNTER_RELEASE_DAYS: an item of an older layout (no expiry day in its key).
    const counter = { pk: 'acme#1#D', sk: '2026-11-01', [LOGIN]: 2, q: '1' };
    expect(recountDrift(stored, [counter], now).find((d) => d.sk === '2026-11-01')).toEqual({
      pk: 'acme#1#D',
      sk: '2026-11-01',
      attribute: LOGIN,
      expected: 0,
      counted: 2,
      expiresAt: now / 1000 + COUNTER_RELEASE_DAYS * 86_400,
    });
  });

  it('moves the counts of an older layout with one repair, and lets every item it zeroes expire', async () => {
    const store = new FakeCounters();
    const now = Date.UTC(2026, 11, 5);
    const x = Date.UTC(2027, 11, 1, 10) / 1000;
    const kept = eventImage({ occurredAt: '2026-12-01T10:00:00Z', x, userId: 'a' });
    const gone = eventImage({ occurredAt: '2026-12-01T11:00:00Z', x, userId: 'b' });
    // Both counted before the upgrade, in a day item keyed by its bucket alone, without an expiry.
    store.items.set('acme#1#D|2026-12-01', { pk: 'acme#1#D', sk: '2026-12-01', [LOGIN]: 2, q: padSequence('0') });
    // After it, one is soft-deleted: its count down is the first write of the new day item, which gets its expiry.
    await countBatch([rec(gone, { ...gone, d: now }, now)], store, { now: () => now });
    const fresh = store.items.get('acme#1#D|2026-12-01#2027-12-01')!;
    expect([fresh[LOGIN], fresh.x]).toEqual([-1, Date.UTC(2027, 11, 2) / 1000 + COUNTER_GRACE_DAYS * 86_400]);
    // The repair: each drifted cell gets its difference, and its item the expiry named.
    for (const d of recountDrift([kept, { ...gone, d: now }], store.items.values(), now)) {
      const item = store.items.get(`${d.pk}|${d.sk}`) ?? { pk: d.pk, sk: d.sk };
      item[d.attribute] = ((item[d.attribute] as number | undefined) ?? 0) + d.expected - d.counted;
      if (d.expiresAt !== undefined) item.x = d.expiresAt;
      store.items.set(`${d.pk}|${d.sk}`, item);
    }
    expect(store.items.get('acme#1#D|2026-12-01')).toMatchObject({ [LOGIN]: 0, x: now / 1000 + COUNTER_RELEASE_DAYS * 86_400 });
    expect(recountDrift([kept], store.items.values(), now)).toEqual([]);
    const day = await queryStats('acme', parseStatsQuery({ from: ['2026-12-01T00:00:00Z'], to: ['2026-12-02T00:00:00Z'] }), {
      store,
      shardCount: 2,
      now: () => now,
    });
    expect(day.total).toBe(1);
  });

  it('drops cells that net to zero within a batch', () => {
    const e = eventImage();
    const updates = planCounters([rec(undefined, e), rec(e, undefined)]);
    expect(updates.every((u) => u.contributions.reduce((n, c) => n + c.delta, 0) === 0)).toBe(true);
  });
});

describe('bucket math', () => {
  it('puts the last hour of a year in that year, month and day (UTC)', () => {
    const ms = Date.parse('2026-12-31T23:59:59.999Z');
    expect([bucketKey('H', ms), bucketKey('D', ms), bucketKey('M', ms)]).toEqual(['2026-12-31T23', '2026-12-31', '2026-12']);
    expect(bucketKey('M', ms + 1)).toBe('2027-01');
  });

  it('steps months of different lengths and across a year boundary', () => {
    const starts = bucketStarts('M', Date.parse('2026-11-01T00:00:00Z'), Date.parse('2027-03-01T00:00:00Z'));
    expect(starts.map((t) => new Date(t).toISOString().slice(0, 7))).toEqual(['2026-11', '2026-12', '2027-01', '2027-02']);
    expect(bucketStarts('D', Date.parse('2028-02-28T00:00:00Z'), Date.parse('2028-03-01T00:00:00Z'))).toHaveLength(2); // leap year
  });
});

describe('countBatch (exact under retries)', () => {
  const batch = () => Array.from({ length: 20 }, (_, i) => rec(undefined, eventImage({ userId: `u${i % 3}`, type: i % 2 ? 'a' : 'b' })));
  const total = (store: FakeCounters) =>
    [...store.items.values()]
      .filter((i) => i.pk === 'acme#1#M')
      .reduce(
        (n, i) =>
          n +
          Object.entries(i)
            .filter(([k]) => k.startsWith('c:'))
            .reduce((m, [, v]) => m + (v as number), 0),
        0,
      );

  it('reports the first record of a failed update, and the retry from there counts each record once', async () => {
    const store = new FakeCounters();
    const records = batch();
    store.failNext = 2;
    const first = await countBatch(records, store, { concurrency: 1 });
    expect(first.failed).toBe(2);
    expect(first.firstFailedRecord).toBe(records[0]!.sequenceNumber);
    const again = await countBatch(records, store, { concurrency: 1 });
    expect(again.failed).toBe(0);
    expect(again.replays).toBeGreaterThan(0);
    expect(total(store)).toBe(20);
    // Every counter item got the expiry of its bucket's events (a week past them).
    expect([...store.items.values()].every((i) => typeof i.x === 'number' && i.x > FAR)).toBe(true);
  });

  it('a batch retried whole after a crash between updates (or a write applied but unanswered) loses and doubles nothing', async () => {
    const store = new FakeCounters();
    const records = batch();
    store.failAfterApply = 1;
    await countBatch(records, store, { concurrency: 1 });
    await countBatch(records, store, { concurrency: 1 });
    await countBatch(records.slice(7), store, { concurrency: 1 });
    expect(total(store)).toBe(20);
  });

  it("releases an erased user's emptied items to expire within days, and keeps those still counting a kept event", async () => {
    const store = new FakeCounters();
    const now = Date.UTC(2027, 0, 10);
    const released = now / 1000 + COUNTER_RELEASE_DAYS * 86_400;
    const day1 = eventImage({ userId: 'gone', occurredAt: '2027-01-08T10:00:00Z' });
    const day2 = eventImage({ userId: 'gone', occurredAt: '2027-01-09T10:00:00Z' });
    const later = eventImage({ userId: 'gone', occurredAt: '2027-01-09T11:00:00Z', type: 'kept' });
    const day3 = eventImage({ userId: 'gone', occurredAt: '2027-01-07T10:00:00Z' });
    const day3Hidden = { ...day3, d: now - 1000 };
    await countBatch([rec(undefined, day1), rec(undefined, day2), rec(undefined, later), rec(undefined, day3)], store, { now: () => now });
    const userItem = (day: string) => [...store.items.values()].find((i) => String(i.pk).includes('#U#') && i.sk === `${day}${FAR_DAY}`)!;
    expect(['2027-01-07', '2027-01-08', '2027-01-09'].every((sk) => (userItem(sk).x as number) > FAR)).toBe(true);
    // day3's only event is soft-deleted: its item holds zeros and is released (a restore would count it up again).
    expect(await countBatch([rec(day3, day3Hidden, now)], store, { now: () => now })).toMatchObject({ released: 1 });
    expect(userItem('2027-01-07').x).toBe(released);
    // Its expiry moved on meanwhile (say, the recount's repair): the erasure's purge of the hidden event releases it again.
    userItem('2027-01-07').x = FAR + 1;
    // The erasure deletes the events received before it (the hidden one too), not `later`.
    const outcome = await countBatch([rec(day1, undefined, now), rec(day2, undefined, now), rec(day3Hidden, undefined, now)], store, {
      now: () => now,
    });
    expect(outcome.released).toBe(2);
    expect(userItem('2027-01-08').x).toBe(released);
    expect(userItem('2027-01-07').x).toBe(released);
    expect(userItem('2027-01-09').x).toBeGreaterThan(FAR);
    // The tenant's own buckets hold no user: they keep their expiry.
    expect([...store.items.values()].filter((i) => !String(i.pk).includes('#U#')).every((i) => (i.x as number) > FAR)).toBe(true);
  });

  it('a retried erasure batch, whole or bisected, releases the emptied item and counts nothing twice', async () => {
    const now = Date.UTC(2027, 0, 10);
    const released = now / 1000 + COUNTER_RELEASE_DAYS * 86_400;
    const a = eventImage({ userId: 'gone', type: 'a' });
    const b = eventImage({ userId: 'gone', type: 'b' });
    const setUp = async () => {
      const store = new FakeCounters();
      await countBatch([rec(undefined, a), rec(undefined, b)], store);
      // The user item's count down will be applied, but its answer lost: no release in that attempt.
      store.failAfterApply = 1;
      store.failAfterApplyTo = (pk) => pk.includes('#U#');
      return store;
    };
    const userItem = (store: FakeCounters) => [...store.items.values()].find((i) => String(i.pk).includes('#U#'))!;
    // Made after the inserts: stream order.
    const erasureOf = () => [rec(a, undefined, now), rec(b, undefined, now)];
    const zeros = { [counterAttribute('a', null)]: 0, [counterAttribute('b', null)]: 0 };

    const whole = await setUp();
    let erasure = erasureOf();
    expect(await countBatch(erasure, whole, { now: () => now, concurrency: 1 })).toMatchObject({ failed: 1, released: 0 });
    expect(await countBatch(erasure, whole, { now: () => now })).toMatchObject({ failed: 0, released: 1 });
    expect(userItem(whole)).toMatchObject({ ...zeros, x: released });

    // Lambda bisects the failed batch: the half with the first record finds the item already past it, and still releases it.
    const bisected = await setUp();
    erasure = erasureOf();
    await countBatch(erasure, bisected, { now: () => now, concurrency: 1 });
    expect(await countBatch(erasure.slice(0, 1), bisected, { now: () => now })).toMatchObject({ failed: 0, released: 1 });
    expect(userItem(bisected)).toMatchObject({ ...zeros, x: released });
  });

  it('throws when every update fails (Lambda retries the batch whole)', async () => {
    const store = new FakeCounters();
    store.failNext = 1000;
    await expect(countBatch(batch(), store)).rejects.toThrow('injected');
  });
});

describe('parseStatsQuery and queryStats', () => {
  const q = (s: string) => parseStatsQuery(Object.fromEntries([...new URLSearchParams(s)].map(([k, v]) => [k, [v]])));

  it('rejects what the contract rejects, naming the parameter', () => {
    expect(() => q('to=2026-12-02T00:00:00Z')).toThrow("'from' is required");
    expect(() => q('from=2026-12-01T00:00:00Z&to=2026-12-01T00:00:00Z')).toThrow("'from' must be before 'to'");
    expect(() => q('from=2026-12-01T00:00:00Z&to=2026-12-02T00:00:00Z&interval=month')).toThrow("'to' must fall on the first of a month");
    expect(() => q('from=2020-01-01T00:00:00Z&to=2026-01-01T00:00:00Z&interval=month')).toThrow('at most 60');
    expect(() => q('from=2026-12-01T00:00:00Z&to=2026-12-02T00:00:00Z&limit=101')).toThrow("'limit'");
  });

  it('answers top groups and zero-filled buckets from counters of every shard, a month from its days for a user', async () => {
    const store = new FakeCounters();
    const image = (shard: number, type: string, occurredAt: string) => ({ ...eventImage({ type, occurredAt }), pk: `acme#${shard}` });
    await countBatch(
      [
        rec(undefined, image(0, 'a', '2026-11-30T10:00:00Z')),
        rec(undefined, image(1, 'a', '2026-12-01T10:00:00Z')),
        rec(undefined, image(1, 'b', '2026-12-02T10:00:00Z')),
        rec(undefined, image(2, 'b', '2026-12-03T10:00:00Z')),
        rec(undefined, image(2, 'c', '2027-01-03T10:00:00Z')),
      ],
      store,
    );
    const months = await queryStats('acme', q('from=2026-11-01T00:00:00Z&to=2027-02-01T00:00:00Z&interval=month&groupBy=type&limit=1'), {
      store,
      shardCount: 3,
    });
    expect(months.total).toBe(5);
    expect(months.groups).toEqual([{ key: 'a', count: 2 }]);
    expect(months.buckets).toEqual([
      { start: '2026-11-01T00:00:00.000Z', count: 1, groups: [{ key: 'a', count: 1 }] },
      { start: '2026-12-01T00:00:00.000Z', count: 3, groups: [{ key: 'b', count: 2 }] },
      { start: '2027-01-01T00:00:00.000Z', count: 1, groups: [{ key: 'c', count: 1 }] },
    ]);
    const user = await queryStats('acme', q('from=2026-11-01T00:00:00Z&to=2027-01-01T00:00:00Z&interval=month&userId=u1'), {
      store,
      shardCount: 3,
    });
    expect(user.buckets.map((b) => b.count)).toEqual([1, 3]);
    expect(await queryStats('other', q('from=2026-11-01T00:00:00Z&to=2027-02-01T00:00:00Z'), { store, shardCount: 3 })).toMatchObject({
      total: 0,
    });
    expect(padSequence('12')).toHaveLength(40);
    expect(LOGIN).toBe('c:["user.login",null]');
  });

  it('leaves out the hour, day and user items whose expiry day has ended, and reads the last bucket whatever its expiry day', async () => {
    const store = new FakeCounters();
    const x = Date.UTC(2027, 11, 1, 10) / 1000;
    const first = eventImage({ occurredAt: '2026-12-01T10:00:00Z', x });
    const late = eventImage({ occurredAt: '2026-12-01T11:00:00Z', x: x + 86_400 });
    const third = eventImage({ occurredAt: '2026-12-02T10:00:00Z', x: x + 2 * 86_400 });
    await countBatch([rec(undefined, first), rec(undefined, late), rec(undefined, third)], store);
    const totals = async (query: string, nowMs: number) =>
      (await queryStats('acme', q(query), { store, shardCount: 2, now: () => nowMs })).total;
    const days = 'from=2026-12-01T00:00:00Z&to=2026-12-03T00:00:00Z';
    const month = 'from=2026-12-01T00:00:00Z&to=2027-01-01T00:00:00Z';
    expect(await totals(days, Date.UTC(2027, 11, 1, 12))).toBe(3);
    // At the end of its expiry day an event leaves the hour, day and user counts.
    expect(await totals(days, Date.UTC(2027, 11, 2))).toBe(2);
    expect(await totals(`${days}&userId=u1`, Date.UTC(2027, 11, 2))).toBe(2);
    expect(await totals('from=2026-12-01T10:00:00Z&to=2026-12-01T12:00:00Z', Date.UTC(2027, 11, 2))).toBe(1);
    // A month item is whole: its events leave it as their removal (TTL, at the expiry) is counted down.
    expect(await totals(month, Date.UTC(2027, 11, 3))).toBe(3);
    await countBatch([rec(first, undefined, x * 1000), rec(late, undefined, (x + 86_400) * 1000)], store);
    expect(await totals(month, Date.UTC(2027, 11, 3))).toBe(1);
    expect(await totals(days, Date.UTC(2027, 11, 2))).toBe(2);
    expect(await totals(days, Date.UTC(2027, 11, 4))).toBe(0);
  });
});
