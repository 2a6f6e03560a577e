import { parseRfc3339, TYPE_PATTERN } from './envelope';
import { BadRequestError } from './errors';
import { shardRange } from './item-keys';
import { canonicalId } from './json-bounds';
import {
  bucketKey,
  counterEnded,
  parseCounterAttribute,
  parseCounterSortKey,
  tenantCounterPartition,
  userCounterPartition,
  type Granularity,
} from './stats-counters';

/** GET /v1/stats: counts of visible events from the counters (stats-counters.ts), never from the events. */
export const STATS_PARAMETERS = ['from', 'to', 'interval', 'groupBy', 'type', 'userId', 'targetType', 'limit'] as const;
export const STATS_INTERVALS = ['hour', 'day', 'month'] as const;
export const STATS_GROUP_BY = ['type', 'targetType'] as const;
export type StatsInterval = (typeof STATS_INTERVALS)[number];

/** The longest span per bucket size (hour: 31 days, day: 400 days, month: 5 years). */
export const STATS_LIMITS = {
  maxHours: 31 * 24,
  maxDays: 400,
  maxMonths: 60,
  defaultLimit: 10,
  maxLimit: 100,
} as const;

export interface StatsQuery {
  readonly fromMs: number;
  readonly toMs: number;
  readonly interval?: StatsInterval;
  readonly groupBy?: 'type' | 'targetType';
  readonly type?: string;
  readonly userId?: string;
  readonly targetType?: string;
  readonly limit: number;
}

export interface Group {
  readonly key: string;
  readonly count: number;
}

export interface StatsResult {
  readonly from: string;
  readonly to: string;
  readonly interval: StatsInterval | null;
  readonly groupBy: 'type' | 'targetType' | null;
  readonly total: number;
  readonly groups: Group[];
  readonly buckets: { start: string; count: number; groups: Group[] }[];
}

/** Reads counter items of one partition, sort keys from..to inclusive (a bucket's items are `<bucket>#<expiry day>`). */
export interface CounterReadStore {
  readCounters(pk: string, fromSk: string, toSk: string): Promise<Record<string, unknown>[]>;
}

const invalid = (message: string) => new BadRequestError('invalid_query', message);

const GRANULARITY: Record<StatsInterval, Granularity> = { hour: 'H', day: 'D', month: 'M' };
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

const isMonthStart = (ms: number) => {
  const d = new Date(ms);
  return ms % DAY === 0 && d.getUTCDate() === 1;
};

/** Bucket starts from `fromMs` (aligned) up to before `toMs`. */
export const bucketStarts = (g: Granularity, fromMs: number, toMs: number): number[] => {
  const out: number[] = [];
  for (let t = fromMs; t < toMs; ) {
    out.push(t);
    if (g === 'H') t += HOUR;
    else if (g === 'D') t += DAY;
    else {
      const d = new Date(t);
      t = Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
    }
  }
  return out;
};

const aligned = (g: Granularity, ms: number) => (g === 'H' ? ms % HOUR === 0 : g === 'D' ? ms % DAY === 0 : isMonthStart(ms));
const UNIT: Record<Granularity, string> = { H: 'a whole hour (UTC)', D: 'midnight UTC', M: 'the first of a month, midnight UTC' };

export const parseStatsQuery = (params: Readonly<Record<string, readonly string[] | undefined>>): StatsQuery => {
  const single: Record<string, string> = {};
  for (const [name, values] of Object.entries(params)) {
    if (!values || values.length === 0) continue;
    if (!(STATS_PARAMETERS as readonly string[]).includes(name)) throw invalid(`unknown parameter '${name.slice(0, 64)}'`);
    if (values.length > 1) throw invalid(`parameter '${name}' is given more than once`);
    single[name] = values[0] as string;
  }
  for (const name of ['from', 'to'] as const) {
    if (single[name] === undefined) throw invalid(`'${name}' is required (RFC 3339)`);
    if (parseRfc3339(single[name]) === undefined) throw invalid(`'${name}' must be an RFC 3339 timestamp`);
  }
  const fromMs = parseRfc3339(single.from as string) as number;
  const toMs = parseRfc3339(single.to as string) as number;
  if (fromMs >= toMs) throw invalid(`'from' must be before 'to' ('to' is exclusive)`);
  const interval = single.interval;
  if (interval !== undefined && !(STATS_INTERVALS as readonly string[]).includes(interval)) {
    throw invalid(`'interval' must be one of ${STATS_INTERVALS.join(', ')}`);
  }
  const groupBy = single.groupBy;
  if (groupBy !== undefined && !(STATS_GROUP_BY as readonly string[]).includes(groupBy)) {
    throw invalid(`'groupBy' must be one of ${STATS_GROUP_BY.join(', ')}`);
  }
  if (single.type !== undefined && !TYPE_PATTERN.test(single.type)) throw invalid("'type' is not a valid event type");
  if (single.targetType !== undefined && (single.targetType.length < 1 || single.targetType.length > 256)) {
    throw invalid("'targetType' must be 1-256 characters");
  }
  let userId: string | undefined;
  if (single.userId !== undefined) {
    userId = canonicalId(single.userId);
    if (userId === undefined || userId.length < 1 || userId.length > 256)
      throw invalid("'userId' must be 1-256 characters of valid Unicode text");
  }
  let limit: number = STATS_LIMITS.defaultLimit;
  if (single.limit !== undefined) {
    if (!/^\d{1,3}$/.test(single.limit) || Number(single.limit) < 1 || Number(single.limit) > STATS_LIMITS.maxLimit) {
      throw invalid(`'limit' must be an integer from 1 to ${STATS_LIMITS.maxLimit}`);
    }
    limit = Number(single.limit);
  }
  if (userId !== undefined && interval === 'hour') throw invalid("'userId' works with interval 'day' or 'month' (or none), not 'hour'");
  const query: StatsQuery = {
    fromMs,
    toMs,
    limit,
    ...(interval !== undefined && { interval: interval as StatsInterval }),
    ...(groupBy !== undefined && { groupBy: groupBy as 'type' | 'targetType' }),
    ...(single.type !== undefined && { type: single.type }),
    ...(userId !== undefined && { userId }),
    ...(single.targetType !== undefined && { targetType: single.targetType }),
  };
  const g = readGranularity(query);
  const unit: Granularity = query.interval ? GRANULARITY[query.interval] : g;
  for (const [name, ms] of [
    ['from', fromMs],
    ['to', toMs],
  ] as const) {
    if (!aligned(unit, ms)) throw invalid(`'${name}' must fall on ${UNIT[unit]}${interval ? ` with interval '${interval}'` : ''}`);
  }
  const span = bucketStarts(g, fromMs, toMs).length;
  const max = g === 'H' ? STATS_LIMITS.maxHours : g === 'D' ? STATS_LIMITS.maxDays : STATS_LIMITS.maxMonths;
  if (span > max) throw invalid(`'from'..'to' spans ${span} ${UNIT_NAME[g]}; at most ${max} with this query`);
  return query;
};

