/**
 * `npm run bench`: every benchmark, human-readable tables, then ONE JSON line with the figures.
 *
 *   npm run bench                      full run (~5 min on 2 quiet cores)
 *   BENCH_SIZE=tiny npm run bench      seconds: keeps the code working (test/integration/bench.test.ts)
 *   BENCH_OUT=cdk.out npm run bench    reuse an existing cloud assembly instead of synthesizing
 *
 * Figures, not pass/fail: the goals are printed beside them.
 */
import { existsSync } from 'node:fs';
import { cpus } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { synth } from '@activity-tracker/local';
import { benchColdStart } from './cold-start';
import { loadPricing, type CostReport } from './cost-model';
import { runCostWorkload, runNaiveWorkload } from './cost-workloads';
import { runEmulatorWriteRates, runLag, runThroughput } from './e2e';
import { lifetimeFigures } from './lifetime';
import { RETENTION_TTL_GRACE_DAYS } from '../lambdas/core/cleanup';
import { benchIngestCpu } from './ingest-cpu';
import { networkRetries } from './load';
import { runQueries } from './queries';
import { runStatsBench } from './stats';
import { BENCH_CONTEXT, REPO_ROOT, startChildStack, startStack, type Stack } from './stack';
import { templateOf } from './template';
import { writeBenchFigures } from './report';

const SIZES = {
  full: {
    costEvents: 10_000,
    naiveEvents: 2_000,
    e2eEvents: 3_000,
    lagSeconds: 5,
    queryEvents: 100_000,
    queryPages: 40,
    ingestRequests: 200,
    coldRuns: 7,
  },
  tiny: {
    costEvents: 200,
    naiveEvents: 40,
    e2eEvents: 300,
    lagSeconds: 1,
    queryEvents: 1_000,
    queryPages: 3,
    ingestRequests: 10,
    coldRuns: 1,
  },
} as const;

const log = (line = '') => process.stdout.write(`${line}\n`);
const FLOOR_LABELS: Record<string, string> = {
  sdkClient: 'one SDK client, SDK from the runtime (as deployed)',
  sdkClientBundled: 'one SDK client, SDK bundled in',
};

const fmt = (n: number, digits = 2) => (Number.isFinite(n) ? n.toFixed(digits) : String(n));

const table = (headers: string[], rows: (string | number)[][]) => {
  const cells = rows.map((r) => r.map((c) => String(c)));
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((r) => r[i]!.length)));
  const line = (r: string[]) => `| ${r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ')} |`;
  log(line(headers));
  log(`|${widths.map((w, i) => (i === 0 ? '-'.repeat(w + 2) : `${'-'.repeat(w + 1)}:`)).join('|')}|`);
  for (const r of cells) log(line(r));
  log();
};

const costTable = (title: string, report: CostReport) => {
  log(`### ${title}: $${fmt(report.usdPerMillion, 3)} per million events`);
  table(
    ['service', 'item', 'per million events', 'unit', 'USD', 'share'],
    report.lines.map((l) => [
      l.service,
      l.item,
      fmt(l.perMillion, l.unit === 'GB' || l.unit === 'GB-s' ? 3 : 0),
      l.unit,
      fmt(l.usdPerMillion, 4),
      `${fmt((100 * l.usdPerMillion) / report.usdPerMillion, 1)}%`,
    ]),
  );
};

