/**
 * The local runtime: reads the synthesized template and runs it on 127.0.0.1 — DynamoDB
 * (dynalite), SQS (fauxqs), a Secrets Manager emulator, the bundled functions in isolated
 * workers, the REST API, the event source pollers, the schedules and a local JWT issuer.
 * Importable in-process (`startLocal`) or run by `local/start.ts`.
 */
import { LocalClock } from './clock';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import dynalite from 'dynalite';
import {
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  ResourceInUseException,
  type CreateTableCommandInput,
  type GlobalSecondaryIndex,
} from '@aws-sdk/client-dynamodb';
import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import type { SQSEvent } from 'aws-lambda';
import { FaultProxy, parseFaultRules, type FaultRule } from './faults';
import { FunctionPool, type InvocationResult } from './function-runner';
import { formatFunctionLine, LocalMetrics } from './observe';
import { STATUS_PAGE_HTML } from './status-page';
import {
  DEFAULT_PORT,
  DEFAULT_STATE_DIR,
  DEFAULT_TENANT_CLAIM,
  LOCAL_AUDIENCE,
  REPO_ROOT,
  jwksDocument,
  loadOrCreateIssuerKeys,
  localIssuerUrl,
  localJwksUrl,
  signToken,
  type TokenOptions,
} from './issuer';
import { SqsPoller, type PollerStats, type SqsPort } from './poller';
import {
  Router,
  buildProxyEvent,
  errorAnswer,
  gatewayErrorAnswer,
  proxyResultToHttp,
  MalformedProxyResponseError,
  type HttpAnswer,
} from './proxy-event';
import { nextFireTime, parseScheduleExpression, scheduledEvent } from './schedule';
import { loadSecrets, startSecretsManager } from './secrets';
import {
  functionArn,
  invokedFunctions,
  parseTemplate,
  queueArn as templateQueueArn,
  queuesInCreationOrder,
  resolveFunctionEnvironment,
  ruleArn,
  secretArn,
  type FunctionModel,
  type ResolveContext,
  type ScheduleRuleModel,
  type TableModel,
  type TemplateModel,
} from './template';

export interface StartLocalOptions {
  /** Cloud assembly directory (the output of `cdk synth`). @default <repo>/cdk.out */
  readonly outDir?: string;
  /** Port of the REST API and /_local routes; 0 picks a free one. @default 3000 */
  readonly port?: number;
  /** Keep DynamoDB data (and secret values) under `<stateDir>/data` across restarts. @default false */
  readonly persist?: boolean;
  /** Git-ignored folder for issuer keys and persisted data. @default <repo>/.local */
  readonly stateDir?: string;
  /** Stack to run when the assembly holds several. @default the only stack */
  readonly stackName?: string;
  /** @default the assembly's region when concrete, else us-east-1 */
  readonly region?: string;
  /** Runtime log lines (not function logs). @default stdout */
  readonly log?: (line: string) => void;
  /** Function log lines. @default stdout, formatted as `logFormat` says */
  readonly functionLog?: (logicalId: string, line: string) => void;
  /**
   * How function log lines are printed: `pretty` (`time LEVEL [fn] message key=value`, colour on a
   * TTY) or `json` (the raw lines, prefixed `[fn]`).
   * @default env LOCAL_LOG_FORMAT, else pretty
   */
  readonly logFormat?: 'pretty' | 'json';
  /** Start a timer per schedule rule. @default true */
  readonly schedules?: boolean;
  /** Start the event source pollers. @default true */
  readonly pollers?: boolean;
  /** Execution environments per function. @default 4 */
  readonly maxWorkersPerFunction?: number;
  /**
   * Put a fault-injecting proxy (local/faults.ts) between the functions and the emulators, driven by
   * `POST /_local/faults`; a list sets its first rules. Tests only. @default false
   */
  readonly faults?: boolean | readonly FaultRule[];
}

export interface ScheduleRunResult {
  readonly rule: string;
  readonly function: string;
  readonly result?: unknown;
  readonly error?: { readonly errorType: string; readonly errorMessage: string };
  readonly skipped?: string;
}

export interface LocalStats {
  readonly pollers: Record<string, PollerStats & { readonly queue: string; readonly function: string }>;
  readonly functions: Record<string, FunctionPool['stats']>;
}

