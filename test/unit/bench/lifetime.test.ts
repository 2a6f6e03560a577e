import { busArchiveCost } from '../../../bench/bus-cost-model';
import { loadPricing } from '../../../bench/cost-model';
import { goalRowLabel, lifetimeFigures, statsLifetimeLines } from '../../../bench/lifetime';
import type { Template } from '../../../bench/template';
import { HAND_PRICES } from '../../support/bench-fixtures';

const prices = HAND_PRICES;
/** 0.8 write units per event stored; 10.73741824 bytes per event: 0.01 GB per million events (2^30-byte GB). */
const counters = { writeUnitsPerEvent: 0.8, counterBytesPerEvent: 10.73741824 };

const template = (pitr: boolean, withConsumer = true): Template => ({
  Resources: {
    Events: {
      Type: 'AWS::DynamoDB::Table',
      Properties: { BillingMode: 'PAY_PER_REQUEST', GlobalSecondaryIndexes: [{ IndexName: 'byUser' }] },
    },
    Counters: {
      Type: 'AWS::DynamoDB::Table',
      Properties: { PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: pitr } },
    },
    ...(withConsumer && {
      Consumer: {
        Type: 'AWS::Lambda::Function',
        Properties: { Environment: { Variables: { STATS_TABLE_NAME: { Ref: 'Counters' } } } },
      },
    }),
  },
});

/** An events table with one keys-only index and a bus: one item, as the run would have stored it. */
const busTemplate: Template = {
  Resources: {
    Events: {
      Type: 'AWS::DynamoDB::Table',
      Properties: { BillingMode: 'PAY_PER_REQUEST', GlobalSecondaryIndexes: [{ IndexName: 'byUser' }] },
    },
    Bus: { Type: 'AWS::Events::EventBus' },
  },
};
const line = (service: string, item: string, usdPerMillion: number) => ({ service, item, perMillion: 1, unit: 'x', usdPerMillion });
// The run measured the publisher's Lambda time (the local stack ran it).
const ingestWithPublisher = {
  lines: [line('API Gateway', 'REST requests', 0.07), line('Lambda', 'PublishingPublisher duration (256 MB)', 0.01)],
  usdPerMillion: 0.08,
};
const items = [{ pk: 'acme#0', sk: 'id', u: 'acme#h', e: JSON.stringify({ type: 'a', userId: 'u' }), x: 1 }];
const model = { keys: ['pk', 'sk'], indexes: [{ name: 'byUser', keys: ['u', 'sk'], projection: 'KEYS_ONLY' as const }] };

describe('lifetime: the stats counters’ lines', () => {
  it('adds the counters’ writes (0.8 units × $0.50 per million) and a year of their storage with PITR: 0.01 GB × 12 months × $0.45', () => {
    const lines = statsLifetimeLines(template(true), counters, 365, prices);
    expect(lines.map((l) => l.item)).toEqual(['stats counters: write units', 'stats counters: storage and PITR']);
    expect(lines[0]!.usdPerMillion).toBeCloseTo(0.4, 9);
    expect(lines[1]!.usdPerMillion).toBeCloseTo(0.054, 9);
  });

  it('prices the counters’ writes provisioned when the tables are: $0.00072 per WCU-hour at 50 % is $0.40 per million units', () => {
    const [writes] = statsLifetimeLines(template(true), counters, 365, prices, { mode: 'provisioned', utilization: 0.5 });
    expect(writes!.usdPerMillion).toBeCloseTo(0.8 * 0.4, 9);
  });

  it('prices storage alone where the counters table has no PITR, for the retention given', () => {
    const [, storage] = statsLifetimeLines(template(false), counters, 730, prices);
    expect(storage!.item).toBe('stats counters: storage');
    expect(storage!.usdPerMillion).toBeCloseTo(0.01 * 24 * 0.25, 9);
  });

  it('adds what the end of retention writes to the counters where the run measured it', () => {
    const lines = statsLifetimeLines(template(true), { ...counters, writeUnitsAtExpiryPerEvent: 0.1 }, 365, prices);
    expect(lines[2]).toMatchObject({ phase: 'delete', service: 'DynamoDB', item: 'stats counters: writes at the end of retention' });
    expect(lines[2]!.usdPerMillion).toBeCloseTo(0.05, 9);
    expect(statsLifetimeLines(template(true), counters, 365, prices)).toHaveLength(2);
  });

  it('adds nothing to a template without a counters table named by a function', () => {
    expect(statsLifetimeLines(template(true, false), counters, 365, prices)).toEqual([]);
  });
});

