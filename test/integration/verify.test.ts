import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { DeleteItemCommand, GetItemCommand, PutItemCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { DeleteObjectCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { LOCAL_CREDENTIALS } from '@activity-tracker/local';
import { RETENTION_TTL_GRACE_DAYS } from '../../lambdas/core/cleanup';
import { REPO_ROOT, type RawItem, startLocalStack, storedEvent, synthOnce, tenantItems, type LocalStack } from './harness';
import { eventually, request, uniqueTenant } from './http';

/**
 * `npm run verify` over the local stack, run as a user runs it (a child process, PORT naming the
 * stack): after a day of activity with deletes, a purge, retention expiry and an erasure, with the
 * digest schedule run after each step, it exits 0 and counts the removals by reason; then each
 * tampering case (an event edited, inserted or deleted directly in the table, a digest object
 * removed from the bucket) makes it exit 1 and name the case. Each case is undone before the next.
 */
const CONTEXT = { retentionDays: 5, deleteGraceDays: 1, logLevel: 'ERROR' };
const DAY = 86_400_000;
const HOUR = 3_600_000;
const execFileAsync = promisify(execFile);

let stack: LocalStack;
let table: string;
let s3: S3Client;
let bucket: string;
const tenant = uniqueTenant('vfy');

beforeAll(async () => {
  const outDir = await synthOnce(join(REPO_ROOT, 'cdk.out.test', 'verify'), CONTEXT);
  stack = await startLocalStack({ outDir });
  table = Object.values(stack.tables)[0] as string;
  const health = (await (await fetch(`${stack.baseUrl}/_local/health`)).json()) as { buckets: Record<string, string> };
  bucket = Object.entries(health.buckets).find(([logicalId]) => logicalId.startsWith('DigestsBucket'))?.[1] as string;
  s3 = new S3Client({ region: stack.region, endpoint: stack.endpoints.s3, forcePathStyle: true, credentials: LOCAL_CREDENTIALS });
}, 180_000);

afterAll(async () => {
  s3?.destroy();
  await stack?.stop();
});

/** `npm run --silent verify -- --tenant T`, the docs' command, against this stack. */
const verify = async (): Promise<{ code: number; lines: string[] }> => {
  const run = await execFileAsync('npm', ['run', '--silent', 'verify', '--', '--tenant', tenant], {
    cwd: REPO_ROOT,
    env: { ...process.env, PORT: String(stack.port) },
  }).then(
    (out) => ({ code: 0, stdout: out.stdout, stderr: out.stderr }),
    (error: { code: number; stdout: string; stderr: string }) => ({ code: error.code, stdout: error.stdout, stderr: error.stderr }),
  );
  const lines = run.stdout.trim().split('\n');
  console.log(`npm run verify -- --tenant ${tenant} → exit ${run.code}\n${run.stdout}${run.stderr}`);
  return { code: run.code, lines };
};

const ALL = 'events:write events:read events:delete events:erase';
const call = (method: string, path: string, body?: unknown) =>
  request(stack.baseUrl, method, path, {
    token: stack.token({ tenant, scope: ALL, sub: 'auditor-test' }),
    ...(body !== undefined && { body }),
  });
type Event = { id: string; type: string; userId: string };
const listUntil = (done: (events: Event[]) => boolean, what: string) =>
  eventually(
    async () => {
      const res = await call('GET', '/v1/events?limit=100');
      return res.status === 200 && done(res.body.events) ? (res.body.events as Event[]) : undefined;
    },
    20_000,
    what,
  );

/** Runs every schedule (the cleanup and the digest sealer) until the cleanup has no more work. */
const runSchedules = async () => {
  for (let run = 0; run < 20; run++) {
    const results = await stack.runSchedules();
    if (!results.some((r) => (r.result as { more?: boolean } | undefined)?.more)) return;
  }
  throw new Error('the cleanup still had work after 20 runs');
};
/** A step at `offsetMs`, then its period sealed: the schedules at that time and again two hours on. */
const step = async (offsetMs: number, act: () => Promise<void>) => {
  await stack.setClockOffset(offsetMs);
  await act();
  await runSchedules();
  await stack.setClockOffset(offsetMs + 2 * HOUR);
  await runSchedules();
};

type Item = RawItem;
const eventItems = (): Promise<Item[]> => tenantItems(stack, table, tenant);
const typeOf = (item: Item) => (storedEvent(item) as { type?: string }).type;

describe('npm run verify over the local stack', () => {
  it('verifies a day of activity with deletes, a purge, retention expiry and an erasure (exit 0)', async () => {
    // Each step waits until the writer has stored what it sent (events, audit records) before the
    // clock moves on, so every event lands in the period of its step.
    const stored = (...types: string[]) => listUntil((e) => types.every((t) => e.some((x) => x.type === t)), `stored: ${types.join(', ')}`);
    // Day 0: the activity that will expire, and a soft delete.
    await step(0, async () => {
      const posted = await call('POST', '/v1/events', {
        events: [
          { type: 'login', userId: 'ann' },
          { type: 'page.view', userId: 'ann' },
          { type: 'login', userId: 'old' },
          { type: 'page.view', userId: 'old' },
        ],
      });
      expect(posted.status).toBe(202);
      await listUntil((e) => e.length === 4, 'the day-0 events');
      expect((await call('DELETE', `/v1/events/${posted.body.results[1].id}`)).status).toBe(204);
      await stored('activity-tracker.event.deleted');
    });
    // Day 2, past the 1-day grace period: the deleted event is purged; the activity that stays.
    await step(2 * DAY, async () => {
      const posted = await call('POST', '/v1/events', {
        events: [
          { type: 'export', userId: 'bob' },
          { type: 'login', userId: 'carl' },
          { type: 'logout', userId: 'carl' },
        ],
      });
      expect(posted.status).toBe(202);
      await stored('export', 'logout');
    });
    // Day 3: bob's erasure; the cleanup completes it.
    await step(3 * DAY, async () => {
      expect((await call('POST', '/v1/erasures', { userId: 'bob' })).status).toBe(202);
      await stored('activity-tracker.erasure.requested');
      await runSchedules();
      await stored('activity-tracker.erasure.completed');
    });
    // Past the 5-day retention of the day-0 events and the grace the cleanup leaves TTL: they expire.
    await step((5 + RETENTION_TTL_GRACE_DAYS) * DAY + HOUR, async () => {});

    const left = (await eventItems()).map(typeOf).sort();
    expect(left).toEqual(['activity-tracker.erasure.completed', 'activity-tracker.erasure.requested', 'login', 'logout']);

    const { code, lines } = await verify();
    const summary =
      /^OK: tenant vfy-\w+: (\d+) digests, 4 events verified, 6 removals accounted for \((.*)\), 0 not sealed yet, 0 problems$/.exec(
        lines[0] ?? '',
      );
    expect(summary).not.toBeNull();
    // ann's deleted event purged; bob's export erased; ann's and old's remaining events and the delete record expired.
    expect(summary?.[2]?.split(', ').sort()).toEqual(['erasure 1', 'purge 1', 'retention 4']);
    expect(lines).toHaveLength(1);
    expect(code).toBe(0);
  }, 180_000);

  it('names an event edited in the table (exit 1)', async () => {
    const item = (await eventItems()).find((i) => typeOf(i) === 'logout') as Item;
    // Written back readable (`e`), as an operator editing the table by hand would.
    const { y: _y, z: _z, ...rest } = item;
    const json = JSON.stringify(storedEvent(item));
    const edited = { ...rest, e: { S: json.replace('"carl"', '"mallory"') } };
    expect(edited.e.S).not.toBe(json);
    await stack.ddb.send(new PutItemCommand({ TableName: table, Item: edited }));
    try {
      const { code, lines } = await verify();
      expect(lines[0]).toMatch(/^FAILED: .*, 1 problems$/);
      expect(lines[1]).toMatch(/^ {2}event edited: event \d+#\S+ differs from its leaf in digests\//);
      expect(code).toBe(1);
    } finally {
      await stack.ddb.send(new PutItemCommand({ TableName: table, Item: item }));
    }
  }, 60_000);

  it('names an event inserted into a sealed period (exit 1)', async () => {
    const item = (await eventItems()).find((i) => typeOf(i) === 'logout') as Item;
    const sk = item.sk?.S as string;
    const inserted: Item = { ...item, sk: { S: `${sk.slice(0, -1)}${sk.endsWith('0') ? '1' : '0'}` } };
    await stack.ddb.send(new PutItemCommand({ TableName: table, Item: inserted, ConditionExpression: 'attribute_not_exists(pk)' }));
    try {
      const { code, lines } = await verify();
      expect(lines[0]).toMatch(/^FAILED: .*, 1 problems$/);
      expect(lines[1]).toMatch(/^ {2}event inserted outside any digest: event \d+#\S+ \(stored .*\) is in no digest$/);
      expect(code).toBe(1);
    } finally {
      await stack.ddb.send(
        new DeleteItemCommand({ TableName: table, Key: { pk: inserted.pk as AttributeValue, sk: inserted.sk as AttributeValue } }),
      );
    }
  }, 60_000);

  it('names an event deleted from the table without a removal record (exit 1)', async () => {
    const item = (await eventItems()).find((i) => typeOf(i) === 'login') as Item;
    const key = { pk: item.pk as AttributeValue, sk: item.sk as AttributeValue };
    await stack.ddb.send(new DeleteItemCommand({ TableName: table, Key: key }));
    try {
      expect((await stack.ddb.send(new GetItemCommand({ TableName: table, Key: key }))).Item).toBeUndefined();
      const { code, lines } = await verify();
      expect(lines[0]).toMatch(/^FAILED: .*, 1 problems$/);
      expect(lines[1]).toMatch(/^ {2}event missing without a signed removal record: event \d+#\S+ of digests\/\S+ is gone$/);
      expect(code).toBe(1);
    } finally {
      await stack.ddb.send(new PutItemCommand({ TableName: table, Item: item }));
    }
  }, 60_000);

  it('names a digest object removed from the bucket (exit 1)', async () => {
    const keys = ((await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: `digests/${tenant}/` }))).Contents ?? [])
      .map((o) => o.Key as string)
      .sort();
    expect(keys.length).toBeGreaterThan(2);
    const key = keys[1] as string;
    const body = await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body?.transformToString();
    await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
    try {
      const { code, lines } = await verify();
      expect(lines[0]).toMatch(/^FAILED: /);
      expect(lines.slice(1)).toContainEqual(
        expect.stringMatching(/^ {2}digest missing or out of chain: \S+ \(sequence 3\) does not follow \S+ \(sequence 1\)$/),
      );
      expect(code).toBe(1);
    } finally {
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
    }
    // Everything undone: it verifies again.
    expect((await verify()).code).toBe(0);
  }, 60_000);
});
