import { createHash } from 'node:crypto';
import { RETENTION_TTL_GRACE_DAYS } from './cleanup';
import { parseTenantPartition } from './item-keys';
import { unpackItem } from './payload';

/**
 * Counters for GET /v1/stats, kept from the events table's change stream (handlers/stats-consumer.ts)
 * in their own table, so that no event read, cleanup scan or stream ever meets them.
 *
 *   pk = <tenant>#<shard>#H|D          sk = <hour or day>#<expiry day>    (tenant, per hour/day)
 *   pk = <tenant>#<shard>#M            sk = <month>                       (tenant, per month)
 *   pk = <tenant>#<shard>#U#<digest>   sk = <day>#<expiry day>            (one user's events, per day)
 *   <hour or day> = 2026-12-01T10 | 2026-12-01, <month> = 2026-12 (UTC, of occurredAt);
 *   <expiry day> = 2027-12-01, the UTC day the counted events expire (their `x`): a bucket's events
 *       received on one day share one item, those received later (a late event) another
 *   c:<JSON [type, targetType]> = count of visible events with that type and target type
 *   q = the last stream sequence number applied (zero-padded to 40 digits)
 *   x = expiry (epoch s, the table's TTL): COUNTER_GRACE_DAYS after the end of its expiry day; a
 *       month item, MONTH_GRACE_DAYS after the last event its month can hold has expired
 *
 * <shard> is the shard of the event's own partition key: counters spread over partitions like the
 * events of a hot tenant do, and every record that changes one counter item comes from one
 * partition key — so from one stream shard, in order. That makes `q` an exact checkpoint per item:
 * an update applies only the records after `q` (see `pendingAfter`), so a retried batch never
 * counts twice and a crash between two updates loses nothing.
 *
 * The end of retention writes to month items only: a record that removes (or changes) an event at or
 * after its expiry — a TTL delete, the cleanup's backstop — counts nothing in the hour, day and user
 * items, and a query leaves out the items whose expiry day has ended (stats-query.ts). So an event
 * leaves those counts at the end of the UTC day it expires, not at its expiry instant (reads hide it
 * then), and counting it down there — an update of each of those items, most of them user items
 * that a batch rarely coalesces — is saved. A month's events expire over a month of days: split by
 * expiry day its item would be read as ~30, so the month items stay whole and are counted down (one
 * update per shard and month a batch touches).
 *
 * A user's items go sooner when the user's events go before their time: a record that hides or
 * removes an event before its expiry (a soft delete, a purge, an erasure) marks the user's item
 * (`U#<digest>`) for release, and an item that then holds only zeros expires COUNTER_RELEASE_DAYS
 * later instead of with its expiry day — so an erased user's digest leaves with the user's events.
 */
export type Granularity = 'H' | 'D' | 'M';

/** The parts of an event the counters need, read from a stream image. */
export interface CountedEvent {
  readonly tenant: string;
  readonly shard: number;
  readonly type: string;
  readonly userId: string;
  readonly targetType: string | null;
  readonly occurredAtMs: number;
  /** The event item's expiry (`x`, epoch s), when it has one. */
  readonly expiresAt?: number;
}

/** A stream record, images unmarshalled to plain objects. */
export interface ChangeRecord {
  readonly sequenceNumber: string;
  /** When the change happened (the record's ApproximateCreationDateTime, epoch ms). */
  readonly atMs?: number;
  readonly oldImage?: Record<string, unknown>;
  readonly newImage?: Record<string, unknown>;
}

export interface Contribution {
  /** Zero-padded sequence number of the record. */
  readonly seq: string;
  readonly attribute: string;
  readonly delta: number;
}

/** One counter item's changes in a batch: one update per item per batch. */
export interface CounterUpdate {
  readonly pk: string;
  readonly sk: string;
  /** In stream order. */
  readonly contributions: Contribution[];
  /** The record (its sequence number as the stream spelled it) to report when this update fails. */
  readonly firstRecord: string;
  /** The item's expiry (epoch s): `counterExpiry` of the events it counts up; absent when it counts none up (or they have no expiry). */
  readonly expiresAt?: number;
  /** A user item whose event went before its expiry: release it (`releaseExpiry`) if every count in it is zero. */
  readonly releaseWhenEmpty?: boolean;
}

