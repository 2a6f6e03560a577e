/**
 * The figures `npm run bench` measures, as docs/performance.md shows them: a generated block
 * between `<!-- bench:begin … -->` and `<!-- bench:end -->` that a full run rewrites, so the page
 * never carries figures edited by hand.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { markdownBlock, replaceBlock } from '../scripts/markdown-block';

/** The JSON line bench/run.ts prints last (the fields this page shows; others are ignored). */
export interface BenchFigures {
  readonly size?: string;
  readonly machine?: { readonly cpus: number; readonly cpu: string; readonly node: string };
  readonly pricingChecked?: string;
  readonly costPerMillionUsd: number;
  readonly baselineCostPerMillionUsd?: number;
  readonly writeUnitsPerEvent: number;
  readonly baselineWriteUnitsPerEvent?: number;
  readonly itemBytesMean?: number;
  readonly ingestVsJsonFloor: number;
  readonly e2eEventsPerSec: number;
  readonly lagP99Ms: number;
  readonly lagP50Ms?: number;
  /** Lag-run requests still 5xx after the client's retries (not acknowledged). */
  readonly lagFailedRequests?: number;
  /** Sampled lag requests not queryable within the run's wait (left out of the percentiles). */
  readonly lagNotQueryable?: number;
  readonly queryReadAmplification: number;
  readonly queryReadAmplificationByFilter?: Readonly<Record<string, number>>;
  readonly queryPageP50Ms?: Readonly<Record<string, number>>;
  readonly queryPageP99Ms?: Readonly<Record<string, number>>;
  readonly bundleKb: Readonly<Record<string, number>>;
  readonly importVsNodeBaseline: Readonly<Record<string, number>>;
  readonly importFloorVsNodeBaseline?: Readonly<Record<string, number>>;
  /** USD per million events by `service: item`. */
  readonly costBreakdownUsd?: Readonly<Record<string, number>>;
  readonly baselineCostBreakdownUsd?: Readonly<Record<string, number>>;
  readonly seconds?: number;
  readonly lifetimeCostPerMillionUsd?: number;
  readonly retentionDays?: number;
  /** USD per million events by `phase: service: item`. */
  readonly lifetimeBreakdownUsd?: Readonly<Record<string, number>>;
  readonly lifetimeBeforeCostPerMillionUsd?: number;
  readonly lifetimeLevers?: readonly {
    readonly lever: string;
    readonly usdPerMillion: number;
    readonly savedUsd: number;
    readonly note: string;
  }[];
  readonly lifetimeByRetentionDays?: readonly {
    readonly days: number;
    readonly standard: number;
    readonly infrequentAccess: number;
    readonly provisionedIa: number;
    readonly infrequentAccessNoPitr?: number;
  }[];
  readonly infrequentAccessBreakEvenDays?: number | null;
  /** What the lifetime goal asks of the stored item (bench/lifetime-model.ts itemGoal). */
  readonly lifetimeGoal?: {
    readonly goalUsd: number;
    readonly otherUsd: number;
    readonly maxItemBytes: number;
    readonly itemBytes: number;
  };
  /** Every combination of table class, capacity mode, PITR and bus against both goals (bench/lifetime.ts goalGrid). */
  readonly lifetimeGoalGrid?: readonly {
    readonly configuration: string;
    readonly capacity: 'on-demand' | 'provisioned';
    readonly usdPerMillion: number;
    readonly ingestUsdPerMillion: number;
    /** The lifetime with an empty item: every other line, and DynamoDB's 100 bytes of overhead stored for the retention. */
    readonly emptyItemUsd: number;
    readonly maxItemBytes: number;
  }[];
  readonly e2eEventsPerSecWithoutKeys?: number;
  readonly e2eKeyedVsPlain?: number;
  readonly emulatorConditionalPutsPerSec?: number;
  readonly emulatorBatchWriteItemsPerSec?: number;
}

export const BENCH_BLOCK = 'bench';
export const PERFORMANCE_PAGE = join(__dirname, '..', 'docs', 'performance.md');

