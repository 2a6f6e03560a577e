import { GSI_BY_TYPE, GSI_BY_USER, QUERY_LIMITS } from '../../contract';
import { decodeCursor, encodeCursor, filterDigest } from './cursor';
import { parseRfc3339, TYPE_PATTERN, type StoredEvent } from './envelope';
import { BadRequestError, NotFoundError } from './errors';
import { adjacentId, highestIdAt, lowestIdAt, MAX_ID, MIN_ID } from './ids';
import type { Keyring } from './keyring';
import { erasureFilter } from './erasure';
import { canonicalId } from './json-bounds';
import {
  parseTenantPartition,
  shardRange,
  tenantPartition,
  typePartition,
  userPartition,
  type ErasureMarkerItem,
  type EventItem,
} from './item-keys';
import { decodePublicId, encodePublicId } from './public-id';
import { mergeShards, ShardReader, type MergeProgress } from './shard-merge';

/** The query-string parameters GET /v1/events takes besides `details.<key>`. */
export const QUERY_PARAMETERS = ['userId', 'type', 'targetId', 'from', 'to', 'order', 'limit', 'cursor'] as const;

/** The storage port of the query side. */
export interface EventReadStore {
  /**
   * One key-condition Query: items whose sort key is within [lower, upper] (inclusive), in the
   * given order, at most `limit` of them. `done` is true when the range holds no more items.
   */
  queryRange(request: RangeRequest): Promise<{ items: EventItem[]; done: boolean }>;
  /** A strongly consistent GetItem. */
  get(pk: string, sk: string): Promise<EventItem | undefined>;
  /** The tenant's erasure markers (few: pending requests and recent completions). */
  listMarkers(tenant: string): Promise<ErasureMarkerItem[]>;
}

export interface RangeRequest {
  readonly index?: typeof GSI_BY_USER | typeof GSI_BY_TYPE;
  readonly partition: string;
  readonly lower: string;
  readonly upper: string;
  readonly order: 'asc' | 'desc';
  readonly limit: number;
}

export interface EventQuery {
  readonly userId?: string;
  readonly type?: string;
  readonly targetId?: string;
  readonly from?: string;
  readonly to?: string;
  readonly details: readonly (readonly [string, string])[];
  readonly order: 'asc' | 'desc';
  readonly limit: number;
  readonly cursor?: string;
}

/** A returned event: the stored event and its public id (never the internal id or the tenant). */
export type PublicEvent = { id: string } & StoredEvent;

export interface QueryDeps {
  readonly store: EventReadStore;
  readonly keyring: Keyring;
  readonly shardCount: number;
  readonly now?: () => number;
}

export interface QueryPage {
  readonly events: PublicEvent[];
  readonly nextCursor: string | null;
  /** Items read from the table to produce this page (for read-amplification figures). */
  readonly itemsRead: number;
}

const SIMPLE_PARAMS: ReadonlySet<string> = new Set(QUERY_PARAMETERS);
const DETAILS_PREFIX = 'details.';

const badParam = (message: string): BadRequestError => new BadRequestError('invalid_parameter', message);

