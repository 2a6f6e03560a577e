import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { FunctionPool, type FunctionPoolOptions } from '../function-runner';

/** The app's folder (the repository root): modules a bundle leaves external resolve from it. */
const REPO_ROOT = resolve(__dirname, '../..');

const ASSET = `
export const tag = async () => process.env.WORKER_TAG ?? null;
export const wait = async (event) => { await new Promise((r) => setTimeout(r, event.ms)); return 'done'; };
`;
/** A module whose init takes longer than the function's timeout. */
const SLOW_INIT = `
await new Promise((r) => setTimeout(r, 1500));
export const handler = async () => 'ready';
`;

describe('FunctionPool: crashes and per-environment settings', () => {
  let assetDir: string;
  const pools: FunctionPool[] = [];
  const pool = (handler: string, over: Partial<FunctionPoolOptions> = {}) => {
    const p = new FunctionPool({
      logicalId: 'Fn',
      functionName: 'Fn',
      functionArn: 'arn:aws:lambda:us-east-1:000000000000:function:Fn',
      handler,
      assetDir,
      timeoutSeconds: 3,
      memoryMb: 256,
      env: { AWS_REGION: 'us-east-1' },
      repoRoot: REPO_ROOT,
      log: () => {},
      ...over,
    });
    pools.push(p);
    return p;
  };

  beforeAll(() => {
    assetDir = mkdtempSync(join(tmpdir(), 'local-asset-'));
    writeFileSync(join(assetDir, 'index.mjs'), ASSET);
    writeFileSync(join(assetDir, 'slow.mjs'), SLOW_INIT);
  });
  afterAll(async () => {
    await Promise.all(pools.map((p) => p.stop()));
    rmSync(assetDir, { recursive: true, force: true });
  });

  it('gives each execution environment its own extra environment', async () => {
    const ids: string[] = [];
    const p = pool('index.tag', {
      workerEnv: (id) => {
        ids.push(id);
        return { WORKER_TAG: `w-${id}` };
      },
    });
    const r = await p.invoke({});
    expect(r.ok && r.payload).toBe(`w-${ids[0]}`);
  });

  it('fails the invocation in flight when its environment is terminated, and starts the next one cold', async () => {
    const ids: string[] = [];
    const p = pool('index.wait', {
      workerEnv: (id) => {
        ids.push(id);
        return {};
      },
    });
    const running = p.invoke({ ms: 2000 });
    await new Promise((r) => setTimeout(r, 300));
    expect(p.terminateWorker(ids[0]!)).toBe(true);
    const r = await running;
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.errorType).toBe('Runtime.ExitError');
    const next = await p.invoke({ ms: 1 });
    expect(next.ok).toBe(true);
    expect(p.stats.coldStarts).toBe(2);
    expect(p.terminateWorker('no-such-worker')).toBe(false);
  });

  it('fails the invocation at once, not at its timeout, when the environment dies while it loads', async () => {
    const ids: string[] = [];
    const p = pool('slow.handler', {
      workerEnv: (id) => {
        ids.push(id);
        return {};
      },
    });
    const started = Date.now();
    const running = p.invoke({});
    await new Promise((r) => setTimeout(r, 100));
    expect(p.terminateWorker(ids[0]!)).toBe(true);
    const r = await running;
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.errorType).toBe('Runtime.ExitError');
    // The timeout is 3 s; the init alone would take 1.5 s.
    expect(Date.now() - started).toBeLessThan(2_900);
  });

  it('does not count the init phase against the timeout, as Lambda does not', async () => {
    const r = await pool('slow.handler', { timeoutSeconds: 1 }).invoke({});
    expect(r.ok && r.payload).toBe('ready');
  });
});
