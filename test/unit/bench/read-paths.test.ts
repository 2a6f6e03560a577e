import { gzipSync } from 'node:zlib';
import { exportBytesPerEvent, readPathLines } from '../../../bench/read-paths';
import type { Footprint } from '../../../bench/lifetime-model';
import type { Template } from '../../../bench/template';
import { packItem } from '../../../lambdas/core/payload';
import type { EventItem } from '../../../lambdas/core/item-keys';
import { HAND_PRICES, lifetimeSettings } from '../../support/bench-fixtures';

const GB = 1024 ** 3;
const prices = HAND_PRICES;
/** 2,048-byte items: reading one through a Query is a quarter of a read unit (half of 4 KB, eventually consistent). */
const footprint: Footprint = { itemBytes: 2048, indexEntryBytes: {}, indexShare: {}, indexProjectsAll: {}, writeUnits: { table: 1 } };
const settings = lifetimeSettings();
const fn = (vars: Record<string, unknown>) => ({ Type: 'AWS::Lambda::Function', Properties: { Environment: { Variables: vars } } });
const full: Template = {
  Resources: {
    Events: { Type: 'AWS::DynamoDB::Table', Properties: { GlobalSecondaryIndexes: [{ IndexName: 'byUser' }] } },
    Counters: { Type: 'AWS::DynamoDB::Table', Properties: {} },
    StatsQuery: fn({ STATS_TABLE_NAME: { Ref: 'Counters' } }),
    Exporter: fn({ EXPORT_BUCKET: { Ref: 'Files' }, EXPORT_EXPIRY_DAYS: '7' }),
    Sealer: fn({ DIGEST_BUCKET: { Ref: 'Digests' }, DIGEST_PERIOD_MINUTES: '60' }),
  },
};
const usd = (lines: { item: string; usdPerMillion: number }[], item: RegExp) => lines.find((l) => item.test(l.item))?.usdPerMillion;

describe('lifetime: the read paths beside the query pages', () => {
  // One exported event weighs GB / 100,000: the 100,000 events exported per million written make 1 GB.
  const lines = readPathLines(full, footprint, settings, prices, GB / 100_000, { top10Over30Days: { readUnits: 113.5 } });

  it('prices 1,000 stats queries per million events: their API requests and the read units the stats bench measured', () => {
    expect(usd(lines, /^stats queries$/)).toBeCloseTo(0.0035, 12);
    expect(usd(lines, /stats counters: read units/)).toBeCloseTo(1000 * 113.5 * 1e-7, 12);
  });

  it('prices 100 exports of 1,000 events: requests, reads of the exported events, and their files', () => {
    expect(usd(lines, /export requests/)).toBeCloseTo(100 * 2 * 3.5e-6, 12);
    expect(usd(lines, /read units \(the exported events\)/)).toBeCloseTo(100_000 * 0.25 * 1e-7, 12);
    // 100 PUTs and GETs, 1 GB out to the internet and a week of it in S3.
    expect(usd(lines, /^files:/)).toBeCloseTo((100 * 0.005) / 1000 + (100 * 0.0004) / 1000 + 0.09 + 0.023 * (7 / (365 / 12)), 12);
  });

  it('prices the sealer reading every event once, and a signed digest per tenant and hour spread over the stated volume', () => {
    expect(usd(lines, /sealer reads/)).toBeCloseTo(1e6 * 0.25 * 1e-7, 12);
    // 100 tenants × 720 hours: a KMS Sign ($0.15 per 10,000) and an S3 PUT each, 720 two-second runs; over 100 M events.
    const perMonth = 72_000 * (0.15 / 10_000) + 72_000 * (0.005 / 1000) + 720 * 2 * 0.5 * 0.0000166667;
    expect(usd(lines, /a signed digest per tenant and 60 min/)).toBeCloseTo((perMonth / 100e6) * 1e6, 12);
  });

  it('counts the Lambda time of every read call: 1,000 pages, 1,000 stats queries, 3 calls per export', () => {
    expect(usd(lines, /read calls/)).toBeCloseTo(2300 * (0.2e-6 + 0.1 * 0.5 * 1.33334e-5), 12);
  });

  it('prices the table reads at the configuration’s capacity mode', () => {
    const provisioned = readPathLines(full, footprint, { ...settings, capacity: { mode: 'provisioned', utilization: 0.5 } }, prices, 1);
    // $0.00036 per RCU-hour at 50 %: $0.20 per million units.
    expect(usd(provisioned, /sealer reads/)).toBeCloseTo(1e6 * 0.25 * 0.2e-6, 12);
  });

  it('adds only the query pages’ Lambda time to a template without stats, exports or digests', () => {
    const bare = readPathLines({ Resources: {} }, footprint, settings, prices, 1, { top10Over30Days: { readUnits: 113.5 } });
    expect(bare.map((l) => l.item)).toEqual(['read calls (100 ms each at 512 MB)']);
    expect(bare[0]!.usdPerMillion).toBeCloseTo(1000 * (0.2e-6 + 0.1 * 0.5 * 1.33334e-5), 12);
  });

  it('weighs an exported event as the NDJSON of the stored events, gzip', () => {
    const events = [
      { type: 'a.b', userId: 'u-1' },
      { type: 'c.d', userId: 'u-2', details: { note: 'x'.repeat(900) } },
    ].map((e) => JSON.stringify(e));
    const items = events.map(
      (e, i) => packItem({ pk: 'acme#0', sk: `0${i}`, u: 'acme#u', t: 'acme#0#a', x: 1, e } as unknown as EventItem) as object,
    ) as Record<string, unknown>[];
    // The long event is stored deflated: what is measured is the event, not the stored bytes.
    expect(items.some((item) => !('e' in item))).toBe(true);
    expect(exportBytesPerEvent(items)).toBe(gzipSync(Buffer.from(`${events.join('\n')}\n`)).length / 2);
  });
});
