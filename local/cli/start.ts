/**
 * `start`: synthesizes the app (offline, esbuild bundling) and runs it on 127.0.0.1.
 *
 *   start [--persist] [--no-synth] [--out DIR] [--stack NAME] [-c key=value ...]
 *   env: PORT (default 3000; 0 = any free port), LOCAL_PERSIST=1, LOCAL_STATE_DIR,
 *        LOCAL_FAULTS=1 (fault-injection proxy, driven by POST /_local/faults; or a JSON list of rules)
 *
 * Prints `ready on http://127.0.0.1:PORT` once it serves.
 */
import { join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { parseFaultRules } from '../faults';
import { clearRunningStack, DEFAULT_STATE_DIR, writeRunningStack } from '../issuer';
import { startLocal } from '../runtime/start-local';
import type { StartLocalOptions } from '../runtime/types';
import { synth } from '../synth';

/** What an app adds to the generic commands: its functions' local environment and its issuer settings. */
export type LocalAppConfig = Pick<StartLocalOptions, 'environment' | 'issuer' | 'appDir' | 'dashboard' | 'pages'>;

/** Runs `start` with the arguments after the command name; resolves once the stack serves. */
export const runStart = async (args: readonly string[], config: LocalAppConfig = {}) => {
  const started = Date.now();
  // Local mode runs on Node 20 (see DESIGN.md); the SDK's upgrade notice is noise here.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const { values } = parseArgs({
    options: {
      'no-synth': { type: 'boolean' },
      out: { type: 'string' },
      persist: { type: 'boolean' },
      stack: { type: 'string' },
      context: { type: 'string', short: 'c', multiple: true },
    },
    args: [...args],
    strict: true,
    allowPositionals: false,
  });
  const appDir = resolve(config.appDir ?? '.');
  const outDir = resolve(values.out ?? join(appDir, 'cdk.out'));
  const portText = process.env.PORT;
  const port = portText === undefined || portText === '' ? 3000 : Number(portText);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`PORT must be a TCP port, got ${portText}`);
  const persist = values.persist === true || ['1', 'true'].includes(process.env.LOCAL_PERSIST ?? '');

  if (!values['no-synth']) {
    const context: Record<string, string> = {};
    for (const c of values.context ?? []) {
      const eq = c.indexOf('=');
      if (eq <= 0) throw new Error(`-c needs key=value, got ${c}`);
      context[c.slice(0, eq)] = c.slice(eq + 1);
    }
    process.stdout.write(`[local] cdk synth → ${outDir}\n`);
    // Bundling chatter is shown only when synth fails.
    await synth(outDir, context, 'pipe', appDir);
    process.stdout.write(`[local] synth done in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  }

  const stateDir = process.env.LOCAL_STATE_DIR || DEFAULT_STATE_DIR;
  const runtime = await startLocal({
    ...config,
    assemblyDir: outDir,
    port,
    persist,
    stateDir,
    ...(values.stack ? { stackName: values.stack } : {}),
    ...faultsOption(process.env.LOCAL_FAULTS),
  });
  const m = runtime.model;
  process.stdout.write(
    `[local] ${runtime.stackName}: ${m.tables.length} table(s), ${m.queues.length} queue(s), ${m.functions.length} function(s), ` +
      `${m.routes.length} route(s), ${m.eventSourceMappings.length} event source mapping(s), ${m.schedules.length} schedule(s); ` +
      `data ${persist ? `persisted under ${relative(process.cwd(), join(stateDir, 'data')) || '.'}` : 'in memory'}; started in ${((Date.now() - started) / 1000).toFixed(1)} s\n`,
  );
  // `npm run token` reads where this stack listens, which claim holds the tenant, and the audience.
  writeRunningStack(stateDir, {
    port: runtime.port,
    tenantClaim: runtime.tenantClaim,
    audience: runtime.issuer.audience,
    ...(runtime.issuer.scopePrefix ? { scopePrefix: runtime.issuer.scopePrefix } : {}),
  });
  process.stdout.write(`ready on ${runtime.baseUrl}\n`);
  process.stdout.write(`[local] status page: ${runtime.baseUrl}/_local/\n`);
  for (const page of runtime.pages) process.stdout.write(`[local] ${page.title}: ${page.url}\n`);

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) {
      process.stdout.write('[local] forced exit\n');
      process.exit(1);
    }
    stopping = true;
    process.stdout.write(`[local] ${signal}: shutting down\n`);
    const force = setTimeout(() => process.exit(1), 10_000);
    force.unref();
    clearRunningStack(stateDir);
    runtime.stop().then(
      () => process.exit(0),
      (e: unknown) => {
        process.stderr.write(`[local] shutdown failed: ${String(e)}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
};

/** LOCAL_FAULTS: unset/0 = off, 1/true = on without rules, a JSON list = on with these rules. */
const faultsOption = (value: string | undefined) => {
  if (!value || value === '0' || value === 'false') return {};
  if (value === '1' || value === 'true') return { faults: true };
  return { faults: parseFaultRules(JSON.parse(value) as unknown) };
};