export const SEQ_DIGITS = 40;
export const padSequence = (seq: string): string => seq.padStart(SEQ_DIGITS, '0');

/** The counter attribute of a (type, targetType) pair. */
export const counterAttribute = (type: string, targetType: string | null): string => `c:${JSON.stringify([type, targetType])}`;

export const parseCounterAttribute = (name: string): { type: string; targetType: string | null } | undefined => {
  if (!name.startsWith('c:')) return undefined;
  try {
    const [type, targetType] = JSON.parse(name.slice(2)) as [unknown, unknown];
    if (typeof type !== 'string' || (targetType !== null && typeof targetType !== 'string')) return undefined;
    return { type, targetType };
  } catch {
    return undefined;
  }
};

/**
 * Days a counter item outlives its expiry day: past the 24 hours a stream record lives, so a batch
 * retried late still finds the item's checkpoint and counts nothing twice.
 */
export const COUNTER_GRACE_DAYS = 2;

/**
 * Days a month item outlives the last event its month can hold: the cleanup deletes an expired event
 * TTL has not by RETENTION_TTL_GRACE_DAYS past its expiry, and the consumer counts it down within
 * its retries (stream records live 24 hours); the rest is margin.
 */
export const MONTH_GRACE_DAYS = RETENTION_TTL_GRACE_DAYS + 4;

/** Where the month holding `ms` ends (ms). */
const monthEndMs = (ms: number): number => {
  const d = new Date(ms);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
};

/**
 * Days a released counter item (a user item left all zeros when its events went early) is kept: past the 24 hours a stream
 * record lives, so a retried batch still finds the item's checkpoint and counts nothing twice.
 */
export const COUNTER_RELEASE_DAYS = 2;

/** The expiry (epoch s) of a counter item released at `nowMs`. */
export const releaseExpiry = (nowMs: number): number => Math.ceil(nowMs / 1000) + COUNTER_RELEASE_DAYS * 86_400;

/** The counter items' key for the UTC day an event expires (`x`, epoch s). */
export const expiryDayKey = (expiresAt: number): string => new Date(expiresAt * 1000).toISOString().slice(0, 10);

/** When an expiry day ends (ms): from then on a query leaves its items out. */
export const expiryDayEndMs = (day: string): number => Date.parse(`${day}T00:00:00Z`) + 86_400_000;

/**
 * A counter item's sort key: its bucket, and the expiry day of the events it counts — none for a
 * month item, or for events without an expiry.
 */
export const counterSortKey = (g: Granularity, e: Pick<CountedEvent, 'occurredAtMs' | 'expiresAt'>): string =>
  g === 'M' || e.expiresAt === undefined ? bucketKey(g, e.occurredAtMs) : `${bucketKey(g, e.occurredAtMs)}#${expiryDayKey(e.expiresAt)}`;

/** A counter item's sort key read back: the bucket, and the expiry day when it has one. */
export const parseCounterSortKey = (sk: string): { bucket: string; expiryDay?: string } => {
  const [bucket, expiryDay] = sk.split('#') as [string, string | undefined];
  return expiryDay === undefined ? { bucket } : { bucket, expiryDay };
};

/** Whether a counter item's events have all left, at `nowMs`: the expiry day of its (parsed) sort key has ended. */
export const counterEnded = ({ expiryDay }: { expiryDay?: string }, nowMs: number): boolean =>
  expiryDay !== undefined && nowMs >= expiryDayEndMs(expiryDay);

/**
 * Whether a counter item's expiry day has begun at `nowMs`: from then on its events may be gone from
 * the table (TTL) while the item still counts them until the day ends — no recount can compare it.
 */
const counterExpiring = (sk: string, nowMs: number): boolean => {
  const { expiryDay } = parseCounterSortKey(sk);
  return expiryDay !== undefined && nowMs >= expiryDayEndMs(expiryDay) - 86_400_000;
};

