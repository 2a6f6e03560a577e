/**
 * Integration-test harness for the local runtime.
 *
 *   const outDir = await synthOnce(join(REPO_ROOT, 'cdk.out.test'), { writerBatchSize: '7' });
 *   const stack = await startLocalStack({ outDir });
 *   const res = await fetch(`${stack.baseUrl}/v1/events`, { headers: { authorization: `Bearer ${stack.token({ tenant: 't1', scope: 'events:read' })}` } });
 *   await stack.stop();
 *
 * Built on the public API of the local runtime (@activity-tracker/local). By default the runtime
 * runs in a child process (`tsx scripts/local.ts start --no-synth`), which is what `npm start` runs
 * and works under jest. `mode: 'in-process'` calls `startLocal` directly (needs a loader for the
 * ESM-only SQS emulator, e.g. tsx; not jest's CommonJS transform).
 */
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { type AttributeValue, DynamoDBClient, QueryCommand } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import {
  LOCAL_CREDENTIALS,
  connectLocal,
  spawnLocal,
  startLocal,
  synth,
  type LocalHealth,
  type LocalStats,
  type ScheduleRunResult,
  type TokenOptions,
} from '@activity-tracker/local';
import { localConfig } from '../../scripts/local';
import { unpackItem } from '../../lambdas/core/payload';

export const REPO_ROOT = resolve(__dirname, '..', '..');

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

export type LocalStackHealth = Pick<LocalHealth, 'stack' | 'region' | 'endpoints' | 'tables' | 'queues' | 'functions' | 'routes'>;

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

/** `npm start --no-synth` in a child process: the app's own start command. */
const startChild = (opts: LocalStackOptions) =>
  spawnLocal({
    command: join(REPO_ROOT, 'node_modules', '.bin', 'tsx'),
    args: [join(REPO_ROOT, 'scripts', 'local.ts'), 'start', '--no-synth', '--out', resolve(opts.outDir ?? join(REPO_ROOT, 'cdk.out'))],
    cwd: REPO_ROOT,
    env: {
      PORT: String(opts.port ?? 0),
      ...(opts.stateDir ? { LOCAL_STATE_DIR: resolve(opts.stateDir) } : {}),
      ...(opts.persist ? { LOCAL_PERSIST: '1' } : { LOCAL_PERSIST: '' }),
      ...opts.env,
    },
    ...(opts.readyTimeoutMs ? { readyTimeoutMs: opts.readyTimeoutMs } : {}),
    verbose: opts.verbose ?? process.env.LOCAL_STACK_VERBOSE === '1',
  });

const startInProcess = async (opts: LocalStackOptions) => {
  const runtime = await startLocal({
    ...localConfig,
    port: opts.port ?? 0,
    ...(opts.outDir ? { assemblyDir: opts.outDir } : {}),
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
    const client = await connectLocal(started.baseUrl, opts.stateDir ? { stateDir: opts.stateDir } : {});
    const { health } = client;
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
      port: client.port,
      sqs,
      ddb,
      token: client.token,
      setClockOffset: client.setClockOffset,
      runSchedules: client.runSchedules,
      stats: client.stats,
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

/** What a synth reads: the app, its functions and assets, and the settings and lock file. */
const SYNTH_INPUTS = [
  'bin',
  'lib',
  'lambdas',
  'contract',
  'viewer',
  'client',
  'scripts',
  'cdk.json',
  'package.json',
  'package-lock.json',
  'tsconfig.json',
];

/** The newest modification time (ms) among the synth's inputs. */
const newestInput = (): number =>
  Math.max(
    ...SYNTH_INPUTS.flatMap((name) => {
      const path = join(REPO_ROOT, name);
      if (!existsSync(path)) return [];
      if (!statSync(path).isDirectory()) return [statSync(path).mtimeMs];
      return readdirSync(path, { recursive: true }).map((file) => statSync(join(path, String(file))).mtimeMs);
    }),
  );

const STAMP = 'synth-stamp.json';

/**
 * `cdk synth --quiet -o outDir -c k=v ...`, once per (outDir, context); for a jest globalSetup or a
 * beforeAll. Resolves to the absolute outDir. An assembly an earlier suite (another jest module
 * registry) synthesized into the same folder with the same context is reused, unless an input of
 * the synth changed since: a synth with bundling takes ~25 s, and several suites run the default stack.
 */
export const synthOnce = (outDir: string, context: Record<string, string | number | boolean> = {}): Promise<string> => {
  const dir = resolve(outDir);
  const ctx = Object.fromEntries(Object.entries(context).map(([k, v]) => [k, String(v)]));
  const key = JSON.stringify([dir, Object.entries(ctx).sort()]);
  let p = synths.get(key);
  if (!p) {
    const stamp = join(dir, STAMP);
    // The context and the newest input as they were when the assembly was made.
    const wanted = JSON.stringify({ key, inputs: newestInput() });
    if (existsSync(stamp) && existsSync(join(dir, 'manifest.json')) && readFileSync(stamp, 'utf8') === wanted) {
      p = Promise.resolve(dir);
    } else {
      rmSync(stamp, { force: true });
      p = synth(dir, ctx, 'pipe', REPO_ROOT).then(() => {
        writeFileSync(stamp, wanted);
        return dir;
      });
    }
    synths.set(key, p);
    p.catch(() => synths.delete(key));
  }
  return p;
};

/**
 * The JSON lines functions printed (`[LogicalId] {...}`, as LOCAL_LOG_FORMAT=json writes them) whose
 * logical id starts with `prefix`.
 */
export const functionJsonLines = (output: string, prefix: string): Record<string, any>[] =>
  output.split('\n').flatMap((line) => {
    const m = /^\[([A-Za-z0-9]+)\] (\{.*\})\s*$/.exec(line);
    if (!m || !m[1]!.startsWith(prefix)) return [];
    try {
      return [JSON.parse(m[2]!)];
    } catch {
      return [];
    }
  });

/** A table item as DynamoDB returns it. */
export type RawItem = Record<string, AttributeValue>;

/**
 * Every item of a tenant's event timeline, read from the table directly (one Query per shard, as
 * stored: not through the API), in shard order.
 */
export const tenantItems = async (stack: Pick<LocalStack, 'ddb'>, table: string, tenant: string, shards = 4): Promise<RawItem[]> => {
  const items: RawItem[] = [];
  for (let shard = 0; shard < shards; shard++) {
    let start: RawItem | undefined;
    do {
      const out = await stack.ddb.send(
        new QueryCommand({
          TableName: table,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': { S: `${tenant}#${shard}` } },
          ...(start && { ExclusiveStartKey: start }),
        }),
      );
      items.push(...(out.Items ?? []));
      start = out.LastEvaluatedKey;
    } while (start);
  }
  return items;
};

/** The event JSON a stored item holds, however it is stored (`e`, or deflated: lambdas/core/payload.ts); {} for none. */
export const storedEvent = (item: RawItem): Record<string, any> => {
  const { e } = unpackItem(unmarshall(item)) as { e?: string };
  return JSON.parse(e ?? '{}');
};
