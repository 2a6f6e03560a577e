/**
 * Cost per million 1 KB events of publishing them on the bus and archiving them (issue 15's goal:
 * ≤ $1.50 together), and the Athena cost of the example queries. Prices: us-east-1, list prices
 * (sources below). Batching comes from the publisher's own code: real 1 KB events are mapped and
 * chunked exactly as the publisher does. `npm run --silent bench:bus`
 */
import { toBusEvents } from '../lambdas/core/bus-events';
import { chunkEntries, entrySize, toEntry } from '../lambdas/core/publish';

const PRICES = {
  eventBridgeCustomPerMillion: 1.0, // per 64 KB chunk of an entry (https://aws.amazon.com/eventbridge/pricing/)
  lambdaArmPerGbSecond: 0.0000133334, // https://aws.amazon.com/lambda/pricing/
  lambdaPerMillionRequests: 0.2,
  // Lambda's reads of a DynamoDB stream (GetRecords by an event source mapping) are free.
  firehoseIngestPerGb: 0.029, // Direct PUT, each record rounded up to 5 KB (https://aws.amazon.com/firehose/pricing/)
  firehoseFormatConversionPerGb: 0.018,
  firehoseDynamicPartitioningPerGb: 0.02,
  firehosePerThousandObjects: 0.005,
  s3PerThousandPuts: 0.005, // https://aws.amazon.com/s3/pricing/
  s3PerGbMonth: 0.023,
  athenaPerTbScanned: 5.0, // 10 MB minimum per query (https://aws.amazon.com/athena/pricing/)
} as const;

const MILLION = 1_000_000;
const GB = 1024 ** 3;
/** Assumptions, printed with the figures. */
const ASSUME = {
  publisherBatch: 100, // records per invocation (the stream mapping's batch size)
  publisherMsPerBatch: 120, // handler time for 100 records (mapping + 10 PutEvents calls)
  publisherMemoryGb: 0.25,
  parquetBytesPerEvent: 200, // 1 KB JSON → ~200 B Parquet (Snappy, columnar)
  tenants: 100,
  bufferFlushesPerDay: 96, // 900 s buffer
  archivedDays: 1,
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

const main = () => {
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
  const publishing = eventBridge + lambda;

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

  const out = (line = '') => process.stdout.write(`${line}\n`);
  out('Bus publishing and archive, per million 1 KB events (us-east-1 list prices)');
  out(
    `  bus entry: ${bytes} bytes (${Math.ceil(bytes / 65_536)} × 64 KB chunk); ${calls} PutEvents calls per ${ASSUME.publisherBatch} records`,
  );
  out(`  publishing: EventBridge $${eventBridge.toFixed(3)} + publisher Lambda $${lambda.toFixed(4)} = $${publishing.toFixed(3)}`);
  for (const [k, v] of Object.entries(archive)) out(`  archive ${k}: $${v.toFixed(4)}`);
  out(`  archive total: $${archiveTotal.toFixed(3)} (first month of storage included)`);
  out(`  publishing + archive: $${(publishing + archiveTotal).toFixed(3)} (goal ≤ $1.50)`);
  out(`  archive size: ${(parquetGb * 1024).toFixed(0)} MB Parquet per million events`);
  const perGb = PRICES.athenaPerTbScanned / 1024;
  out(`Athena: $${perGb.toFixed(4)} per GB scanned (10 MB minimum per query)`);
  const yearOfTenant = (100 * MILLION * ASSUME.parquetBytesPerEvent) / GB;
  out(
    `  a tenant with 100 M events a year: ${yearOfTenant.toFixed(1)} GB of Parquet; top types over the year reads the type column (~10%): $${(yearOfTenant * 0.1 * perGb).toFixed(3)}`,
  );
  out(
    `  daily active users for a month reads userid over 1/12 of it (~15%): $${((yearOfTenant / 12) * 0.15 * perGb).toFixed(4)}; one user's history scans every column: $${(yearOfTenant * perGb).toFixed(3)}`,
  );
  out('  not included: Firehose JQ processing hours ($0.07 per hour of JQ compute), Athena query results in S3');
  out(`assumptions: ${JSON.stringify(ASSUME)}`);
};

main();
