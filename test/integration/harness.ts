/**
 * Integration-test harness for the local runtime.
 *
 *   const outDir = await synthOnce(join(REPO_ROOT, 'cdk.out.test'), { writerBatchSize: '7' });
 *   const stack = await startLocalStack({ outDir });
 *   const res = await fetch(`${stack.baseUrl}/v1/events`, { headers: { authorization: `Bearer ${stack.token({ tenant: 't1', scope: 'events:read' })}` } });
 *   await stack.stop();
 *
 * By default the runtime runs in a child process (`tsx local/start.ts --no-synth`), which is
 * what `npm start` runs and works under jest. `mode: 'in-process'` calls `startLocal` directly
 * (needs a loader for the ESM-only SQS emulator, e.g. tsx; not jest's CommonJS transform).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join, resolve } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { REPO_ROOT, loadOrCreateIssuerKeys, signToken, type TokenOptions } from '../../local/issuer';
import { synth } from '../../local/synth';
import { startLocal, type LocalStats, type ScheduleRunResult } from '../../local/runtime';

export { REPO_ROOT };

export interface LocalStackOptions {
  /** Cloud assembly to run. @default <repo>/cdk.out */
  readonly outDir?: string;
  /** Extra environment for the runtime process (child mode). */
  readonly env?: Record<string, string>;
  /** @default 0 (a free port) */
  readonly port?: number;
  /** Issuer keys and persisted data. @default <repo>/.local */
  readonly stateDir?: string;
  /** Persist DynamoDB data under <stateDir>/data. @default false */
  readonly persist?: boolean;
  /** @default 'child' */
  readonly mode?: 'child' | 'in-process';
  /** How long to wait for the ready line. @default 60 s */
  readonly readyTimeoutMs?: number;
  /** Echo the runtime's output to this process's stdout. @default env LOCAL_STACK_VERBOSE=1 */
  readonly verbose?: boolean;
}

export interface LocalStackHealth {
  readonly stack: string;
  readonly region: string;
  readonly endpoints: { readonly dynamodb: string; readonly sqs: string; readonly secretsManager: string };
  /** Table logical id → local table name. */
  readonly tables: Record<string, string>;
  /** Queue logical id → URL and ARN. */
  readonly queues: Record<string, { readonly url: string; readonly arn: string }>;
  readonly functions: string[];
  readonly routes: string[];
}

export interface LocalStack extends LocalStackHealth {
  readonly baseUrl: string;
  readonly port: number;
  /** A token from the local issuer, valid for this runtime (its port is in `iss`). */
  token(opts: Omit<TokenOptions, 'port'>): string;
  /** POST /_local/schedules/run. */
  runSchedules(): Promise<ScheduleRunResult[]>;
  /** Poller and function counters (GET /_local/stats). */
  stats(): Promise<LocalStats>;
  /** Moves the functions' clock to real time + offsetMs (POST /_local/clock); tokens follow it. */
  setClockOffset(offsetMs: number): Promise<void>;
  /** Clients pointed at the emulators, for inspection. */
  readonly sqs: SQSClient;
  readonly ddb: DynamoDBClient;
  /** Everything the runtime printed so far (child mode). */
  output(): string;
  stop(): Promise<void>;
}

const READY = /^ready on (http:\/\/127\.0\.0\.1:(\d+))\s*$/m;
const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };

