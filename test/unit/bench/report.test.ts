import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BenchFigures, renderBenchFigures, updateBenchBlock, writeBenchFigures } from '../../../bench/report';

const figures: BenchFigures = {
  size: 'full',
  machine: { cpus: 2, cpu: 'AMD EPYC', node: 'v20.20.2' },
  pricingChecked: '2026-11-21',
  costPerMillionUsd: 1.991,
  baselineCostPerMillionUsd: 9.0319,
  writeUnitsPerEvent: 3,
  ingestVsJsonFloor: 0.308,
  e2eEventsPerSec: 2685,
  lagP99Ms: 1142,
  lagP50Ms: 900,
  queryReadAmplification: 1.126,
  queryReadAmplificationByFilter: { userId: 1.01, 'userId + type': 7.97 },
  queryPageP50Ms: { userId: 15 },
  queryPageP99Ms: { userId: 40 },
  bundleKb: { Ingest: 193.9, Query: 199, Writer: 171 },
  importVsNodeBaseline: { Ingest: 5.28, Query: 6.44 },
  importFloorVsNodeBaseline: { sdkClient: 3.81, sdkClientBundled: 2.96 },
  costBreakdownUsd: { 'API Gateway: REST requests': 0.07, 'DynamoDB: write units: table': 0.625, 'DynamoDB: write units: byUser': 0.625 },
  baselineCostBreakdownUsd: { 'API Gateway: REST requests': 3.5, 'X-Ray: traces recorded': 0.25 },
  seconds: 134,
};

const row = (markdown: string, figure: string) => markdown.split('\n').find((l) => l.startsWith(`| ${figure}`));