const fixed = (n: number, digits: number) => n.toFixed(digits);
const thousands = (n: number) => Math.round(n).toLocaleString('en-US');
const usd = (n: number) => `$${fixed(n, 3)}`;
const met = (ok: boolean) => (ok ? 'met' : '**not met**');

/** The ingest goal: writing a million 1 KB events (the first row of the figures table). */
const INGEST_GOAL_USD = 2;

/**
 * Which combinations of the operator's choices meet the goals: the whole grid, then what it says —
 * the configurations meeting both at the run's items, and whether on-demand capacity can meet the
 * lifetime goal at any item size.
 */
const goalGridLines = (f: BenchFigures): string[] => {
  const grid = f.lifetimeGoalGrid;
  const goal = f.lifetimeGoal?.goalUsd;
  if (!grid || grid.length === 0 || goal === undefined) return [];
  type Row = (typeof grid)[number];
  const meetsBoth = (r: Row) => r.usdPerMillion <= goal && r.ingestUsdPerMillion <= INGEST_GOAL_USD;
  const both = grid.filter(meetsBoth);
  const onDemand = grid.filter((r) => r.capacity === 'on-demand');
  const reachable = onDemand.filter((r) => r.maxItemBytes >= 0);
  const named = (rows: readonly Row[]) => {
    const names = rows.map((r) => `“${r.configuration}”`);
    return names.length < 2 ? names.join('') : `${names.slice(0, -1).join(', ')} and ${names.at(-1)}`;
  };
  const minOf = (rows: readonly Row[], value: (r: Row) => number) => usd(Math.min(...rows.map(value)));
  const out = [
    '',
    `Every combination of the choices left to the operator, priced from the same items at ${f.retentionDays} days, against both goals (lifetime ≤ ${usd(goal)}, ingest ≤ ${usd(INGEST_GOAL_USD)}); provisioned rows are a model of a steady workload at the stated utilization:`,
    '',
    '| configuration | lifetime | ingest | lifetime with an empty item | largest mean item meeting the lifetime goal | both goals |',
    '| --- | ---: | ---: | ---: | ---: | --- |',
    ...grid.map(
      (r) =>
        `| ${r.configuration} | ${usd(r.usdPerMillion)} | ${usd(r.ingestUsdPerMillion)} | ${usd(r.emptyItemUsd)} | ${
          r.maxItemBytes < 0 ? 'none' : `${thousands(r.maxItemBytes)} bytes`
        } | ${meetsBoth(r) ? 'met' : 'not met'} |`,
    ),
    '',
    both.length === 0
      ? 'No configuration meets both goals with the items of this run.'
      : `With the items of this run (${thousands(f.lifetimeGoal?.itemBytes ?? 0)} bytes on average), both goals are met by ${named(both)}.`,
  ];
  if (onDemand.length > 0) {
    out.push(
      reachable.length === 0
        ? `On demand, no configuration meets the lifetime goal whatever the size of the stored item: even an empty one costs at least ${minOf(
            onDemand,
            (r) => r.emptyItemUsd,
          )}, and the ingest at least ${minOf(onDemand, (r) => r.ingestUsdPerMillion)}.`
        : `On demand, only ${named(reachable)} could meet the lifetime goal, with a stored item of at most ${thousands(
            Math.max(...reachable.map((r) => r.maxItemBytes)),
          )} bytes on average; the ingest costs at least ${minOf(onDemand, (r) => r.ingestUsdPerMillion)} on demand.`,
    );
  }
  return out;
};
const span = (values: readonly number[], digits: number, unit = '') => {
  const lo = fixed(Math.min(...values), digits);
  const hi = fixed(Math.max(...values), digits);
  return lo === hi ? `${lo}${unit}` : `${lo}–${hi}${unit}`;
};
const list = (m: Readonly<Record<string, number>> | undefined, show: (v: number) => string) =>
  m
    ? Object.entries(m)
        .map(([k, v]) => `${k} ${show(v)}`)
        .join(', ')
    : '';

interface ServiceCost {
  total: number;
  readonly items: [string, number][];
}

