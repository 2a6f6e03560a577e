/**
 * The writer's DynamoDB requests per event and time per batch, on dynalite (in process):
 * `npx tsx bench/writer-requests.ts`. Ten batches of 10 messages × 50 events (~700-byte events),
 * once without and once with idempotency keys, through the real ingest core, writer core and table
 * adapter. DynamoDB bills write units per item whatever the request type, so the table cost does not
 * depend on these counts; the writer's Lambda time does. dynalite is much slower per request than
 * DynamoDB: compare the times with each other, not with production.
 */
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import dynalite from 'dynalite';
import { DynamoEventStore } from '../lambdas/adapters/dynamo-store';
import { ingest } from '../lambdas/core/ingest';
import { parseKeyring } from '../lambdas/core/keyring';
import { writeBatch } from '../lambdas/core/writer';

const BATCHES = 10;
const MESSAGES = 10;
const EVENTS_PER_MESSAGE = 50;

const run = async (keyed: boolean, port: number, table: string) => {
  const client = new DynamoDBClient({
    endpoint: `http://127.0.0.1:${port}`,
    region: 'us-east-1',
    credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' },
  });
  const index = (name: string, key: string) => ({
    IndexName: name,
    KeySchema: [
      { AttributeName: key, KeyType: 'HASH' as const },
      { AttributeName: 'sk', KeyType: 'RANGE' as const },
    ],
    Projection: { ProjectionType: 'ALL' as const },
  });
  await client.send(
    new CreateTableCommand({
      TableName: table,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: ['pk', 'sk', 'u', 't'].map((name) => ({ AttributeName: name, AttributeType: 'S' as const })),
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      GlobalSecondaryIndexes: [index('byUser', 'u'), index('byType', 't')],
    }),
  );
  const doc = DynamoDBDocumentClient.from(client);
  const requests = new Map<string, number>();
  const send = doc.send.bind(doc) as (command: object) => Promise<unknown>;
  (doc as unknown as { send: (command: object) => Promise<unknown> }).send = (command) => {
    requests.set(command.constructor.name, (requests.get(command.constructor.name) ?? 0) + 1);
    return send(command);
  };
  const store = new DynamoEventStore(doc, table);
  const keyring = parseKeyring(JSON.stringify({ current: '1', k1: 'b'.repeat(64) }));
  let ms = 0;
  for (let b = 0; b < BATCHES; b++) {
    const bodies: string[] = [];
    for (let m = 0; m < MESSAGES; m++) {
      const events = Array.from({ length: EVENTS_PER_MESSAGE }, (_, i) => ({
        type: 'bench.event',
        userId: `u${i % 7}`,
        occurredAt: new Date(Date.now() - 1000).toISOString(),
        ...(keyed && { idempotencyKey: `k-${b}-${m}-${i}` }),
        details: { blob: 'x'.repeat(600), i },
      }));
      await ingest(
        { tenant: 'bench', body: JSON.stringify({ events }), contentType: 'application/json', source: {} },
        {
          queue: {
            send: async (messages) => {
              bodies.push(...messages.map((message) => message.body));
              return new Set();
            },
          },
          keyring,
          shardCount: 4,
          retentionDays: () => 30,
        },
      );
    }
    const started = performance.now();
    const out = await writeBatch(
      bodies.map((body, i) => ({ messageId: `m${b}-${i}`, body, receiveCount: 1 })),
      { store },
    );
    ms += performance.now() - started;
    if (out.batchItemFailures.length > 0) throw new Error('the writer reported failures');
  }
  const events = BATCHES * MESSAGES * EVENTS_PER_MESSAGE;
  const total = [...requests.values()].reduce((a, b) => a + b, 0);
  console.log(
    `writer, ${keyed ? 'with' : 'without'} idempotency keys: ${events} events, requests ${JSON.stringify(Object.fromEntries(requests))}, ` +
      `${(total / events).toFixed(2)} requests/event, ${(ms / BATCHES).toFixed(0)} ms per batch of ${MESSAGES * EVENTS_PER_MESSAGE} events`,
  );
};

const main = async () => {
  const server = dynalite({ createTableMs: 0 });
  await new Promise<void>((resolve) => server.listen(0, resolve));
  const { port } = server.address() as { port: number };
  await run(false, port, 'events-plain');
  await run(true, port, 'events-keyed');
  server.close();
};

void main();
