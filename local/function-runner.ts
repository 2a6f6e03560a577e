/**
 * Runs a function's bundled asset the way Lambda isolates it: each execution environment is a
 * worker thread with its own process.env and module state, one invocation at a time, the
 * template's Timeout enforced by killing the environment (the next call starts cold).
 */
import { randomUUID } from 'node:crypto';
import { join, relative, isAbsolute } from 'node:path';
import { createInterface } from 'node:readline';
import { Worker } from 'node:worker_threads';
import type { Readable } from 'node:stream';

export interface LambdaError {
  readonly errorType: string;
  readonly errorMessage: string;
  readonly trace?: string[];
}

export type InvocationResult =
  | { readonly ok: true; readonly payload: unknown; readonly requestId: string; readonly durationMs: number }
  | { readonly ok: false; readonly error: LambdaError; readonly requestId: string; readonly durationMs: number };

export interface FunctionPoolOptions {
  /** Logical id, used to prefix log lines. */
  readonly logicalId: string;
  readonly functionName: string;
  readonly functionArn: string;
  readonly handler: string;
  /** Absolute path of the bundled asset folder. */
  readonly assetDir: string;
  readonly timeoutSeconds: number;
  readonly memoryMb: number;
  /** The complete environment of the function (nothing else from the parent leaks in). */
  readonly env: Record<string, string>;
  /** Execution environments kept at most (extra invocations wait). @default 4 */
  readonly maxWorkers?: number;
  /** Repository root; modules the bundle leaves external resolve from here when needed. */
  readonly repoRoot: string;
  /** Receives each line the function logs. @default process.stdout with a [logicalId] prefix */
  readonly log?: (line: string) => void;
  /** Apply MemorySize as the worker's heap limit. @default true */
  readonly enforceMemory?: boolean;
  /** Shared clock offset (local/clock.ts); the worker's Date follows it. @default real time */
  readonly clock?: SharedArrayBuffer;
  /** Extra environment per execution environment (e.g. fault-proxy endpoints naming the worker). */
  readonly workerEnv?: (workerId: string) => Record<string, string>;
}

/** Lambda's limit on the init phase, which does not count against the function's timeout. */
const INIT_TIMEOUT_MS = 10_000;
/** Lambda's payload limit for a synchronous response. */
const MAX_RESPONSE_BYTES = 6 * 1024 * 1024;
const WORKER_FILE = join(__dirname, 'lambda-worker.mjs');

interface Pending {
  readonly id: number;
  readonly requestId: string;
  readonly started: number;
  readonly timer: NodeJS.Timeout;
  readonly resolve: (r: InvocationResult) => void;
}

interface Slot {
  readonly id: string;
  readonly worker: Worker;
  /** Settles when the handler module has loaded (or failed to), or the worker is gone. */
  readonly initialized: Promise<void>;
  busy: boolean;
  dead: boolean;
  pending?: Pending;
  lastError?: unknown;
}

let nextId = 1;
let nextWorkerId = 1;

export class FunctionPool {
  private readonly slots: Slot[] = [];
  private readonly waiters: ((slot: Slot | undefined) => void)[] = [];
  private stopped = false;
  /** Invocations started, cold starts, and errors (including timeouts), for inspection. */
  /** durationMs: handler time summed over invocations (what Lambda bills; bench/ uses it). */
  readonly stats = { invocations: 0, coldStarts: 0, errors: 0, timeouts: 0, durationMs: 0 };

  constructor(private readonly opts: FunctionPoolOptions) {}

  get maxWorkers() {
    return this.opts.maxWorkers ?? 4;
  }

