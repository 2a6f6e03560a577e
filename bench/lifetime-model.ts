/**
 * What a million events cost over their whole life: written (the ingest report), kept for the
 * retention period (table and index storage, PITR), read at a stated ratio, and deleted at the end
 * of retention. Storage comes from the real stored items (bench/capacity.ts sizes, DynamoDB's
 * 100 bytes of overhead per item and per index entry). Every figure is a line item; other features
 * (stats, exports, digests, publishing: bench/lifetime.ts) add theirs through `extra`.
 */
import { indexEntryBytes, itemSize, type TableCapacityModel } from './capacity';
import type { CostReport, Pricing } from './cost-model';

const GB = 1024 ** 3;
/** A billing month: DynamoDB storage is billed per GB-month. */
export const DAYS_PER_MONTH = 365 / 12;

/** GB-months billed for keeping `bytesPerEvent` of every one of a million events for `retentionDays`. */
export const gbMonthsPerMillion = (bytesPerEvent: number, retentionDays: number): number =>
  ((bytesPerEvent * 1e6) / GB) * (retentionDays / DAYS_PER_MONTH);

export type TableClass = 'STANDARD' | 'STANDARD_INFREQUENT_ACCESS';
export type CapacityMode = { readonly mode: 'on-demand' } | { readonly mode: 'provisioned'; readonly utilization: number };

/** The storage prices a lifetime needs, beside the ingest ones (bench/pricing.json). */
export interface StoragePricing {
  readonly dynamoDbOnDemandPerMillionWriteUnits: number;
  readonly dynamoDbOnDemandPerMillionReadUnits: number;
  readonly dynamoDbStoragePerGbMonth: number;
  readonly dynamoDbPitrPerGbMonth: number;
  readonly dynamoDbProvisionedPerWcuHour: number;
  readonly dynamoDbProvisionedPerRcuHour: number;
  readonly dynamoDbItemOverheadBytes: number;
  readonly apiGatewayRestPerMillionRequests: number;
  readonly dynamoDbInfrequentAccess: {
    readonly onDemandPerMillionWriteUnits: number;
    readonly onDemandPerMillionReadUnits: number;
    readonly storagePerGbMonth: number;
    readonly provisionedPerWcuHour: number;
    readonly provisionedPerRcuHour: number;
  };
}

/** What the stored events weigh, per event, measured from the items as the table holds them. */
export interface Footprint {
  /** Mean item size in the table (attribute names and values, without overhead). */
  readonly itemBytes: number;
  /** Index → mean entry size per event (without overhead; 0 for an event the index does not hold). */
  readonly indexEntryBytes: Readonly<Record<string, number>>;
  /** Index → share of events it holds (a sparse index holds some). */
  readonly indexShare: Readonly<Record<string, number>>;
  /** Index → whether reading through it returns whole items (ALL) or needs a fetch from the table. */
  readonly indexProjectsAll: Readonly<Record<string, boolean>>;
  /** Mean write units per event by target: `table`, `index <name>` (writing and deleting cost the same). */
  readonly writeUnits: Readonly<Record<string, number>>;
}

const unitsOf = (bytes: number, unit: number) => Math.max(1, Math.ceil(bytes / unit));

/** The footprint of stored items (as the table stores them) under a table model. */
export const footprintOf = (model: TableCapacityModel, items: readonly Record<string, unknown>[]): Footprint => {
  if (items.length === 0) throw new Error('no items to measure');
  let itemBytes = 0;
  const entry: Record<string, number> = {};
  const held: Record<string, number> = {};
  const units: Record<string, number> = { table: 0 };
  for (const index of model.indexes) {
    entry[index.name] = 0;
    held[index.name] = 0;
  }
  for (const item of items) {
    const bytes = itemSize(item);
    itemBytes += bytes;
    units.table! += unitsOf(bytes, 1024);
    for (const [name, size] of Object.entries(indexEntryBytes(model, item))) {
      if (size === undefined) continue;
      entry[name]! += size;
      held[name]! += 1;
      units[`index ${name}`] = (units[`index ${name}`] ?? 0) + unitsOf(size, 1024);
    }
  }
  const mean = (m: Record<string, number>) => Object.fromEntries(Object.entries(m).map(([k, v]) => [k, v / items.length]));
  return {
    itemBytes: itemBytes / items.length,
    indexEntryBytes: mean(entry),
    indexShare: mean(held),
    indexProjectsAll: Object.fromEntries(model.indexes.map((i) => [i.name, i.projection === 'ALL'])),
    writeUnits: mean(units),
  };
};

