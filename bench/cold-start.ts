/**
 * Cold start: bundle size per function and the time a fresh Node process takes to import the
 * bundle, relative to a bare Node start measured in the same run (medians of several runs).
 *
 * Next to the functions, the same run imports two reference bundles built with the stack's
 * bundling settings, a function that only creates one SDK client, to show the floor any function
 * that talks to AWS starts from: with the SDK from the runtime (as the stack deploys) and with the
 * SDK bundled in.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { buildSync } from 'esbuild';
import { ENV } from '../contract';
import { BUNDLING } from '../lib/constructs/lambda-function';
import { templateOf, type Template } from './template';
import { median } from './workload';

const REPO_ROOT = resolve(__dirname, '..');

export interface ColdStartRow {
  readonly function: string;
  readonly bundleKb: number;
  readonly importMs: number;
  readonly importVsNodeBaseline: number;
}

export interface ColdStartResult {
  readonly nodeBaselineMs: number;
  readonly rows: ColdStartRow[];
  /** The reference bundles: one SDK client and nothing else. */
  readonly floors: ColdStartRow[];
}

/** The least a function that talks to AWS imports: one SDK client, created at import. */
const FLOOR_ENTRY =
  "import { SQSClient } from '@aws-sdk/client-sqs';\nexport const client = new SQSClient({});\nexport const handler = async () => client.config.region();\n";

/** Reference bundles with the stack's settings: SDK external (from the runtime), and SDK bundled. */
const buildFloors = (outDir: string): FunctionAsset[] =>
  [
    { name: 'sdkClient', externals: [...BUNDLING.externalModules] },
    { name: 'sdkClientBundled', externals: [] },
  ].map(({ name, externals }) => {
    const dir = join(outDir, 'import-floor', name);
    mkdirSync(dir, { recursive: true });
    const file = join(dir, 'index.mjs');
    buildSync({
      stdin: { contents: FLOOR_ENTRY, resolveDir: REPO_ROOT, loader: 'js', sourcefile: 'floor.mjs' },
      bundle: true,
      platform: 'node',
      format: BUNDLING.format,
      target: BUNDLING.target,
      mainFields: [...BUNDLING.mainFields],
      banner: { js: BUNDLING.banner },
      minify: BUNDLING.minify,
      sourcemap: BUNDLING.sourceMap,
      sourcesContent: BUNDLING.sourcesContent,
      external: externals,
      outfile: file,
      logLevel: 'error',
    });
    return { name, file, env: { ...DUMMY_ENV, NODE_OPTIONS: BUNDLING.nodeOptions } };
  });

/** Dummy values for the configuration a handler validates at import. */
const DUMMY_ENV: Record<string, string> = {
  [ENV.tableName.name]: 'bench-table',
  [ENV.queueUrl.name]: 'http://127.0.0.1:9/000000000000/bench-queue',
  [ENV.keysSecretArn.name]: 'arn:aws:secretsmanager:us-east-1:000000000000:secret:bench-AbCdEf',
  [ENV.authIssuer.name]: 'https://issuer.example.com',
  [ENV.authAudience.name]: 'bench',
  [ENV.authJwksUri.name]: 'https://issuer.example.com/.well-known/jwks.json',
  [ENV.authTenantClaim.name]: 'tenant_id',
  [ENV.authScopePrefix.name]: '',
  [ENV.shardCount.name]: '4',
  [ENV.retentionDays.name]: '90',
  [ENV.deleteGraceDays.name]: '30',
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: 'bench',
  AWS_SECRET_ACCESS_KEY: 'bench',
  AWS_LAMBDA_FUNCTION_NAME: 'bench',
  POWERTOOLS_LOG_LEVEL: 'ERROR',
};

interface FunctionAsset {
  readonly name: string;
  readonly file: string;
  readonly env: Record<string, string>;
}

/** The functions of a synthesized stack with their bundle files and environments. */
export const functionAssets = (outDir: string, template: Template): FunctionAsset[] =>
  Object.entries(template.Resources)
    .filter(([, r]) => r.Type === 'AWS::Lambda::Function')
    .flatMap(([id, r]) => {
      const key = String(r.Properties?.Code?.S3Key ?? '').replace(/\.zip$/, '');
      const file = join(outDir, `asset.${key}`, 'index.mjs');
      if (!key || !existsSync(file)) return [];
      const vars = (r.Properties?.Environment?.Variables ?? {}) as Record<string, unknown>;
      const env = Object.fromEntries(
        Object.entries(vars).map(([k, v]) => [k, typeof v === 'string' && k !== 'NODE_OPTIONS' ? v : (DUMMY_ENV[k] ?? 'bench')]),
      );
      // Keep NODE_OPTIONS as deployed when it is a literal (source maps cost at import too).
      if (typeof vars.NODE_OPTIONS === 'string') env.NODE_OPTIONS = vars.NODE_OPTIONS;
      return [{ name: id.replace(/^Functions/, '').replace(/[0-9A-F]{8}$/, ''), file, env: { ...DUMMY_ENV, ...env } }];
    });

const timeNode = (args: string[], env: Record<string, string>): number => {
  const started = process.hrtime.bigint();
  const r = spawnSync(process.execPath, args, { env: { PATH: process.env.PATH ?? '', ...env }, encoding: 'utf8', timeout: 30_000 });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  if (r.status !== 0) throw new Error(`node ${args.join(' ')} failed: ${r.stderr}`);
  return ms;
};

export const benchColdStart = (outDir: string, opts: { runs?: number } = {}): ColdStartResult => {
  const runs = opts.runs ?? 7;
  const assets = functionAssets(outDir, templateOf(outDir));
  const floors = buildFloors(outDir);
  const all = [...assets, ...floors];
  const baseline: number[] = [];
  const imports = new Map<FunctionAsset, number[]>(all.map((a) => [a, []]));
  // Interleave baseline and imports so load on the machine hits them alike.
  for (let i = 0; i < runs; i++) {
    baseline.push(timeNode(['--input-type=module', '-e', ''], {}));
    for (const a of all) {
      imports.get(a)!.push(timeNode(['--input-type=module', '-e', `await import(${JSON.stringify(pathToFileURL(a.file).href)})`], a.env));
    }
  }
  const nodeBaselineMs = median(baseline);
  const row = (a: FunctionAsset): ColdStartRow => {
    const importMs = median(imports.get(a)!);
    return { function: a.name, bundleKb: statSync(a.file).size / 1024, importMs, importVsNodeBaseline: importMs / nodeBaselineMs };
  };
  return { nodeBaselineMs, rows: assets.map(row), floors: floors.map(row) };
};
