import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { functionJsonLines, REPO_ROOT, startLocalStack, synthOnce, type LocalStack } from './harness';
import { ensureChromium, HEADLESS_FLAGS } from './cdp';
import { eventually, request, uniqueTenant } from './http';

/**
 * Telemetry end to end on the local stack: the EMF metric lines the functions print carry the
 * right values, a request's correlation id reaches the writer's log lines, and the local status
 * page (`/_local/`) shows the figures in a real headless Chromium.
 */
type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

let stack: LocalStack;

beforeAll(async () => {
  const outDir = await synthOnce(join(REPO_ROOT, 'cdk.out.test', 'default'));
  // Raw JSON lines (`[LogicalId] {...}`), so the test reads exactly what the functions printed.
  stack = await startLocalStack({ outDir, env: { LOCAL_LOG_FORMAT: 'json' } });
}, 180_000);

afterAll(async () => {
  await stack?.stop();
});

/** The JSON lines a function printed so far (its logical id starts with `prefix`). */
const linesOf = (prefix: string): Json[] => functionJsonLines(stack.output(), prefix);
const emfOf = (prefix: string) => linesOf(prefix).filter((l) => l._aws?.CloudWatchMetrics);
const sum = (docs: Json[], name: string) => docs.reduce((a, d) => a + ([d[name] ?? []].flat() as number[]).reduce((x, y) => x + y, 0), 0);

describe('observability on the local stack', () => {
  const requestId = `it-${Math.random().toString(36).slice(2, 12)}`;
  const tenant = uniqueTenant('obs');

  it('prints EMF lines with accepted, rejected by reason, written and one lag value per stored event', async () => {
    const ingestBefore = emfOf('FunctionsIngest').length;
    const res = await request(stack.baseUrl, 'POST', '/v1/events', {
      token: stack.token({ tenant, scope: 'events:write events:read' }),
      headers: { 'x-request-id': requestId },
      body: {
        events: [
          { type: 'login', userId: 'u1' },
          { type: 'login', userId: 'u2' },
          { type: 'login', userId: 'u3' },
          { type: 'Bad Type', userId: 'u4' },
        ],
      },
    });
    expect(res.status).toBe(202);
    expect(res.headers.get('x-request-id')).toBe(requestId);

    const ingest = await eventually(
      async () => {
        const docs = emfOf('FunctionsIngest').slice(ingestBefore);
        return docs.some((d) => d.EventsAccepted !== undefined) ? docs : undefined;
      },
      10_000,
      'the ingest EMF line',
    );
    const main = ingest.find((d) => d.EventsAccepted !== undefined)!;
    expect(main).toMatchObject({ EventsAccepted: 3, EventsRejected: 1, service: 'activity-tracker' });
    expect(main._aws.CloudWatchMetrics[0]).toMatchObject({ Namespace: 'ActivityTracker', Dimensions: [['service']] });
    expect(ingest.find((d) => d.reason !== undefined)).toMatchObject({ reason: 'type_invalid', EventsRejectedByReason: 1 });

    // The writer's line for this request's record (its three events travel in one message) carries its correlation id.
    const handled = await eventually(
      async () => {
        const lines = linesOf('FunctionsWriter').filter((l) => l.message === 'record handled' && l.correlation_id === requestId);
        return lines.length === 1 ? lines : undefined;
      },
      20_000,
      "the writer's record line",
    );
    expect(handled.map((l) => [l.outcome, l.events])).toEqual([['stored', 3]]);

    // The metrics document is flushed when the invocation ends, after its record lines.
    const writer = await eventually(
      async () => {
        const docs = emfOf('FunctionsWriter');
        return sum(docs, 'EventsWritten') >= 3 ? docs : undefined;
      },
      20_000,
      "the writer's EMF line",
    );
    expect(sum(writer, 'EventsWritten')).toBeGreaterThanOrEqual(3);
    const lags = writer.flatMap((d) => [d.EndToEndLag ?? []].flat() as number[]);
    expect(lags.length).toBeGreaterThanOrEqual(1);
    for (const lag of lags) expect(lag).toBeGreaterThanOrEqual(0);
    const lagDirective = writer.find((d) => d.EndToEndLag !== undefined)!._aws.CloudWatchMetrics[0].Metrics as Json[];
    expect(lagDirective.find((m) => m.Name === 'EndToEndLag')).toMatchObject({ Unit: 'Milliseconds' });
  });

  it('serves the same figures as JSON at /_local/metrics, with queue and DLQ depth', async () => {
    const m = await eventually(
      async () => {
        const res = await fetch(`${stack.baseUrl}/_local/metrics`);
        const body = (await res.json()) as Json;
        return body.totals.EventsWritten >= 3 ? body : undefined;
      },
      10_000,
      'metrics',
    );
    expect(m.totals).toMatchObject({ EventsAccepted: 3, EventsRejected: 1 });
    expect(m.rejectedByReason).toEqual({ type_invalid: 1 });
    expect(m.lag.samples).toBeGreaterThanOrEqual(1);
    expect(m.lag.p50).toEqual(expect.any(Number));
    // Every queue of the template: the events queue and its DLQ, the export queue and its DLQ, the stream consumers' on-failure queues.
    expect(m.queues.map((q: Json) => q.role).sort()).toEqual(['dlq', 'dlq', 'queue', 'queue', 'queue', 'queue']);
    expect(m.series.buckets.reduce((a: number, b: Json) => a + b.accepted, 0)).toBe(3);
  });

  describe('status page in headless Chromium', () => {
    let chromium: string | undefined;
    let profile: string;

    beforeAll(() => {
      chromium = ensureChromium(REPO_ROOT, 'status page browser test');
      profile = mkdtempSync(join(tmpdir(), 'status-page-chromium-'));
    }, 660_000);

    afterAll(() => rmSync(profile, { recursive: true, force: true }));

    const run = (args: string[]) =>
      execFileSync(
        chromium!,
        [
          ...HEADLESS_FLAGS,
          `--user-data-dir=${profile}`,
          // Lets the page's fetch and timers run before the DOM is read or the picture taken.
          '--virtual-time-budget=4000',
          '--window-size=1280,1100',
          ...args,
          `${stack.baseUrl}/_local/`,
        ],
        { encoding: 'utf8', timeout: 60_000, stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 16 * 1024 * 1024 },
      );

    it('shows events in and out, queue and DLQ depth, lag and the rejection reasons', () => {
      if (!chromium) return;
      const dom = run(['--dump-dom']);
      expect(dom).toContain('data-loaded="true"');
      const tile = (k: string) => new RegExp(`data-k="${k}">([^<]*)<`).exec(dom)?.[1];
      expect(tile('in')).toBe('3');
      expect(Number(tile('out'))).toBeGreaterThanOrEqual(3);
      expect(tile('rejected')).toBe('1');
      expect(tile('dlq')).toBe('0');
      expect(tile('queue')).toMatch(/^\d+$/);
      expect(tile('p50')).toMatch(/^[\d,]+$/);
      expect(dom).toContain('type_invalid');
      expect(dom).toMatch(/<rect [^>]*fill="var\(--in\)"/);
    });

    it('renders a screenshot', () => {
      if (!chromium) return;
      const dir = join(REPO_ROOT, 'cdk.out.test', 'screenshots');
      mkdirSync(dir, { recursive: true });
      const file = join(dir, 'status-page.png');
      rmSync(file, { force: true });
      run([`--screenshot=${file}`]);
      expect(statSync(file).size).toBeGreaterThan(10_000);
    });
  });
});
