/**
 * Issue 17, item 7: the local runtime over real HTTP, as a web page in the developer's browser
 * would reach it (cross-site simple requests, DNS rebinding) and as curl, the CLI and the
 * harness reach it. Requests are written with node:http so that Host, Origin and Sec-Fetch-*
 * are exactly what a browser or curl sends (fetch may not set Host).
 */
import { execFileSync } from 'node:child_process';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { REPO_ROOT, startLocalStack, synthOnce, type LocalStack } from './harness';

jest.setTimeout(120_000);

let stack: LocalStack;

beforeAll(async () => {
  const outDir = await synthOnce(join(REPO_ROOT, 'cdk.out.test', 'default'));
  stack = await startLocalStack({ outDir });
}, 240_000);

afterAll(async () => {
  await stack?.stop();
});

interface Raw {
  readonly status: number;
  readonly type: string | undefined;
  readonly body: any;
}

/** One request with exactly these headers (no Host is added). */
const raw = (method: string, path: string, headers: Record<string, string>, body?: string, port = stack.port) =>
  new Promise<Raw>((resolve, reject) => {
    const req = httpRequest(
      {
        host: '127.0.0.1',
        port,
        method,
        path,
        setHost: false,
        agent: false,
        headers: { ...headers, ...(body !== undefined && { 'content-length': String(Buffer.byteLength(body)) }) },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => {
          let parsed: unknown = text;
          try {
            parsed = JSON.parse(text);
          } catch {
            // not JSON
          }
          resolve({ status: res.statusCode ?? 0, type: res.headers['content-type'], body: parsed });
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });

const host = () => `127.0.0.1:${stack.port}`;
/** What curl 8 sends with `curl -X POST URL` (and `-H 'content-type: application/json' -d …`). */
const curlHeaders = (extra: Record<string, string> = {}) => ({ host: host(), 'user-agent': 'curl/8.5.0', accept: '*/*', ...extra });
/** What Chrome sends with a cross-site `fetch(url, { method: 'POST', mode: 'no-cors', body })` from http://evil.example. */
const browserCrossSite = (extra: Record<string, string> = {}) => ({
  host: host(),
  origin: 'http://evil.example',
  referer: 'http://evil.example/',
  'content-type': 'text/plain;charset=UTF-8',
  'sec-fetch-site': 'cross-site',
  'sec-fetch-mode': 'no-cors',
  'sec-fetch-dest': 'empty',
  'user-agent': 'Mozilla/5.0',
  ...extra,
});

const clockOffset = async (): Promise<number> => (await raw('GET', '/_local/clock', curlHeaders())).body.offsetMs;

describe('a web page cannot drive the local admin routes', () => {
  it('refuses a cross-site text/plain POST to /_local/clock (Origin: http://evil.example); the clock is unchanged', async () => {
    const before = await clockOffset();
    const res = await raw('POST', '/_local/clock', browserCrossSite(), JSON.stringify({ advanceMs: 86_400_000 }));
    expect(res.status).toBe(403);
    expect(res.type).toBe('application/json');
    expect(res.body.error.code).toBe('cross_origin_refused');
    expect(await clockOffset()).toBe(before);
  });

  it('refuses the same POST from an older browser that sends only Origin, or only Sec-Fetch-Site', async () => {
    const before = await clockOffset();
    const onlyOrigin = await raw(
      'POST',
      '/_local/clock',
      { host: host(), origin: 'http://evil.example', 'content-type': 'text/plain' },
      '{"advanceMs":1000}',
    );
    const onlySite = await raw(
      'POST',
      '/_local/clock',
      { host: host(), 'sec-fetch-site': 'cross-site', 'content-type': 'text/plain' },
      '{"advanceMs":1000}',
    );
    expect([onlyOrigin.status, onlySite.status]).toEqual([403, 403]);
    expect(await clockOffset()).toBe(before);
  });

  it('refuses a form POST without Origin (415): no simple request reaches the routes', async () => {
    const before = await clockOffset();
    const form = await raw(
      'POST',
      '/_local/clock',
      { host: host(), 'content-type': 'application/x-www-form-urlencoded' },
      '{"advanceMs":1000}',
    );
    expect(form.status).toBe(415);
    expect(form.body.error.code).toBe('unsupported_media_type');
    expect(await clockOffset()).toBe(before);
  });

  it('refuses a cross-site POST to /_local/schedules/run', async () => {
    const res = await raw('POST', '/_local/schedules/run', browserCrossSite({ 'content-type': 'text/plain' }), '');
    expect(res.status).toBe(403);
  });
});

describe('DNS rebinding: a foreign Host is refused on every route', () => {
  const rebound = (extra: Record<string, string> = {}) => ({ host: `evil.example:${stack.port}`, 'user-agent': 'Mozilla/5.0', ...extra });

  it('refuses Host: evil.example:PORT with 421 — admin routes, the issuer and the API alike; the clock is unchanged', async () => {
    const before = await clockOffset();
    const post = await raw('POST', '/_local/clock', rebound({ 'content-type': 'application/json' }), '{"advanceMs":86400000}');
    expect(post.status).toBe(421);
    expect(post.type).toBe('application/json');
    expect(post.body.error.code).toBe('misdirected_request');
    expect(await clockOffset()).toBe(before);
    for (const path of [
      '/_local/health',
      '/_local/jwks.json',
      '/_local/issuer/.well-known/openid-configuration',
      '/_local/',
      '/_local/metrics',
      '/v1/events',
    ]) {
      expect([path, (await raw('GET', path, rebound())).status]).toEqual([path, 421]);
    }
    expect((await raw('POST', '/_local/schedules/run', rebound())).status).toBe(421);
  });

  it('refuses a foreign Host at the emulators too (DynamoDB, SQS, Secrets Manager, KMS, EventBridge), which still serve the functions', async () => {
    const calls = [
      ['dynamodb', 'DynamoDB_20120810.ListTables', 'application/x-amz-json-1.0'],
      ['sqs', 'AmazonSQS.ListQueues', 'application/x-amz-json-1.0'],
      ['secretsManager', 'secretsmanager.ListSecrets', 'application/x-amz-json-1.1'],
      ['kms', 'TrentService.ListKeys', 'application/x-amz-json-1.1'],
      ['eventBridge', 'AWSEvents.ListEventBuses', 'application/x-amz-json-1.1'],
    ] as const;
    for (const [name, target, type] of calls) {
      const port = Number(new URL(stack.endpoints[name]!).port);
      const res = await raw('POST', '/', { host: `evil.example:${port}`, 'x-amz-target': target, 'content-type': type }, '{}', port);
      expect([name, res.status]).toEqual([name, 421]);
      const own = await raw('POST', '/', { host: `127.0.0.1:${port}`, 'x-amz-target': target, 'content-type': type }, '{}', port);
      expect([name, own.status]).not.toEqual([name, 421]);
    }
    // The stack's own clients (Host 127.0.0.1:port) are served.
    expect((await stack.ddb.send(new ListTablesCommand({}))).TableNames?.length).toBeGreaterThan(0);
  });
});

describe('curl, the CLI and the harness still work', () => {
  it('accepts curl’s bodiless POST /_local/schedules/run and a JSON POST /_local/clock, on 127.0.0.1 and localhost', async () => {
    const run = await raw('POST', '/_local/schedules/run', curlHeaders());
    expect(run.status).toBe(200);
    expect(Array.isArray(run.body.results)).toBe(true);
    const set = await raw(
      'POST',
      '/_local/clock',
      curlHeaders({ host: `localhost:${stack.port}`, 'content-type': 'application/json' }),
      '{"offsetMs":1234}',
    );
    expect(set.status).toBe(200);
    expect(set.body.offsetMs).toBe(1234);
    expect(await clockOffset()).toBe(1234);
    expect((await raw('POST', '/_local/clock', curlHeaders({ 'content-type': 'application/json' }), '{"offsetMs":0}')).status).toBe(200);
  });

  it('the harness (local/client.ts over fetch) moves the clock and runs the schedules', async () => {
    await stack.setClockOffset(60_000);
    expect(await clockOffset()).toBe(60_000);
    expect(Array.isArray(await stack.runSchedules())).toBe(true);
    await stack.setClockOffset(0);
    expect(await clockOffset()).toBe(0);
  });

  it('the docs’ curl line works word for word when curl is installed', () => {
    let curl = true;
    try {
      execFileSync('curl', ['--version'], { stdio: 'ignore' });
    } catch {
      curl = false;
    }
    if (!curl) return console.log('curl not installed: the curl line was checked with curl’s headers above only');
    // docs/data-model.md and examples/curl.md: curl -s -X POST http://127.0.0.1:3000/_local/schedules/run
    const out = execFileSync('curl', ['-s', '-X', 'POST', `http://127.0.0.1:${stack.port}/_local/schedules/run`], { encoding: 'utf8' });
    expect(Array.isArray(JSON.parse(out).results)).toBe(true);
    const clock = execFileSync(
      'curl',
      ['-s', '-X', 'POST', `http://127.0.0.1:${stack.port}/_local/clock`, '-H', 'content-type: application/json', '-d', '{"offsetMs":0}'],
      { encoding: 'utf8' },
    );
    expect(JSON.parse(clock).offsetMs).toBe(0);
  });
});