/** USD per million events by service: the part of each breakdown key before the first colon. */
const byService = (breakdown: Readonly<Record<string, number>>): Map<string, ServiceCost> => {
  const out = new Map<string, ServiceCost>();
  for (const [key, value] of Object.entries(breakdown)) {
    const at = key.indexOf(':');
    const service = (at < 0 ? key : key.slice(0, at)).trim();
    const cost = out.get(service) ?? { total: 0, items: [] };
    cost.total += value;
    if (at >= 0) cost.items.push([key.slice(at + 1).trim(), value]);
    out.set(service, cost);
  }
  return out;
};

/** A service's total, with its items when there are several. */
const costCell = (cost: ServiceCost | undefined): string => {
  if (!cost) return '—';
  const detail = cost.items.length > 1 ? ` (${cost.items.map(([item, v]) => `${item} ${usd(v)}`).join(', ')})` : '';
  return `${usd(cost.total)}${detail}`;
};

const costTable = (f: BenchFigures): string[] => {
  if (!f.costBreakdownUsd) return [];
  const ours = byService(f.costBreakdownUsd);
  const naive = f.baselineCostBreakdownUsd ? byService(f.baselineCostBreakdownUsd) : undefined;
  const services = [...new Set([...ours.keys(), ...(naive?.keys() ?? [])])];
  const row = (label: string, a: string, b: string) => `| ${label} | ${a} |${naive ? ` ${b} |` : ''}`;
  return [
    '',
    'Where each cent goes, per million 1 KB events:',
    '',
    `| service | ours: 50 events/request |${naive ? ' naive: 1 event/request |' : ''}`,
    `| --- | ---: |${naive ? ' ---: |' : ''}`,
    ...services.map((s) => row(s, costCell(ours.get(s)), costCell(naive?.get(s)))),
    row(
      '**total**',
      `**${usd(f.costPerMillionUsd)}**`,
      f.baselineCostPerMillionUsd === undefined ? '—' : `**${usd(f.baselineCostPerMillionUsd)}**`,
    ),
  ];
};

/** Lifetime breakdown by phase and service, the levers and the cost against retention. */
const lifetimeTables = (f: BenchFigures): string[] => {
  if (!f.lifetimeBreakdownUsd || f.lifetimeCostPerMillionUsd === undefined) return [];
  const total = f.lifetimeCostPerMillionUsd;
  const out = [
    '',
    `Lifetime of a million 1 KB events kept ${f.retentionDays} days, by phase (write, keep, read, delete, and the stream's consumers: count, publish, archive):`,
    '',
    '| phase: service: item | USD | share |',
    '| --- | ---: | ---: |',
    ...Object.entries(f.lifetimeBreakdownUsd)
      .filter(([, v]) => v >= 0.0005)
      .map(([k, v]) => `| ${k} | ${usd(v)} | ${fixed((100 * v) / total, 1)} % |`),
    `| lines under $0.0005 | ${usd(
      Object.values(f.lifetimeBreakdownUsd)
        .filter((v) => v < 0.0005)
        .reduce((a, b) => a + b, 0),
    )} | |`,
    `| **total** | **${usd(total)}** | |`,
  ];
  const g = f.lifetimeGoal;
  if (g) {
    out.push(
      '',
      g.maxItemBytes < 0
        ? `Against the goal of ${usd(g.goalUsd)}: out of reach with the deployed settings whatever the size of the stored item — every line that does not grow with it (writes, index entries, the stream's consumers, the rest) costs ${usd(g.otherUsd)} on its own.`
        : `Against the goal of ${usd(g.goalUsd)}: met by a stored item of at most ${thousands(g.maxItemBytes)} bytes on average (the run's: ${thousands(g.itemBytes)}); every other line costs ${usd(g.otherUsd)}.`,
    );
  }
  if (f.lifetimeLevers) {
    out.push(
      '',
      `Levers, applied one after the other, each priced from the same measured items (lifetime at ${f.retentionDays} days):`,
      '',
      '| configuration | USD / M | saved | note |',
      '| --- | ---: | ---: | --- |',
      ...f.lifetimeLevers.map((l) => `| ${l.lever} | ${usd(l.usdPerMillion)} | ${l.savedUsd === 0 ? '' : usd(l.savedUsd)} | ${l.note} |`),
    );
    const goal = f.lifetimeGoal?.goalUsd;
    if (goal !== undefined) {
      const met = f.lifetimeLevers.find((l) => l.usdPerMillion <= goal);
      out.push(
        '',
        met === undefined
          ? `No row meets the goal of ${usd(goal)}.`
          : `The goal of ${usd(goal)} is first met on the row “${met.lever}” (${usd(met.usdPerMillion)}), with every row above it applied.`,
      );
    }
  }
  out.push(...goalGridLines(f));
  if (f.lifetimeByRetentionDays) {
    out.push(
      '',
      'Lifetime cost against retention (the deployed footprint)' +
        (f.infrequentAccessBreakEvenDays ? `; Standard-IA breaks even at ${f.infrequentAccessBreakEvenDays} days:` : ':'),
      '',
      '| retention days | Standard, on-demand | Standard-IA, on-demand | Standard-IA, provisioned at 70 % | Standard-IA, on-demand, PITR off |',
      '| ---: | ---: | ---: | ---: | ---: |',
      ...f.lifetimeByRetentionDays.map(
        (c) =>
          `| ${c.days} | ${usd(c.standard)} | ${usd(c.infrequentAccess)} | ${usd(c.provisionedIa)} | ${c.infrequentAccessNoPitr === undefined ? '—' : usd(c.infrequentAccessNoPitr)} |`,
      ),
    );
  }
  return out;
};

