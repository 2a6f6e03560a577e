/**
 * Runs a local stack in a child process — the app's start command, e.g. `tsx scripts/local.ts start
 * --no-synth --out DIR` — and resolves once it prints its ready line. Tests and benchmarks use it
 * to run exactly what `npm start` runs.
 */
import { spawn, type ChildProcess } from 'node:child_process';

export interface SpawnLocalOptions {
  /** The executable, e.g. <app>/node_modules/.bin/tsx. */
  readonly command: string;
  /** Its arguments, e.g. [<app>/scripts/local.ts, 'start', '--no-synth', '--out', DIR]. */
  readonly args: readonly string[];
  /** @default the current directory */
  readonly cwd?: string;
  /** Added to this process's environment (PORT, LOCAL_STATE_DIR, LOCAL_PERSIST, LOCAL_FAULTS, …). */
  readonly env?: Record<string, string>;
  /** How long to wait for the ready line. @default 60 s */
  readonly readyTimeoutMs?: number;
  /** Echo the child's output to this process's stdout. @default false */
  readonly verbose?: boolean;
}

export interface LocalProcess {
  readonly baseUrl: string;
  /** Everything the child printed so far. */
  output(): string;
  /** SIGTERM, then SIGKILL after 10 s. */
  stop(): Promise<void>;
}

const READY = /^ready on (http:\/\/127\.0\.0\.1:(\d+))\s*$/m;

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

/** Starts the command and resolves on its `ready on http://127.0.0.1:PORT` line. */
export const spawnLocal = async (opts: SpawnLocalOptions): Promise<LocalProcess> => {
  const child = spawn(opts.command, [...opts.args], {
    ...(opts.cwd ? { cwd: opts.cwd } : {}),
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...opts.env },
  });
  let output = '';
  const onData = (c: Buffer) => {
    output += c.toString();
    if (opts.verbose) process.stdout.write(c);
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
