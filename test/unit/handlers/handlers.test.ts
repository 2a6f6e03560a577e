import { userPartition } from '../../../lambdas/core/item-keys';
import type { SQSEvent } from 'aws-lambda';
import { encodeMessage } from '../../../lambdas/core/message';
import { MemoryTable, RecordingQueue, testKeyring } from '../../support/fakes';
import { configureHandlerEnv, fakeAuthenticate, lambdaContext, proxyEvent } from '../../support/handler-env';

// The handler modules wire their real adapters at import; give them a configuration.
configureHandlerEnv({
  POWERTOOLS_METRICS_NAMESPACE: 'Test',
  POWERTOOLS_DEV: 'true',
  POWERTOOLS_LOG_LEVEL: 'SILENT',
});

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { createIngestHandler } = require('../../../lambdas/handlers/ingest') as typeof import('../../../lambdas/handlers/ingest');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { createQueryHandler } = require('../../../lambdas/handlers/query') as typeof import('../../../lambdas/handlers/query');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { createWriterHandler } = require('../../../lambdas/handlers/writer') as typeof import('../../../lambdas/handlers/writer');

const keyring = testKeyring();
const context = lambdaContext();

const authenticate = fakeAuthenticate;

const apiEvent = proxyEvent;

describe('API handlers with fakes', () => {
  const queue = new RecordingQueue();
  const sent = queue.sent;
  const table = new MemoryTable();
  const ingestHandler = createIngestHandler({ authenticate, queue, keyring: async () => keyring, shardCount: 2, retentionDays: () => 30 });
  const queryHandler = createQueryHandler({ authenticate, store: table, keyring: async () => keyring, shardCount: 2 });
  const writerHandler = createWriterHandler(table);

  const post = (body: unknown, token = 'acme events:write') =>
    ingestHandler(
      apiEvent({
        httpMethod: 'POST',
        headers: { authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
        body: JSON.stringify(body),
      }),
      context,
    );

  it('takes a batch through ingest, writer and query', async () => {
    const res = await post({
      events: [
        { type: 'login', userId: 'u1' },
        { type: 'nope!', userId: 'u1' },
      ],
    });
    expect(res.statusCode).toBe(202);
    const body = JSON.parse(res.body);
    expect(body).toMatchObject({ accepted: 1, rejected: 1 });

    const sqsEvent = {
      Records: sent.map((m, i) => ({ messageId: `m${i}`, body: m.body, attributes: { ApproximateReceiveCount: '1' } })),
    } as unknown as SQSEvent;
    await expect(writerHandler(sqsEvent, context)).resolves.toEqual({ batchItemFailures: [] });

    const list = await queryHandler(
      apiEvent({ headers: { authorization: 'Bearer acme events:read' }, multiValueQueryStringParameters: { userId: ['u1'] } }),
      context,
    );
    expect(list.statusCode).toBe(200);
    expect(JSON.parse(list.body).events.map((e: { id: string }) => e.id)).toEqual([body.results[0].id]);

    const one = await queryHandler(
      apiEvent({
        resource: '/v1/events/{id}',
        headers: { authorization: 'Bearer acme events:read' },
        pathParameters: { id: body.results[0].id },
      }),
      context,
    );
    expect(JSON.parse(one.body)).toMatchObject({
      id: body.results[0].id,
      type: 'login',
      source: { ip: '198.51.100.1', userAgent: 'jest' },
    });
  });

  it('maps errors to status and JSON: 401 with WWW-Authenticate, 403, 404, 415', async () => {
    const unauth = await queryHandler(apiEvent({}), context);
    expect(unauth.statusCode).toBe(401);
    expect(unauth.headers?.['www-authenticate']).toContain('Bearer');
    expect(JSON.parse(unauth.body)).toEqual({ error: { code: 'unauthorized', message: expect.any(String) } });
    expect((await post({ type: 'a', userId: 'u' }, 'acme events:read')).statusCode).toBe(403);
    const missing = await queryHandler(
      apiEvent({ resource: '/v1/events/{id}', headers: { authorization: 'Bearer acme events:read' }, pathParameters: { id: 'nope' } }),
      context,
    );
    expect(missing.statusCode).toBe(404);
    const wrongType = await ingestHandler(
      apiEvent({ httpMethod: 'POST', headers: { authorization: 'Bearer acme events:write', 'content-type': 'text/plain' }, body: '{}' }),
      context,
    );
    expect(wrongType.statusCode).toBe(415);
  });

  it('answers 500 without internals when a dependency throws something unexpected', async () => {
    const broken = createIngestHandler({
      authenticate,
      queue: {
        send: async () => {
          throw new Error('secret internal detail at 10.0.0.1');
        },
      },
      keyring: async () => keyring,
      shardCount: 2,
      retentionDays: () => 30,
    });
    const res = await broken(
      apiEvent({
        httpMethod: 'POST',
        headers: { authorization: 'Bearer acme events:write', 'content-type': 'application/json' },
        body: '{"type":"a","userId":"u"}',
      }),
      context,
    );
    expect(res.statusCode).toBe(500);
    expect(res.body).not.toContain('10.0.0.1');
  });

  it('the writer reports exactly the failed message ids', async () => {
    // Keys that agree with the tenant and the event (the writer refuses others as poison).
    const e = '{"type":"a","userId":"u"}';
    const good = encodeMessage([
      { item: { pk: 'acme#0', sk: '0'.repeat(24), u: userPartition('acme', 'u'), t: 'acme#0#a', e, x: 1 }, idempotent: false },
    ]);
    const out = await writerHandler(
      {
        Records: [
          { messageId: 'ok', body: good, attributes: { ApproximateReceiveCount: '1' } },
          { messageId: 'bad', body: 'x', attributes: {} },
        ],
      } as unknown as SQSEvent,
      context,
    );
    expect(out).toEqual({ batchItemFailures: [{ itemIdentifier: 'bad' }] });
  });
});