/** The figures of one bench run as Markdown (without the block's markers). */
export const renderBenchFigures = (f: BenchFigures, { date }: { readonly date: string }): string => {
  const m = f.machine;
  const header =
    `Measured ${date} by \`npm run bench\`` +
    (f.size ? ` (${f.size} run${f.seconds === undefined ? '' : `, ${f.seconds} s`})` : '') +
    (m ? ` on ${m.cpus} vCPUs (${m.cpu}), Node ${m.node}` : '') +
    (f.pricingChecked ? `; prices checked ${f.pricingChecked} (bench/pricing.json)` : '') +
    '.';
  const bundles = Object.values(f.bundleKb);
  const imports = Object.values(f.importVsNodeBaseline);
  const floor = f.importFloorVsNodeBaseline;
  const rows: [string, string, string, string][] = [
    [
      'cost per million 1 KB events, 50 events/request, 3 timelines indexed',
      '≤ $2.00',
      `**${usd(f.costPerMillionUsd)}**, every log line counted`,
      met(f.costPerMillionUsd <= INGEST_GOAL_USD),
    ],
  ];
  if (f.lifetimeCostPerMillionUsd !== undefined) {
    rows.push([
      `lifetime cost per million 1 KB events kept ${f.retentionDays} days (write, keep, read, delete)`,
      '≤ $4.00',
      `**${usd(f.lifetimeCostPerMillionUsd)}**` +
        (f.lifetimeBeforeCostPerMillionUsd === undefined ? '' : `; before the levers ${usd(f.lifetimeBeforeCostPerMillionUsd)}`),
      met(f.lifetimeCostPerMillionUsd <= 4),
    ]);
  }
  if (f.baselineCostPerMillionUsd !== undefined) {
    rows.push(['the same events through the naive design', '—', `**${usd(f.baselineCostPerMillionUsd)}**`, '']);
  }
  rows.push(
    [
      'write units per stored event (table + indexes)',
      '≤ 3.0',
      `**${fixed(f.writeUnitsPerEvent, 2)}**` +
        (f.itemBytesMean === undefined ? '' : `, items ${thousands(f.itemBytesMean)} bytes on average`) +
        (f.baselineWriteUnitsPerEvent === undefined ? '' : `; naive ${fixed(f.baselineWriteUnitsPerEvent, 2)}`),
      met(f.writeUnitsPerEvent <= 3),
    ],
    [
      'ingest core vs JSON floor (`ingestVsJsonFloor`, CPU time)',
      '≥ 0.25',
      `**${fixed(f.ingestVsJsonFloor, 2)}**`,
      met(f.ingestVsJsonFloor >= 0.25),
    ],
    ['bundle size per function', '≤ 300 KB', `**${span(bundles, 0, ' KB')}**`, met(Math.max(...bundles) <= 300)],
    [
      'import time vs bare `node`',
      '≤ 2.0×',
      `**${span(imports, 1, '×')}**` +
        (floor?.sdkClient === undefined ? '' : `; floor, one SDK client alone: ${fixed(floor.sdkClient, 1)}×`) +
        (floor?.sdkClientBundled === undefined ? '' : ` (SDK bundled in: ${fixed(floor.sdkClientBundled, 1)}×)`),
      met(Math.max(...imports) <= 2),
    ],
    [
      'end to end, HTTP → queryable, local mode, with idempotency keys (the client’s path)',
      '≥ 2,000/s',
      `**${thousands(f.e2eEventsPerSec)} events/s**` +
        (f.emulatorConditionalPutsPerSec === undefined
          ? ''
          : `; the emulator alone: ${thousands(f.emulatorConditionalPutsPerSec)} conditional puts/s` +
            (f.emulatorBatchWriteItemsPerSec === undefined
              ? ''
              : `, ${thousands(f.emulatorBatchWriteItemsPerSec)} items/s by BatchWriteItem`)),
      met(f.e2eEventsPerSec >= 2000),
    ],
    ...(f.e2eEventsPerSecWithoutKeys === undefined || f.e2eKeyedVsPlain === undefined
      ? []
      : [
          [
            'the same without idempotency keys, same run (with / without)',
            '≥ 0.8×',
            `**${thousands(f.e2eEventsPerSecWithoutKeys)} events/s** (${fixed(f.e2eKeyedVsPlain, 2)}×)`,
            met(f.e2eKeyedVsPlain >= 0.8),
          ] as [string, string, string, string],
        ]),
    [
      'p99 lag 202 → queryable at 1,000 events/s, local mode',
      '≤ 2 s',
      `**${fixed(f.lagP99Ms / 1000, 2)} s**${f.lagP50Ms === undefined ? '' : ` (p50 ${fixed(f.lagP50Ms / 1000, 2)} s)`}` +
        (f.lagFailedRequests ? `; ${thousands(f.lagFailedRequests)} requests still 5xx after the client's retries` : '') +
        (f.lagNotQueryable ? `; ${thousands(f.lagNotQueryable)} sampled requests not queryable within the run's wait` : ''),
      met(f.lagP99Ms <= 2000 && !f.lagFailedRequests && !f.lagNotQueryable),
    ],
    [
      'items read per item returned (headline: one filter each; by filter in brackets)',
      '≤ 1.5',
      `**${fixed(f.queryReadAmplification, 2)}**` +
        (f.queryReadAmplificationByFilter ? ` (${list(f.queryReadAmplificationByFilter, (v) => fixed(v, 2))})` : ''),
      met(f.queryReadAmplification <= 1.5),
    ],
  );
  if (f.queryPageP50Ms && f.queryPageP99Ms) {
    const p99 = f.queryPageP99Ms;
    const latency = Object.entries(f.queryPageP50Ms).map(([k, v]) => `${k} ${fixed(v, 0)}/${fixed(p99[k] ?? Number.NaN, 0)} ms`);
    rows.push(['latency of a 100-event page, p50/p99', '—', latency.join(', '), '']);
  }
  return [
    header,
    '',
    '| figure | goal | measured | |',
    '| --- | --- | --- | --- |',
    ...rows.map((r) => `| ${r.join(' | ')} |`),
    ...costTable(f),
    ...lifetimeTables(f),
  ].join('\n');
};

/** `page` with its bench block replaced by these figures. */
export const updateBenchBlock = (page: string, f: BenchFigures, opts: { readonly date: string }): string =>
  replaceBlock(page, BENCH_BLOCK, markdownBlock(BENCH_BLOCK, '`npm run bench` (bench/report.ts)', renderBenchFigures(f, opts)));

/** Rewrites docs/performance.md's bench block; returns the file written. */
export const writeBenchFigures = (
  f: BenchFigures,
  { date = new Date().toISOString().slice(0, 10), file = PERFORMANCE_PAGE } = {},
): string => {
  writeFileSync(file, updateBenchBlock(readFileSync(file, 'utf8'), f, { date }));
  return file;
};