describe('bench figures in docs/performance.md', () => {
  const markdown = renderBenchFigures(figures, { date: '2026-11-21' });

  it('says when, where and how the figures were measured', () => {
    expect(markdown.split('\n')[0]).toBe(
      'Measured 2026-11-21 by `npm run bench` (full run, 134 s) on 2 vCPUs (AMD EPYC), Node v20.20.2; prices checked 2026-11-21 (bench/pricing.json).',
    );
  });

  it('shows each figure beside its goal and whether the goal is met', () => {
    expect(row(markdown, 'cost per million')).toBe(
      '| cost per million 1 KB events, 50 events/request, 3 timelines indexed | ≤ $2.00 | **$1.991**, every log line counted | met |',
    );
    expect(row(markdown, 'bundle size')).toContain('**171–199 KB** | met');
    expect(row(markdown, 'import time')).toContain('**5.3–6.4×**; floor, one SDK client alone: 3.8× (SDK bundled in: 3.0×) | **not met**');
    expect(row(markdown, 'end to end')).toContain('**2,685 events/s** | met');
    expect(row(markdown, 'p99 lag')).toContain('**1.14 s** (p50 0.90 s) | met');
    const overloaded = renderBenchFigures({ ...figures, lagFailedRequests: 12 }, { date: '2026-11-21' });
    expect(row(overloaded, 'p99 lag')).toContain("**1.14 s** (p50 0.90 s); 12 requests still 5xx after the client's retries | **not met**");
    expect(row(markdown, 'items read')).toContain('**1.13** (userId 1.01, userId + type 7.97) | met');
    expect(row(markdown, 'latency of a 100-event page')).toContain('userId 15/40 ms');
  });

  it('sums the cost breakdown by service, ours beside the naive design', () => {
    expect(row(markdown, 'DynamoDB')).toBe('| DynamoDB | $1.250 (write units: table $0.625, write units: byUser $0.625) | — |');
    expect(row(markdown, 'X-Ray')).toBe('| X-Ray | — | $0.250 |');
    expect(row(markdown, '**total**')).toBe('| **total** | **$1.991** | **$9.032** |');
  });

  it('shows the lifetime breakdown, the levers, the curve against retention and what the goal asks of the item', () => {
    const life: BenchFigures = {
      ...figures,
      lifetimeCostPerMillionUsd: 6.5,
      retentionDays: 365,
      lifetimeBreakdownUsd: {
        'write: DynamoDB: write units: table': 0.7813,
        'keep: DynamoDB: point-in-time recovery': 1.8,
        'read: API Gateway: query requests': 0.0003,
      },
      lifetimeBeforeCostPerMillionUsd: 13.87,
      lifetimeLevers: [
        { lever: 'before', usdPerMillion: 13.87, savedUsd: 0, note: '' },
        { lever: 'Standard-IA table class', usdPerMillion: 6.5, savedUsd: 7.37, note: 'writes 25 % dearer' },
      ],
      lifetimeByRetentionDays: [{ days: 365, standard: 8.2, infrequentAccess: 6.5, provisionedIa: 5.1, infrequentAccessNoPitr: 4.7 }],
      infrequentAccessBreakEvenDays: 88,
      lifetimeGoal: { goalUsd: 4, otherUsd: 4.4, maxItemBytes: -240, itemBytes: 734 },
    };
    const text = renderBenchFigures(life, { date: '2026-12-02' });
    expect(row(text, 'lifetime cost')).toContain('**$6.500**; before the levers $13.870 | **not met**');
    expect(row(text, 'keep: DynamoDB: point-in-time recovery')).toBe('| keep: DynamoDB: point-in-time recovery | $1.800 | 27.7 % |');
    expect(row(text, 'lines under $0.0005')).toBe('| lines under $0.0005 | $0.000 | |');
    expect(row(text, 'Standard-IA table class')).toBe('| Standard-IA table class | $6.500 | $7.370 | writes 25 % dearer |');
    expect(row(text, '365')).toBe('| 365 | $8.200 | $6.500 | $5.100 | $4.700 |');
    expect(text).toContain('Standard-IA breaks even at 88 days');
    expect(text).toContain('No row meets the goal of $4.000.');
    const levers = [
      ...life.lifetimeLevers!,
      { lever: 'provisioned', usdPerMillion: 4.5, savedUsd: 2, note: '' },
      { lever: 'PITR off', usdPerMillion: 3.9, savedUsd: 0.6, note: '' },
      { lever: 'bus off', usdPerMillion: 2.9, savedUsd: 1, note: '' },
    ];
    expect(renderBenchFigures({ ...life, lifetimeLevers: levers }, { date: '2026-12-02' })).toContain(
      'The goal of $4.000 is first met on the row “PITR off” ($3.900), with every row above it applied.',
    );
    expect(text).toContain('Against the goal of $4.000: out of reach with the deployed settings whatever the size of the stored item');
    expect(text).toContain('costs $4.400 on its own');
    const reachable = renderBenchFigures(
      { ...life, lifetimeGoal: { goalUsd: 4, otherUsd: 2.5, maxItemBytes: 412, itemBytes: 734 } },
      { date: '2026-12-02' },
    );
    expect(reachable).toContain("met by a stored item of at most 412 bytes on average (the run's: 734)");
  });

  it('shows every configuration against both goals and says which meet them, and whether on-demand can at any item size', () => {
    type Row = NonNullable<BenchFigures['lifetimeGoalGrid']>[number];
    const row4 = (configuration: string, capacity: Row['capacity'], usd: number, ingest: number, empty: number, max: number): Row => ({
      configuration,
      capacity,
      usdPerMillion: usd,
      ingestUsdPerMillion: ingest,
      emptyItemUsd: empty,
      maxItemBytes: max,
    });
    const grid = [
      row4('Standard-IA, on-demand, PITR on, bus on (no archive)', 'on-demand', 7.3, 2.56, 5.0, -310),
      row4('Standard-IA, on-demand, PITR off, bus off', 'on-demand', 4.6, 2.55, 3.8, 168),
      row4('Standard-IA, provisioned, PITR off, bus on (no archive)', 'provisioned', 3.95, 1.1, 3.3, 800),
      row4('Standard-IA, provisioned, PITR off, bus off', 'provisioned', 2.9, 2.01, 2.2, 1024),
    ];
    const base: BenchFigures = {
      ...figures,
      lifetimeCostPerMillionUsd: 7.3,
      retentionDays: 365,
      lifetimeBreakdownUsd: { 'keep: DynamoDB: point-in-time recovery': 1.7 },
      lifetimeGoal: { goalUsd: 4, otherUsd: 4.7, maxItemBytes: -310, itemBytes: 672 },
      lifetimeGoalGrid: grid,
    };
    const text = renderBenchFigures(base, { date: '2026-12-03' });
    expect(row(text, 'Standard-IA, on-demand, PITR on, bus on (no archive)')).toBe(
      '| Standard-IA, on-demand, PITR on, bus on (no archive) | $7.300 | $2.560 | $5.000 | none | not met |',
    );
    expect(row(text, 'Standard-IA, provisioned, PITR off, bus on (no archive)')).toBe(
      '| Standard-IA, provisioned, PITR off, bus on (no archive) | $3.950 | $1.100 | $3.300 | 800 bytes | met |',
    );
    // Under the lifetime goal but over the ingest one: not both.
    expect(row(text, 'Standard-IA, provisioned, PITR off, bus off')).toContain('| 1,024 bytes | not met |');
    expect(text).toContain('both goals are met by “Standard-IA, provisioned, PITR off, bus on (no archive)”.');
    expect(text).toContain(
      'On demand, only “Standard-IA, on-demand, PITR off, bus off” could meet the lifetime goal, with a stored item of at most 168 bytes on average; the ingest costs at least $2.550 on demand.',
    );
    // Every on-demand row out of reach, even with an empty item: said with the cheapest empty item's cost.
    const onDemandOut = renderBenchFigures(
      { ...base, lifetimeGoalGrid: [grid[0]!, { ...grid[1]!, emptyItemUsd: 4.1, maxItemBytes: -80 }, grid[3]!] },
      { date: '2026-12-03' },
    );
    expect(onDemandOut).toContain('No configuration meets both goals with the items of this run.');
    expect(onDemandOut).toContain(
      'On demand, no configuration meets the lifetime goal whatever the size of the stored item: even an empty one costs at least $4.100, and the ingest at least $2.550.',
    );
    // Several rows meeting both are named together; a grid without on-demand rows says nothing about on-demand.
    const provisionedOnly = renderBenchFigures(
      { ...base, lifetimeGoalGrid: [grid[2]!, { ...grid[3]!, ingestUsdPerMillion: 1.0 }] },
      { date: '2026-12-03' },
    );
    expect(provisionedOnly).toContain(
      'both goals are met by “Standard-IA, provisioned, PITR off, bus on (no archive)” and “Standard-IA, provisioned, PITR off, bus off”.',
    );
    expect(provisionedOnly).not.toContain('On demand');
    expect(renderBenchFigures({ ...base, lifetimeGoalGrid: undefined }, { date: '2026-12-03' })).not.toContain('Every combination');
  });

  it('leaves out what a run did not measure', () => {
    const { baselineCostPerMillionUsd, baselineCostBreakdownUsd, costBreakdownUsd, queryPageP50Ms, ...minimal } = figures;
    const text = renderBenchFigures(minimal, { date: '2026-11-21' });
    expect(text).not.toContain('naive');
    expect(text).not.toContain('Where each cent goes');
    expect(text).not.toContain('latency of a 100-event page');
  });

  it('replaces only the generated block of the page, the same way every time', () => {
    const page = '# Performance\n\nintro\n\n<!-- bench:begin -->\nold figures\n<!-- bench:end -->\n\nanalysis\n';
    const updated = updateBenchBlock(page, figures, { date: '2026-11-21' });
    expect(updated.startsWith('# Performance\n\nintro\n\n<!-- bench:begin: generated by `npm run bench`')).toBe(true);
    expect(updated).toContain(`${markdown}\n<!-- bench:end -->\n\nanalysis\n`);
    expect(updated).not.toContain('old figures');
    expect(updateBenchBlock(updated, figures, { date: '2026-11-21' })).toBe(updated);
    expect(() => updateBenchBlock('# no block', figures, { date: '2026-11-21' })).toThrow(/bench:begin/);
  });

  it('writes the block into the page file', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'bench-report-')), 'performance.md');
    writeFileSync(file, 'a\n<!-- bench:begin -->\n<!-- bench:end -->\nb\n');
    expect(writeBenchFigures(figures, { date: '2026-11-21', file })).toBe(file);
    expect(readFileSync(file, 'utf8')).toContain(markdown);
  });
});