/** Turns query-string parameters into a validated query; every problem is a 400 that names it. */
export const parseEventQuery = (params: Readonly<Record<string, readonly string[] | undefined>>): EventQuery => {
  const single: Record<string, string> = {};
  const details: [string, string][] = [];
  for (const [name, values] of Object.entries(params)) {
    if (!values || values.length === 0) continue;
    if (values.length > 1) throw badParam(`parameter '${clip(name)}' is given more than once`);
    const value = values[0] as string;
    if (name.startsWith(DETAILS_PREFIX)) {
      const key = name.slice(DETAILS_PREFIX.length);
      if (key.length === 0 || key.length > QUERY_LIMITS.maxDetailKeyLength) {
        throw badParam(`'${clip(name)}' needs a key of 1-${QUERY_LIMITS.maxDetailKeyLength} characters after 'details.'`);
      }
      if (value.length > QUERY_LIMITS.maxDetailValueLength)
        throw badParam(`'${clip(name)}' must be at most ${QUERY_LIMITS.maxDetailValueLength} characters`);
      details.push([key, value]);
    } else if (SIMPLE_PARAMS.has(name)) {
      single[name] = value;
    } else {
      throw new BadRequestError('unknown_parameter', `unknown parameter '${clip(name)}'`);
    }
  }
  if (details.length > QUERY_LIMITS.maxDetailFilters) throw badParam(`at most ${QUERY_LIMITS.maxDetailFilters} details.<key> filters`);

  const { type, from, to, cursor } = single;
  // The canonical forms ingest stores (NFC): an NFD spelling finds the same user and target.
  const userId = canonicalFilter('userId', single.userId);
  const targetId = canonicalFilter('targetId', single.targetId);
  if (type !== undefined && !TYPE_PATTERN.test(type)) throw badParam("'type' is not a valid event type");
  for (const [name, value] of [
    ['from', from],
    ['to', to],
  ] as const) {
    if (value !== undefined && parseRfc3339(value) === undefined) throw badParam(`'${name}' must be an RFC 3339 timestamp`);
  }
  if (from !== undefined && to !== undefined && (parseRfc3339(from) as number) >= (parseRfc3339(to) as number)) {
    throw new BadRequestError('invalid_query', `'from' (${from}) must be before 'to' (${to}): 'to' is exclusive`);
  }
  const order = single.order ?? 'desc';
  if (order !== 'asc' && order !== 'desc') throw badParam("'order' must be 'asc' or 'desc'");
  let limit: number = QUERY_LIMITS.defaultLimit;
  if (single.limit !== undefined) {
    if (!/^\d{1,4}$/.test(single.limit) || Number(single.limit) < 1 || Number(single.limit) > QUERY_LIMITS.maxLimit) {
      throw badParam(`'limit' must be an integer from 1 to ${QUERY_LIMITS.maxLimit}`);
    }
    limit = Number(single.limit);
  }
  if (cursor !== undefined && cursor.length === 0) throw new BadRequestError('invalid_cursor', "'cursor' is empty");
  details.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return { userId, type, targetId, from, to, details, order, limit, cursor };
};

const canonicalFilter = (name: 'userId' | 'targetId', value: string | undefined): string | undefined => {
  if (value === undefined) return undefined;
  const canonical = canonicalId(value);
  if (canonical === undefined) throw badParam(`'${name}' is not valid Unicode text (it holds an unpaired UTF-16 surrogate)`);
  const max = QUERY_LIMITS.maxFilterLength;
  if (canonical.length < 1 || canonical.length > max) throw badParam(`'${name}' must be 1-${max} characters`);
  return canonical;
};

const clip = (text: string): string => (text.length > 64 ? `${text.slice(0, 64)}…` : text);

/** Which key-condition path serves a query: the user, type or tenant timeline. */
export const planAccessPath = (
  tenant: string,
  query: Pick<EventQuery, 'userId' | 'type'>,
  shardCount: number,
): { index?: typeof GSI_BY_USER | typeof GSI_BY_TYPE; partitions: string[] } => {
  if (query.userId !== undefined) return { index: GSI_BY_USER, partitions: [userPartition(tenant, query.userId)] };
  if (query.type !== undefined) {
    const type = query.type;
    return { index: GSI_BY_TYPE, partitions: shardRange(shardCount).map((shard) => typePartition(tenant, shard, type)) };
  }
  return { partitions: shardRange(shardCount).map((shard) => tenantPartition(tenant, shard)) };
};

export const isVisible = (item: EventItem, nowMs: number): boolean => item.d === undefined && item.x * 1000 > nowMs;

/** Detail filters compare the query string with the JSON value's text: 1200 matches "1200". */
const detailMatches = (value: unknown, expected: string): boolean =>
  (typeof value === 'string' && value === expected) ||
  ((typeof value === 'number' || typeof value === 'boolean') && String(value) === expected) ||
  (value === null && expected === 'null');

const matches = (event: StoredEvent, query: EventQuery): boolean =>
  (query.type === undefined || event.type === query.type) &&
  (query.userId === undefined || event.userId === query.userId) &&
  (query.targetId === undefined || event.target?.id === query.targetId) &&
  query.details.every(([key, expected]) => detailMatches(event.details?.[key], expected));

export const toPublicEvent = (keyring: Keyring, tenant: string, item: EventItem): PublicEvent => {
  const parts = parseTenantPartition(item.pk);
  if (!parts || parts.tenant !== tenant) throw new Error('item outside the tenant');
  return { id: encodePublicId(keyring, tenant, { shard: parts.shard, internalId: item.sk }), ...(JSON.parse(item.e) as StoredEvent) };
};

/**
 * One page of a tenant's events. The access path is a key-condition Query on one timeline; the
 * shards of a sharded timeline are merged in sort-key order, reading from each shard only about
 * its share of the page. Other filters narrow that path; deleted and expired items are hidden
 * whether or not the cleanup or TTL has run. The work per page is bounded: a page may come back
 * short, with a cursor, when many items were read and few matched.
 */