const UNIT_NAME: Record<Granularity, string> = { H: 'hours', D: 'days', M: 'months' };

/**
 * Which counters a query reads: a user's are per day; otherwise the interval's, or — for totals —
 * the coarsest that both ends fall on (fewest items read).
 */
export const readGranularity = (q: Pick<StatsQuery, 'fromMs' | 'toMs' | 'interval' | 'userId'>): Granularity => {
  if (q.userId !== undefined) return 'D';
  if (q.interval) return GRANULARITY[q.interval];
  if (isMonthStart(q.fromMs) && isMonthStart(q.toMs)) return 'M';
  if (q.fromMs % DAY === 0 && q.toMs % DAY === 0) return 'D';
  return 'H';
};

const topN = (counts: Map<string, number>, limit: number): Group[] =>
  [...counts.entries()]
    .filter(([, n]) => n > 0)
    .sort(([a, x], [b, y]) => y - x || (a < b ? -1 : a > b ? 1 : 0))
    .slice(0, limit)
    .map(([key, count]) => ({ key, count }));

/**
 * Answers a query from the counter items of every shard of the tenant, leaving out those whose
 * events have all expired (their expiry day has ended at `now`).
 */
export const queryStats = async (
  tenant: string,
  q: StatsQuery,
  { store, shardCount, now = Date.now }: { store: CounterReadStore; shardCount: number; now?: () => number },
): Promise<StatsResult> => {
  const g = readGranularity(q);
  const starts = bucketStarts(g, q.fromMs, q.toMs);
  const fromSk = bucketKey(g, q.fromMs);
  // Past every `<last bucket>#<expiry day>` ('~' sorts after '#' and every digit).
  const toSk = `${bucketKey(g, starts[starts.length - 1] as number)}~`;
  const nowMs = now();
  const items = (
    await Promise.all(
      shardRange(shardCount).map((shard) =>
        store.readCounters(
          q.userId !== undefined ? userCounterPartition(tenant, shard, q.userId) : tenantCounterPartition(tenant, shard, g),
          fromSk,
          toSk,
        ),
      ),
    )
  ).flat();
  // Bucket of the answer each read bucket falls in (a user's days roll up into months).
  const outUnit: Granularity | undefined = q.interval ? GRANULARITY[q.interval] : undefined;
  const perBucket = new Map<string, { count: number; groups: Map<string, number> }>();
  const groups = new Map<string, number>();
  let total = 0;
  for (const item of items) {
    const key = parseCounterSortKey(String(item.sk));
    if (counterEnded(key, nowMs)) continue;
    const sk = key.bucket;
    const bucketMs = Date.parse(g === 'H' ? `${sk}:00:00Z` : g === 'D' ? `${sk}T00:00:00Z` : `${sk}-01T00:00:00Z`);
    const outKey = outUnit ? bucketKey(outUnit, bucketMs) : '';
    for (const [name, value] of Object.entries(item)) {
      const cell = parseCounterAttribute(name);
      if (!cell || typeof value !== 'number' || value === 0) continue;
      if (q.type !== undefined && cell.type !== q.type) continue;
      if (q.targetType !== undefined && cell.targetType !== q.targetType) continue;
      total += value;
      const groupKey = q.groupBy === 'type' ? cell.type : q.groupBy === 'targetType' ? cell.targetType : null;
      if (groupKey !== null) groups.set(groupKey, (groups.get(groupKey) ?? 0) + value);
      if (outUnit) {
        const b = perBucket.get(outKey) ?? { count: 0, groups: new Map<string, number>() };
        b.count += value;
        if (groupKey !== null) b.groups.set(groupKey, (b.groups.get(groupKey) ?? 0) + value);
        perBucket.set(outKey, b);
      }
    }
  }
  const buckets = outUnit
    ? bucketStarts(outUnit, q.fromMs, q.toMs).map((ms) => {
        const b = perBucket.get(bucketKey(outUnit, ms));
        return { start: new Date(ms).toISOString(), count: b?.count ?? 0, groups: b && q.groupBy ? topN(b.groups, q.limit) : [] };
      })
    : [];
  return {
    from: new Date(q.fromMs).toISOString(),
    to: new Date(q.toMs).toISOString(),
    interval: q.interval ?? null,
    groupBy: q.groupBy ?? null,
    total,
    groups: q.groupBy ? topN(groups, q.limit) : [],
    buckets,
  };
};
