import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { spawnSync } from 'node:child_process';
import { synth } from '@activity-tracker/local';

const REPO_ROOT = resolve(__dirname, '..', '..');
const cdkJsonContext = (JSON.parse(readFileSync(join(REPO_ROOT, 'cdk.json'), 'utf8')) as { context: object }).context;

/**
 * Two `cdk synth` runs of the same commit give the same templates and the same asset hashes, so a
 * deploy with no change deploys nothing (and a diff shows only real changes). Real CLI, real
 * esbuild bundling, into two fresh folders at once.
 */
const files = (dir: string, prefix = ''): string[] =>
  readdirSync(dir).flatMap((name) =>
    statSync(join(dir, name)).isDirectory() ? files(join(dir, name), `${prefix}${name}/`) : [`${prefix}${name}`],
  );

const digestOfTree = (dir: string): Record<string, string> =>
  Object.fromEntries(
    files(dir)
      .sort()
      .map((f) => [
        f,
        createHash('sha256')
          .update(readFileSync(join(dir, f)))
          .digest('hex'),
      ]),
  );

/** What must not change between two synths: templates, asset manifests, the cloud-assembly manifest, every asset's bytes. */
const fingerprint = (outDir: string) => {
  const top = readdirSync(outDir);
  const json = (name: string) => JSON.parse(readFileSync(join(outDir, name), 'utf8')) as unknown;
  return {
    templates: Object.fromEntries(top.filter((f) => f.endsWith('.template.json')).map((f) => [f, json(f)])),
    assetManifests: Object.fromEntries(top.filter((f) => f.endsWith('.assets.json')).map((f) => [f, json(f)])),
    manifest: json('manifest.json'),
    assets: Object.fromEntries(top.filter((f) => f.startsWith('asset.')).map((f) => [f, digestOfTree(join(outDir, f))])),
  };
};

describe('synth', () => {
  const dirs: string[] = [];
  afterAll(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it('is deterministic: two synths give identical templates, asset hashes and asset contents', async () => {
    const a = mkdtempSync(join(tmpdir(), 'synth-a-'));
    const b = mkdtempSync(join(tmpdir(), 'synth-b-'));
    dirs.push(a, b);
    await Promise.all([synth(a, {}, 'pipe'), synth(b, {}, 'pipe')]);
    const first = fingerprint(a);
    const second = fingerprint(b);
    expect(Object.keys(first.templates)).toEqual(['ActivityTracker.template.json']);
    expect(Object.keys(first.assets).length).toBeGreaterThan(3);
    expect(second.templates).toEqual(first.templates);
    expect(second.assetManifests).toEqual(first.assetManifests);
    expect(second.manifest).toEqual(first.manifest);
    expect(second.assets).toEqual(first.assets);
  }, 240_000);

  it('names the stack per stage: ActivityTracker for dev, ActivityTracker-<stage> otherwise', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'synth-stage-'));
    dirs.push(dir);
    // bin/app.ts as the CLI runs it (CDK_OUTDIR, CDK_CONTEXT_JSON), with bundling skipped: only names matter here.
    const run = spawnSync(join(REPO_ROOT, 'node_modules', '.bin', 'tsx'), [join(REPO_ROOT, 'bin', 'app.ts')], {
      cwd: REPO_ROOT,
      encoding: 'utf8',
      env: {
        ...process.env,
        CDK_OUTDIR: dir,
        CDK_CONTEXT_JSON: JSON.stringify({ ...cdkJsonContext, stage: 'staging', 'aws:cdk:bundling-stacks': [] }),
      },
    });
    expect(run.status).toBe(0);
    const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as { artifacts: Record<string, { type: string }> };
    const stacks = Object.entries(manifest.artifacts)
      .filter(([, a]) => a.type === 'aws:cloudformation:stack')
      .map(([id]) => id);
    expect(stacks).toEqual(['ActivityTracker-staging']);
  }, 60_000);
});
