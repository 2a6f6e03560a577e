/**
 * The local runtime: reads a synthesized cloud assembly and runs it on 127.0.0.1 — DynamoDB
 * (dynalite), SQS (fauxqs), a Secrets Manager emulator, the bundled functions in isolated
 * workers, the REST API, the event source pollers, the schedules and a local JWT issuer.
 * Each step is its own module; this one wires them together and stops them in reverse order.
 */
import { createServer } from 'node:http';
import { resolve } from 'node:path';
import { LocalClock } from '../clock';
import { FaultProxy } from '../faults';
import type { FunctionPool } from '../function-runner';
import {
  DEFAULT_AUDIENCE,
  DEFAULT_PORT,
  DEFAULT_STATE_DIR,
  DEFAULT_TENANT_CLAIM,
  loadOrCreateIssuerKeys,
  prefixScopes,
  localIssuerUrl,
  localJwksUrl,
  signToken,
} from '../issuer';
import { LocalMetrics } from '../observe';
import { parseTemplate } from '../template/read';
import { apiGateway } from './api-gateway';
import { invokedFunctionAssets, readAssembly } from './assembly';
import { queueDepths, startEmulators, type Stops } from './emulators';
import { startFunctionPools } from './functions';
import { closer, listen } from './http';
import { localRoutes } from './local-routes';
import { guardRequests } from './request-guard';
import { createPollers, stopPollers } from './pollers';
import { startLocalBus } from './bus';
import { createScheduler } from './schedules';
import { createStreamPollers, streamFigures } from './streams';
import { DEFAULT_REGION, type LocalEndpoints, type LocalIssuer, type LocalRuntime, type LocalStats, type StartLocalOptions } from './types';