describe('lifetime: the event bus', () => {
  const figures = lifetimeFigures(ingestWithPublisher, items, model, busTemplate, loadPricing(), 'ttl');
  const names = (lines: { phase: string; service: string; item: string }[]) => lines.map((l) => `${l.phase}: ${l.service}: ${l.item}`);

  it('counts the publisher once: as measured, without the bus model estimate beside it', () => {
    expect(names(figures.deployed.lines).filter((l) => /publish/i.test(l))).toEqual([
      'write: Lambda: PublishingPublisher duration (256 MB)',
      'publish: EventBridge: PutEvents entries (custom bus)',
      'publish: DynamoDB: erasure-marker reads (10 tenants per 100-record batch, Standard-IA on demand)',
    ]);
  });

  it('ends the levers with the bus off, which saves the publishing and the publisher exactly', () => {
    const [pitrOff, busOff] = figures.levers.slice(-2);
    expect([pitrOff!.lever, busOff!.lever]).toEqual(['point-in-time recovery off', 'event bus off: no publishing, no archive']);
    expect(busOff!.savedUsd).toBeCloseTo(1.0 + 0.01 + busArchiveCost().markerReads, 9);
  });
});

describe('lifetime: the stats counters across configurations', () => {
  const pricing = loadPricing();
  const ingest = { lines: [line('API Gateway', 'REST requests', 0.07)], usdPerMillion: 0.07 };
  const withCounters = lifetimeFigures(ingest, items, model, template(false), pricing, 'ttl', counters);
  const without = lifetimeFigures(ingest, items, model, template(false), pricing, 'ttl');
  const lever = (f: typeof without, name: RegExp) => f.levers.find((l) => name.test(l.lever))!;

  it('saves on the counters’ writes too when the tables are provisioned (the counters table follows the events table)', () => {
    const units = 0.8 * 1e6;
    const onDemand = units * (pricing.dynamoDbOnDemandPerMillionWriteUnits / 1e6);
    const provisioned = (units * pricing.dynamoDbProvisionedPerWcuHour) / (3600 * 0.7);
    const extra = lever(withCounters, /^provisioned/).savedUsd - lever(without, /^provisioned/).savedUsd;
    expect(extra).toBeCloseTo(onDemand - provisioned, 9);
  });

  it('keeps the counters for the retention of each point of the curve', () => {
    const gap = (days: number) =>
      withCounters.curve.find((c) => c.days === days)!.standard - without.curve.find((c) => c.days === days)!.standard;
    // 0.01 GB per million events, kept 730 days instead of 30: 23 more months at the Standard price.
    expect(gap(730) - gap(30)).toBeCloseTo(0.01 * ((730 - 30) / (365 / 12)) * pricing.dynamoDbStoragePerGbMonth, 9);
  });
});

