/** `cdk synth` for local mode and tests. */
import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';

/**
 * Runs `cdk synth --quiet` into outDir, offline (no notices, telemetry or version check), in the
 * app's folder (where cdk.json is) with its own CDK CLI (node_modules/.bin/cdk).
 */
export const synth = (
  outDir: string,
  context: Record<string, string> = {},
  stdio: 'inherit' | 'pipe' = 'inherit',
  appDir = process.cwd(),
) =>
  new Promise<void>((resolveSynth, reject) => {
    const args = ['synth', '--quiet', '--no-notices', '-o', outDir, ...Object.entries(context).flatMap(([k, v]) => ['-c', `${k}=${v}`])];
    const child = spawn(join(resolve(appDir), 'node_modules', '.bin', 'cdk'), args, {
      cwd: appDir,
      stdio: stdio === 'inherit' ? ['ignore', 'inherit', 'inherit'] : ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, CDK_DISABLE_CLI_TELEMETRY: 'true', CDK_DISABLE_VERSION_CHECK: '1' },
    });
    let output = '';
    child.stdout?.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr?.on('data', (c: Buffer) => (output += c.toString()));
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0 ? resolveSynth() : reject(new Error(`cdk synth failed (exit ${code})${output ? `:\n${output}` : ''}`)),
    );
  });