/** Starts everything the template describes. Resolves once the API serves. */
export const startLocal = async (options: StartLocalOptions = {}): Promise<LocalRuntime> => {
  const log = options.log ?? ((line: string) => process.stdout.write(`[local] ${line}\n`));
  const assemblyDir = resolve(options.assemblyDir ?? 'cdk.out');
  const stateDir = resolve(options.stateDir ?? DEFAULT_STATE_DIR);
  const assembly = readAssembly(assemblyDir, options.stackName);
  const { stackName, template } = assembly;
  // The stack's own region when the template was synthesized for one (literal ARNs may carry it).
  const region = options.region ?? assembly.region ?? DEFAULT_REGION;
  const model = parseTemplate(template);
  for (const w of model.warnings) log(`note: ${w}`);
  const { functions, assets } = invokedFunctionAssets(model, assemblyDir, log);

  const stops: Stops = [];
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
    const clock = new LocalClock();
    const emulators = await startEmulators(
      { model, region, stackName, stateDir, ...(options.persist ? { persistDir: stateDir } : {}), log, clock: () => clock.now() },
      stops,
    );
    const { ctx, tables, queues } = emulators;

    // Issuer keys, then the API server (its port is part of the issuer URL the functions trust).
    const keys = loadOrCreateIssuerKeys(stateDir);
    const claimOption = options.issuer?.tenantClaim;
    const tenantClaim = (typeof claimOption === 'function' ? claimOption(model) : claimOption) ?? DEFAULT_TENANT_CLAIM;
    const pools = new Map<string, FunctionPool>();
    const poolOf = (logicalId: string) => {
      const pool = pools.get(logicalId);
      if (!pool) throw new Error(`No function ${logicalId} in the template`);
      return pool;
    };
    // EventBridge: every bus of the template behind one endpoint, its rules delivering locally.
    const localBus = await startLocalBus({ model, region, sqs: emulators.sqs, queues, poolOf, log }, stops);
    const endpoints: LocalEndpoints = { ...emulators.endpoints, eventBridge: localBus.endpoint };

    // Fault injection (tests): the functions reach the emulators through the proxy.
    let faults: FaultProxy | undefined;
    if (options.faults) {
      const proxy = new FaultProxy({
        targets: { dynamodb: endpoints.dynamodb, sqs: endpoints.sqs },
        kill: (logicalId, workerId) => void pools.get(logicalId)?.terminateWorker(workerId),
      });
      await proxy.start();
      stops.push(() => proxy.stop());
      if (Array.isArray(options.faults)) proxy.setRules(options.faults);
      faults = proxy;
      log('fault injection on: functions reach DynamoDB and SQS through the fault proxy (POST /_local/faults)');
    }
    // Idle keep-alive connections outlive a client's own idle timeout (fetch's is 4 s; API Gateway's
    // is far longer), so the client always closes first: a server closing one just as the client
    // reuses it fails that request with "other side closed" (seen under load in CI).
    const server = createServer({ keepAliveTimeout: 65_000, headersTimeout: 66_000 });
    const port = await listen(server, options.port ?? DEFAULT_PORT);
    const closeServer = closer(server);
    stops.push(closeServer);
    const baseUrl = `http://127.0.0.1:${port}`;
    const prefixOption = options.issuer?.scopePrefix;
    const scopePrefix = typeof prefixOption === 'function' ? prefixOption(model) : prefixOption;
    const issuer: LocalIssuer = {
      url: localIssuerUrl(port),
      jwksUri: localJwksUrl(port),
      audience: options.issuer?.audience ?? DEFAULT_AUDIENCE,
      tenantClaim,
      ...(scopePrefix ? { scopePrefix } : {}),
    };

    // Telemetry: the functions' EMF lines become the status page's figures (GET /_local/).
    const metrics = new LocalMetrics(options.dashboard ? { dashboard: options.dashboard } : {});
    for (const [id, pool] of startFunctionPools({
      model,
      functions,
      assets,
      ctx,
      envContext: { port, baseUrl, region, endpoints, issuer },
      ...(options.environment ? { environment: options.environment } : {}),
      appDir: resolve(options.appDir ?? '.'),
      clock: clock.buffer,
      metrics,
      ...(options.functionLog ? { functionLog: options.functionLog } : {}),
      ...(options.logFormat ? { logFormat: options.logFormat } : {}),
      ...(options.maxWorkersPerFunction ? { maxWorkers: options.maxWorkersPerFunction } : {}),
      ...(faults ? { faults } : {}),
    })) {
      pools.set(id, pool);
    }
    stops.push(async () => {
      await Promise.all([...pools.values()].map((p) => p.stop()));
    });

    const scheduler = createScheduler({ model, ctx, invoke: (id, event) => poolOf(id).invoke(event), log });
    stops.push(scheduler.stop);
    if (options.schedules !== false) scheduler.start();

    const pollers = createPollers({ model, ctx, sqs: emulators.sqs, queues, poolOf, metrics });
    if (options.pollers !== false) for (const p of pollers.values()) p.start();
    // Pollers stop before the functions and emulators (stops run in reverse order).
    stops.push(() => stopPollers(pollers));
    const streamPollers = createStreamPollers({
      model,
      ctx,
      logs: emulators.streams.logs,
      sqs: emulators.sqs,
      queues,
      poolOf,
      metrics,
      log,
    });
    // Readers register at start: a LATEST mapping sees what is written from then on.
    if (options.pollers !== false) for (const p of streamPollers.values()) p.start();
    stops.push(async () => {
      await Promise.race([Promise.all([...streamPollers.values()].map((p) => p.stop())), new Promise((r) => setTimeout(r, 5000).unref())]);
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
      streams: Object.fromEntries([...streamPollers.entries()].map(([id, p]) => [id, p.stats])),
    });
    const health = () => ({
      status: 'ok',
      stack: stackName,
      baseUrl,
      region,
      persist: options.persist === true,
      endpoints,
      tables,
      queues,
      buckets: Object.fromEntries(model.buckets.map((b) => [b.logicalId, b.bucketName])),
      kmsKeys: Object.fromEntries(model.kmsKeys.map((k) => [k.logicalId, k.keyId])),
      functions: functions.map((f) => f.logicalId),
      routes: model.routes.map((r) => `${r.httpMethod} ${r.resourcePath} → ${r.functionLogicalId}`),
      schedules: model.schedules.map((s) => ({ rule: s.logicalId, expression: s.scheduleExpression, enabled: s.enabled })),
      streams: model.streamEventSourceMappings.map((m) => `${m.tableLogicalId} stream → ${m.functionLogicalId}`),
      issuer: {
        issuer: issuer.url,
        audience: issuer.audience,
        jwksUri: issuer.jwksUri,
        tenantClaim,
        ...(scopePrefix ? { scopePrefix } : {}),
      },
    });
    const token: LocalRuntime['token'] = (opts) =>
      signToken(keys, { tenantClaim, aud: issuer.audience, ...opts, scope: prefixScopes(opts.scope, scopePrefix), port });
    const local = localRoutes({
      ...(options.pages && { pages: { pages: options.pages, context: { baseUrl, token }, log } }),
      keys,
      issuer,
      clock,
      health,
      stats,
      metrics: async () => ({
        ...metrics.snapshot(),
        queues: await queueDepths(model, emulators),
        streams: streamFigures(streamPollers),
      }),
      runSchedules: scheduler.runSchedules,
      bus: localBus.bus,
      busFaults: options.faults !== undefined && options.faults !== false,
      ...(faults ? { faults } : {}),
    });
    // Loopback Host only, and no cross-origin writes to /_local (request-guard.ts), before any routing.
    server.on(
      'request',
      guardRequests(
        port,
        apiGateway({
          model,
          port,
          poolOf,
          metrics,
          log,
          local,
          issuer: { url: issuer.url, jwk: keys.jwk },
          region,
          now: () => clock.now(),
        }),
        log,
      ),
    );

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
      runSchedules: scheduler.runSchedules,
      invoke: (logicalId, event) => poolOf(logicalId).invoke(event),
      tenantClaim,
      issuer,
      token,
      pages: Object.entries(options.pages ?? {}).map(([name, page]) => ({ url: `${baseUrl}/_local/${name}`, title: page.title })),
      ...(faults && { faults }),
      bus: localBus.bus,
      stop: stopAll,
    };
  } catch (e) {
    await stopAll();
    throw e;
  }
};
