/**
 * A headless Chromium driven over the Chrome DevTools Protocol with no npm dependency:
 * `--remote-debugging-pipe` makes Chromium read commands on fd 3 and write answers and events on
 * fd 4, each message one JSON text ended by a NUL byte. One page (target), attached in flat mode.
 *
 *   const browser = await launchBrowser('/usr/bin/chromium');
 *   await browser.navigate('http://127.0.0.1:3000/_local/viewer');
 *   await browser.waitFor('document.title !== ""');
 *   await browser.close();
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';

type Json = Record<string, any>;

export interface Browser {
  /** Sends a command to the page's session; resolves with its result. */
  send(method: string, params?: Json): Promise<Json>;
  /** Every URL the page requested (Network.requestWillBeSent), in order. */
  readonly requests: string[];
  /** Console messages and uncaught exceptions of the page. */
  readonly problems: string[];
  navigate(url: string): Promise<void>;
  /** The value of a page expression (awaited when a promise). */
  evaluate<T = unknown>(expression: string): Promise<T>;
  /** Polls a page expression until it is truthy; returns its value. */
  waitFor<T = unknown>(expression: string, timeoutMs?: number): Promise<T>;
  /** Presses a key in the focused element (a real keyboard event, not a synthetic click). */
  press(key: 'Enter' | 'Tab' | ' '): Promise<void>;
  screenshot(): Promise<Buffer>;
  close(): Promise<void>;
}

const KEYS = {
  Enter: { key: 'Enter', code: 'Enter', windowsVirtualKeyCode: 13, text: '\r' },
  Tab: { key: 'Tab', code: 'Tab', windowsVirtualKeyCode: 9 },
  ' ': { key: ' ', code: 'Space', windowsVirtualKeyCode: 32, text: ' ' },
} as const;

const CHROMIUM = '/usr/bin/chromium';

/**
 * Debian's Chromium, installed by scripts/ensure-chromium.sh when missing; undefined (with a
 * SKIPPED line naming `what` and the reason) where it cannot be installed.
 */
export const ensureChromium = (repoRoot: string, what: string): string | undefined => {
  const ensure = spawnSync('bash', [join(repoRoot, 'scripts', 'ensure-chromium.sh')], { encoding: 'utf8', timeout: 600_000 });
  if (ensure.status === 0 && existsSync(CHROMIUM)) return CHROMIUM;
  process.stdout.write(`SKIPPED ${what}: Chromium unavailable (${(ensure.stderr || ensure.stdout).trim()})\n`);
  return undefined;
};

/** The flags of every headless run here: no GPU, no sandbox, nothing fetched but what the page asks for. */
export const HEADLESS_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
] as const;

