import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { GetQueueAttributesCommand, ReceiveMessageCommand, SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import { randomInternalId } from '../../lambdas/core/ids';
import { tenantPartition, typePartition, userPartition, type EventItem } from '../../lambdas/core/item-keys';
import { encodeMessage } from '../../lambdas/core/message';
import { REPO_ROOT, startLocalStack, storedEvent, synthOnce, type LocalStack } from './harness';
import { eventually, request, uniqueTenant } from './http';

/**
 * The writer's event source as the stack defines it, synthesized with non-default settings:
 * the local poller must take them from the template (no edit under local/), and failures must
 * follow SQS + Lambda semantics (only the failed record retried, DLQ after maxReceiveCount).
 */
const CONTEXT = { writerBatchSize: 7, writerBatchWindowSeconds: 1, writerTimeoutSeconds: 2 };

let stack: LocalStack;
let outDir: string;
let template: { Resources: Record<string, { Type: string; Properties: Record<string, any> }> };

beforeAll(async () => {
  outDir = await synthOnce(join(REPO_ROOT, 'cdk.out.test', 'delivery'), CONTEXT);
  template = JSON.parse(readFileSync(join(outDir, 'ActivityTracker.template.json'), 'utf8'));
  stack = await startLocalStack({ outDir });
}, 180_000);

afterAll(async () => {
  await stack?.stop();
});

const resources = (type: string) => Object.entries(template.Resources).filter(([, r]) => r.Type === type);
const writerPoller = async () => {
  // The writer's mapping (the export worker has its own queue and mapping).
  const pollers = Object.entries((await stack.stats()).pollers).filter(([id]) => id.includes('Writer'));
  expect(pollers).toHaveLength(1);
  return pollers[0]![1];
};

describe('event source mapping, from the template', () => {
  it('uses the batch size the stack was synthesized with', async () => {
    const mappings = resources('AWS::Lambda::EventSourceMapping').filter(([id]) => id.includes('Writer'));
    expect(mappings).toHaveLength(1);
    expect(mappings[0]![1].Properties.BatchSize).toBe(CONTEXT.writerBatchSize);
    expect((await writerPoller()).batchSize).toBe(CONTEXT.writerBatchSize);

    const tenant = uniqueTenant('batchsize');
    const before = await writerPoller();
    // 22 KB events: two fit one 64 KB message, so the 30 events travel in 15 messages.
    const res = await request(stack.baseUrl, 'POST', '/v1/events', {
      token: stack.token({ tenant, scope: 'events:write' }),
      body: { events: Array.from({ length: 30 }, (_, i) => ({ type: 'a', userId: `u${i}`, details: { blob: 'x'.repeat(22 * 1024) } })) },
    });
    expect(res.body.accepted).toBe(30);
    const after = await eventually(async () => {
      const now = await writerPoller();
      return now.succeededRecords - before.succeededRecords >= 15 ? now : undefined;
    });
    expect(after.succeededRecords - before.succeededRecords).toBe(15);
    expect(after.largestBatch).toBe(CONTEXT.writerBatchSize);
    expect(after.batches - before.batches).toBeGreaterThanOrEqual(Math.ceil(15 / CONTEXT.writerBatchSize));
  });

  it('retries a record the writer fails alone, moves it to the DLQ after maxReceiveCount, and stores its batch-mates', async () => {
    const queues = resources('AWS::SQS::Queue');
    const [mainId, main] = queues.find(([, q]) => q.Properties.RedrivePolicy) as [string, { Properties: Record<string, any> }];
    const dlqId = main.Properties.RedrivePolicy.deadLetterTargetArn['Fn::GetAtt'][0] as string;
    const maxReceiveCount = Number(main.Properties.RedrivePolicy.maxReceiveCount);
    const mainUrl = stack.queues[mainId]!.url;
    const dlqUrl = stack.queues[dlqId]!.url;
    const table = Object.values(stack.tables)[0]!;

    const tenant = uniqueTenant('poison');
    const items: EventItem[] = Array.from({ length: 4 }, (_, i) => ({
      pk: tenantPartition(tenant, i % 4),
      sk: randomInternalId(Date.now() - i),
      u: userPartition(tenant, 'u'),
      t: typePartition(tenant, i % 4, 'a'),
      e: JSON.stringify({ type: 'a', userId: 'u', occurredAt: new Date().toISOString(), receivedAt: new Date().toISOString(), source: {} }),
      x: Math.floor(Date.now() / 1000) + 86_400,
    }));
    const poison = JSON.stringify({ v: 1, note: 'an item the writer cannot store' });
    const before = await writerPoller();
    const sent = await stack.sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: mainUrl,
        Entries: [
          ...items.slice(0, 2).map((item, i) => ({ Id: `good${i}`, MessageBody: encodeMessage([{ item, idempotent: false }]) })),
          { Id: 'poison', MessageBody: poison },
          ...items.slice(2).map((item, i) => ({ Id: `good${i + 2}`, MessageBody: encodeMessage([{ item, idempotent: false }]) })),
        ],
      }),
    );
    expect(sent.Failed ?? []).toEqual([]);

    const dead = await eventually(
      async () => {
        const out = await stack.sqs.send(new ReceiveMessageCommand({ QueueUrl: dlqUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }));
        return out.Messages?.length ? out.Messages : undefined;
      },
      (maxReceiveCount + 2) * 15_000,
      'the poison message in the DLQ',
    );
    expect(dead.map((m) => m.Body)).toEqual([poison]);

    for (const item of items) {
      const stored = await stack.ddb.send(new GetItemCommand({ TableName: table, Key: { pk: { S: item.pk }, sk: { S: item.sk } } }));
      expect(storedEvent(stored.Item!)).toEqual(JSON.parse(item.e));
    }
    const after = await writerPoller();
    // The good records were delivered once; the poison one maxReceiveCount times, failing each time.
    expect(after.succeededRecords - before.succeededRecords).toBe(items.length);
    expect(after.failedRecords - before.failedRecords).toBe(maxReceiveCount);
    expect(after.records - before.records).toBe(items.length + maxReceiveCount);
    const attrs = await stack.sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: mainUrl,
        AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
      }),
    );
    expect(attrs.Attributes).toMatchObject({ ApproximateNumberOfMessages: '0', ApproximateNumberOfMessagesNotVisible: '0' });
  }, 150_000);
});