describe('lifetime: every configuration against both goals', () => {
  const pricing = { ...loadPricing(), ...prices };
  const figures = lifetimeFigures(ingestWithPublisher, items, model, busTemplate, pricing, 'ttl');
  const find = (label: string) => figures.goalGrid.find((r) => goalRowLabel(r) === label)!;

  it('prices all sixteen combinations of class, capacity, PITR and bus, once each', () => {
    const labels = figures.goalGrid.map(goalRowLabel);
    expect(labels).toHaveLength(16);
    expect(new Set(labels).size).toBe(16);
    expect(labels[0]).toBe('Standard, on-demand, PITR on, bus on (no archive)');
  });

  it('prices the ingest of each: the write phase, two write units (table, byUser) at the class and capacity’s price', () => {
    // 0.07 API + 0.01 publisher + 2 units × $0.50 per million (Standard, on demand).
    expect(find('Standard, on-demand, PITR on, bus on (no archive)').writeUsdPerMillion).toBeCloseTo(1.08, 9);
    // Without the bus, no publisher.
    expect(find('Standard, on-demand, PITR off, bus off').writeUsdPerMillion).toBeCloseTo(1.07, 9);
    // Standard-IA, on demand: $0.90 a unit.
    expect(find('Standard-IA, on-demand, PITR on, bus on (no archive)').writeUsdPerMillion).toBeCloseTo(0.08 + 1.8, 9);
    // Provisioned: $0.00072 per WCU-hour at 70 %.
    expect(find('Standard, provisioned, PITR on, bus on (no archive)').writeUsdPerMillion).toBeCloseTo(
      0.08 + (2e6 * 0.00072) / (3600 * 0.7),
      9,
    );
  });

  it('agrees with the deployed configuration and the levers’ rows it shares settings with', () => {
    expect(find('Standard, on-demand, PITR off, bus on (no archive)').usdPerMillion).toBeCloseTo(figures.deployed.usdPerMillion, 9);
    const lever = (name: string) => figures.levers.find((l) => l.lever === name)!.usdPerMillion;
    expect(find('Standard-IA, provisioned, PITR off, bus on (no archive)').usdPerMillion).toBeCloseTo(
      lever('point-in-time recovery off'),
      9,
    );
    expect(find('Standard-IA, provisioned, PITR off, bus off').usdPerMillion).toBeCloseTo(
      lever('event bus off: no publishing, no archive'),
      9,
    );
  });

  it('prices each row’s stored item at its own class and PITR: a byte kept a year, 10^6 / 2^30 GB × 12 months', () => {
    const perByte = (label: string) => find(label).goal.usdPerItemByte;
    const byteYear = (1e6 / 2 ** 30) * 12;
    expect(perByte('Standard, on-demand, PITR on, bus off')).toBeCloseTo(byteYear * (0.25 + 0.2), 12);
    expect(perByte('Standard, on-demand, PITR off, bus off')).toBeCloseTo(byteYear * 0.25, 12);
    expect(perByte('Standard-IA, provisioned, PITR on, bus off')).toBeCloseTo(byteYear * (0.1 + 0.2), 12);
    expect(perByte('Standard-IA, provisioned, PITR off, bus off')).toBeCloseTo(byteYear * 0.1, 12);
    // The largest item for $4.00: what the other lines leave, over the price of a byte, less DynamoDB's 100 bytes of overhead.
    const row = find('Standard-IA, provisioned, PITR off, bus off');
    const byHand = (4 - row.goal.otherUsd) / (byteYear * 0.1) - 100;
    expect(row.goal.maxItemBytes).toBeCloseTo(Math.min(byHand, 1024), 6);
    expect(row.goal.emptyItemUsd).toBeCloseTo(row.goal.otherUsd + 100 * byteYear * 0.1, 12);
  });

  it('says what each asks of the stored item: the bus’s dollar stays in every line but the item', () => {
    const on = find('Standard, on-demand, PITR on, bus on (no archive)').goal;
    const off = find('Standard, on-demand, PITR on, bus off').goal;
    expect(on.otherUsd - off.otherUsd).toBeCloseTo(1.0 + 0.01 + busArchiveCost().markerReads, 9);
    expect(on.usdPerItemByte).toBeCloseTo(off.usdPerItemByte, 12);
  });
});
