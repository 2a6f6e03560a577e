/**
 * The local stack the benchmarks run on (@activity-tracker/local), in-process or in a child
 * process, with clients pointed at its emulators.
 */
import { resolve } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { LOCAL_CREDENTIALS, connectLocal, spawnLocal, startLocal, type LocalStats } from '@activity-tracker/local';
import { localConfig } from '../scripts/local';
import { ENV } from '../contract';
import { capacityModelFromTemplate, type TableCapacityModel } from './capacity';
import { LOG_EVENT_OVERHEAD } from './cost-model';
import type { Template } from './template';

export const REPO_ROOT = resolve(__dirname, '..');

/**
 * Synth context of the benchmarked stack: the per-tenant fairness limits far above what one
 * benchmark tenant sends, so the figures measure the pipeline, not the limiter (whose cost
 * docs/performance.md counts separately: "Fairness").
 */
export const BENCH_CONTEXT = { tenantRequestsPerSecond: 100_000, tenantEventsPerSecond: 1_000_000 } as const;

export interface Stack {
  readonly baseUrl: string;
  token(opts: { tenant: string; scope: string }): string;
  stats(): Promise<LocalStats>;
  readonly ddb: DynamoDBClient;
  readonly sqs: SQSClient;
  /** The queues the writer consumes (DLQs excluded). */
  readonly queueUrls: string[];
  readonly tableName: string;
  readonly model: TableCapacityModel;
  /** The synthesized template the stack runs. */
  readonly template: Template;
  readonly memoryMb: Record<string, number>;
  readonly logBytes: Map<string, number>;
  readonly shardCount: number;
  stop(): Promise<void>;
}

const functionsOf = (template: Template) => {
  const memoryMb: Record<string, number> = {};
  let shardCount = 4;
  for (const [id, r] of Object.entries(template.Resources)) {
    if (r.Type !== 'AWS::Lambda::Function') continue;
    memoryMb[id] = Number(r.Properties?.MemorySize ?? 128);
    const sc = r.Properties?.Environment?.Variables?.[ENV.shardCount.name];
    if (typeof sc === 'string') shardCount = Number(sc);
  }
  return { memoryMb, shardCount };
};

/**
 * The same stack in a child process (what `npm start` runs): the load generator then does not
 * share the runtime's main thread, so end-to-end figures measure the stack, not the client.
 * Counters come from GET /_local/stats; function log bytes are not collected in this mode.
 */
export const startChildStack = async (outDir: string, template: Template): Promise<Stack> => {
  const child = await spawnLocal({
    command: resolve(REPO_ROOT, 'node_modules', '.bin', 'tsx'),
    args: [resolve(REPO_ROOT, 'scripts', 'local.ts'), 'start', '--no-synth', '--out', resolve(outDir)],
    cwd: REPO_ROOT,
    env: { PORT: '0', LOCAL_PERSIST: '', LOCAL_LOG_FORMAT: 'json' },
    verbose: process.env.LOCAL_STACK_VERBOSE === '1',
  });
  try {
    const local = await connectLocal(child.baseUrl);
    const { health } = local;
    const ddb = new DynamoDBClient({ region: health.region, endpoint: health.endpoints.dynamodb, credentials: LOCAL_CREDENTIALS });
    const sqs = new SQSClient({ region: health.region, endpoint: health.endpoints.sqs, credentials: LOCAL_CREDENTIALS });
    const { memoryMb, shardCount } = functionsOf(template);
    return {
      baseUrl: child.baseUrl,
      token: (opts) => local.token(opts),
      stats: () => local.stats(),
      ddb,
      sqs,
      queueUrls: consumedQueues(template, health.queues),
      tableName: Object.values(health.tables)[0]!,
      model: capacityModelFromTemplate(template),
      template,
      memoryMb,
      logBytes: new Map(),
      shardCount,
      stop: async () => {
        ddb.destroy();
        sqs.destroy();
        await child.stop();
      },
    };
  } catch (e) {
    await child.stop();
    throw e;
  }
};

export const startStack = async (outDir: string, template: Template): Promise<Stack> => {
  const logBytes = new Map<string, number>();
  const runtime = await startLocal({
    ...localConfig,
    assemblyDir: outDir,
    port: 0,
    schedules: false,
    log: () => {},
    functionLog: (id, line) => logBytes.set(id, (logBytes.get(id) ?? 0) + Buffer.byteLength(line) + LOG_EVENT_OVERHEAD),
  });
  const tableName = Object.values(runtime.tables)[0]!;
  const ddb = new DynamoDBClient({ region: runtime.region, endpoint: runtime.endpoints.dynamodb, credentials: LOCAL_CREDENTIALS });
  const sqs = new SQSClient({ region: runtime.region, endpoint: runtime.endpoints.sqs, credentials: LOCAL_CREDENTIALS });
  const { memoryMb, shardCount } = functionsOf(template);
  return {
    baseUrl: runtime.baseUrl,
    token: (opts) => runtime.token(opts),
    stats: async () => runtime.stats(),
    ddb,
    sqs,
    queueUrls: consumedQueues(template, runtime.queues),
    tableName,
    model: capacityModelFromTemplate(template),
    template,
    memoryMb,
    logBytes,
    shardCount,
    stop: async () => {
      ddb.destroy();
      sqs.destroy();
      await runtime.stop();
    },
  };
};

/** The queues an event source mapping consumes, by URL. */
const consumedQueues = (template: Template, queues: Record<string, { readonly url: string; readonly arn: string }>): string[] =>
  Object.values(template.Resources)
    .filter((r) => r.Type === 'AWS::Lambda::EventSourceMapping')
    .map((r) => r.Properties?.EventSourceArn?.['Fn::GetAtt']?.[0] as string)
    .flatMap((id) => (queues[id] ? [queues[id].url] : []));
