/**
 * Keeps `npm run bench` working: the whole suite on a tiny workload against the local stack, ending
 * with the JSON line of figures. Figures are not asserted (they depend on the machine), only there.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { BENCH_CONTEXT } from '../../bench/stack';
import { REPO_ROOT, synthOnce } from './harness';

let outDir: string;

beforeAll(async () => {
  // The bench's own context: fairness limits far above what it sends (it measures the pipeline).
  outDir = await synthOnce(join(REPO_ROOT, 'cdk.out.test', 'bench'), BENCH_CONTEXT);
}, 180_000);

const runBench = (env: Record<string, string>, script = 'run.ts') =>
  new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(join(REPO_ROOT, 'node_modules', '.bin', 'tsx'), [join(REPO_ROOT, 'bench', script)], {
      cwd: REPO_ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });

it('runs every benchmark on a tiny workload and ends with one JSON line of figures', async () => {
  const { code, stdout, stderr } = await runBench({ BENCH_SIZE: 'tiny', BENCH_OUT: outDir });
  expect({ code, stderr: code === 0 ? '' : stderr.slice(-2000) }).toEqual({ code: 0, stderr: '' });
  const lines = stdout.trim().split('\n');
  const figures = JSON.parse(lines[lines.length - 1]!) as Record<string, unknown>;
  for (const key of [
    'costPerMillionUsd',
    'baselineCostPerMillionUsd',
    'writeUnitsPerEvent',
    'ingestVsJsonFloor',
    'e2eEventsPerSec',
    'lagP99Ms',
    'queryReadAmplification',
    'lifetimeCostPerMillionUsd',
  ]) {
    expect(typeof figures[key]).toBe('number');
    expect(Number.isFinite(figures[key])).toBe(true);
  }
  for (const key of ['bundleKb', 'importVsNodeBaseline']) {
    expect(Object.keys(figures[key] as object)).toEqual(expect.arrayContaining(['Ingest', 'Writer', 'Query']));
  }
  expect(Object.keys(figures.importFloorVsNodeBaseline as object).sort()).toEqual(['sdkClient', 'sdkClientBundled']);
  // With compressed payloads, a 1 KB event is one write unit in the table and in each of two indexes.
  expect(figures.writeUnitsPerEvent).toBeLessThanOrEqual(3);
  expect(stdout).toContain('| service');
  // The lifetime levers end with the three options (provisioned capacity, PITR off, the bus off), each cheaper than the row before it.
  const levers = figures.lifetimeLevers as { lever: string; savedUsd: number }[];
  expect(levers.slice(-3).map((l) => l.lever)).toEqual([
    expect.stringMatching(/^provisioned capacity/),
    'point-in-time recovery off',
    'event bus off: no publishing, no archive',
  ]);
  for (const lever of levers.slice(-3)) expect(lever.savedUsd).toBeGreaterThan(0);
  // What the $4.00 goal asks of the stored item, and the lag run's failures, are reported, not thrown.
  const goal = figures.lifetimeGoal as { goalUsd: number; otherUsd: number; itemBytes: number };
  expect(goal.goalUsd).toBe(4);
  expect(goal.otherUsd).toBeGreaterThan(0);
  expect(goal.itemBytes).toBe(figures.itemBytesMean);
  // Every combination of class, capacity, PITR and bus, the deployed one among them at the headline cost.
  const grid = figures.lifetimeGoalGrid as { configuration: string; usdPerMillion: number; ingestUsdPerMillion: number }[];
  expect(grid).toHaveLength(16);
  const deployed = grid.find((r) => r.configuration === 'Standard-IA, on-demand, PITR on, bus on (no archive)');
  expect(deployed?.usdPerMillion).toBeCloseTo(figures.lifetimeCostPerMillionUsd as number, 3);
  expect(deployed?.ingestUsdPerMillion).toBeCloseTo(figures.costPerMillionUsd as number, 2);
  expect(Number.isInteger(figures.lagFailedRequests)).toBe(true);
}, 400_000);

it('runs the export benchmark on a tiny export and prints its figures', async () => {
  const { code, stdout, stderr } = await runBench({ EXPORT_BENCH_EVENTS: '300', BENCH_OUT: outDir }, 'export.ts');
  expect({ code, stderr: code === 0 ? '' : stderr.slice(-2000) }).toEqual({ code: 0, stderr: '' });
  for (const figure of ['## Export of 300 events', 'events/s:', 'peak RSS:', 'peak heap used:', 'output:']) {
    expect(stdout).toContain(figure);
  }
}, 400_000);