/** Bytes billed as storage per event: the table item and each index entry, each with its overhead. */
export const storedBytes = (f: Footprint, overhead: number): { table: number; indexes: Record<string, number> } => ({
  table: f.itemBytes + overhead,
  indexes: Object.fromEntries(
    Object.entries(f.indexEntryBytes).map(([name, bytes]) => [name, bytes + overhead * (f.indexShare[name] ?? 0)]),
  ),
});

export interface LifetimeSettings {
  readonly retentionDays: number;
  readonly tableClass: TableClass;
  readonly capacity: CapacityMode;
  readonly pitr: boolean;
  /**
   * Who deletes an event at the end of retention: the cleanup (a billed delete in the table and in
   * every index holding it, after a query that finds it) or DynamoDB TTL (free).
   */
  readonly retentionDeletes: 'cleanup' | 'ttl';
  /** Reads: `pagesPerThousand` pages of `eventsPerPage` events per thousand events written, through `index`. */
  readonly reads: { readonly pagesPerThousand: number; readonly eventsPerPage: number; readonly index: string };
}

export interface LifetimeLine {
  /** When the cost falls: writing, keeping, reading, deleting (or another feature's own phase). */
  readonly phase: string;
  readonly service: string;
  readonly item: string;
  readonly usdPerMillion: number;
}

export interface LifetimeReport {
  readonly retentionDays: number;
  readonly lines: LifetimeLine[];
  readonly usdPerMillion: number;
}

/** USD per GB-month of storage in a table class. */
export const storagePrice = (p: StoragePricing, tableClass: TableClass): number =>
  tableClass === 'STANDARD_INFREQUENT_ACCESS' ? p.dynamoDbInfrequentAccess.storagePerGbMonth : p.dynamoDbStoragePerGbMonth;

/** USD per write unit and per read unit (eventually consistent reads are half a unit) in a class and capacity mode. */
export const unitPrices = (p: StoragePricing, tableClass: TableClass, capacity: CapacityMode): { write: number; read: number } => {
  const ia = tableClass === 'STANDARD_INFREQUENT_ACCESS';
  if (capacity.mode === 'on-demand') {
    return {
      write: (ia ? p.dynamoDbInfrequentAccess.onDemandPerMillionWriteUnits : p.dynamoDbOnDemandPerMillionWriteUnits) / 1e6,
      read: (ia ? p.dynamoDbInfrequentAccess.onDemandPerMillionReadUnits : p.dynamoDbOnDemandPerMillionReadUnits) / 1e6,
    };
  }
  if (!(capacity.utilization > 0 && capacity.utilization <= 1)) throw new RangeError('utilization must be in (0, 1]');
  // A provisioned unit-hour serves 3,600 units at full use; auto scaling keeps it `utilization` busy.
  const perUnit = (hourly: number) => hourly / (3600 * capacity.utilization);
  return {
    write: perUnit(ia ? p.dynamoDbInfrequentAccess.provisionedPerWcuHour : p.dynamoDbProvisionedPerWcuHour),
    read: perUnit(ia ? p.dynamoDbInfrequentAccess.provisionedPerRcuHour : p.dynamoDbProvisionedPerRcuHour),
  };
};

/** Read units of one page of `events` events through an index: the Query, plus a BatchGetItem when the index holds keys only. */
export const pageReadUnits = (f: Footprint, index: string, events: number): number => {
  const entry = f.indexEntryBytes[index];
  if (entry === undefined) throw new Error(`no index ${index} in the footprint`);
  // A Query reads the entries it returns, summed and rounded up to 4 KB; eventually consistent: half.
  const query = unitsOf((entry / (f.indexShare[index] || 1)) * events, 4096) / 2;
  // BatchGetItem rounds every item up to 4 KB on its own; eventually consistent: half a unit each.
  const fetch = f.indexProjectsAll[index] ? 0 : events * (unitsOf(f.itemBytes, 4096) / 2);
  return query + fetch;
};

/**
 * The lifetime cost of a million events: the ingest report's lines (DynamoDB writes re-priced for
 * the table class and capacity mode), storage and PITR for `retentionDays`, reads, the deletes at
 * the end of retention, and `extra` lines from other features.
 */