/**
 * The expiry (epoch s) of the counter item of bucket `g` an event is counted in: COUNTER_GRACE_DAYS
 * past the end of its expiry day; for a month item, the event's expiry moved to the end of its month
 * (an event of the same retention stored at the month's last instant expires then) plus
 * MONTH_GRACE_DAYS. Undefined for an event without an expiry.
 */
export const counterExpiry = (g: Granularity, e: Pick<CountedEvent, 'expiresAt' | 'occurredAtMs'>): number | undefined => {
  if (e.expiresAt === undefined) return undefined;
  if (g !== 'M') return expiryDayEndMs(expiryDayKey(e.expiresAt)) / 1000 + COUNTER_GRACE_DAYS * 86_400;
  return e.expiresAt + Math.ceil((monthEndMs(e.occurredAtMs) - e.occurredAtMs) / 1000) + MONTH_GRACE_DAYS * 86_400;
};

/** Bucket keys: UTC hour, day and month of a time. */
export const bucketKey = (g: Granularity, ms: number): string => {
  const iso = new Date(ms).toISOString();
  return g === 'H' ? iso.slice(0, 13) : g === 'D' ? iso.slice(0, 10) : iso.slice(0, 7);
};

export const userDigest = (userId: string): string => createHash('sha256').update(userId, 'utf8').digest('base64url').slice(0, 22);

export const tenantCounterPartition = (tenant: string, shard: number, g: Granularity) => `${tenant}#${shard}#${g}`;
export const userCounterPartition = (tenant: string, shard: number, userId: string) => `${tenant}#${shard}#U#${userDigest(userId)}`;

/**
 * The event an image holds, if it is an event item: an event partition (`<tenant>#<shard>`) and an
 * event body (`e`, or `y`/`z` when stored deflated); `hidden` when soft-deleted. Everything else in
 * the table (rate counters, erasure items, the tenant registry) is no event.
 */
const eventOfImage = (stored: Record<string, unknown> | undefined): { event: CountedEvent; hidden: boolean } | undefined => {
  // An event stored deflated (`y` or `z` instead of `e`, core/payload.ts) counts all the same.
  const image = stored && unpackItem(stored);
  if (!image || typeof image.pk !== 'string' || typeof image.e !== 'string') return undefined;
  const partition = parseTenantPartition(image.pk);
  if (!partition) return undefined;
  let event: { type?: unknown; userId?: unknown; occurredAt?: unknown; target?: { type?: unknown } };
  try {
    event = JSON.parse(image.e) as typeof event;
  } catch {
    return undefined;
  }
  const occurredAtMs = typeof event.occurredAt === 'string' ? Date.parse(event.occurredAt) : Number.NaN;
  if (typeof event.type !== 'string' || typeof event.userId !== 'string' || !Number.isFinite(occurredAtMs)) return undefined;
  return {
    event: {
      tenant: partition.tenant,
      shard: partition.shard,
      type: event.type,
      userId: event.userId,
      targetType: typeof event.target?.type === 'string' ? event.target.type : null,
      occurredAtMs,
      ...(typeof image.x === 'number' && { expiresAt: image.x }),
    },
    hidden: image.d !== undefined,
  };
};

type ParsedImage = ReturnType<typeof eventOfImage>;

/** The event of a parsed image if it counts: visible, not soft-deleted. */
const visible = (parsed: ParsedImage): CountedEvent | undefined => (parsed && !parsed.hidden ? parsed.event : undefined);

/** The event an image holds, if it is a visible event item (not soft-deleted): what counts. */
export const countedEvent = (stored: Record<string, unknown> | undefined): CountedEvent | undefined => visible(eventOfImage(stored));

/** Whether a record comes at or after the expiry of the event it changes: the end of its retention (TTL, the cleanup's backstop). */
const pastExpiry = (atMs: number | undefined, before: ParsedImage): boolean =>
  before?.event.expiresAt !== undefined && atMs !== undefined && before.event.expiresAt * 1000 <= atMs;

/**
 * The event a record hides or removes before its expiry — a soft delete, a purge or an erasure, not
 * the end of retention — if any.
 */
