/**
 * `npm run bench:export`: throughput and memory of one tenant export, from the real export core
 * (lambdas/core/exports.ts runExport: paging the tenant timeline, NDJSON/CSV encoding, gzip, S3
 * multipart upload) and the real adapters (DynamoDB event and job stores, S3 files) against the
 * local emulators (dynalite, fauxqs S3) of the local stack, which runs in a child process so this
 * process's memory is the export's.
 *
 *   EXPORT_BENCH_EVENTS=1000000 npm run --silent bench:export     (default 1,000,000)
 *   EXPORT_BENCH_FORMAT=csv                                        (default ndjson)
 *   BENCH_OUT=cdk.out.bench                                        reuse a synthesized assembly
 *
 * The events (~450 B each, as the integration tests write them) are made by the ingest core and
 * loaded with BatchWriteItem in parallel; only the export is timed. Peak RSS and heap are sampled
 * every 20 ms during the export, from a baseline taken just before it.
 */
import { existsSync } from 'node:fs';
import { cpus } from 'node:os';
import { join, resolve } from 'node:path';
import { BatchWriteItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { LOCAL_CREDENTIALS, connectLocal, synth } from '@activity-tracker/local';
import { ENV } from '../contract';
// The adapters build their SDK clients on first use, after the endpoints are set below.
import { documentClient } from '../lambdas/adapters/dynamo-client';
import { DynamoExportStore } from '../lambdas/adapters/dynamo-export-store';
import { DynamoEventStore } from '../lambdas/adapters/dynamo-store';
import { s3Client } from '../lambdas/adapters/s3-client';
import { s3ExportFiles } from '../lambdas/adapters/s3-export-files';
import { requestExport, runExport } from '../lambdas/core/exports';
import { decodePublicId } from '../lambdas/core/public-id';
import { parseKeyring } from '../lambdas/core/keyring';
import { ingest } from '../lambdas/core/ingest';
import { decodeMessage } from '../lambdas/core/message';
import type { QueueMessage } from '../lambdas/core/message';
import { BENCH_CONTEXT, REPO_ROOT, startChildStack } from './stack';
import { templateOf } from './template';

const EVENTS = Number(process.env.EXPORT_BENCH_EVENTS ?? 1_000_000);
const FORMAT = (process.env.EXPORT_BENCH_FORMAT ?? 'ndjson') as 'ndjson' | 'csv';
const TENANT = 'bench-export';
const LOAD_CONCURRENCY = 24;
const NOW = Date.now();

const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;

export const runExportBench = async (log: (line: string) => void = console.log) => {
  if (!Number.isInteger(EVENTS) || EVENTS < 1) throw new Error('EXPORT_BENCH_EVENTS must be a positive integer');
  const outDir = resolve(process.env.BENCH_OUT ?? join(REPO_ROOT, 'cdk.out.bench'));
  if (!process.env.BENCH_OUT || !existsSync(join(outDir, 'manifest.json'))) {
    log(`synthesizing into ${outDir} ...`);
    await synth(outDir, Object.fromEntries(Object.entries(BENCH_CONTEXT).map(([k, v]) => [k, String(v)])), 'pipe');
  }
  const template = templateOf(outDir);
  const stack = await startChildStack(outDir, template);
  try {
    const { health } = await connectLocal(stack.baseUrl);
    const byPrefix = (map: Record<string, string>, prefix: string) => {
      const found = Object.entries(map).find(([id]) => id.startsWith(prefix));
      if (!found) throw new Error(`no ${prefix}* in the local stack`);
      return found[1];
    };
    const table = byPrefix(health.tables, 'StorageTable');
    const bucket = byPrefix(health.buckets, 'ExportsBucket');
    // The adapters find the emulators as the functions do: through the AWS_ENDPOINT_URL_* variables.
    Object.assign(process.env, {
      AWS_REGION: health.region,
      AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
      AWS_ENDPOINT_URL_DYNAMODB: health.endpoints.dynamodb,
      AWS_ENDPOINT_URL_S3: health.endpoints.s3,
    });

    const keyring = parseKeyring(JSON.stringify({ current: '1', k1: 'bench-export-key-'.repeat(4) }));
    log(`machine: ${cpus().length} cpus, ${cpus()[0]?.model ?? 'unknown cpu'}, Node ${process.version}`);
    log(`loading ${EVENTS.toLocaleString('en-US')} events of one tenant (${stack.shardCount} shards) into dynalite ...`);
    const loadStarted = Date.now();
    let loaded = 0;
    // Producer: 500 events per ingest request, as the API takes them; consumers: BatchWriteItem of 25.
    const batches: Record<string, unknown>[][] = [];
    let produced = 0;
    const produce = async (): Promise<boolean> => {
      if (produced >= EVENTS) return false;
      const sent: QueueMessage[] = [];
      const count = Math.min(500, EVENTS - produced);
      const events = Array.from({ length: count }, (_, i) => ({
        type: ['page.viewed', 'invoice.paid', 'user.login'][(produced + i) % 3],
        userId: `user-${(produced + i) % 1000}`,
        occurredAt: new Date(NOW - 86_400_000 + produced + i).toISOString(),
        target: { type: 'page', id: `/p/${(produced + i) % 97}` },
        details: { n: produced + i, note: 'a,"quoted" value', pad: 'x'.repeat(120) },
      }));
      produced += count;
      await ingest(
        { tenant: TENANT, body: JSON.stringify({ events }), contentType: 'application/json', source: { ip: '203.0.113.9' } },
        {
          queue: {
            send: async (m: readonly QueueMessage[]) => {
              sent.push(...m);
              return new Set<string>();
            },
          },
          keyring,
          shardCount: stack.shardCount,
          retentionDays: () => 365,
          now: () => NOW,
        },
      );
      const items = sent.flatMap((m) => decodeMessage(m.body).map((d) => d.item as unknown as Record<string, unknown>));
      for (let i = 0; i < items.length; i += 25) batches.push(items.slice(i, i + 25));
      return true;
    };
    const writeOne = async (items: Record<string, unknown>[]) => {
      let requests = items.map((item) => ({ PutRequest: { Item: marshall(item, { removeUndefinedValues: true }) } }));
      while (requests.length > 0) {
        const out = await stack.ddb.send(new BatchWriteItemCommand({ RequestItems: { [table]: requests } }));
        requests = (out.UnprocessedItems?.[table] ?? []) as typeof requests;
      }
      loaded += items.length;
    };
    let lastReport = Date.now();
    await Promise.all(
      Array.from({ length: LOAD_CONCURRENCY }, async () => {
        for (;;) {
          if (batches.length === 0 && !(await produce())) return;
          const next = batches.shift();
          if (next) await writeOne(next);
          if (Date.now() - lastReport > 30_000) {
            lastReport = Date.now();
            log(`  ${loaded.toLocaleString('en-US')} loaded (${Math.round(loaded / ((Date.now() - loadStarted) / 1000))} events/s)`);
          }
        }
      }),
    );
    log(`loaded in ${((Date.now() - loadStarted) / 1000).toFixed(0)} s (not part of the figures)`);

    const store = new DynamoExportStore(documentClient(), table, { listMarkers: async () => [] });
    const deps = {
      store,
      events: new DynamoEventStore(documentClient(), table),
      files: s3ExportFiles(s3Client, bucket),
      keyring,
      shardCount: stack.shardCount,
      partBytes: ENV.exportPartBytes.default,
      // One run to the end: the Lambda's time budget (and its requeue) is not what is measured.
      remainingMs: () => Number.POSITIVE_INFINITY,
    };
    (globalThis as { gc?: () => void }).gc?.();
    const base = process.memoryUsage();
    let peakRss = base.rss;
    let peakHeap = base.heapUsed;
    const sampler = setInterval(() => {
      const m = process.memoryUsage();
      peakRss = Math.max(peakRss, m.rss);
      peakHeap = Math.max(peakHeap, m.heapUsed);
    }, 20);
    const started = process.hrtime.bigint();
    const cpuStart = process.cpuUsage();
    const accepted = await requestExport(
      TENANT,
      { body: JSON.stringify({ format: FORMAT }), contentType: 'application/json' },
      { store, keyring, enqueue: async () => undefined, expiryDays: 7 },
    );
    const jobId = decodePublicId(keyring, TENANT, accepted.id, 'export')!.internalId;
    const outcome = await runExport({ tenant: TENANT, job: jobId }, deps);
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const cpu = process.cpuUsage(cpuStart);
    clearInterval(sampler);
    const job = await store.getJob(TENANT, jobId);
    if (outcome !== 'completed' || job?.n !== EVENTS) throw new Error(`export ${outcome}: ${job?.n} of ${EVENTS} events`);

    log('');
    log(`## Export of ${EVENTS.toLocaleString('en-US')} events (${FORMAT}, gzip, multipart parts of ${mb(deps.partBytes)})`);
    log(`events/s:        ${Math.round(EVENTS / seconds).toLocaleString('en-US')} (${seconds.toFixed(1)} s wall)`);
    log(`CPU:             ${((cpu.user + cpu.system) / 1e6).toFixed(1)} s of this process (the emulators run in another)`);
    log(`output:          ${mb(job.b)} gzip in ${job.np} parts (${(job.b / EVENTS).toFixed(0)} B/event)`);
    log(`peak RSS:        ${mb(peakRss)} (baseline ${mb(base.rss)}, +${mb(peakRss - base.rss)})`);
    log(`peak heap used:  ${mb(peakHeap)} (baseline ${mb(base.heapUsed)}, +${mb(peakHeap - base.heapUsed)})`);
    return { events: EVENTS, seconds, bytes: job.b, peakRss, peakHeap };
  } finally {
    await stack.stop();
  }
};

if (require.main === module) {
  runExportBench().then(
    () => process.exit(0),
    (error) => {
      console.error(error);
      process.exit(1);
    },
  );
}