  /** Invokes the function with an event (JSON-serializable); never rejects for function errors. */
  async invoke(event: unknown, requestId: string = randomUUID()): Promise<InvocationResult> {
    if (this.stopped) throw new Error(`Function ${this.opts.logicalId} is stopped`);
    const slot = await this.acquire();
    const started = Date.now();
    if (!slot) {
      return {
        ok: false,
        error: { errorType: 'Runtime.Shutdown', errorMessage: 'The local runtime is shutting down' },
        requestId,
        durationMs: 0,
      };
    }
    this.stats.invocations++;
    // A cold environment first loads its code; the timeout covers the invocation only.
    let initTimer: NodeJS.Timeout | undefined;
    await Promise.race([slot.initialized, new Promise<void>((r) => (initTimer = setTimeout(r, INIT_TIMEOUT_MS)))]);
    clearTimeout(initTimer);
    // The environment died while it loaded (a crash or a terminate): the invocation fails as Lambda's would.
    if (slot.dead) {
      this.stats.errors++;
      this.release(slot);
      const e = slot.lastError as { name?: string; message?: string } | undefined;
      return {
        ok: false,
        error: {
          errorType: 'Runtime.ExitError',
          errorMessage: `RequestId: ${requestId} Error: Runtime exited during init${e ? `: ${e.name ?? 'Error'}: ${e.message ?? ''}` : ''}`,
        },
        requestId,
        durationMs: Date.now() - started,
      };
    }
    const timeoutMs = this.opts.timeoutSeconds * 1000;
    return new Promise<InvocationResult>((resolve) => {
      const id = nextId++;
      const finish = (r: InvocationResult) => {
        clearTimeout(pending.timer);
        slot.pending = undefined;
        if (!r.ok) this.stats.errors++;
        this.stats.durationMs += r.durationMs;
        this.release(slot);
        resolve(r);
      };
      const timer = setTimeout(() => {
        this.stats.timeouts++;
        slot.dead = true;
        void slot.worker.terminate();
        finish({
          ok: false,
          error: {
            errorType: 'Sandbox.Timedout',
            errorMessage: `${new Date().toISOString()} ${requestId} Task timed out after ${this.opts.timeoutSeconds.toFixed(2)} seconds`,
          },
          requestId,
          durationMs: Date.now() - started,
        });
      }, timeoutMs);
      const pending: Pending = { id, requestId, started, timer, resolve: finish };
      slot.pending = pending;
      slot.worker.postMessage({
        type: 'invoke',
        id,
        eventJson: JSON.stringify(event ?? null),
        requestId,
        deadline: Date.now() + timeoutMs,
      });
    });
  }

  /** Terminates every execution environment; waiting invocations are rejected. */
  async stop(): Promise<void> {
    this.stopped = true;
    const waiters = this.waiters.splice(0);
    for (const slot of this.slots.splice(0)) {
      slot.dead = true;
      slot.pending?.resolve({
        ok: false,
        error: { errorType: 'Runtime.Shutdown', errorMessage: 'The local runtime is shutting down' },
        requestId: slot.pending.requestId,
        durationMs: Date.now() - slot.pending.started,
      });
      await slot.worker.terminate();
    }
    for (const w of waiters) w(undefined);
  }

  /**
   * Terminates one execution environment, as a crash would: its invocation in flight fails with
   * Runtime.ExitError and the next one starts cold. False if there is no such environment.
   */
  terminateWorker(workerId: string): boolean {
    const slot = this.slots.find((s) => s.id === workerId && !s.dead);
    if (!slot) return false;
    slot.dead = true;
    // An idle environment has no invocation whose end would remove it.
    if (!slot.busy) this.remove(slot);
    void slot.worker.terminate();
    return true;
  }