const goneEarly = (atMs: number | undefined, before: ParsedImage, after: ParsedImage): CountedEvent | undefined => {
  if (!before || before.event.expiresAt === undefined || atMs === undefined || pastExpiry(atMs, before)) return undefined;
  return after === undefined || after.hidden ? before.event : undefined;
};

export interface CounterCell {
  readonly pk: string;
  readonly sk: string;
  readonly attribute: string;
  /** `counterExpiry` of the event for this cell's item. */
  readonly expiresAt?: number;
}

/** The counter cells (item key + attribute) one visible event adds one to; with `monthsOnly`, its month cell alone. */
export const cellsOf = (e: CountedEvent, monthsOnly = false): CounterCell[] => {
  const attribute = counterAttribute(e.type, e.targetType);
  const cell = (pk: string, g: Granularity): CounterCell => {
    const expiresAt = counterExpiry(g, e);
    return { pk, sk: counterSortKey(g, e), attribute, ...(expiresAt !== undefined && { expiresAt }) };
  };
  const month = cell(tenantCounterPartition(e.tenant, e.shard, 'M'), 'M');
  if (monthsOnly) return [month];
  return [
    cell(tenantCounterPartition(e.tenant, e.shard, 'H'), 'H'),
    cell(tenantCounterPartition(e.tenant, e.shard, 'D'), 'D'),
    month,
    cell(userCounterPartition(e.tenant, e.shard, e.userId), 'D'),
  ];
};

/**
 * Plans a batch: each record adds one to the cells of its new image (if a visible event) and takes
 * one from those of its old image. An insert counts up, a soft delete down, a restore up, a purge
 * of a soft-deleted item not at all, an erasure's delete down; a record at or after the event's
 * expiry (the end of its retention) counts in the month items only. Deltas are coalesced per counter
 * item, in stream order; cells that net to zero are dropped. Each update that counts up carries the
 * latest expiry of the cells it counts up (none when it only counts down);
 * the user item of an event hidden or removed before its expiry is marked to be released if empty
 * (with no contributions when the record counts nothing, as the purge of a soft-deleted event).
 */
export const planCounters = (records: readonly ChangeRecord[]): CounterUpdate[] => {
  const updates = new Map<
    string,
    { pk: string; sk: string; firstRecord: string; contributions: Contribution[]; expiresAt?: number; releaseWhenEmpty?: boolean }
  >();
  for (const r of records) {
    const seq = padSequence(r.sequenceNumber);
    const deltas = new Map<string, CounterCell & { delta: number }>();
    const add = (e: CountedEvent | undefined, delta: number, monthsOnly: boolean) => {
      if (!e) return;
      for (const cell of cellsOf(e, monthsOnly)) {
        const key = `${cell.pk}\u0000${cell.sk}\u0000${cell.attribute}`;
        const prev = deltas.get(key);
        const expiresAt = Math.max(prev?.expiresAt ?? 0, cell.expiresAt ?? 0) || undefined;
        deltas.set(key, { ...cell, delta: (prev?.delta ?? 0) + delta, ...(expiresAt !== undefined && { expiresAt }) });
      }
    };
    // Each image unpacked and parsed once: for the counts and for the release.
    const before = eventOfImage(r.oldImage);
    const after = eventOfImage(r.newImage);
    // At the end of retention the event leaves the other counts with its expiry day (a query leaves
    // those items out): only its month item counts it down.
    const ended = pastExpiry(r.atMs, before);
    add(visible(after), 1, ended);
    add(visible(before), -1, ended);
    const update = (pk: string, sk: string) => {
      const itemKey = `${pk}\u0000${sk}`;
      let u = updates.get(itemKey);
      if (!u) {
        u = { pk, sk, firstRecord: r.sequenceNumber, contributions: [] };
        updates.set(itemKey, u);
      }
      return u;
    };
    for (const d of deltas.values()) {
      if (d.delta === 0) continue;
      const u = update(d.pk, d.sk);
      u.contributions.push({ seq, attribute: d.attribute, delta: d.delta });
      // A month item's expiry moves with a count up only: the latest event's (receipt times only
      // grow), while a count down's event may be older than others the month still holds. Every
      // event of an hour, day or user item has its expiry day, so any count gives the item's expiry
      // (a count down may be the first write of its item: one counted under an older layout).
      if (d.expiresAt !== undefined && (d.delta > 0 || !d.pk.endsWith('#M'))) u.expiresAt = Math.max(u.expiresAt ?? 0, d.expiresAt);
    }
    // The user's item of that day, even when this record counts nothing (the purge of a hidden event).
    const gone = goneEarly(r.atMs, before, after);
    if (gone) update(userCounterPartition(gone.tenant, gone.shard, gone.userId), counterSortKey('D', gone)).releaseWhenEmpty = true;
  }
  return [...updates.values()];
};

