/**
 * The human-readable half of `npm run bench` (bench/run.ts): one markdown table per measurement, the
 * goals printed beside the figures. The JSON line and docs/performance.md's block are report.ts.
 */
import type { ColdStartResult } from './cold-start';
import type { CostReport } from './cost-model';
import type { CostRun } from './cost-workloads';
import type { E2eResult, LagResult } from './e2e';
import { goalRowLabel, type LifetimeFigures } from './lifetime';

export const log = (line = '') => process.stdout.write(`${line}\n`);

export const fmt = (n: number, digits = 2) => (Number.isFinite(n) ? n.toFixed(digits) : String(n));

export const table = (headers: string[], rows: (string | number)[][]) => {
  const cells = rows.map((r) => r.map((c) => String(c)));
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((r) => r[i]!.length)));
  const line = (r: string[]) => `| ${r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ')} |`;
  log(line(headers));
  log(`|${widths.map((w, i) => (i === 0 ? '-'.repeat(w + 2) : `${'-'.repeat(w + 1)}:`)).join('|')}|`);
  for (const r of cells) log(line(r));
  log();
};

const FLOOR_LABELS: Record<string, string> = {
  sdkClient: 'one SDK client, SDK from the runtime (as deployed)',
  sdkClientBundled: 'one SDK client, SDK bundled in',
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

/** Bundle sizes and import times, with the floor measured in the same run. */
export const printColdStart = (cold: ColdStartResult) => {
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
};

/** What a million events cost to write: ours (the client's path) and the naive baseline. */
export const printCost = (ours: CostRun, naive: CostRun) => {
  costTable(ours.label, ours.report);
  costTable(naive.label, naive.report);
  table(
    ['configuration', 'USD / M events', 'write units / event', 'item bytes (mean)', 'API requests / M', 'goal'],
    (
      [
        [ours, '≤ $2.00, ≤ 3.0 WRU'],
        [naive, ''],
      ] as const
    ).map(([run, goal]) => [
      run.label,
      fmt(run.report.usdPerMillion, 3),
      fmt(run.writeUnitsPerEvent),
      fmt(run.itemBytesMean, 0),
      fmt(run.counts.apiRequests * (1e6 / run.counts.events), 0),
      goal,
    ]),
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
};

/** What a million events cost over their retention: the breakdown, the levers, the curve. */
export const printLifetime = (life: LifetimeFigures) => {
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
  log('### Every combination of the choices left to the operator, against both goals');
  table(
    ['configuration', `lifetime USD / M (${s.retentionDays} d)`, 'ingest USD / M', 'with an empty item', 'largest item for the goal'],
    life.goalGrid.map((r) => [
      goalRowLabel(r),
      fmt(r.usdPerMillion, 3),
      fmt(r.writeUsdPerMillion, 3),
      fmt(r.goal.emptyItemUsd, 3),
      r.goal.maxItemBytes < 0 ? 'none' : `${fmt(r.goal.maxItemBytes, 0)} bytes`,
    ]),
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
};

/** End to end with and without idempotency keys, and the emulator's own rates. */
export const printEndToEnd = (
  e2e: E2eResult,
  e2ePlain: E2eResult,
  rounds: { keyed: readonly E2eResult[]; plain: readonly E2eResult[] },
  rates: { conditionalPutsPerSec: number; batchWriteItemsPerSec: number },
) => {
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
    `rounds (events/s): with keys ${rounds.keyed.map((r) => fmt(r.e2eEventsPerSec, 0)).join(', ')}; without ${rounds.plain.map((r) => fmt(r.e2eEventsPerSec, 0)).join(', ')}; ` +
      `with/without ${fmt(e2e.e2eEventsPerSec / e2ePlain.e2eEventsPerSec)} (goal ≥ 0.8)`,
  );
  log(
    `the emulator alone (a dynalite of its own in a child process, the events table's indexes, 16 in flight from this process as raw HTTP, ~1 KB items): conditional PutItem ${fmt(rates.conditionalPutsPerSec, 0)}/s, ` +
      `BatchWriteItem ${fmt(rates.batchWriteItemsPerSec, 0)} items/s`,
  );
};

/** Lag from 202 to queryable. */
export const printLag = (lag: LagResult) => {
  table(
    ['achieved events/s', 'samples', 'p50 ms', 'p99 ms', 'max ms', 'requests failed (5xx after retries)', 'not queryable in 180 s', 'goal'],
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
};
