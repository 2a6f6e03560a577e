import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { FunctionPool, type FunctionPoolOptions } from '../function-runner';

/** The app's folder (the repository root): modules a bundle leaves external resolve from it. */
const REPO_ROOT = resolve(__dirname, '../..');

/** A bundled-asset stand-in: an ES module exporting several handlers. */
const ASSET = `
import { SQSClient } from '@aws-sdk/client-sqs';

let count = 0;
export const echo = async (event, context) => ({
  event,
  functionName: context.functionName,
  awsRequestId: context.awsRequestId,
  memory: context.memoryLimitInMB,
  remaining: context.getRemainingTimeInMillis(),
});
export const env = async () => ({ FOO: process.env.FOO ?? null, PATH: process.env.PATH ?? null, REGION: process.env.AWS_REGION ?? null });
export const counter = async () => ++count;
export const sleep = async (event) => { await new Promise((r) => setTimeout(r, event.ms)); return event.ms; };
export const crash = async () => { const e = new Error('bad input'); e.name = 'ValidationError'; throw e; };
export const exit = async () => { process.exit(3); };
export const sdk = async () => typeof SQSClient;
export const callback = (event, context, cb) => { setTimeout(() => cb(null, { via: 'callback' }), 5); };
export const unserializable = async () => { const a = {}; a.self = a; return a; };
`;

describe('FunctionPool', () => {
  let assetDir: string;
  const pools: FunctionPool[] = [];
  const logs: string[] = [];

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
      log: (line) => logs.push(line),
      ...over,
    });
    pools.push(p);
    return p;
  };

  beforeAll(() => {
    // Outside the repository on purpose: external modules (the SDK) must still resolve.
    assetDir = mkdtempSync(join(tmpdir(), 'local-asset-'));
    writeFileSync(join(assetDir, 'index.mjs'), ASSET);
  });
  afterAll(async () => {
    await Promise.all(pools.map((p) => p.stop()));
    rmSync(assetDir, { recursive: true, force: true });
  });

  it('invokes the bundled handler with the event and a Lambda context', async () => {
    const r = await pool('index.echo').invoke({ a: 1 }, 'req-1');
    expect(r).toMatchObject({
      ok: true,
      requestId: 'req-1',
      payload: { event: { a: 1 }, functionName: 'Fn', awsRequestId: 'req-1', memory: '256' },
    });
    const remaining = (r as { payload: { remaining: number } }).payload.remaining;
    expect(remaining).toBeGreaterThan(0);
    expect(remaining).toBeLessThanOrEqual(3000);
  });

  it('gives each function its own environment and nothing from the parent process', async () => {
    const [a, b] = await Promise.all([
      pool('index.env', { env: { FOO: 'a', AWS_REGION: 'eu-west-1' } }).invoke({}),
      pool('index.env', { env: { FOO: 'b' } }).invoke({}),
    ]);
    expect(a).toMatchObject({ ok: true, payload: { FOO: 'a', PATH: null, REGION: 'eu-west-1' } });
    expect(b).toMatchObject({ ok: true, payload: { FOO: 'b', PATH: null, REGION: null } });
    expect(process.env.FOO).toBeUndefined();
  });

  it('keeps module state across warm invocations', async () => {
    const p = pool('index.counter');
    expect(await p.invoke({})).toMatchObject({ ok: true, payload: 1 });
    expect(await p.invoke({})).toMatchObject({ ok: true, payload: 2 });
    expect(p.stats.coldStarts).toBe(1);
  });

  it('reports a thrown error with its type', async () => {
    const r = await pool('index.crash').invoke({});
    expect(r).toMatchObject({ ok: false, error: { errorType: 'ValidationError', errorMessage: 'bad input' } });
  });

  it('kills an invocation at the Timeout and starts the next one cold', async () => {
    const p = pool('index.sleep', { timeoutSeconds: 1 });
    const started = Date.now();
    const r = await p.invoke({ ms: 5000 });
    expect(Date.now() - started).toBeLessThan(2500);
    expect(r.ok).toBe(false);
    expect(!r.ok && r.error.errorType).toBe('Sandbox.Timedout');
    expect(!r.ok && r.error.errorMessage).toMatch(/Task timed out after 1\.00 seconds$/);
    expect(await p.invoke({ ms: 10 })).toMatchObject({ ok: true, payload: 10 });
    expect(p.stats).toMatchObject({ coldStarts: 2, timeouts: 1 });
  });

  it('runs one invocation per environment, up to maxWorkers, and queues the rest', async () => {
    const p = pool('index.sleep', { maxWorkers: 2 });
    const started = Date.now();
    const results = await Promise.all([1, 2, 3, 4].map(() => p.invoke({ ms: 300 })));
    expect(results.every((r) => r.ok)).toBe(true);
    expect(Date.now() - started).toBeGreaterThanOrEqual(600);
    expect(p.stats.coldStarts).toBe(2);
  });

  it('reports a runtime exit and recovers', async () => {
    const p = pool('index.exit');
    const r = await p.invoke({});
    expect(r).toMatchObject({ ok: false, error: { errorType: 'Runtime.ExitError' } });
    expect((await p.invoke({})).ok).toBe(false);
    expect(p.stats.coldStarts).toBe(2);
  });

  it('reports a missing module or export like Lambda', async () => {
    expect(await pool('missing.handler').invoke({})).toMatchObject({ ok: false, error: { errorType: 'Runtime.ImportModuleError' } });
    expect(await pool('index.nope').invoke({})).toMatchObject({ ok: false, error: { errorType: 'Runtime.HandlerNotFound' } });
  });

  it('resolves modules the bundle leaves external (the SDK) from the repository', async () => {
    expect(await pool('index.sdk').invoke({})).toMatchObject({ ok: true, payload: 'function' });
  });

  it('supports callback-style handlers and rejects unserializable results', async () => {
    expect(await pool('index.callback').invoke({})).toMatchObject({ ok: true, payload: { via: 'callback' } });
    expect(await pool('index.unserializable').invoke({})).toMatchObject({ ok: false, error: { errorType: 'TypeError' } });
  });
});
