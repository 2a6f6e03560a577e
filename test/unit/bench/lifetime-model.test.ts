import type { TableCapacityModel } from '../../../bench/capacity';
import type { CostReport } from '../../../bench/cost-model';
import {
  breakEvenDays,
  footprintOf,
  itemGoal,
  lifetimeCost,
  pageReadUnits,
  storedBytes,
  type StoragePricing,
  unitPrices,
} from '../../../bench/lifetime-model';
import { lifetimeSettings } from '../../support/bench-fixtures';

/** List prices as in bench/pricing.json, written out so the cases below can be checked by hand. */
const pricing: StoragePricing = {
  dynamoDbOnDemandPerMillionWriteUnits: 0.625,
  dynamoDbOnDemandPerMillionReadUnits: 0.125,
  dynamoDbStoragePerGbMonth: 0.25,
  dynamoDbPitrPerGbMonth: 0.2,
  dynamoDbProvisionedPerWcuHour: 0.00065,
  dynamoDbProvisionedPerRcuHour: 0.00013,
  dynamoDbItemOverheadBytes: 100,
  apiGatewayRestPerMillionRequests: 3.5,
  dynamoDbInfrequentAccess: {
    onDemandPerMillionWriteUnits: 0.78125,
    onDemandPerMillionReadUnits: 0.15625,
    storagePerGbMonth: 0.1,
    provisionedPerWcuHour: 0.00081,
    provisionedPerRcuHour: 0.00016,
  },
};

/**
 * 551 bytes: pk 2+3, sk 2+24, u 1+5, t 1+5, e 1+500, x 1+6 (ten digits: 5 bytes + 1).
 * A keys-only entry holds pk, sk and its own key: 5+26+6 = 37 bytes.
 */
const item = { pk: 't#0', sk: 'A'.repeat(24), u: 't#xyz', t: 't#0#a', e: 'x'.repeat(500), x: 1827702875 };
const model = (projection: 'ALL' | 'KEYS_ONLY'): TableCapacityModel => ({
  keys: ['pk', 'sk'],
  indexes: [
    { name: 'byUser', keys: ['u', 'sk'], projection },
    { name: 'byType', keys: ['t', 'sk'], projection },
  ],
});
/** What the ingest report leaves beside DynamoDB: one line, $0.07. The DynamoDB line is re-priced. */
const ingest: CostReport = {
  lines: [
    { service: 'API Gateway', item: 'REST requests', perMillion: 20_000, unit: 'requests', usdPerMillion: 0.07 },
    { service: 'DynamoDB', item: 'write units: table', perMillion: 1e6, unit: 'WRU', usdPerMillion: 0.625 },
  ],
  usdPerMillion: 0.695,
};
const settings = lifetimeSettings({ reads: { pagesPerThousand: 0, eventsPerPage: 100, index: 'byUser' } });
const keysOnly = footprintOf(model('KEYS_ONLY'), [item]);
const sum = (lines: { usdPerMillion: number }[]) => lines.reduce((s, l) => s + l.usdPerMillion, 0);

describe('lifetime cost model: sizes', () => {
  it('sizes the item and each index entry per projection, and adds 100 bytes of overhead to each', () => {
    expect(keysOnly).toMatchObject({
      itemBytes: 551,
      indexEntryBytes: { byUser: 37, byType: 37 },
      writeUnits: { table: 1, 'index byUser': 1, 'index byType': 1 },
    });
    expect(storedBytes(keysOnly, 100)).toEqual({ table: 651, indexes: { byUser: 137, byType: 137 } });
    const all = footprintOf(model('ALL'), [item]);
    expect(all.indexEntryBytes).toEqual({ byUser: 551, byType: 551 });
    expect(storedBytes(all, 100).indexes).toEqual({ byUser: 651, byType: 651 });
  });

  it('leaves an event out of a sparse index it has no key for', () => {
    const { u: _u, ...noUser } = item;
    const f = footprintOf(model('KEYS_ONLY'), [item, noUser]);
    expect(f.indexShare).toEqual({ byUser: 0.5, byType: 1 });
    expect(f.writeUnits['index byUser']).toBe(0.5);
    // One entry of 37 + 100 bytes over two events.
    expect(storedBytes(f, 100).indexes.byUser).toBe(68.5);
  });
});