export const lifetimeCost = (
  ingest: CostReport,
  f: Footprint,
  s: LifetimeSettings,
  p: StoragePricing & Pick<Pricing, 'apiGatewayRestPerMillionRequests'>,
  extra: readonly LifetimeLine[] = [],
): LifetimeReport => {
  if (!(s.retentionDays >= 0)) throw new RangeError('retentionDays must be ≥ 0');
  const lines: LifetimeLine[] = [];
  const add = (phase: string, service: string, item: string, usd: number) => lines.push({ phase, service, item, usdPerMillion: usd });
  const price = unitPrices(p, s.tableClass, s.capacity);
  for (const l of ingest.lines) if (l.service !== 'DynamoDB') add('write', l.service, l.item, l.usdPerMillion);
  for (const [target, units] of Object.entries(f.writeUnits)) add('write', 'DynamoDB', `write units: ${target}`, units * 1e6 * price.write);

  const storage = storagePrice(p, s.tableClass);
  const bytes = storedBytes(f, p.dynamoDbItemOverheadBytes);
  const gbMonths = (b: number) => gbMonthsPerMillion(b, s.retentionDays);
  add('keep', 'DynamoDB', 'storage: table', gbMonths(bytes.table) * storage);
  for (const [name, b] of Object.entries(bytes.indexes))
    if (b > 0) add('keep', 'DynamoDB', `storage: index ${name}`, gbMonths(b) * storage);
  // PITR is billed on the table's size (table data and LSIs), not on global secondary indexes.
  if (s.pitr) add('keep', 'DynamoDB', 'point-in-time recovery', gbMonths(bytes.table) * p.dynamoDbPitrPerGbMonth);

  const pages = (s.reads.pagesPerThousand / 1000) * 1e6;
  if (pages > 0) {
    add('read', 'API Gateway', 'query requests', (pages * p.apiGatewayRestPerMillionRequests) / 1e6);
    add(
      'read',
      'DynamoDB',
      `read units (pages via ${s.reads.index})`,
      pages * pageReadUnits(f, s.reads.index, s.reads.eventsPerPage) * price.read,
    );
  }

  if (s.retentionDeletes === 'cleanup') {
    for (const [target, units] of Object.entries(f.writeUnits))
      add('delete', 'DynamoDB', `retention deletes: ${target}`, units * 1e6 * price.write);
    // The cleanup finds expired events by key range on the table: a Query reading the items.
    add('delete', 'DynamoDB', 'retention queries', ((f.itemBytes * 1e6) / 4096 / 2) * price.read);
  }
  lines.push(...extra);
  return { retentionDays: s.retentionDays, lines, usdPerMillion: lines.reduce((sum, l) => sum + l.usdPerMillion, 0) };
};

/**
 * The retention (days) at which two configurations cost the same, both being linear in the
 * retention; undefined when they never cross at a positive retention.
 */
export const breakEvenDays = (costAt: (configuration: 'a' | 'b', days: number) => number): number | undefined => {
  const a0 = costAt('a', 0);
  const b0 = costAt('b', 0);
  const aSlope = (costAt('a', 365) - a0) / 365;
  const bSlope = (costAt('b', 365) - b0) / 365;
  if (aSlope === bSlope) return undefined;
  const days = (b0 - a0) / (aSlope - bSlope);
  return days > 0 ? days : undefined;
};

/** What a lifetime goal asks of the stored item, all other lines as priced. */
export interface ItemGoal {
  readonly goalUsd: number;
  /** USD per million of every line that does not grow with the table item (writes, indexes, other features). */
  readonly otherUsd: number;
  /** USD per million per byte of the table item, kept for the retention (storage and PITR). */
  readonly usdPerItemByte: number;
  /** What an empty item would cost: every other line and DynamoDB's per-item overhead, stored for the retention. */
  readonly emptyItemUsd: number;
  /**
   * The largest mean item (bytes, DynamoDB's overhead not included) that meets the goal, within the
   * write units of the run's items (1 KB each: a larger item costs one more); < 0 when none does.
   */
  readonly maxItemBytes: number;
}

/**
 * The table item size at which `report` (priced from footprint `f` under `s`) would meet
 * `goalUsd`: its table storage and PITR lines scale with the item's bytes, every other line stays
 * as it is (an item under 1 KB is one write unit whatever its size). Negative `maxItemBytes`: not
 * even an empty item meets the goal, the other lines alone cost more.
 */
export const itemGoal = (report: LifetimeReport, f: Footprint, s: LifetimeSettings, p: StoragePricing, goalUsd: number): ItemGoal => {
  const perGbMonth = storagePrice(p, s.tableClass) + (s.pitr ? p.dynamoDbPitrPerGbMonth : 0);
  const usdPerItemByte = gbMonthsPerMillion(1, s.retentionDays) * perGbMonth;
  const tableUsd = usdPerItemByte * (f.itemBytes + p.dynamoDbItemOverheadBytes);
  const otherUsd = report.usdPerMillion - tableUsd;
  const maxItemBytes = (goalUsd - otherUsd) / usdPerItemByte - p.dynamoDbItemOverheadBytes;
  const writeUnitBytes = Math.max(1, Math.ceil(f.itemBytes / 1024)) * 1024;
  return {
    goalUsd,
    otherUsd,
    emptyItemUsd: otherUsd + usdPerItemByte * p.dynamoDbItemOverheadBytes,
    usdPerItemByte,
    maxItemBytes: Math.min(maxItemBytes, writeUnitBytes),
  };
};