const main = async () => {
  const sizeName = (process.env.BENCH_SIZE ?? 'full') as keyof typeof SIZES;
  const size = SIZES[sizeName];
  if (!size) throw new Error(`BENCH_SIZE must be one of ${Object.keys(SIZES).join(', ')}`);
  const started = performance.now();
  const pricing = loadPricing();
  log(`# Activity Tracker benchmarks (${sizeName})`);
  log(
    `machine: ${cpus().length} cpus, ${cpus()[0]?.model ?? 'unknown cpu'}, Node ${process.version}; prices: us-east-1 arm64, checked ${pricing.checked} (bench/pricing.json)`,
  );
  log();

  const outDir = resolve(process.env.BENCH_OUT ?? join(REPO_ROOT, 'cdk.out.bench'));
  if (!process.env.BENCH_OUT || !existsSync(join(outDir, 'manifest.json'))) {
    log(`synthesizing into ${outDir} ...`);
    await synth(outDir, Object.fromEntries(Object.entries(BENCH_CONTEXT).map(([k, v]) => [k, String(v)])), 'pipe');
  }
  const template = templateOf(outDir);

  log('## Ingest CPU (core vs JSON floor, 50 events/request, process CPU time, best of 5)');
  const cpu = await benchIngestCpu({ requests: size.ingestRequests });
  table(
    ['ingest µs/event', 'floor µs/event', 'ingestVsJsonFloor', 'goal'],
    [[fmt(cpu.ingestUsPerEvent), fmt(cpu.floorUsPerEvent), fmt(cpu.ingestVsJsonFloor), '≥ 0.25']],
  );

  log(`## Cold start (bundle size; import in a fresh node vs bare node, median of ${size.coldRuns})`);
  const cold = benchColdStart(outDir, { runs: size.coldRuns });
  table(
    ['function', 'bundle KB', 'import ms', 'vs bare node', 'goal'],
    cold.rows.map((r) => [r.function, fmt(r.bundleKb, 1), fmt(r.importMs, 0), `${fmt(r.importVsNodeBaseline)}×`, '≤ 300 KB, ≤ 2.0×']),
  );
  log(`bare node start: ${fmt(cold.nodeBaselineMs, 0)} ms`);
  log();
  log('Floor in the same run: a bundle that only creates one SQS client, built with the same settings.');
  table(
    ['reference', 'bundle KB', 'import ms', 'vs bare node'],
    cold.floors.map((r) => [
      FLOOR_LABELS[r.function] ?? r.function,
      fmt(r.bundleKb, 1),
      fmt(r.importMs, 0),
      `${fmt(r.importVsNodeBaseline)}×`,
    ]),
  );

  // Measured before any stack runs, so nothing else competes for the two cores (printed with the end-to-end figures).
  const rates = await runEmulatorWriteRates(template, Math.max(1000, size.e2eEvents / 10));
  const stack = await startStack(outDir, template);
  try {
    // Warm every function once so the measured workloads see warm containers, as steady traffic does.
    await runCostWorkload(stack, pricing, 100, 50, 'warmup').catch((e) => {
      throw new Error(`warm-up failed: ${(e as Error).message}`);
    });

    log(
      `## Cost per million 1 KB events (measured: ${size.costEvents} events at 50/request; naive: ${size.naiveEvents} events at 1/request)`,
    );
    const ours = await runCostWorkload(stack, pricing, size.costEvents, 50);
    const naive = await runNaiveWorkload(stack, pricing, size.naiveEvents);
    costTable(ours.label, ours.report);
    costTable(naive.label, naive.report);
    table(
      ['configuration', 'USD / M events', 'write units / event', 'item bytes (mean)', 'API requests / M', 'goal'],
      [
        [
          ours.label,
          fmt(ours.report.usdPerMillion, 3),
          fmt(ours.writeUnitsPerEvent),
          fmt(ours.itemBytesMean, 0),
          fmt(ours.counts.apiRequests * (1e6 / ours.counts.events), 0),
          '≤ $2.00, ≤ 3.0 WRU',
        ],
        [
          naive.label,
          fmt(naive.report.usdPerMillion, 3),
          fmt(naive.writeUnitsPerEvent),
          fmt(naive.itemBytesMean, 0),
          fmt(naive.counts.apiRequests * (1e6 / naive.counts.events), 0),
          '',
        ],
      ],
    );
    log(
      'write units per stored event, by target (ours): ' +
        Object.entries(ours.writeUnitsByTarget)
          .map(([k, v]) => `${k} ${fmt(v)}`)
          .join(', '),
    );
    log(
      'Lambda durations are measured locally, one request in flight (worker threads on this machine, not Graviton): treat them as an upper bound.',
    );
    log();

    // The counters' writes are part of what a million events cost over their lifetime.
    log('## Stats counters: cost per million events, read units of the 30-day top 10');
    const counters = await runStatsBench(sizeName === 'full' ? 200_000 : 2_000, log);
    log();

    // The cleanup leaves expired events to TTL for a grace period (lambdas/core/cleanup.ts): deletes at expiry are free then.
    const life = lifetimeFigures(
      ours.report,
      ours.items,
      stack.model,
      stack.template,
      pricing,
      RETENTION_TTL_GRACE_DAYS > 0 ? 'ttl' : 'cleanup',
      counters,
    );
    const s = life.settings;
    log(
      `## Lifetime cost per million 1 KB events kept ${s.retentionDays} days: $${fmt(life.deployed.usdPerMillion, 3)} ` +
        `(${s.tableClass}, ${s.capacity.mode}, PITR ${s.pitr ? 'on' : 'off'}, retention deletes by ${s.retentionDeletes}; ` +
        `reads: ${s.reads.pagesPerThousand} page of ${s.reads.eventsPerPage} via ${s.reads.index} per 1,000 events)`,
    );
    table(
      ['phase', 'service', 'item', 'USD / M events', 'share'],
      life.deployed.lines.map((l) => [
        l.phase,
        l.service,
        l.item,
        fmt(l.usdPerMillion, 4),
        `${fmt((100 * l.usdPerMillion) / life.deployed.usdPerMillion, 1)}%`,
      ]),
    );
    const f = life.footprint;
    log(
      `stored per event: item ${fmt(f.itemBytes, 0)} bytes + 100 overhead; index entries ` +
        Object.entries(f.indexEntryBytes)
          .map(([k, v]) => `${k} ${fmt(v, 0)}`)
          .join(', ') +
        ' bytes (+ 100 each where present)',
    );
    const g = life.goal;
    log(
      g.maxItemBytes < 0
        ? `goal $${fmt(g.goalUsd)} at ${s.retentionDays} days: out of reach with these settings whatever the item's size — every other line together costs $${fmt(g.otherUsd, 3)}`
        : `goal $${fmt(g.goalUsd)} at ${s.retentionDays} days: met by a stored item of at most ${fmt(g.maxItemBytes, 0)} bytes (now ${fmt(f.itemBytes, 0)}); every other line together costs $${fmt(g.otherUsd, 3)}`,
    );
    log();
    log('### Levers, applied one after the other (each priced from the same measured items)');
    table(
      ['configuration', `lifetime USD / M (${s.retentionDays} d)`, 'saved', 'note'],
      life.levers.map((l) => [l.lever, fmt(l.usdPerMillion, 3), l.savedUsd === 0 ? '' : fmt(l.savedUsd, 3), l.note]),
    );
    log(
      `### Lifetime cost against retention (deployed footprint; Standard-IA breaks even at ${fmt(life.iaBreakEvenDays ?? Number.NaN, 0)} days)`,
    );
    table(
      [
        'retention days',
        'Standard, on-demand',
        'Standard-IA, on-demand',
        'Standard-IA, provisioned 70 %',
        'Standard-IA, on-demand, PITR off',
      ],
      life.curve.map((c) => [
        c.days,
        fmt(c.standard, 3),
        fmt(c.infrequentAccess, 3),
        fmt(c.provisionedIa, 3),
        fmt(c.infrequentAccessNoPitr, 3),
      ]),
    );
    const traced = (run: typeof ours) => `${fmt((run.counts.tracedRequests / run.counts.apiRequests) * 100, 0)}%`;
    log(
      `X-Ray: ${traced(ours)} of API requests traced (the stack's sampling rule; naive: ${traced(naive)}, X-Ray's default); the 1 req/s reservoir is a fixed ~$13/month, not per event.`,
    );
    log();

    // End to end against the stack as `npm start` runs it (a child process), so the load generator
    // does not compete with the runtime's main thread. BENCH_E2E=in-process to compare.
    const inProcess = process.env.BENCH_E2E === 'in-process';
    const e2eStack: Stack = inProcess ? stack : await startChildStack(outDir, template);
    await runThroughput(e2eStack, 500);
    await runThroughput(e2eStack, 500, { idempotencyKeys: false });
    log(
      `## End to end (local mode, ${inProcess ? 'in-process' : 'child process'}: ${size.e2eEvents} events at 50/request, 8 clients; ` +
        'with idempotency keys as the client sends them, and without, alternating, two rounds each)',
    );
    const keyedRuns: Awaited<ReturnType<typeof runThroughput>>[] = [];
    const plainRuns: typeof keyedRuns = [];
    for (let round = 0; round < 2; round++) {
      plainRuns.push(await runThroughput(e2eStack, size.e2eEvents, { idempotencyKeys: false }));
      keyedRuns.push(await runThroughput(e2eStack, size.e2eEvents));
    }
    const best = (runs: typeof keyedRuns) => runs.reduce((a, b) => (b.e2eEventsPerSec > a.e2eEventsPerSec ? b : a));
    const e2e = best(keyedRuns);
    const e2ePlain = best(plainRuns);
    table(
      [
        'workload',
        'accepted events/s',
        'e2eEventsPerSec (HTTP → stored)',
        'writer invocations',
        'mean writer batch',
        'writer ms/event',
        'ingest ms/request',
        'goal',
      ],
      [
        ...[['with idempotency keys (client)', e2e, '≥ 2,000/s'] as const, ['without keys', e2ePlain, ''] as const].map(
          ([label, r, goal]) => [
            label,
            fmt(r.acceptedPerSec, 0),
            fmt(r.e2eEventsPerSec, 0),
            r.writerInvocations,
            fmt(r.meanWriterBatch, 1),
            fmt(r.writerMsPerEvent, 3),
            fmt(r.ingestMsPerRequest, 1),
            goal,
          ],
        ),
      ],
    );
    log(
      `rounds (events/s): with keys ${keyedRuns.map((r) => fmt(r.e2eEventsPerSec, 0)).join(', ')}; without ${plainRuns.map((r) => fmt(r.e2eEventsPerSec, 0)).join(', ')}; ` +
        `with/without ${fmt(e2e.e2eEventsPerSec / e2ePlain.e2eEventsPerSec)} (goal ≥ 0.8)`,
    );
    log(
      `the emulator alone (a dynalite of its own in a child process, the events table's indexes, 16 in flight from this process as raw HTTP, ~1 KB items): conditional PutItem ${fmt(rates.conditionalPutsPerSec, 0)}/s, ` +
        `BatchWriteItem ${fmt(rates.batchWriteItemsPerSec, 0)} items/s`,
    );
    log();
    log(`## Lag from 202 to queryable at 1,000 events/s for ${size.lagSeconds} s`);
    const lag = await runLag(e2eStack, 1000, size.lagSeconds);
    if (e2eStack !== stack) await e2eStack.stop();
    table(
      [
        'achieved events/s',
        'samples',
        'p50 ms',
        'p99 ms',
        'max ms',
        'requests failed (5xx after retries)',
        'not queryable in 180 s',
        'goal',
      ],
      [
        [
          fmt(lag.achievedEventsPerSec, 0),
          lag.samples,
          fmt(lag.lagP50Ms, 0),
          fmt(lag.lagP99Ms, 0),
          fmt(lag.lagMaxMs, 0),
          lag.failedRequests,
          lag.notQueryable,
          'p99 ≤ 2,000 ms, none failed or late',
        ],
      ],
    );

    log(`## Queries on a tenant holding ${size.queryEvents} events (100-event pages)`);
    const q = await runQueries(stack, size.queryEvents, size.queryPages);
    log(`loaded ${size.queryEvents} items (real ingest core → BatchWriteItem) in ${fmt(q.loadSeconds, 1)} s`);
    table(
      ['filter', 'pages', 'returned', 'items read', 'read / returned', 'p50 ms', 'p99 ms'],
      q.rows.map((r) => [r.filter, r.pages, r.returned, r.itemsRead, fmt(r.readAmplification), fmt(r.p50Ms, 1), fmt(r.p99Ms, 1)]),
    );
    const stats = await stack.stats();

    const figures = {
      size: sizeName,
      machine: { cpus: cpus().length, cpu: cpus()[0]?.model ?? 'unknown', node: process.version },
      pricingChecked: pricing.checked,
      costPerMillionUsd: round(ours.report.usdPerMillion, 4),
      lifetimeCostPerMillionUsd: round(life.deployed.usdPerMillion, 4),
      retentionDays: life.deployed.retentionDays,
      lifetimeBreakdownUsd: Object.fromEntries(
        life.deployed.lines.map((l) => [`${l.phase}: ${l.service}: ${l.item}`, round(l.usdPerMillion, 4)]),
      ),
      lifetimeBeforeCostPerMillionUsd: round(life.before.usdPerMillion, 4),
      lifetimeBeforeBreakdownUsd: Object.fromEntries(
        life.before.lines.map((l) => [`${l.phase}: ${l.service}: ${l.item}`, round(l.usdPerMillion, 4)]),
      ),
      lifetimeLevers: life.levers.map((l) => ({
        lever: l.lever,
        usdPerMillion: round(l.usdPerMillion, 4),
        savedUsd: round(l.savedUsd, 4),
        note: l.note,
      })),
      lifetimeByRetentionDays: life.curve.map((c) => ({
        days: c.days,
        standard: round(c.standard, 4),
        infrequentAccess: round(c.infrequentAccess, 4),
        provisionedIa: round(c.provisionedIa, 4),
        infrequentAccessNoPitr: round(c.infrequentAccessNoPitr, 4),
      })),
      infrequentAccessBreakEvenDays: life.iaBreakEvenDays === undefined ? null : Math.round(life.iaBreakEvenDays),
      lifetimeGoal: {
        goalUsd: life.goal.goalUsd,
        otherUsd: round(life.goal.otherUsd, 4),
        maxItemBytes: Math.round(life.goal.maxItemBytes),
        itemBytes: Math.round(f.itemBytes),
      },
      statsCountersPerMillionUsd: counters.countersPerMillionUsd,
      lifetimeSettings: {
        tableClass: s.tableClass,
        capacity: s.capacity.mode,
        pitr: s.pitr,
        retentionDeletes: s.retentionDeletes,
        reads: s.reads,
      },
      baselineCostPerMillionUsd: round(naive.report.usdPerMillion, 4),
      writeUnitsPerEvent: round(ours.writeUnitsPerEvent, 3),
      baselineWriteUnitsPerEvent: round(naive.writeUnitsPerEvent, 3),
      itemBytesMean: Math.round(ours.itemBytesMean),
      ingestVsJsonFloor: round(cpu.ingestVsJsonFloor, 3),
      e2eEventsPerSec: Math.round(e2e.e2eEventsPerSec),
      e2eEventsPerSecWithoutKeys: Math.round(e2ePlain.e2eEventsPerSec),
      e2eKeyedVsPlain: round(e2e.e2eEventsPerSec / e2ePlain.e2eEventsPerSec, 3),
      emulatorConditionalPutsPerSec: Math.round(rates.conditionalPutsPerSec),
      emulatorBatchWriteItemsPerSec: Math.round(rates.batchWriteItemsPerSec),
      lagP99Ms: Math.round(lag.lagP99Ms),
      lagP50Ms: Math.round(lag.lagP50Ms),
      lagFailedRequests: lag.failedRequests,
      lagNotQueryable: lag.notQueryable,
      queryReadAmplification: round(q.queryReadAmplification, 3),
      queryReadAmplificationByFilter: Object.fromEntries(q.rows.map((r) => [r.filter, round(r.readAmplification, 3)])),
      queryPageP50Ms: Object.fromEntries(q.rows.map((r) => [r.filter, round(r.p50Ms, 1)])),
      queryPageP99Ms: Object.fromEntries(q.rows.map((r) => [r.filter, round(r.p99Ms, 1)])),
      bundleKb: Object.fromEntries(cold.rows.map((r) => [r.function, round(r.bundleKb, 1)])),
      importVsNodeBaseline: Object.fromEntries(cold.rows.map((r) => [r.function, round(r.importVsNodeBaseline, 2)])),
      importFloorVsNodeBaseline: Object.fromEntries(cold.floors.map((r) => [r.function, round(r.importVsNodeBaseline, 2)])),
      costBreakdownUsd: Object.fromEntries(ours.report.lines.map((l) => [`${l.service}: ${l.item}`, round(l.usdPerMillion, 4)])),
      baselineCostBreakdownUsd: Object.fromEntries(naive.report.lines.map((l) => [`${l.service}: ${l.item}`, round(l.usdPerMillion, 4)])),
      networkRetries,
      pollerErrors: Object.values(stats.pollers).reduce((s, p) => s + p.functionErrors + p.receiveErrors, 0),
      seconds: Math.round((performance.now() - started) / 1000),
    };
    log(`total ${figures.seconds} s`);
    // A full run's figures are the documented ones: docs/performance.md's generated block.
    if (sizeName === 'full') log(`figures written to ${writeBenchFigures(figures)}`);
    log(JSON.stringify(figures));
  } finally {
    await stack.stop();
  }
};

const round = (n: number, digits: number) => Number(n.toFixed(digits));

main().then(
  () => process.exit(0),
  (e) => {
    process.stderr.write(`bench failed: ${(e as Error).stack ?? String(e)}\n`);
    process.exit(1);
  },
);