describe('lifetime cost model: dollars', () => {
  it('prices a year on Standard: writes, table and index storage per GB-month (2^30 bytes), PITR on the table only', () => {
    const report = lifetimeCost(ingest, keysOnly, settings, pricing);
    const line = (item: string) => report.lines.find((l) => l.item === item)?.usdPerMillion;
    // 651 × 10^6 bytes = 0.60629 GB, 12 months, $0.25.
    expect(line('storage: table')).toBeCloseTo(1.81887, 4);
    expect(line('storage: index byUser')).toBeCloseTo(0.382774, 5);
    expect(line('point-in-time recovery')).toBeCloseTo(1.455098, 5);
    expect(line('write units: table')).toBeCloseTo(0.625, 6);
    expect(line('REST requests')).toBe(0.07);
    expect(report.usdPerMillion).toBeCloseTo(5.984519, 5);
    expect(report.usdPerMillion).toBeCloseTo(sum(report.lines), 9);
  });

  it('prices Standard-IA: dearer writes (0.78125), storage at $0.10, PITR unchanged', () => {
    const report = lifetimeCost(ingest, keysOnly, { ...settings, tableClass: 'STANDARD_INFREQUENT_ACCESS' }, pricing);
    expect(report.usdPerMillion).toBeCloseTo(4.902616, 5);
    expect(sum(report.lines.filter((l) => l.item.startsWith('write units')))).toBeCloseTo(2.34375, 6);
  });

  it('keeps for exactly the retention: nothing at 0 days, 30/30.4167 of a month at 30 days', () => {
    const none = lifetimeCost(ingest, keysOnly, { ...settings, retentionDays: 0 }, pricing);
    expect(none.usdPerMillion).toBeCloseTo(0.07 + 1.875, 9);
    const month = lifetimeCost(ingest, keysOnly, { ...settings, retentionDays: 30 }, pricing);
    expect(month.usdPerMillion).toBeCloseTo(2.277015, 5);
    expect(() => lifetimeCost(ingest, keysOnly, { ...settings, retentionDays: -1 }, pricing)).toThrow(RangeError);
  });

  it('bills the cleanup’s deletes (same write units as the put) and its finding query; TTL deletes are free', () => {
    const ttl = lifetimeCost(ingest, keysOnly, { ...settings, retentionDays: 0 }, pricing);
    const cleanup = lifetimeCost(ingest, keysOnly, { ...settings, retentionDays: 0, retentionDeletes: 'cleanup' }, pricing);
    // 3 WRU at $0.625/M, plus 551 bytes / 4 KB / 2 read units at $0.125/M.
    expect(cleanup.usdPerMillion - ttl.usdPerMillion).toBeCloseTo(1.883408, 5);
  });

  it('prices reads: a keys-only page is a Query plus a BatchGetItem of half a unit per item', () => {
    // 100 entries × 37 bytes → one 4 KB unit, halved; plus 100 × 0.5.
    expect(pageReadUnits(keysOnly, 'byUser', 100)).toBe(50.5);
    // Full copies: 100 × 551 bytes = 14 units of 4 KB, halved.
    expect(pageReadUnits(footprintOf(model('ALL'), [item]), 'byUser', 100)).toBe(7);
    const report = lifetimeCost(
      ingest,
      keysOnly,
      { ...settings, retentionDays: 0, reads: { ...settings.reads, pagesPerThousand: 1 } },
      pricing,
    );
    // 1,000 pages per million events: $0.0035 of API requests, 50,500 read units.
    expect(report.usdPerMillion - 1.945).toBeCloseTo(0.0035 + 0.0063125, 9);
  });

  it('prices provisioned capacity at its utilization: a WCU-hour serves 3,600 × utilization units', () => {
    expect(unitPrices(pricing, 'STANDARD', { mode: 'provisioned', utilization: 0.5 }).write * 3e6).toBeCloseTo(1.083333, 5);
    expect(() => unitPrices(pricing, 'STANDARD', { mode: 'provisioned', utilization: 0 })).toThrow(RangeError);
  });

  it('finds the retention at which Standard-IA breaks even: $0.46875 more to write, $0.12922 less a month', () => {
    const days = breakEvenDays(
      (c, retentionDays) =>
        lifetimeCost(
          ingest,
          keysOnly,
          { ...settings, retentionDays, tableClass: c === 'a' ? 'STANDARD' : 'STANDARD_INFREQUENT_ACCESS' },
          pricing,
        ).usdPerMillion,
    );
    expect(days).toBeCloseTo(110.34, 1);
  });

  it('adds the line items of other features', () => {
    const extra = [{ phase: 'keep', service: 'DynamoDB', item: 'stats table', usdPerMillion: 0.01 }];
    const report = lifetimeCost(ingest, keysOnly, settings, pricing, extra);
    expect(report.usdPerMillion).toBeCloseTo(5.994519, 5);
    expect(report.lines).toContainEqual(extra[0]);
  });

  it('finds the largest item that meets a lifetime goal: table storage and PITR scale with it, the rest stays', () => {
    const report = lifetimeCost(ingest, keysOnly, settings, pricing);
    // A byte kept a year on Standard with PITR: 10^6 / 2^30 GB × 12 months × $0.45 = $0.0050291 per million.
    const goal = itemGoal(report, keysOnly, settings, pricing, 4);
    expect(goal.usdPerItemByte).toBeCloseTo(0.00502914, 7);
    // The 651 stored bytes cost $3.27397; the other $2.71055 leave $1.28945 = 256.4 bytes, 156.4 once the overhead is taken.
    expect(goal.otherUsd).toBeCloseTo(2.710548, 5);
    expect(goal.maxItemBytes).toBeCloseTo(156.4, 1);
    // Re-priced with an item of that size, the report meets the goal exactly.
    const smaller = { ...keysOnly, itemBytes: goal.maxItemBytes };
    expect(lifetimeCost(ingest, smaller, settings, pricing).usdPerMillion).toBeCloseTo(4, 9);
    // A goal under the other lines is out of reach whatever the item.
    expect(itemGoal(report, keysOnly, settings, pricing, 2.5).maxItemBytes).toBeLessThan(0);
    // PITR off: a byte costs the storage price alone.
    expect(itemGoal(report, keysOnly, { ...settings, pitr: false }, pricing, 4).usdPerItemByte).toBeCloseTo(0.00279397, 7);
    // An empty item: the other lines and 100 bytes of overhead, $2.71055 + $0.50291.
    expect(goal.emptyItemUsd).toBeCloseTo(2.710548 + 0.502914, 5);
  });

  it('keeps the largest item within the write units of the run’s items: a larger one costs one more unit', () => {
    const report = lifetimeCost(ingest, keysOnly, settings, pricing);
    // A goal of $8 would allow (8 − 2.710548) / 0.00502914 − 100 = 951.8 bytes: under 1 KB, as priced.
    expect(itemGoal(report, keysOnly, settings, pricing, 8).maxItemBytes).toBeCloseTo(951.8, 1);
    // $9 would allow 1,150.6 bytes, but past 1,024 bytes the item takes a second write unit the rest did not price.
    expect(itemGoal(report, keysOnly, settings, pricing, 9).maxItemBytes).toBe(1024);
  });
});
