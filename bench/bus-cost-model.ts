/**
 * The cost model of publishing on the bus and archiving (printed by bench/bus-cost.ts, and the
 * lifetime model's extra lines when the template has the bus or the archive). Prices: us-east-1,
 * list prices (sources below). Batching comes from the publisher's own code: real 1 KB events are
 * mapped and chunked exactly as the publisher does.
 */
import { toBusEvents } from '../lambdas/core/bus-events';
import { chunkEntries, entrySize, toEntry } from '../lambdas/core/publish';
import { loadPricing } from './cost-model';
import { DAYS_PER_MONTH, type LifetimeLine } from './lifetime-model';
import type { Template } from './template';

export const PRICES = {
  eventBridgeCustomPerMillion: 1.0, // per 64 KB chunk of an entry (https://aws.amazon.com/eventbridge/pricing/)
  lambdaArmPerGbSecond: 0.0000133334, // https://aws.amazon.com/lambda/pricing/
  lambdaPerMillionRequests: 0.2,
  // Lambda's reads of a DynamoDB stream (GetRecords by an event source mapping) are free.
  firehoseIngestPerGb: 0.029, // Direct PUT, each record rounded up to 5 KB (https://aws.amazon.com/firehose/pricing/)
  firehoseFormatConversionPerGb: 0.018,
  firehoseDynamicPartitioningPerGb: 0.02,
  firehosePerThousandObjects: 0.005,
  s3PerThousandPuts: 0.005, // https://aws.amazon.com/s3/pricing/
  s3PerThousandGets: 0.0004,
  s3PerGbMonth: 0.023,
  s3DataTransferOutPerGb: 0.09, // to the internet, first 10 TB a month
  athenaPerTbScanned: 5.0, // 10 MB minimum per query (https://aws.amazon.com/athena/pricing/)
} as const;

export const MILLION = 1_000_000;
export const GB = 1024 ** 3;
/** Assumptions, printed with the figures. */
export const ASSUME = {
  publisherBatch: 100, // records per invocation (the stream mapping's batch size)
  publisherMsPerBatch: 120, // handler time for 100 records (mapping + 10 PutEvents calls)
  publisherMemoryGb: 0.25,
  tenantsPerBatch: 10, // tenants with inserted events in one batch: one marker Query each (0.5 read unit, eventually consistent)
  parquetBytesPerEvent: 200, // 1 KB JSON → ~200 B Parquet (Snappy, columnar)
  tenants: 100,
  bufferFlushesPerDay: 96, // 900 s buffer
  archivedDays: 1,
};

/** The archive eraser's cost example (bench/bus-cost.ts). */
export const ERASER_ASSUME = {
  yearsArchived: 3, // archiveRetentionDays 1095
  listingColumnShare: 0.25, // userid (dictionary-encoded) + receivedat of ~200 B per row
  userActiveDays: 200,
  userFilesPerActiveDay: 4,
};

const event = {
  pk: 'tenant-0001#2',
  sk: '01KB00000000000000000000',
  u: 'tenant-0001#h',
  t: 'tenant-0001#2#page.viewed',
  x: 2_000_000_000,
  e: JSON.stringify({
    type: 'page.viewed',
    userId: 'user-000042',
    occurredAt: '2026-11-21T10:00:00.000Z',
    receivedAt: '2026-11-21T10:00:00.123Z',
    target: { type: 'page', id: '/billing/invoices' },
    details: { pad: 'x'.repeat(640) },
    source: { ip: '203.0.113.9', userAgent: 'Mozilla/5.0 (X11; Linux x86_64)' },
  }),
};
const keyring = {
  current: {
    version: 1,
    idCipher: Buffer.alloc(32, 1),
    idMac: Buffer.alloc(32, 2),
    cursorMac: Buffer.alloc(32, 3),
    cursorCipher: Buffer.alloc(32, 4),
    erasureCipher: Buffer.alloc(32, 5),
    viewerMac: Buffer.alloc(32, 6),
  },
  get: () => undefined,
};

