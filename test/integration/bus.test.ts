import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BatchGetItemCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import { DeleteMessageCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { ingest } from '../../lambdas/core/ingest';
import { decodeMessage, type QueueMessage } from '../../lambdas/core/message';
import { SqsEventQueue } from '../../lambdas/adapters/sqs-queue';
import { testKeyring } from '../support/fakes';
import { REPO_ROOT, startLocalStack, synthOnce, type LocalStack } from './harness';
import { eventually, request, uniqueTenant } from './http';

/**
 * The bus over the local stack (archive on): the publisher consumes the table's change stream and puts every
 * change on the local EventBridge; GET /_local/bus shows them; the archive eraser's rule delivers
 * erasure.completed to its local FIFO queue (the eraser needs Athena, so locally nothing polls it). Faults: the local bus fails entries
 * on demand (POST /_local/bus/faults) and nothing acknowledged is lost.
 */
let stack: LocalStack;
let outDir: string;

beforeAll(async () => {
  outDir = await synthOnce(join(REPO_ROOT, 'cdk.out.test', 'bus'), { archive: 'on' });
  stack = await startLocalStack({ outDir, env: { LOCAL_FAULTS: '1' } });
}, 180_000);

afterAll(async () => {
  await stack?.stop();
});

type BusEnvelope = { id: string; 'detail-type': string; source: string; time: string; detail: Record<string, any> };
const ALL = 'events:write events:read events:delete events:erase';
const call = (tenant: string, method: string, path: string, body?: unknown) =>
  request(stack.baseUrl, method, path, { token: stack.token({ tenant, scope: ALL }), ...(body !== undefined && { body }) });
const busEvents = async (limit = 10_000): Promise<BusEnvelope[]> =>
  (await request(stack.baseUrl, 'GET', `/_local/bus?limit=${limit}`)).body.events;
const ofTenant = async (tenant: string) => (await busEvents()).filter((e) => e.detail.tenant === tenant);
const busUntil = (tenant: string, check: (events: BusEnvelope[]) => boolean, what: string) =>
  eventually(
    async () => {
      const events = await ofTenant(tenant);
      return check(events) ? events : undefined;
    },
    30_000,
    what,
  );
/** ~1.7 KB of details, compressible like real payloads: the stored item would pass 1 KB as JSON; it is kept deflated (`y`, core/payload.ts). */
const LARGE_DETAILS = { steps: Array.from({ length: 40 }, (_, i) => `step ${i}: opened the billing page of workspace ${i % 7}`) };
const postEvents = async (tenant: string, count: number, prefix = 'u', largeAt?: number): Promise<string[]> => {
  const res = await call(tenant, 'POST', '/v1/events', {
    events: Array.from({ length: count }, (_, i) => ({
      type: 'page.viewed',
      userId: `${prefix}-${i % 3}`,
      ...(i === largeAt && { details: LARGE_DETAILS }),
    })),
  });
  expect(res.status).toBe(202);
  return res.body.results.map((r: { id: string }) => r.id);
};

describe('the bus, locally', () => {
  it('shows every acknowledged event exactly once as activity.recorded, as GET /v1/events/{id} returns it', async () => {
    const tenant = uniqueTenant('bus');
    // Events are stored deflated (`y`, not `e`); one of them is larger than 1 KB as JSON.
    const ids = await postEvents(tenant, 25, 'u', 7);
    const events = await busUntil(tenant, (e) => e.length >= 25, '25 recorded events');
    const recorded = events.filter((e) => e['detail-type'] === 'activity.recorded');
    expect(recorded.map((e) => e.detail.event.id).sort()).toEqual([...ids].sort());
    expect(new Set(recorded.map((e) => e.detail.event.id)).size).toBe(25);
    const one = recorded[0] as BusEnvelope;
    expect(one.source).toBe('activity-tracker');
    const viaApi = await call(tenant, 'GET', `/v1/events/${one.detail.event.id}`);
    expect(one.detail).toEqual({ tenant, event: viaApi.body });

    // The large one: stored deflated, published all the same, as GET returns it, on the archive rule's path.
    expect(JSON.stringify({ type: 'page.viewed', userId: 'u-1', details: LARGE_DETAILS }).length).toBeGreaterThan(1500);
    const table = Object.entries(stack.tables).find(([id]) => id.startsWith('StorageTable'))![1];
    const packed = await stack.ddb.send(
      new ScanCommand({
        TableName: table,
        FilterExpression: 'begins_with(pk, :p) AND attribute_exists(y) AND attribute_not_exists(e)',
        ExpressionAttributeValues: { ':p': { S: `${tenant}#` } },
      }),
    );
    // Every one of them, small or large, shrinks against the envelope dictionary.
    expect(packed.Items).toHaveLength(25);
    const large = recorded.find((e) => e.detail.event.id === ids[7]) as BusEnvelope;
    expect(large.detail.event.details).toEqual(LARGE_DETAILS);
    expect(large.detail).toEqual({ tenant, event: (await call(tenant, 'GET', `/v1/events/${ids[7]}`)).body });
    const template = JSON.parse(readFileSync(join(outDir, 'ActivityTracker.template.json'), 'utf8')) as {
      Resources: Record<string, { Type: string; Properties: { EventPattern?: { source?: string[]; 'detail-type'?: string[] } } }>;
    };
    const [, archiveRule] = Object.entries(template.Resources).find(
      ([id, r]) => id.includes('ArchiveRule') && r.Type === 'AWS::Events::Rule',
    )!;
    expect(archiveRule.Properties.EventPattern?.source).toContain(large.source);
    expect(archiveRule.Properties.EventPattern?.['detail-type']).toContain(large['detail-type']);

    // The stats consumer reads the same stream: it counts the large one too.
    const today = Math.floor(Date.now() / 86_400_000) * 86_400_000;
    const range = `from=${new Date(today - 86_400_000).toISOString()}&to=${new Date(today + 2 * 86_400_000).toISOString()}`;
    await eventually(
      async () => ((await call(tenant, 'GET', `/v1/stats?${range}`)).body.total === 25 ? true : undefined),
      30_000,
      'all 25 events counted by GET /v1/stats',
    );

    // Newest first, and limit is honoured.
    expect(await busEvents(1)).toHaveLength(1);
    expect((await request(stack.baseUrl, 'GET', '/_local/bus?limit=0')).status).toBe(400);
  });

  it('shows deletes, restores and completed erasures', async () => {
    const tenant = uniqueTenant('busl');
    const [id] = await postEvents(tenant, 1, 'keep');
    // gone-0 and gone-1: the erasure of gone-0 erases one event.
    await postEvents(tenant, 2, 'gone');
    await busUntil(tenant, (e) => e.length >= 3, 'three recorded');
    expect((await call(tenant, 'DELETE', `/v1/events/${id}`)).status).toBe(204);
    expect((await call(tenant, 'POST', `/v1/events/${id}/restore`)).status).toBe(200);
    const erasure = await call(tenant, 'POST', '/v1/erasures', { userId: 'gone-0' });
    expect(erasure.status).toBe(202);
    await stack.runSchedules();
    const events = await busUntil(tenant, (e) => e.some((x) => x['detail-type'] === 'erasure.completed'), 'erasure.completed');
    const of = (type: string) => events.filter((e) => e['detail-type'] === type).map((e) => e.detail);
    expect(of('activity.deleted')).toEqual([{ tenant, id, at: expect.any(String) }]);
    expect(of('activity.restored')).toEqual([{ tenant, id, at: expect.any(String) }]);
    expect(of('erasure.completed')).toEqual([
      {
        tenant,
        erasureId: erasure.body.id,
        userId: 'gone-0',
        erased: 1,
        requestedAt: erasure.body.requestedAt,
        completedAt: expect.any(String),
      },
    ]);
    // Nothing internal: no table key, no hash of the user.
    expect(JSON.stringify(events)).not.toMatch(/"(pk|sk|u|t|e|x|d|p|h|uh|us)":/);

    // The template's rule on the bus delivered it to the archive eraser's queue, whole, in its message group.
    const [queueId, queue] = Object.entries(stack.queues).find(([id]) => id.startsWith('ArchiveEraserQueue'))!;
    const messages = await eventually(
      async () => {
        const out = await stack.sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: queue.url,
            MaxNumberOfMessages: 10,
            WaitTimeSeconds: 1,
            MessageSystemAttributeNames: ['All'],
          }),
        );
        return out.Messages?.length ? out.Messages : undefined;
      },
      15_000,
      `erasure.completed in ${queueId}`,
    );
    const delivered = messages.map((m) => JSON.parse(m.Body ?? '{}') as BusEnvelope);
    const completed = events.find((e) => e['detail-type'] === 'erasure.completed')!;
    expect(delivered).toEqual([
      expect.objectContaining({ id: completed.id, 'detail-type': 'erasure.completed', detail: completed.detail }),
    ]);
    expect(messages[0]?.Attributes?.MessageGroupId).toBe('erasures');
    // The eraser needs Athena: locally it does not run, so nothing consumed the message before us.
    expect(stack.functions.filter((id) => id.startsWith('ArchiveEraser'))).toEqual([]);
    expect(stack.output()).toMatch(
      /ATHENA_WORKGROUP names AWS::Athena::WorkGroup .*its event sources \(ArchiveEraserSqsEventSource\w+\) are not polled/,
    );
    await stack.sqs.send(new DeleteMessageCommand({ QueueUrl: queue.url, ReceiptHandle: messages[0]!.ReceiptHandle! }));
  });

  it('never publishes an erased user’s event stored after the erasure completed (a redrive), and publishes its batch-mate', async () => {
    const tenant = uniqueTenant('busz');
    // Two events as ingest queued them before the erasure, held back as the dead-letter queue would hold them.
    const held: QueueMessage[] = [];
    const queued = await ingest(
      {
        tenant,
        body: JSON.stringify({
          events: [
            { type: 'page.viewed', userId: 'late-0' },
            { type: 'page.viewed', userId: 'late-1' },
          ],
        }),
        contentType: 'application/json',
        source: {},
      },
      {
        // `send` answers the ids that failed: none.
        queue: {
          send: async (messages) => {
            held.push(...messages);
            return new Set<string>();
          },
        },
        keyring: testKeyring(),
        shardCount: 1,
        retentionDays: () => 365,
      },
    );
    expect(queued.accepted).toBe(2);
    await postEvents(tenant, 1, 'late');
    await busUntil(tenant, (e) => e.length >= 1, 'late-0 recorded before the erasure');
    const erasure = await call(tenant, 'POST', '/v1/erasures', { userId: 'late-0' });
    expect(erasure.status).toBe(202);
    await stack.runSchedules();
    await busUntil(tenant, (e) => e.some((x) => x['detail-type'] === 'erasure.completed'), 'erasure.completed');

    // The redrive: both held events reach the table after the erasure completed.
    const mainQueue = Object.entries(stack.queues).find(([id]) => /^Queue[0-9A-F]{8}$/.test(id))![1];
    expect(held).toHaveLength(1);
    expect((await new SqsEventQueue(stack.sqs, mainQueue.url).send(held)).size).toBe(0);
    const table = Object.entries(stack.tables).find(([id]) => id.startsWith('StorageTable'))![1];
    const keys = decodeMessage(held[0]!.body).map(({ item }) => ({ pk: { S: item.pk }, sk: { S: item.sk } }));
    await eventually(
      async () => {
        const out = await stack.ddb.send(new BatchGetItemCommand({ RequestItems: { [table]: { Keys: keys, ConsistentRead: true } } }));
        return out.Responses?.[table]?.length === 2 ? true : undefined;
      },
      30_000,
      'the held events stored',
    );
    // A sentinel written after them: once it is on the bus, the publisher has passed their records (one stream shard locally).
    await postEvents(tenant, 1, 'sentinel');
    const events = await busUntil(tenant, (e) => e.some((x) => x.detail.event?.userId === 'sentinel-0'), 'the sentinel recorded');
    const recorded = events
      .filter((e) => e['detail-type'] === 'activity.recorded' && !e.detail.event.type.startsWith('activity-tracker.'))
      .map((e) => e.detail.event.userId);
    expect(recorded.sort()).toEqual(['late-0', 'late-1', 'sentinel-0']);
    // The late-0 on the bus is the one stored before the erasure; the redriven one is hidden from reads too.
    expect((await call(tenant, 'GET', '/v1/events?userId=late-0')).body.events).toEqual([]);
    expect((await call(tenant, 'GET', '/v1/events?userId=late-1')).body.events).toHaveLength(1);
  });

  it('loses nothing when PutEvents entries fail (published = acknowledged, duplicates dedupable by id + detail-type)', async () => {
    const tenant = uniqueTenant('busf');
    expect((await request(stack.baseUrl, 'POST', '/_local/bus/faults', { body: { failNext: 7 } })).status).toBe(200);
    const ids = await postEvents(tenant, 40);
    const events = await busUntil(tenant, (e) => new Set(e.map((x) => x.detail.event.id)).size >= 40, '40 distinct recorded');
    const distinct = new Set(events.map((e) => `${e['detail-type']}|${e.detail.event.id}`));
    expect([...distinct].map((k) => k.split('|')[1]).sort()).toEqual([...ids].sort());
    const figures = (await request(stack.baseUrl, 'GET', '/_local/bus/stats')).body;
    expect(figures.failed).toBeGreaterThanOrEqual(7);
    process.stdout.write(
      `bus fault test: acknowledged ${ids.length}, published ${events.length} (distinct ${distinct.size}), entries failed by faults ${figures.failed}; ` +
        `publishing lag (table write → PutEvents) p50 ${figures.entryAgeMs.p50} ms, p99 ${figures.entryAgeMs.p99} ms over ${figures.entryAgeMs.count} entries\n`,
    );
  });
});