/**
 * What an update still has to apply to an item whose checkpoint is `appliedSeq`: the net delta per
 * attribute of the records after it, and the new checkpoint. Undefined when nothing is left.
 */
export const pendingAfter = (
  update: CounterUpdate,
  appliedSeq: string | undefined,
): { add: Record<string, number>; lastSeq: string; firstSeq: string } | undefined => {
  const left = update.contributions.filter((c) => appliedSeq === undefined || c.seq > appliedSeq);
  if (left.length === 0) return undefined;
  const add: Record<string, number> = {};
  for (const c of left) add[c.attribute] = (add[c.attribute] ?? 0) + c.delta;
  for (const [k, v] of Object.entries(add)) if (v === 0) delete add[k];
  return { add, firstSeq: left[0]!.seq, lastSeq: left[left.length - 1]!.seq };
};

/**
 * The recount: the counter cells the stored events call for (every visible event item, as the
 * consumer counts them), against the counter items read. Returns each cell that differs, with the
 * expiry the consumer gives its item (a repair that creates the item sets it), or — for an item
 * whose every cell the repair zeroes (one of an older layout, say) — an expiry COUNTER_RELEASE_DAYS
 * from `nowMs`. Items whose expiry day has begun at `nowMs` are left out on both sides: the end of
 * retention (TTL) removes their events without counting them down, and once the day ends no query
 * reads them.
 */
export const recountDrift = (
  eventItems: Iterable<Record<string, unknown>>,
  counterItems: Iterable<Record<string, unknown>>,
  nowMs: number = Date.now(),
): { pk: string; sk: string; attribute: string; expected: number; counted: number; expiresAt?: number }[] => {
  const expected = new Map<string, number>();
  // The expiry the consumer would have given each item, from the stored events' own expiries.
  const expiry = new Map<string, number>();
  const cell = (pk: string, sk: string, attribute: string) => JSON.stringify([pk, sk, attribute]);
  for (const item of eventItems) {
    const e = countedEvent(item);
    if (!e) continue;
    for (const c of cellsOf(e)) {
      if (counterExpiring(c.sk, nowMs)) continue;
      expected.set(cell(c.pk, c.sk, c.attribute), (expected.get(cell(c.pk, c.sk, c.attribute)) ?? 0) + 1);
      const itemKey = JSON.stringify([c.pk, c.sk]);
      if (c.expiresAt !== undefined) expiry.set(itemKey, Math.max(expiry.get(itemKey) ?? 0, c.expiresAt));
    }
  }
  const counted = new Map<string, number>();
  for (const item of counterItems) {
    if (counterExpiring(String(item.sk), nowMs)) continue;
    for (const [name, value] of Object.entries(item)) {
      if (parseCounterAttribute(name) && typeof value === 'number') counted.set(cell(String(item.pk), String(item.sk), name), value);
    }
  }
  const drift: { pk: string; sk: string; attribute: string; expected: number; counted: number; expiresAt?: number }[] = [];
  for (const key of new Set([...expected.keys(), ...counted.keys()])) {
    const want = expected.get(key) ?? 0;
    const have = counted.get(key) ?? 0;
    if (want === have) continue;
    const [pk, sk, attribute] = JSON.parse(key) as [string, string, string];
    // An item no stored event calls for holds only zeros once repaired: let it go.
    const expiresAt = expiry.get(JSON.stringify([pk, sk])) ?? releaseExpiry(nowMs);
    drift.push({ pk, sk, attribute, expected: want, counted: have, expiresAt });
  }
  return drift;
};
