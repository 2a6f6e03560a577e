/**
 * The local runtime end to end on a hand-written cloud assembly (not the project's stack):
 * real emulators, worker-isolated functions, real HTTP, through the integration harness.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetQueueAttributesCommand, SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { startLocalStack, type LocalStack } from './harness';

jest.setTimeout(90_000);

const uri = (fn: string) => ({
  'Fn::Join': [
    '',
    [
      'arn:',
      { Ref: 'AWS::Partition' },
      ':apigateway:',
      { Ref: 'AWS::Region' },
      ':lambda:path/2015-03-31/functions/',
      { 'Fn::GetAtt': [fn, 'Arn'] },
      '/invocations',
    ],
  ],
});
const method = (httpMethod: string, resource: unknown, fn: string) => ({
  Type: 'AWS::ApiGateway::Method',
  Properties: {
    HttpMethod: httpMethod,
    AuthorizationType: 'NONE',
    ResourceId: resource,
    RestApiId: { Ref: 'Api' },
    Integration: { Type: 'AWS_PROXY', IntegrationHttpMethod: 'POST', Uri: uri(fn) },
  },
});
const fn = (asset: string, timeout: number, env: Record<string, unknown> = {}) => ({
  Type: 'AWS::Lambda::Function',
  Properties: {
    Handler: 'index.handler',
    Runtime: 'nodejs22.x',
    Timeout: timeout,
    MemorySize: 256,
    Environment: { Variables: { AUTH_ISSUER: 'https://cloud.example', ...env } },
  },
  Metadata: { 'aws:asset:path': asset, 'aws:asset:property': 'Code' },
});

const template = {
  Resources: {
    Table: {
      Type: 'AWS::DynamoDB::Table',
      Properties: {
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [
          { AttributeName: 'pk', AttributeType: 'S' },
          { AttributeName: 'g', AttributeType: 'S' },
        ],
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
        GlobalSecondaryIndexes: [
          { IndexName: 'byG', KeySchema: [{ AttributeName: 'g', KeyType: 'HASH' }], Projection: { ProjectionType: 'KEYS_ONLY' } },
        ],
      },
    },
    Queue: {
      Type: 'AWS::SQS::Queue',
      // Long enough that a worker's cold start on a loaded machine never outlives it (a success
      // would be received twice and counted twice); failures still reach the DLQ in ~10 s.
      Properties: { VisibilityTimeout: 5, RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': ['Dlq', 'Arn'] }, maxReceiveCount: 2 } },
    },
    Dlq: { Type: 'AWS::SQS::Queue', Properties: { MessageRetentionPeriod: 1209600 } },
    Keys: {
      Type: 'AWS::SecretsManager::Secret',
      Properties: {
        GenerateSecretString: {
          SecretStringTemplate: '{"current":"1"}',
          GenerateStringKey: 'k1',
          PasswordLength: 64,
          ExcludePunctuation: true,
        },
      },
    },
    ApiFn: fn('asset.api', 10, { TABLE_NAME: { Ref: 'Table' }, QUEUE_URL: { Ref: 'Queue' }, KEYS_SECRET_ARN: { Ref: 'Keys' } }),
    CrashFn: fn('asset.crash', 10),
    SlowFn: fn('asset.slow', 1),
    WriterFn: fn('asset.writer', 10, { TABLE_NAME: { Ref: 'Table' } }),
    CronFn: fn('asset.cron', 10),
    Mapping: {
      Type: 'AWS::Lambda::EventSourceMapping',
      Properties: {
        EventSourceArn: { 'Fn::GetAtt': ['Queue', 'Arn'] },
        FunctionName: { Ref: 'WriterFn' },
        BatchSize: 5,
        MaximumBatchingWindowInSeconds: 1,
        FunctionResponseTypes: ['ReportBatchItemFailures'],
      },
    },
    Api: { Type: 'AWS::ApiGateway::RestApi', Properties: { Name: 'Api' } },
    Stage: { Type: 'AWS::ApiGateway::Stage', Properties: { RestApiId: { Ref: 'Api' }, StageName: 'live' } },
    Items: {
      Type: 'AWS::ApiGateway::Resource',
      Properties: { ParentId: { 'Fn::GetAtt': ['Api', 'RootResourceId'] }, PathPart: 'items', RestApiId: { Ref: 'Api' } },
    },
    Item: { Type: 'AWS::ApiGateway::Resource', Properties: { ParentId: { Ref: 'Items' }, PathPart: '{id}', RestApiId: { Ref: 'Api' } } },
    Crash: {
      Type: 'AWS::ApiGateway::Resource',
      Properties: { ParentId: { 'Fn::GetAtt': ['Api', 'RootResourceId'] }, PathPart: 'crash', RestApiId: { Ref: 'Api' } },
    },
    Slow: {
      Type: 'AWS::ApiGateway::Resource',
      Properties: { ParentId: { 'Fn::GetAtt': ['Api', 'RootResourceId'] }, PathPart: 'slow', RestApiId: { Ref: 'Api' } },
    },
    ItemGet: method('GET', { Ref: 'Item' }, 'ApiFn'),
    ItemsPost: method('POST', { Ref: 'Items' }, 'ApiFn'),
    CrashGet: method('GET', { Ref: 'Crash' }, 'CrashFn'),
    SlowGet: method('GET', { Ref: 'Slow' }, 'SlowFn'),
    Impatient: {
      Type: 'AWS::ApiGateway::Resource',
      Properties: { ParentId: { 'Fn::GetAtt': ['Api', 'RootResourceId'] }, PathPart: 'impatient', RestApiId: { Ref: 'Api' } },
    },
    ImpatientGet: {
      Type: 'AWS::ApiGateway::Method',
      Properties: {
        HttpMethod: 'GET',
        ResourceId: { Ref: 'Impatient' },
        RestApiId: { Ref: 'Api' },
        Integration: { Type: 'AWS_PROXY', Uri: uri('SlowFn'), TimeoutInMillis: 300 },
      },
    },
    Daily: {
      Type: 'AWS::Events::Rule',
      Properties: {
        ScheduleExpression: 'rate(1 day)',
        State: 'ENABLED',
        Targets: [{ Arn: { 'Fn::GetAtt': ['CronFn', 'Arn'] }, Id: 'T0' }],
      },
    },
  },
};

const ASSETS: Record<string, string> = {
  'asset.api': `
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { JwtRsaVerifier } from 'aws-jwt-verify';
const secrets = new SecretsManagerClient({ endpoint: process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER });
const verifier = JwtRsaVerifier.create({ issuer: process.env.AUTH_ISSUER, audience: process.env.AUTH_AUDIENCE, jwksUri: process.env.AUTH_JWKS_URI });
export const handler = async (event) => {
  // aws-jwt-verify fetches JWKS over https only; the fixture loads the local JWKS itself.
  verifier.cacheJwks(await (await fetch(process.env.AUTH_JWKS_URI)).json());
  let claims;
  try {
    claims = await verifier.verify((event.headers.Authorization ?? event.headers.authorization ?? '').replace(/^Bearer /, ''));
  } catch (e) {
    return { statusCode: 401, body: JSON.stringify({ error: { code: 'unauthorized', message: e.message } }) };
  }
  const secret = await secrets.send(new GetSecretValueCommand({ SecretId: process.env.KEYS_SECRET_ARN }));
  return {
    statusCode: 200,
    headers: { 'content-type': 'application/json' },
    multiValueHeaders: { 'x-seen': ['a', 'b'] },
    body: JSON.stringify({ event, claims, secret: JSON.parse(secret.SecretString), env: { ...process.env } }),
  };
};`,
  'asset.crash': `export const handler = async () => { throw new Error('boom'); };`,
  'asset.slow': `export const handler = async () => { await new Promise((r) => setTimeout(r, 3000)); return { statusCode: 200, body: 'late' }; };`,
  'asset.writer': `
import { DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
const ddb = new DynamoDBClient({ endpoint: process.env.AWS_ENDPOINT_URL_DYNAMODB });
export const handler = async (event) => {
  const batchItemFailures = [];
  for (const r of event.Records) {
    if (r.body.includes('fail')) { batchItemFailures.push({ itemIdentifier: r.messageId }); continue; }
    await ddb.send(new PutItemCommand({ TableName: process.env.TABLE_NAME, Item: { pk: { S: r.body }, g: { S: 'x' }, src: { S: r.eventSourceARN } } }));
  }
  return { batchItemFailures };
};`,
  'asset.cron': `export const handler = async (event) => ({ ran: true, source: event.source, detailType: event['detail-type'] });`,
};

describe('local runtime (fixture assembly)', () => {
  let outDir: string;
  let stateDir: string;
  let stack: LocalStack;

  beforeAll(async () => {
    outDir = mkdtempSync(join(tmpdir(), 'local-assembly-'));
    stateDir = mkdtempSync(join(tmpdir(), 'local-state-'));
    writeFileSync(
      join(outDir, 'manifest.json'),
      JSON.stringify({
        version: '55.0.0',
        artifacts: {
          Fixture: {
            type: 'aws:cloudformation:stack',
            environment: 'aws://unknown-account/unknown-region',
            properties: { templateFile: 'Fixture.template.json' },
          },
        },
      }),
    );
    writeFileSync(join(outDir, 'Fixture.template.json'), JSON.stringify(template));
    for (const [asset, code] of Object.entries(ASSETS)) {
      mkdirSync(join(outDir, asset));
      writeFileSync(join(outDir, asset, 'index.mjs'), code);
    }
    stack = await startLocalStack({ outDir, stateDir });
  });

  afterAll(async () => {
    await stack?.stop();
    rmSync(outDir, { recursive: true, force: true });
    rmSync(stateDir, { recursive: true, force: true });
  });

  const token = () => stack.token({ tenant: 'acme', scope: 'items:read' });

  it('prints the ready line with the real port and reports what it runs', () => {
    expect(stack.output()).toMatch(new RegExp(`^ready on http://127\\.0\\.0\\.1:${stack.port}$`, 'm'));
    expect(stack.tables).toEqual({ Table: 'Table' });
    expect(Object.keys(stack.queues).sort()).toEqual(['Dlq', 'Queue']);
    expect(stack.routes.sort()).toEqual([
      'GET /crash → CrashFn',
      'GET /impatient → SlowFn',
      'GET /items/{id} → ApiFn',
      'GET /slow → SlowFn',
      'POST /items → ApiFn',
    ]);
  });

  it('serves the JWKS', async () => {
    const res = await fetch(`${stack.baseUrl}/_local/jwks.json`);
    const body = (await res.json()) as { keys: { kty: string; alg: string; use: string; kid: string }[] };
    expect(body.keys).toEqual([expect.objectContaining({ kty: 'RSA', alg: 'RS256', use: 'sig' })]);
  });

  it('keeps idle connections longer than a client does (65 s), so a reused one is never closed under it', async () => {
    const res = await fetch(`${stack.baseUrl}/_local/jwks.json`);
    await res.arrayBuffer();
    expect(res.headers.get('keep-alive')).toBe('timeout=65');
  });

  it('routes a request to its function with a proxy event, the local environment and a verified token', async () => {
    const res = await fetch(`${stack.baseUrl}/items/abc?x=1&x=2`, { headers: { authorization: `Bearer ${token()}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-seen')).toBe('a, b');
    const body = (await res.json()) as {
      event: Record<string, any>;
      claims: Record<string, unknown>;
      secret: Record<string, string>;
      env: Record<string, string>;
    };
    expect(body.event).toMatchObject({
      resource: '/items/{id}',
      path: '/items/abc',
      httpMethod: 'GET',
      pathParameters: { id: 'abc' },
      queryStringParameters: { x: '2' },
      multiValueQueryStringParameters: { x: ['1', '2'] },
      requestContext: { stage: 'live', resourcePath: '/items/{id}', path: '/live/items/abc', identity: { sourceIp: '127.0.0.1' } },
    });
    expect(body.claims).toMatchObject({ tenant_id: 'acme', scope: 'items:read' });
    expect(body.secret.current).toBe('1');
    expect(body.secret.k1).toMatch(/^[A-Za-z0-9]{64}$/);
    expect(body.env).toMatchObject({
      TABLE_NAME: 'Table',
      QUEUE_URL: stack.queues.Queue!.url,
      AUTH_ISSUER: `http://127.0.0.1:${stack.port}/_local/issuer`,
      AUTH_AUDIENCE: 'activity-tracker-local',
      AUTH_JWKS_URI: `http://127.0.0.1:${stack.port}/_local/jwks.json`,
      AUTH_SCOPE_PREFIX: '',
      AWS_LAMBDA_FUNCTION_NAME: 'ApiFn',
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '256',
      AWS_ENDPOINT_URL_DYNAMODB: stack.endpoints.dynamodb,
      AWS_ENDPOINT_URL_SQS: stack.endpoints.sqs,
      AWS_ENDPOINT_URL_SECRETS_MANAGER: stack.endpoints.secretsManager,
    });
    expect(body.env.PATH).toBeUndefined();
  });

  it('passes a POST body as a string', async () => {
    const res = await fetch(`${stack.baseUrl}/items`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token()}`, 'content-type': 'application/json' },
      body: '{"a":1}',
    });
    const body = (await res.json()) as { event: { body: string; isBase64Encoded: boolean } };
    expect(body.event).toMatchObject({ body: '{"a":1}', isBase64Encoded: false });
  });

  it('answers unknown routes, missing methods, crashes, timeouts, integration timeouts and oversized bodies like API Gateway, in the error shape', async () => {
    const call = async (path: string, init?: RequestInit) => {
      const res = await fetch(`${stack.baseUrl}${path}`, init);
      return { status: res.status, body: (await res.json()) as { error: { code: string } } };
    };
    expect(await call('/nope')).toMatchObject({ status: 404, body: { error: { code: 'not_found' } } });
    expect(await call('/items', { method: 'DELETE' })).toMatchObject({ status: 405, body: { error: { code: 'method_not_allowed' } } });
    expect(await call('/crash')).toEqual({ status: 502, body: { error: { code: 'internal', message: 'Internal server error' } } });
    expect(await call('/slow')).toMatchObject({ status: 502, body: { error: { code: 'internal' } } });
    expect(await call('/impatient')).toMatchObject({ status: 504, body: { error: { code: 'timeout' } } });
    expect(await call('/items', { method: 'POST', body: Buffer.alloc(10 * 1024 * 1024 + 1, 'a') })).toMatchObject({
      status: 413,
      body: { error: { code: 'payload_too_large' } },
    });
  });

  it('polls the queue: deletes successes, retries reported failures and lets SQS move them to the DLQ', async () => {
    const bodies = ['one', 'two', 'fail-1', 'three', 'fail-2', 'four'];
    await stack.sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: stack.queues.Queue!.url,
        Entries: bodies.map((b, i) => ({ Id: String(i), MessageBody: b })),
      }),
    );
    const deadline = Date.now() + 30_000;
    let dlq = 0;
    while (Date.now() < deadline) {
      const { Attributes } = await stack.sqs.send(
        new GetQueueAttributesCommand({ QueueUrl: stack.queues.Dlq!.url, AttributeNames: ['ApproximateNumberOfMessages'] }),
      );
      dlq = Number(Attributes?.ApproximateNumberOfMessages ?? 0);
      if (dlq === 2) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(dlq).toBe(2);
    const { Items } = await stack.ddb.send(new ScanCommand({ TableName: 'Table' }));
    expect(Items?.map((i) => i.pk?.S).sort()).toEqual(['four', 'one', 'three', 'two']);
    expect(Items?.[0]?.src?.S).toBe('arn:aws:sqs:us-east-1:000000000000:Queue');
    const stats = await stack.stats();
    expect(stats.pollers.Mapping).toMatchObject({
      queue: 'Queue',
      function: 'WriterFn',
      succeededRecords: 4,
      failedRecords: 4,
      functionErrors: 0,
    });
  });

  it('runs every schedule rule on demand with a scheduled event', async () => {
    expect(await stack.runSchedules()).toEqual([
      { rule: 'Daily', function: 'CronFn', result: { ran: true, source: 'aws.events', detailType: 'Scheduled Event' } },
    ]);
  });
});