/** Publishing and archive cost per million 1 KB events (storage: the first month). */
export const busArchiveCost = () => {
  const [busEvent] = toBusEvents({ eventName: 'INSERT', newImage: event, approximateCreationMs: Date.now() }, keyring);
  if (!busEvent) throw new Error('no bus event');
  const entry = toEntry(busEvent);
  const bytes = entrySize(entry);
  const calls = chunkEntries(Array.from({ length: ASSUME.publisherBatch }, () => entry)).length;

  const eventBridge = PRICES.eventBridgeCustomPerMillion * Math.ceil(bytes / 65_536);
  const invocations = MILLION / ASSUME.publisherBatch;
  const lambda =
    (invocations * PRICES.lambdaPerMillionRequests) / MILLION +
    invocations * (ASSUME.publisherMsPerBatch / 1000) * ASSUME.publisherMemoryGb * PRICES.lambdaArmPerGbSecond;
  // The publisher reads the erasure markers of every tenant in a batch (an empty partition still bills 0.5 unit).
  const markerReads =
    ((invocations * ASSUME.tenantsPerBatch * 0.5) / MILLION) * loadPricing().dynamoDbInfrequentAccess.onDemandPerMillionReadUnits;
  const publishing = eventBridge + lambda + markerReads;

  const recordBytes = Buffer.byteLength(JSON.stringify(busEvent.detail));
  const billedGb = (MILLION * Math.ceil(recordBytes / 5120) * 5120) / GB;
  const objects = ASSUME.tenants * ASSUME.bufferFlushesPerDay * ASSUME.archivedDays;
  const parquetGb = (MILLION * ASSUME.parquetBytesPerEvent) / GB;
  const archive = {
    firehoseIngest: billedGb * PRICES.firehoseIngestPerGb,
    formatConversion: billedGb * PRICES.firehoseFormatConversionPerGb,
    dynamicPartitioning:
      ((MILLION * recordBytes) / GB) * PRICES.firehoseDynamicPartitioningPerGb + (objects / 1000) * PRICES.firehosePerThousandObjects,
    s3Puts: (objects / 1000) * PRICES.s3PerThousandPuts,
    s3StoragePerMonth: parquetGb * PRICES.s3PerGbMonth,
  };
  const archiveTotal = Object.values(archive).reduce((a, b) => a + b, 0);

  return { bytes, calls, eventBridge, lambda, markerReads, publishing, archive, archiveTotal, parquetGb };
};

/** An S3 bucket lifecycle's expiration (days) of the archive's events/ prefix. */
const archiveRetentionDays = (template: Template): number | undefined => {
  for (const r of Object.values(template.Resources)) {
    if (r.Type !== 'AWS::S3::Bucket') continue;
    const rules = (r.Properties?.LifecycleConfiguration?.Rules ?? []) as { Prefix?: string; ExpirationInDays?: number }[];
    const events = rules.find((rule) => rule.Prefix === 'events/' && typeof rule.ExpirationInDays === 'number');
    if (events) return events.ExpirationInDays;
  }
  return undefined;
};

/**
 * The lifetime model's extra lines: publishing when the template has an event bus, the archive
 * (Firehose, S3 requests, Parquet storage for the bucket's retention) when it has a delivery stream.
 */
export const busLifetimeLines = (template: Template): LifetimeLine[] => {
  const types = new Set(Object.values(template.Resources).map((r) => r.Type));
  const lines: LifetimeLine[] = [];
  if (!types.has('AWS::Events::EventBus')) return lines;
  const c = busArchiveCost();
  lines.push({ phase: 'publish', service: 'EventBridge', item: 'PutEvents entries (custom bus)', usdPerMillion: c.eventBridge });
  lines.push({ phase: 'publish', service: 'Lambda', item: 'publisher (stream → bus)', usdPerMillion: c.lambda });
  lines.push({
    phase: 'publish',
    service: 'DynamoDB',
    item: `erasure-marker reads (${ASSUME.tenantsPerBatch} tenants per ${ASSUME.publisherBatch}-record batch, Standard-IA on demand)`,
    usdPerMillion: c.markerReads,
  });
  if (!types.has('AWS::KinesisFirehose::DeliveryStream')) return lines;
  const { s3StoragePerMonth, ...once } = c.archive;
  lines.push({
    phase: 'archive',
    service: 'Firehose',
    item: 'ingest, Parquet conversion, dynamic partitioning',
    usdPerMillion: once.firehoseIngest + once.formatConversion + once.dynamicPartitioning,
  });
  lines.push({ phase: 'archive', service: 'S3', item: 'archive PUTs', usdPerMillion: once.s3Puts });
  const days = archiveRetentionDays(template) ?? 0;
  lines.push({
    phase: 'archive',
    service: 'S3',
    item: `archive storage (Parquet, ${days} days)`,
    usdPerMillion: s3StoragePerMonth * (days / DAYS_PER_MONTH),
  });
  return lines;
};
