import { busArchiveCost, busLifetimeLines } from '../../../bench/bus-cost-model';
import { DAYS_PER_MONTH } from '../../../bench/lifetime-model';
import type { Template } from '../../../bench/template';

const sum = (lines: { usdPerMillion: number }[]) => lines.reduce((a, l) => a + l.usdPerMillion, 0);
const bus = { Type: 'AWS::Events::EventBus', Properties: {} };
const firehose = { Type: 'AWS::KinesisFirehose::DeliveryStream', Properties: {} };
const archiveBucket = {
  Type: 'AWS::S3::Bucket',
  Properties: {
    LifecycleConfiguration: {
      Rules: [
        { Prefix: 'events/', ExpirationInDays: 730 },
        { Prefix: 'errors/', ExpirationInDays: 30 },
      ],
    },
  },
};

describe('the bus and archive lines of the lifetime model', () => {
  const cost = busArchiveCost();

  it('adds nothing to a template without a bus', () => {
    expect(busLifetimeLines({ Resources: { T: { Type: 'AWS::DynamoDB::Table' } } })).toEqual([]);
  });

  it('adds publishing (EventBridge, the publisher and its erasure-marker reads) when the template has a bus', () => {
    const lines = busLifetimeLines({ Resources: { Bus: bus } } as Template);
    expect(lines.map((l) => `${l.phase} ${l.service}`)).toEqual(['publish EventBridge', 'publish Lambda', 'publish DynamoDB']);
    expect(sum(lines)).toBeCloseTo(cost.publishing, 6);
    // 10,000 batches of 100 records, 10 tenants each, half a read unit per Query, at $0.15625 per million units.
    expect(cost.markerReads).toBeCloseTo(((10_000 * 10 * 0.5) / 1e6) * 0.15625, 9);
  });

  it('adds the archive, with Parquet storage for the bucket lifecycle of events/, when the template has the delivery stream', () => {
    const lines = busLifetimeLines({ Resources: { Bus: bus, Stream: firehose, Bucket: archiveBucket } } as Template);
    const storage = lines.find((l) => l.item.startsWith('archive storage'))!;
    expect(storage.item).toBe('archive storage (Parquet, 730 days)');
    expect(storage.usdPerMillion).toBeCloseTo(cost.archive.s3StoragePerMonth * (730 / DAYS_PER_MONTH), 6);
    const { s3StoragePerMonth, ...once } = cost.archive;
    expect(sum(lines) - cost.publishing - storage.usdPerMillion).toBeCloseTo(
      sum(Object.values(once).map((usdPerMillion) => ({ usdPerMillion }))),
      6,
    );
    expect(s3StoragePerMonth).toBeGreaterThan(0);
  });
});