export const launchBrowser = async (chromium: string, { width = 1280, height = 900 } = {}): Promise<Browser> => {
  const profile = mkdtempSync(join(tmpdir(), 'cdp-chromium-'));
  const child: ChildProcess = spawn(
    chromium,
    [
      ...HEADLESS_FLAGS,
      '--disable-extensions',
      '--remote-debugging-pipe',
      `--user-data-dir=${profile}`,
      `--window-size=${width},${height}`,
      'about:blank',
    ],
    { stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'] },
  );
  const toChrome = child.stdio[3] as Writable;
  const fromChrome = child.stdio[4] as Readable;
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString('utf8')).slice(-4000);
  });

  let nextId = 1;
  const pending = new Map<number, { resolve: (v: Json) => void; reject: (e: Error) => void; method: string }>();
  const listeners: ((message: Json) => void)[] = [];
  let buffered = Buffer.alloc(0);
  fromChrome.on('data', (chunk: Buffer) => {
    buffered = Buffer.concat([buffered, chunk]);
    for (let end = buffered.indexOf(0); end >= 0; end = buffered.indexOf(0)) {
      const message = JSON.parse(buffered.subarray(0, end).toString('utf8')) as Json;
      buffered = buffered.subarray(end + 1);
      const waiting = message.id !== undefined ? pending.get(message.id) : undefined;
      if (waiting) {
        pending.delete(message.id);
        if (message.error) waiting.reject(new Error(`${waiting.method}: ${JSON.stringify(message.error)}`));
        else waiting.resolve(message.result ?? {});
      } else {
        for (const listener of listeners) listener(message);
      }
    }
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  void exited.then(() => {
    for (const [, p] of pending) p.reject(new Error(`Chromium exited: ${stderr}`));
    pending.clear();
  });

  const raw = (method: string, params: Json = {}, sessionId?: string): Promise<Json> =>
    new Promise((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { resolve, reject, method });
      toChrome.write(`${JSON.stringify({ id, method, params, ...(sessionId && { sessionId }) })}\0`);
    });

  try {
    const { targetId } = await raw('Target.createTarget', { url: 'about:blank' });
    const { sessionId } = await raw('Target.attachToTarget', { targetId, flatten: true });
    const send = (method: string, params: Json = {}) => raw(method, params, sessionId);
    const requests: string[] = [];
    const problems: string[] = [];
    let loaded: (() => void) | undefined;
    listeners.push((m) => {
      if (m.sessionId !== sessionId) return;
      if (m.method === 'Network.requestWillBeSent') requests.push(m.params.request.url as string);
      if (m.method === 'Page.loadEventFired') loaded?.();
      if (m.method === 'Runtime.exceptionThrown') problems.push(`exception: ${JSON.stringify(m.params.exceptionDetails).slice(0, 500)}`);
      if (m.method === 'Runtime.consoleAPICalled' && ['error', 'warning'].includes(m.params.type)) {
        problems.push(`console.${m.params.type}: ${m.params.args.map((a: Json) => a.value ?? a.description).join(' ')}`);
      }
      if (m.method === 'Log.entryAdded' && m.params.entry.level === 'error')
        problems.push(`log: ${m.params.entry.text} ${m.params.entry.url ?? ''}`);
    });
    await Promise.all([send('Page.enable'), send('Network.enable'), send('Runtime.enable'), send('Log.enable')]);

    const evaluate = async <T>(expression: string): Promise<T> => {
      const { result, exceptionDetails } = await send('Runtime.evaluate', { expression, awaitPromise: true, returnByValue: true });
      if (exceptionDetails) throw new Error(`page: ${exceptionDetails.exception?.description ?? exceptionDetails.text}`);
      return result.value as T;
    };

    return {
      send,
      requests,
      problems,
      navigate: async (url) => {
        const done = new Promise<void>((resolve) => (loaded = resolve));
        const { errorText } = await send('Page.navigate', { url });
        if (errorText) throw new Error(`navigate ${url}: ${errorText}`);
        await done;
      },
      evaluate,
      waitFor: async <T>(expression: string, timeoutMs = 15_000): Promise<T> => {
        const deadline = Date.now() + timeoutMs;
        for (;;) {
          const value = await evaluate<T>(expression).catch(() => undefined);
          if (value) return value;
          if (Date.now() > deadline) throw new Error(`timed out waiting for ${expression}\n${problems.join('\n')}`);
          await new Promise((r) => setTimeout(r, 100));
        }
      },
      press: async (name) => {
        const key = KEYS[name];
        await send('Input.dispatchKeyEvent', { type: 'keyDown', ...key });
        await send('Input.dispatchKeyEvent', { type: 'keyUp', ...key, text: undefined });
      },
      screenshot: async () =>
        Buffer.from((await send('Page.captureScreenshot', { format: 'png', captureBeyondViewport: true })).data, 'base64'),
      close: async () => {
        await raw('Browser.close').catch(() => undefined);
        const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
        await exited;
        clearTimeout(timer);
        rmSync(profile, { recursive: true, force: true });
      },
    };
  } catch (e) {
    child.kill('SIGKILL');
    rmSync(profile, { recursive: true, force: true });
    throw e;
  }
};