const getJson = async <T>(url: string, init?: RequestInit): Promise<T> => {
  let res: Response;
  try {
    res = await fetch(url, init).catch(async (error: unknown) => {
      // A keep-alive socket the server closed just as it was reused: one retry for reads.
      if ((init?.method ?? 'GET') !== 'GET') throw error;
      await new Promise((resolve) => setTimeout(resolve, 200));
      return fetch(url, init);
    });
  } catch (error) {
    // Name the cause (undici says only "fetch failed"), e.g. a reset keep-alive socket.
    throw new Error(`${init?.method ?? 'GET'} ${url}: ${String((error as { cause?: unknown }).cause ?? error)}`, { cause: error });
  }
  if (!res.ok) throw new Error(`${init?.method ?? 'GET'} ${url}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
};

const stopChild = (child: ChildProcess, timeoutMs = 10_000) =>
  new Promise<void>((done) => {
    if (child.exitCode !== null || child.signalCode !== null) return done();
    const kill = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('exit', () => {
      clearTimeout(kill);
      done();
    });
    child.kill('SIGTERM');
  });

const startChild = async (opts: LocalStackOptions) => {
  const outDir = resolve(opts.outDir ?? join(REPO_ROOT, 'cdk.out'));
  const verbose = opts.verbose ?? process.env.LOCAL_STACK_VERBOSE === '1';
  const child = spawn(join(REPO_ROOT, 'node_modules', '.bin', 'tsx'), [join(REPO_ROOT, 'local', 'start.ts'), '--no-synth', '--out', outDir], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      PORT: String(opts.port ?? 0),
      ...(opts.stateDir ? { LOCAL_STATE_DIR: resolve(opts.stateDir) } : {}),
      ...(opts.persist ? { LOCAL_PERSIST: '1' } : { LOCAL_PERSIST: '' }),
      ...opts.env,
    },
  });
  let output = '';
  const onData = (c: Buffer) => {
    output += c.toString();
    if (verbose) process.stdout.write(c);
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  const timeoutMs = opts.readyTimeoutMs ?? 60_000;
  const baseUrl = await new Promise<string>((resolveReady, reject) => {
    const timer = setTimeout(() => {
      void stopChild(child);
      reject(new Error(`local runtime not ready after ${timeoutMs} ms:\n${output}`));
    }, timeoutMs);
    const check = () => {
      const m = READY.exec(output);
      if (!m) return;
      clearTimeout(timer);
      child.stdout.off('data', check);
      child.off('exit', onExit);
      resolveReady(m[1]!);
    };
    const onExit = (code: number | null) => {
      clearTimeout(timer);
      reject(new Error(`local runtime exited (${code}) before it was ready:\n${output}`));
    };
    child.stdout.on('data', check);
    child.once('exit', onExit);
  });
  return { baseUrl, output: () => output, stop: () => stopChild(child) };
};

const startInProcess = async (opts: LocalStackOptions) => {
  const runtime = await startLocal({
    port: opts.port ?? 0,
    ...(opts.outDir ? { outDir: opts.outDir } : {}),
    ...(opts.stateDir ? { stateDir: opts.stateDir } : {}),
    ...(opts.persist ? { persist: true } : {}),
    ...(opts.verbose ? {} : { log: () => {}, functionLog: () => {} }),
  });
  return { baseUrl: runtime.baseUrl, output: () => '', stop: () => runtime.stop() };
};

/** Starts the local runtime on a prepared cloud assembly and resolves once it serves. */
export const startLocalStack = async (opts: LocalStackOptions = {}): Promise<LocalStack> => {
  const started = opts.mode === 'in-process' ? await startInProcess(opts) : await startChild(opts);
  try {
    const health = await getJson<LocalStackHealth>(`${started.baseUrl}/_local/health`);
    const port = Number(new URL(started.baseUrl).port);
    let clockOffset = 0;
    const keys = loadOrCreateIssuerKeys(opts.stateDir ? resolve(opts.stateDir) : undefined);
    const sqs = new SQSClient({ region: health.region, endpoint: health.endpoints.sqs, credentials: LOCAL_CREDENTIALS });
    const ddb = new DynamoDBClient({ region: health.region, endpoint: health.endpoints.dynamodb, credentials: LOCAL_CREDENTIALS });
    return {
      stack: health.stack,
      region: health.region,
      endpoints: health.endpoints,
      tables: health.tables,
      queues: health.queues,
      functions: health.functions,
      routes: health.routes,
      baseUrl: started.baseUrl,
      port,
      sqs,
      ddb,
      token: (t) => signToken(keys, { now: new Date(Date.now() + clockOffset), ...t, port }),
      setClockOffset: async (offsetMs) => {
        await getJson(`${started.baseUrl}/_local/clock`, { method: 'POST', body: JSON.stringify({ offsetMs }) });
        clockOffset = offsetMs;
      },
      runSchedules: async () =>
        (await getJson<{ results: ScheduleRunResult[] }>(`${started.baseUrl}/_local/schedules/run`, { method: 'POST' })).results,
      stats: () => getJson<LocalStats>(`${started.baseUrl}/_local/stats`),
      output: started.output,
      stop: async () => {
        sqs.destroy();
        ddb.destroy();
        await started.stop();
      },
    };
  } catch (e) {
    await started.stop();
    throw e;
  }
};

const synths = new Map<string, Promise<string>>();

/**
 * `cdk synth --quiet -o outDir -c k=v ...`, once per (outDir, context) in this process; for a
 * jest globalSetup or a beforeAll. Resolves to the absolute outDir.
 */
export const synthOnce = (outDir: string, context: Record<string, string | number | boolean> = {}): Promise<string> => {
  const dir = resolve(outDir);
  const ctx = Object.fromEntries(Object.entries(context).map(([k, v]) => [k, String(v)]));
  const key = JSON.stringify([dir, Object.entries(ctx).sort()]);
  let p = synths.get(key);
  if (!p) {
    p = synth(dir, ctx, 'pipe').then(() => dir);
    synths.set(key, p);
    p.catch(() => synths.delete(key));
  }
  return p;
};