export interface LocalRuntime {
  readonly baseUrl: string;
  readonly port: number;
  readonly stackName: string;
  readonly model: TemplateModel;
  readonly region: string;
  readonly endpoints: { readonly dynamodb: string; readonly sqs: string; readonly secretsManager: string };
  /** Table logical id → local table name. */
  readonly tables: Record<string, string>;
  /** Queue logical id → local URL and ARN. */
  readonly queues: Record<string, { readonly url: string; readonly arn: string }>;
  stats(): LocalStats;
  runSchedules(): Promise<ScheduleRunResult[]>;
  invoke(functionLogicalId: string, event: unknown): Promise<InvocationResult>;
  /** The claim the functions read the tenant from (the template's AUTH_TENANT_CLAIM). */
  readonly tenantClaim: string;
  /** A token from the local issuer for this runtime's port and tenant claim. */
  token(opts: Omit<TokenOptions, 'port'>): string;
  /** The fault proxy, when started with `faults`. */
  readonly faults?: FaultProxy;
  stop(): Promise<void>;
}

export const LOCAL_ACCOUNT_ID = '000000000000';
export const DEFAULT_REGION = 'us-east-1';
/** API Gateway's payload limit. */
const MAX_REQUEST_BYTES = 10 * 1024 * 1024;
const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };

/** Reads the stack template a cloud assembly holds (via manifest.json). */
export const readAssembly = (outDir: string, stackName?: string): { stackName: string; template: unknown; region?: string } => {
  const manifestFile = join(outDir, 'manifest.json');
  if (!existsSync(manifestFile)) throw new Error(`No cloud assembly at ${outDir} (missing manifest.json): run cdk synth first`);
  const manifest = JSON.parse(readFileSync(manifestFile, 'utf8')) as {
    artifacts?: Record<string, { type?: string; environment?: string; properties?: { templateFile?: string }; displayName?: string }>;
  };
  const stacks = Object.entries(manifest.artifacts ?? {}).filter(([, a]) => a.type === 'aws:cloudformation:stack');
  if (stacks.length === 0) throw new Error(`${manifestFile} holds no CloudFormation stack`);
  let chosen = stacks[0]!;
  if (stackName) {
    const found = stacks.find(([id, a]) => id === stackName || a.displayName === stackName);
    if (!found) throw new Error(`Stack ${stackName} not in the assembly (found: ${stacks.map(([id]) => id).join(', ')})`);
    chosen = found;
  } else if (stacks.length > 1) {
    throw new Error(`The assembly holds several stacks (${stacks.map(([id]) => id).join(', ')}): pass stackName`);
  }
  const [id, artifact] = chosen;
  const templateFile = artifact.properties?.templateFile ?? `${id}.template.json`;
  // aws://account/region; the region is concrete when the stack (or the CLI's default) set it.
  const region = /^aws:\/\/[^/]+\/([a-z0-9-]+)$/.exec(artifact.environment ?? '')?.[1];
  return {
    stackName: id,
    template: JSON.parse(readFileSync(join(outDir, templateFile), 'utf8')) as unknown,
    ...(region && region !== 'unknown-region' ? { region } : {}),
  };
};

const listen = (server: Server, port: number, host = '127.0.0.1') =>
  new Promise<number>((resolvePort, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolvePort((server.address() as AddressInfo).port);
    });
  });

const tableInput = (t: TableModel): CreateTableCommandInput => {
  const gsis: GlobalSecondaryIndex[] = t.globalSecondaryIndexes.map((ix) => ({
    IndexName: ix.indexName,
    KeySchema: ix.keySchema,
    Projection: { ProjectionType: ix.projection.projectionType, ...(ix.projection.nonKeyAttributes ? { NonKeyAttributes: ix.projection.nonKeyAttributes } : {}) },
  }));
  return {
    TableName: t.tableName,
    KeySchema: t.keySchema,
    AttributeDefinitions: t.attributeDefinitions,
    BillingMode: 'PAY_PER_REQUEST',
    ...(gsis.length ? { GlobalSecondaryIndexes: gsis } : {}),
    ...(t.localSecondaryIndexes.length
      ? {
          LocalSecondaryIndexes: t.localSecondaryIndexes.map((ix) => ({
            IndexName: ix.indexName,
            KeySchema: ix.keySchema,
            Projection: { ProjectionType: ix.projection.projectionType, ...(ix.projection.nonKeyAttributes ? { NonKeyAttributes: ix.projection.nonKeyAttributes } : {}) },
          })),
        }
      : {}),
  };
};