export const queryEvents = async (tenant: string, query: EventQuery, deps: QueryDeps): Promise<QueryPage> => {
  const now = deps.now ?? Date.now;
  const startedAt = now();
  const digest = filterDigest({ ...query, limit: undefined, cursor: undefined });
  const position = query.cursor === undefined ? undefined : decodeCursor(deps.keyring, tenant, digest, query.cursor).position;
  const range = pageRange(query, position);
  if (range === undefined) return { events: [], nextCursor: null, itemsRead: 0 };

  const path = planAccessPath(tenant, query, deps.shardCount);
  const read = (request: RangeRequest) => deps.store.queryRange(request);
  const shards = path.partitions.map((partition) => new ShardReader(read, { index: path.index, partition, ...range, order: query.order }));
  const readSize = shardReadSize(query.limit, shards.length);
  const nowMs = now();
  const firstRead = readSize({ matched: 0, examined: 0 });
  const [markers] = await Promise.all([deps.store.listMarkers(tenant), ...shards.map((shard) => shard.refill(firstRead))]);

  const keep = pageFilter(tenant, query, deps.keyring, erasureFilter(markers, nowMs), nowMs);
  const stop = ({ examined }: MergeProgress) => examined >= QUERY_LIMITS.maxItemsExamined || now() - startedAt > QUERY_LIMITS.maxDurationMs;
  const { selected: events, lastExamined } = await mergeShards(shards, { limit: query.limit, order: query.order, readSize, stop }, keep);

  const more = shards.some((shard) => !shard.exhausted);
  return {
    events,
    nextCursor: more && lastExamined !== undefined ? encodeCursor(deps.keyring, tenant, digest, { position: lastExamined }) : null,
    itemsRead: shards.reduce((sum, shard) => sum + shard.itemsRead, 0),
  };
};

type SortKeyRange = Pick<RangeRequest, 'lower' | 'upper'>;

/** Step 1: the sort-key range of the page, from `from`/`to` and past the cursor's position; undefined when empty. */
const pageRange = (query: EventQuery, position: string | undefined): SortKeyRange | undefined => {
  let lower = query.from === undefined ? MIN_ID : lowestIdAt(parseRfc3339(query.from) as number);
  let upper = query.to === undefined ? MAX_ID : highestIdAt((parseRfc3339(query.to) as number) - 1);
  if (position !== undefined) {
    const next = adjacentId(position, query.order === 'desc' ? -1 : 1);
    if (next === undefined) return undefined;
    // Sort keys are strings: Math.min/max would not compare them.
    // biome-ignore lint/complexity/useMathMinMax: strings
    if (query.order === 'desc') upper = next < upper ? next : upper;
    // biome-ignore lint/complexity/useMathMinMax: strings
    else lower = next > lower ? next : lower;
  }
  return lower > upper ? undefined : { lower, upper };
};

/**
 * Step 2: how many items to ask a shard for: its share of what the page still needs, scaled by
 * how many items it took per match so far (filters that skip items need more reads), plus slack.
 */
const shardReadSize =
  (limit: number, shards: number) =>
  ({ matched, examined }: MergeProgress): number => {
    const need = Math.max(limit - matched, 1);
    const perMatch = examined === 0 ? 1 : examined / Math.max(matched, 1);
    return Math.min(Math.ceil((need / shards) * perMatch) + 2, QUERY_LIMITS.maxLimit);
  };

/** Step 3: what the page keeps of the merged items: visible, matching the filters, not erased. */
const pageFilter =
  (tenant: string, query: EventQuery, keyring: Keyring, erased: ReturnType<typeof erasureFilter>, nowMs: number) =>
  (item: EventItem): PublicEvent | undefined => {
    if (!isVisible(item, nowMs)) return undefined;
    const event = toPublicEvent(keyring, tenant, item);
    return matches(event, query) && !erased(item, event) ? event : undefined;
  };

/** One event by its public id; 404 for unknown ids, other tenants' ids, deleted and expired events. */
export const getEvent = async (tenant: string, publicId: string, deps: QueryDeps): Promise<PublicEvent> => {
  const ref = decodePublicId(deps.keyring, tenant, publicId);
  if (!ref) throw new NotFoundError('event not found');
  const [item, markers] = await Promise.all([
    deps.store.get(tenantPartition(tenant, ref.shard), ref.internalId),
    deps.store.listMarkers(tenant),
  ]);
  const nowMs = (deps.now ?? Date.now)();
  if (!item || !isVisible(item, nowMs) || erasureFilter(markers, nowMs)(item)) throw new NotFoundError('event not found');
  return toPublicEvent(deps.keyring, tenant, item);
};