  private acquire(): Promise<Slot | undefined> {
    const idle = this.slots.find((s) => !s.busy && !s.dead);
    if (idle) {
      idle.busy = true;
      return Promise.resolve(idle);
    }
    if (this.slots.length < this.maxWorkers) {
      const slot = this.spawn();
      slot.busy = true;
      return Promise.resolve(slot);
    }
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  private release(slot: Slot) {
    if (slot.dead) this.remove(slot);
    else slot.busy = false;
    const waiter = this.waiters.shift();
    if (!waiter) return;
    if (this.stopped) return;
    const next = slot.dead ? (this.slots.length < this.maxWorkers ? this.spawn() : undefined) : slot;
    if (!next) {
      this.waiters.unshift(waiter);
      return;
    }
    next.busy = true;
    waiter(next);
  }

  private remove(slot: Slot) {
    const i = this.slots.indexOf(slot);
    if (i >= 0) this.slots.splice(i, 1);
  }

  private spawn(): Slot {
    const { opts } = this;
    this.stats.coldStarts++;
    const rel = relative(opts.repoRoot, opts.assetDir);
    const insideRepo = rel !== '' && !rel.startsWith('..') && !isAbsolute(rel);
    const id = String(nextWorkerId++);
    const worker = new Worker(WORKER_FILE, {
      env: { ...opts.env, ...opts.workerEnv?.(id) },
      workerData: {
        assetDir: opts.assetDir,
        handler: opts.handler,
        functionName: opts.functionName,
        functionVersion: '$LATEST',
        memoryMb: opts.memoryMb,
        invokedFunctionArn: opts.functionArn,
        logGroupName: `/aws/lambda/${opts.functionName}`,
        logStreamName: `${new Date().toISOString().slice(0, 10).replace(/-/g, '/')}/[$LATEST]${randomUUID().replace(/-/g, '')}`,
        fallbackPackageJson: insideRepo ? undefined : join(opts.repoRoot, 'package.json'),
        clock: opts.clock,
      },
      stdout: true,
      stderr: true,
      ...(opts.enforceMemory === false ? {} : { resourceLimits: { maxOldGenerationSizeMb: Math.max(opts.memoryMb, 64) } }),
    });
    let initDone: () => void = () => {};
    const initialized = new Promise<void>((r) => (initDone = r));
    const slot: Slot = { id, worker, initialized, busy: false, dead: false };
    const log = opts.log ?? ((line: string) => process.stdout.write(`[${opts.logicalId}] ${line}\n`));
    const pipe = (stream: Readable) => createInterface({ input: stream, crlfDelay: Infinity }).on('line', log);
    pipe(worker.stdout);
    pipe(worker.stderr);
    worker.on('message', (msg: { type: string; id?: number; ok?: boolean; payload?: string; error?: LambdaError }) => {
      if (msg.type === 'ready') initDone();
      if (msg.type !== 'result' || !slot.pending || slot.pending.id !== msg.id) return;
      const { requestId, started } = slot.pending;
      const durationMs = Date.now() - started;
      if (msg.ok && typeof msg.payload === 'string') {
        if (Buffer.byteLength(msg.payload) > MAX_RESPONSE_BYTES) {
          slot.pending.resolve({
            ok: false,
            error: {
              errorType: 'Function.ResponseSizeTooLarge',
              errorMessage: 'Response payload size exceeded maximum allowed payload size (6291556 bytes).',
            },
            requestId,
            durationMs,
          });
          return;
        }
        slot.pending.resolve({ ok: true, payload: JSON.parse(msg.payload) as unknown, requestId, durationMs });
      } else {
        slot.pending.resolve({
          ok: false,
          error: msg.error ?? { errorType: 'Error', errorMessage: 'Unknown error' },
          requestId,
          durationMs,
        });
      }
    });
    worker.on('error', (err) => {
      slot.lastError = err;
    });
    worker.on('exit', (code) => {
      initDone();
      const wasDead = slot.dead;
      slot.dead = true;
      if (slot.pending) {
        const e = slot.lastError as { name?: string; message?: string; code?: string } | undefined;
        const oom = e?.code === 'ERR_WORKER_OUT_OF_MEMORY';
        slot.pending.resolve({
          ok: false,
          error: oom
            ? {
                errorType: 'Runtime.OutOfMemory',
                errorMessage: `Runtime exited: the function ran out of memory (MemorySize ${opts.memoryMb} MB)`,
              }
            : {
                errorType: 'Runtime.ExitError',
                errorMessage: `RequestId: ${slot.pending.requestId} Error: Runtime exited with error: ${e ? `${e.name ?? 'Error'}: ${e.message ?? ''}` : `exit status ${code}`}`,
              },
          requestId: slot.pending.requestId,
          durationMs: Date.now() - slot.pending.started,
        });
      } else if (!wasDead && !slot.busy) {
        this.remove(slot);
      }
    });
    this.slots.push(slot);
    return slot;
  }
}