const readBody = (req: IncomingMessage, limit: number) =>
  new Promise<{ body: Buffer; tooLarge: boolean }>((resolveBody, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = Number(req.headers['content-length'] ?? 0) > limit;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) tooLarge = true;
      // Past the limit the rest is drained and dropped, so the client still reads the 413.
      if (!tooLarge) chunks.push(c);
    });
    req.on('end', () => resolveBody({ body: tooLarge ? Buffer.alloc(0) : Buffer.concat(chunks), tooLarge }));
    req.on('error', reject);
  });

const send = (res: ServerResponse, answer: HttpAnswer, requestId: string) => {
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of answer.headers) {
    const existing = headers[name];
    headers[name] = existing === undefined ? value : Array.isArray(existing) ? [...existing, value] : [existing, value];
  }
  if (!Object.keys(headers).some((h) => h.toLowerCase() === 'x-amzn-requestid')) headers['x-amzn-RequestId'] = requestId;
  res.writeHead(answer.statusCode, headers);
  res.end(answer.body);
};

const json = (statusCode: number, body: unknown): HttpAnswer => ({
  statusCode,
  headers: [['Content-Type', 'application/json']],
  body: Buffer.from(JSON.stringify(body)),
});

/** Starts everything the template describes. Resolves once the API serves. */
export const startLocal = async (options: StartLocalOptions = {}): Promise<LocalRuntime> => {
  const log = options.log ?? ((line: string) => process.stdout.write(`[local] ${line}\n`));
  const outDir = resolve(options.outDir ?? join(REPO_ROOT, 'cdk.out'));
  const stateDir = resolve(options.stateDir ?? DEFAULT_STATE_DIR);
  const assembly = readAssembly(outDir, options.stackName);
  const { stackName, template } = assembly;
  // The stack's own region when the template was synthesized for one (literal ARNs may carry it).
  const region = options.region ?? assembly.region ?? DEFAULT_REGION;
  const model = parseTemplate(template);
  for (const w of model.warnings) log(`note: ${w}`);

  // Functions nothing invokes (CDK custom-resource providers, say) only run at deploy time.
  const functions = invokedFunctions(model);
  for (const fn of model.functions) {
    if (!functions.includes(fn)) log(`note: function ${fn.logicalId} has no route, event source or schedule; not run locally`);
  }

  // Every such function's bundled asset must be there before anything starts.
  const assets = new Map<string, string>();
  for (const fn of functions) {
    if (!fn.runtime.startsWith('nodejs')) throw new Error(`Function ${fn.logicalId}: runtime ${fn.runtime} cannot run locally (Node.js only)`);
    if (!fn.assetPath) throw new Error(`Function ${fn.logicalId}: no aws:asset:path metadata (synth with asset metadata on)`);
    const dir = join(outDir, fn.assetPath);
    if (!existsSync(dir)) throw new Error(`Function ${fn.logicalId}: asset folder ${dir} missing: run cdk synth`);
    assets.set(fn.logicalId, dir);
  }

  const stops: (() => Promise<void>)[] = [];
  const stopAll = async () => {
    for (const stop of stops.splice(0).reverse()) {
      try {
        await stop();
      } catch (e) {
        log(`shutdown: ${(e as Error).message}`);
      }
    }
  };

  try {
    // DynamoDB
    const dataDir = join(stateDir, 'data');
    if (options.persist) mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    const ddbServer = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0, ...(options.persist ? { path: dataDir } : {}) });
    const ddbPort = await listen(ddbServer, 0);
    stops.push(
      () =>
        new Promise<void>((done) => {
          ddbServer.close(() => done());
          ddbServer.closeAllConnections();
        }),
    );
    const dynamodbEndpoint = `http://127.0.0.1:${ddbPort}`;
    const ddb = new DynamoDBClient({ region, endpoint: dynamodbEndpoint, credentials: LOCAL_CREDENTIALS });
    stops.push(async () => ddb.destroy());
    const tables: Record<string, string> = {};
    for (const t of model.tables) {
      try {
        await ddb.send(new CreateTableCommand(tableInput(t)));
      } catch (e) {
        if (!(e instanceof ResourceInUseException)) throw new Error(`Creating table ${t.logicalId}: ${(e as Error).message}`);
        const { Table } = await ddb.send(new DescribeTableCommand({ TableName: t.tableName }));
        const want = JSON.stringify([t.keySchema, t.globalSecondaryIndexes.map((i) => i.indexName).sort()]);
        const have = JSON.stringify([
          Table?.KeySchema?.map((k) => ({ AttributeName: k.AttributeName, KeyType: k.KeyType })),
          (Table?.GlobalSecondaryIndexes ?? []).map((i) => i.IndexName).sort(),
        ]);
        if (want !== have) log(`warning: persisted table ${t.tableName} differs from the template (delete ${dataDir} to recreate it)`);
      }
      tables[t.logicalId] = t.tableName;
    }

    // SQS: bound to 127.0.0.1 (startFauxqs would listen on every interface).
    const { buildApp } = await import('fauxqs');
    const sqsApp = buildApp({ logger: false, defaultRegion: region });
    await sqsApp.listen({ port: 0, host: '127.0.0.1' });
    stops.push(async () => {
      await sqsApp.close();
    });
    const sqsEndpoint = `http://127.0.0.1:${(sqsApp.server.address() as AddressInfo).port}`;
    const sqs = new SQSClient({ region, endpoint: sqsEndpoint, credentials: LOCAL_CREDENTIALS });
    stops.push(async () => sqs.destroy());
    const queues: Record<string, { url: string; arn: string }> = {};
    for (const q of queuesInCreationOrder(model)) {
      const attributes: Record<string, string> = { ...q.attributes };
      if (q.redrive) {
        const dlq = queues[q.redrive.deadLetterQueueLogicalId]!;
        attributes.RedrivePolicy = JSON.stringify({ deadLetterTargetArn: dlq.arn, maxReceiveCount: q.redrive.maxReceiveCount });
      }
      const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: q.queueName, Attributes: attributes }));
      const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }));
      if (!QueueUrl || !Attributes?.QueueArn) throw new Error(`Creating queue ${q.logicalId} returned no URL/ARN`);
      queues[q.logicalId] = { url: QueueUrl, arn: Attributes.QueueArn };
    }

    const ctx: ResolveContext = {
      region,
      accountId: LOCAL_ACCOUNT_ID,
      stackName,
      queueUrl: (q) => {
        const created = queues[q.logicalId];
        if (!created) throw new Error(`Queue ${q.logicalId} was not created`);
        return created.url;
      },
    };

    // Secrets Manager
    const secretsFile = options.persist ? join(stateDir, 'secrets.json') : undefined;
    const storedSecrets = loadSecrets(
      model.secrets.map((s) => ({ model: s, arn: secretArn(s.secretName, ctx) })),
      secretsFile,
    );
    const secretsManager = await startSecretsManager(storedSecrets);
    stops.push(secretsManager.stop);

    // Issuer keys, then the API server (its port is part of the issuer URL the functions trust).
    const keys = loadOrCreateIssuerKeys(stateDir);
    const tenantClaim =
      model.functions.map((fn) => fn.rawEnvironment.AUTH_TENANT_CLAIM).find((v): v is string => typeof v === 'string') ?? DEFAULT_TENANT_CLAIM;
    const router = new Router(model.routes);
    const pools = new Map<string, FunctionPool>();

    // Fault injection (tests): the functions reach the emulators through the proxy.
    let faults: FaultProxy | undefined;
    if (options.faults) {
      const proxy = new FaultProxy({
        targets: { dynamodb: dynamodbEndpoint, sqs: sqsEndpoint },
        kill: (logicalId, workerId) => void pools.get(logicalId)?.terminateWorker(workerId),
      });
      await proxy.start();
      stops.push(() => proxy.stop());
      if (Array.isArray(options.faults)) proxy.setRules(options.faults);
      faults = proxy;
      log('fault injection on: functions reach DynamoDB and SQS through the fault proxy (POST /_local/faults)');
    }
    const clock = new LocalClock();
    const server = createServer();
    const port = await listen(server, options.port ?? DEFAULT_PORT);
    let serverClosed = false;
    const closeServer = () =>
      new Promise<void>((done) => {
        if (serverClosed) return done();
        serverClosed = true;
        server.close(() => done());
        server.closeAllConnections();
      });
    stops.push(closeServer);
    const baseUrl = `http://127.0.0.1:${port}`;

    const localOverrides = (fn: FunctionModel): Record<string, string> => ({
      AWS_REGION: region,
      AWS_DEFAULT_REGION: region,
      AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
      AWS_ENDPOINT_URL_DYNAMODB: dynamodbEndpoint,
      AWS_ENDPOINT_URL_SQS: sqsEndpoint,
      AWS_ENDPOINT_URL_SECRETS_MANAGER: secretsManager.endpoint,
      AWS_LAMBDA_FUNCTION_NAME: fn.functionName,
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(fn.memoryMb),
      AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
      AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${fn.functionName}`,
      LAMBDA_TASK_ROOT: assets.get(fn.logicalId)!,
      _HANDLER: fn.handler,
      AUTH_ISSUER: localIssuerUrl(port),
      AUTH_AUDIENCE: LOCAL_AUDIENCE,
      AUTH_JWKS_URI: localJwksUrl(port),
      AUTH_SCOPE_PREFIX: '',
      // The local issuer writes scopes as OAuth 2.0 does, whatever format the real issuer uses.
      AUTH_SCOPE_CLAIM: 'scope',
      AUTH_SCOPE_FORMAT: 'space-separated',
      // Node 20 runs local mode; the SDK's "use Node 22" notice would repeat on every cold start.
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    });
    const baseEnv = (fn: FunctionModel): Record<string, string> => {
      const overrides = localOverrides(fn);
      return { ...resolveFunctionEnvironment(model, fn, ctx, new Set(Object.keys(overrides))), ...overrides };
    };
    // Telemetry: the functions' EMF lines become the status page's figures (GET /_local/).
    const localMetrics = new LocalMetrics();
    const logFormat = options.logFormat ?? (process.env.LOCAL_LOG_FORMAT === 'json' ? 'json' : 'pretty');
    const colour = process.stdout.isTTY === true && !process.env.NO_COLOR;
    const functionLog =
      options.functionLog ??
      ((logicalId: string, line: string) =>
        process.stdout.write(`${logFormat === 'json' ? `[${logicalId}] ${line}` : formatFunctionLine(logicalId, line, { colour })}\n`));
    const queueDepths = async () => {
      const deadLetterQueues = new Set(model.queues.flatMap((q) => (q.redrive ? [q.redrive.deadLetterQueueLogicalId] : [])));
      return Promise.all(
        Object.entries(queues).map(async ([logicalId, q]) => {
          const { Attributes: a } = await sqs.send(
            new GetQueueAttributesCommand({ QueueUrl: q.url, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }),
          );
          return {
            name: logicalId,
            role: deadLetterQueues.has(logicalId) ? 'dlq' : 'queue',
            visible: Number(a?.ApproximateNumberOfMessages ?? 0),
            inFlight: Number(a?.ApproximateNumberOfMessagesNotVisible ?? 0),
          };
        }),
      );
    };
    for (const fn of functions) {
      const pool = new FunctionPool({
        logicalId: fn.logicalId,
        // Every line feeds the status page's figures, then goes to the terminal.
        log: (line: string) => {
          localMetrics.line(fn.logicalId, line);
          functionLog(fn.logicalId, line);
        },
        functionName: fn.functionName,
        functionArn: functionArn(fn, ctx),
        handler: fn.handler,
        assetDir: assets.get(fn.logicalId)!,
        timeoutSeconds: fn.timeoutSeconds,
        memoryMb: fn.memoryMb,
        env: baseEnv(fn),
        repoRoot: REPO_ROOT,
        clock: clock.buffer,
        ...(faults && {
          workerEnv: (workerId: string) => ({
            AWS_ENDPOINT_URL_DYNAMODB: faults!.endpoint('dynamodb', fn.logicalId, workerId),
            AWS_ENDPOINT_URL_SQS: faults!.endpoint('sqs', fn.logicalId, workerId),
          }),
        }),
        ...(options.maxWorkersPerFunction ? { maxWorkers: options.maxWorkersPerFunction } : {}),
      });
      pools.set(fn.logicalId, pool);
    }
    stops.push(async () => {
      await Promise.all([...pools.values()].map((p) => p.stop()));
    });
    const poolOf = (logicalId: string) => {
      const pool = pools.get(logicalId);
      if (!pool) throw new Error(`No function ${logicalId} in the template`);
      return pool;
    };

    // Schedules
    const runRule = async (rule: ScheduleRuleModel, time: Date): Promise<ScheduleRunResult[]> => {
      const results: ScheduleRunResult[] = [];
      for (const target of rule.targets) {
        if (!rule.enabled) {
          results.push({ rule: rule.logicalId, function: target.functionLogicalId, skipped: 'rule is DISABLED' });
          continue;
        }
        const event =
          target.input !== undefined
            ? (JSON.parse(target.input) as unknown)
            : scheduledEvent({ id: randomUUID(), time, region, accountId: LOCAL_ACCOUNT_ID, ruleArn: ruleArn(rule, ctx) });
        const r = await poolOf(target.functionLogicalId).invoke(event);
        results.push(
          r.ok
            ? { rule: rule.logicalId, function: target.functionLogicalId, result: r.payload }
            : { rule: rule.logicalId, function: target.functionLogicalId, error: { errorType: r.error.errorType, errorMessage: r.error.errorMessage } },
        );
      }
      return results;
    };
    const runSchedules = async () => {
      const results: ScheduleRunResult[] = [];
      for (const rule of model.schedules) results.push(...(await runRule(rule, new Date())));
      return results;
    };
    const timers = new Set<NodeJS.Timeout>();
    stops.push(async () => {
      timers.forEach((t) => clearTimeout(t));
      timers.clear();
    });
    if (options.schedules !== false) {
      for (const rule of model.schedules) {
        if (!rule.enabled) continue;
        const schedule = parseScheduleExpression(rule.scheduleExpression);
        if (schedule.kind === 'unsupported') {
          log(`schedule ${rule.logicalId}: ${schedule.reason}; it runs only via POST /_local/schedules/run`);
          continue;
        }
        const origin = new Date();
        const arm = (after: Date) => {
          const at = nextFireTime(schedule, after, origin);
          if (!at) return;
          // setTimeout holds at most ~24.8 days; longer waits re-arm on the way.
          const delay = Math.min(at.getTime() - Date.now(), 2 ** 31 - 1);
          const timer = setTimeout(() => {
            timers.delete(timer);
            if (Date.now() < at.getTime()) return arm(after);
            arm(at);
            void runRule(rule, at).then((results) => {
              for (const r of results) log(`schedule ${r.rule} → ${r.function}: ${r.error ? `error ${r.error.errorType}: ${r.error.errorMessage}` : 'ok'}`);
            });
          }, Math.max(0, delay));
          timer.unref();
          timers.add(timer);
        };
        arm(origin);
        log(`schedule ${rule.logicalId} (${rule.scheduleExpression}) next at ${nextFireTime(schedule, origin, origin)?.toISOString() ?? 'never'}`);
      }
    }

    // Event source pollers
    const sqsPort: SqsPort = {
      receive: async ({ queueUrl, maxMessages, waitTimeSeconds, signal }) => {
        const out = await sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: queueUrl,
            MaxNumberOfMessages: maxMessages,
            WaitTimeSeconds: waitTimeSeconds,
            MessageSystemAttributeNames: ['All'],
            MessageAttributeNames: ['All'],
          }),
          { abortSignal: signal },
        );
        return out.Messages ?? [];
      },
      deleteBatch: async (queueUrl, entries) => {
        const out = await sqs.send(new DeleteMessageBatchCommand({ QueueUrl: queueUrl, Entries: entries.map((e) => ({ Id: e.id, ReceiptHandle: e.receiptHandle })) }));
        return (out.Failed ?? []).map((f) => f.Id ?? '');
      },
    };
    const pollers = new Map<string, SqsPoller>();
    for (const mapping of model.eventSourceMappings) {
      const q = queues[mapping.queueLogicalId]!;
      const pool = poolOf(mapping.functionLogicalId);
      const queueModel = model.queues.find((x) => x.logicalId === mapping.queueLogicalId)!;
      pollers.set(
        mapping.logicalId,
        new SqsPoller({
          mapping,
          queueUrl: q.url,
          // The ARN the function would see in the cloud, from the template's queue.
          queueArn: templateQueueArn(queueModel, ctx),
          region,
          sqs: sqsPort,
          invoke: async (event: SQSEvent) => {
            const r = await pool.invoke(event);
            if (!r.ok) {
              localMetrics.error({ time: new Date().toISOString(), fn: mapping.functionLogicalId, level: 'FAILED', message: `${r.error.errorType}: ${r.error.errorMessage}` });
            }
            return r;
          },
          defaultConcurrency: 2,
          concurrencyLimit: pool.maxWorkers,
        }),
      );
    }
    if (options.pollers !== false) pollers.forEach((p) => p.start());
    // Pollers stop before the functions and emulators (stops run in reverse order).
    stops.push(async () => {
      await Promise.race([Promise.all([...pollers.values()].map((p) => p.stop())), new Promise((r) => setTimeout(r, 5000).unref())]);
    });

    // The API stops taking requests first.
    stops.push(closeServer);

    const stats = (): LocalStats => ({
      pollers: Object.fromEntries(
        [...pollers.entries()].map(([id, p]) => {
          const m = model.eventSourceMappings.find((x) => x.logicalId === id)!;
          return [id, { ...p.stats, queue: m.queueLogicalId, function: m.functionLogicalId }];
        }),
      ),
      functions: Object.fromEntries([...pools.entries()].map(([id, p]) => [id, { ...p.stats }])),
    });

    const endpoints = { dynamodb: dynamodbEndpoint, sqs: sqsEndpoint, secretsManager: secretsManager.endpoint };
    const health = () => ({
      status: 'ok',
      stack: stackName,
      baseUrl,
      region,
      persist: options.persist === true,
      endpoints,
      tables,
      queues,
      functions: functions.map((f) => f.logicalId),
      routes: model.routes.map((r) => `${r.httpMethod} ${r.resourcePath} → ${r.functionLogicalId}`),
      schedules: model.schedules.map((s) => ({ rule: s.logicalId, expression: s.scheduleExpression, enabled: s.enabled })),
      issuer: { issuer: localIssuerUrl(port), audience: LOCAL_AUDIENCE, jwksUri: localJwksUrl(port) },
    });

    const api = model.apis[0];
    // One REST API per template is the expected shape; its gateway responses apply to every route.
    const gatewayResponses = model.gatewayResponses.filter((r) => !api || r.apiLogicalId === api.logicalId);
    const handleLocal = async (req: IncomingMessage, path: string, requestBody: Buffer): Promise<HttpAnswer> => {
      const method = req.method ?? 'GET';
      if (method === 'GET' && path === '/_local/jwks.json') return json(200, jwksDocument(keys));
      if (method === 'GET' && path === '/_local/issuer/.well-known/openid-configuration') {
        return json(200, { issuer: localIssuerUrl(port), jwks_uri: localJwksUrl(port), id_token_signing_alg_values_supported: ['RS256'] });
      }
      if (method === 'GET' && path === '/_local/health') return json(200, health());
      if (method === 'GET' && path === '/_local/stats') return json(200, stats());
      if (method === 'GET' && path === '/_local/') {
        return { statusCode: 200, headers: [['Content-Type', 'text/html; charset=utf-8'], ['Cache-Control', 'no-store']], body: Buffer.from(STATUS_PAGE_HTML) };
      }
      if (method === 'GET' && path === '/_local/metrics') return json(200, { ...localMetrics.snapshot(), queues: await queueDepths() });
      if (path === '/_local/clock' && (method === 'GET' || method === 'POST')) {
        if (method === 'POST') {
          let body: { offsetMs?: unknown; advanceMs?: unknown } = {};
          try {
            body = JSON.parse(requestBody.toString('utf8') || '{}') as typeof body;
          } catch {
            // answered below
          }
          if (typeof body.offsetMs === 'number') clock.offsetMs = body.offsetMs;
          else if (typeof body.advanceMs === 'number') clock.offsetMs += body.advanceMs;
          else return json(400, { error: { code: 'invalid_body', message: 'send {"offsetMs": N} or {"advanceMs": N}' } });
        }
        return json(200, { offsetMs: clock.offsetMs, now: new Date(clock.now()).toISOString() });
      }
      if (method === 'POST' && path === '/_local/schedules/run') return json(200, { results: await runSchedules() });
      if (path === '/_local/faults' && faults && (method === 'GET' || method === 'POST')) {
        if (method === 'POST') {
          try {
            faults.setRules(parseFaultRules(JSON.parse(requestBody.toString('utf8') || '{}')));
          } catch (e) {
            return json(400, { error: { code: 'invalid_body', message: (e as Error).message } });
          }
        }
        return json(200, faults.stats());
      }
      return errorAnswer(404, 'not_found', `No local route ${method} ${path}`);
    };

    const handle = async (req: IncomingMessage, res: ServerResponse) => {
      const requestId = randomUUID();
      const started = Date.now();
      const method = (req.method ?? 'GET').toUpperCase();
      const url = req.url ?? '/';
      const path = url.split('?')[0]!;
      let answer: HttpAnswer;
      let target = '';
      try {
        const { body, tooLarge } = await readBody(req, MAX_REQUEST_BYTES);
        if (path.startsWith('/_local/')) {
          answer = await handleLocal(req, path, body);
        } else if (tooLarge) {
          answer = gatewayErrorAnswer(gatewayResponses, {
            responseType: 'REQUEST_TOO_LARGE',
            status: 413,
            message: 'Request Too Long',
            requestId,
            fallback: errorAnswer(413, 'payload_too_large', 'Request too large: the API accepts at most 10 MB'),
          });
        } else {
          const found = router.lookup(method, path);
          if (found.kind === 'not_found') {
            answer = gatewayErrorAnswer(gatewayResponses, {
              responseType: 'MISSING_AUTHENTICATION_TOKEN',
              status: 403,
              message: 'Missing Authentication Token',
              requestId,
              fallback: errorAnswer(404, 'not_found', `No route for ${method} ${path}`),
            });
          } else if (found.kind === 'method_not_allowed') {
            // API Gateway answers a missing method like a missing route.
            answer = gatewayErrorAnswer(gatewayResponses, {
              responseType: 'MISSING_AUTHENTICATION_TOKEN',
              status: 403,
              message: 'Missing Authentication Token',
              requestId,
              fallback: errorAnswer(405, 'method_not_allowed', `Method ${method} is not allowed on ${found.resourcePath}`, [
                ['Allow', found.allowed.join(', ')],
              ]),
            });
          } else {
            const { route } = found.match;
            target = ` → ${route.functionLogicalId}`;
            const apiModel = model.apis.find((a) => a.logicalId === route.apiLogicalId) ?? api;
            const event = buildProxyEvent(
              { method, url, rawHeaders: req.rawHeaders, body, sourceIp: req.socket.remoteAddress?.replace(/^::ffff:/, '') ?? '127.0.0.1', localPort: port },
              {
                match: found.match,
                stage: apiModel?.stageName ?? 'prod',
                requestId,
                apiId: 'local',
                accountId: LOCAL_ACCOUNT_ID,
                binaryMediaTypes: apiModel?.binaryMediaTypes ?? [],
                now: new Date(started),
              },
            );
            // API Gateway stops waiting after the integration timeout; the function runs on.
            let timer: NodeJS.Timeout | undefined;
            const result = await Promise.race([
              poolOf(route.functionLogicalId).invoke(event, requestId),
              new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), route.integrationTimeoutMs))),
            ]);
            clearTimeout(timer);
            const internalError = () =>
              gatewayErrorAnswer(gatewayResponses, {
                responseType: 'DEFAULT_5XX',
                status: 502,
                message: 'Internal server error',
                requestId,
                fallback: errorAnswer(502, 'internal', 'Internal server error'),
              });
            if (result === 'timeout') {
              log(`${route.functionLogicalId}: no answer within the integration timeout (${route.integrationTimeoutMs} ms)`);
              answer = gatewayErrorAnswer(gatewayResponses, {
                responseType: 'INTEGRATION_TIMEOUT',
                status: 504,
                message: 'Endpoint request timed out',
                requestId,
                fallback: errorAnswer(504, 'timeout', 'Endpoint request timed out'),
              });
            } else if (!result.ok) {
              log(`${route.functionLogicalId} failed: ${result.error.errorType}: ${result.error.errorMessage}`);
              localMetrics.error({ time: new Date().toISOString(), fn: route.functionLogicalId, level: 'FAILED', message: `${result.error.errorType}: ${result.error.errorMessage}` });
              answer = internalError();
            } else {
              try {
                answer = proxyResultToHttp(result.payload);
              } catch (e) {
                if (!(e instanceof MalformedProxyResponseError)) throw e;
                log(`${route.functionLogicalId} returned a malformed proxy response: ${e.message}`);
                answer = internalError();
              }
            }
          }
        }
      } catch (e) {
        log(`request failed: ${(e as Error).stack ?? String(e)}`);
        answer = errorAnswer(500, 'internal', 'Internal server error');
      }
      send(res, answer, requestId);
      if (!path.startsWith('/_local/')) log(`${method} ${path} ${answer.statusCode} ${Date.now() - started}ms${target}`);
    };
    server.on('request', (req, res) => void handle(req, res));

    return {
      baseUrl,
      port,
      stackName,
      model,
      region,
      endpoints,
      tables,
      queues,
      stats,
      runSchedules,
      invoke: (logicalId, event) => poolOf(logicalId).invoke(event),
      tenantClaim,
      token: (opts) => signToken(keys, { tenantClaim, ...opts, port }),
      ...(faults && { faults }),
      stop: stopAll,
    };
  } catch (e) {
    await stopAll();
    throw e;
  }
};
