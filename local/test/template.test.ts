import { resolveFunctionEnvironment, secretArn } from '../template/intrinsics';
import { TemplateError, type ResolveContext } from '../template/model';
import { invokedFunctions, parseTemplate, queuesInCreationOrder } from '../template/read';

const lambdaUri = (fn: string) => ({
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

/** A small template in the shape `cdk synth` produces (not read from cdk.out). */
const fixture = () => ({
  Parameters: { BootstrapVersion: { Type: 'AWS::SSM::Parameter::Value<String>', Default: '/cdk-bootstrap/hnb659fds/version' } },
  Resources: {
    Table: {
      Type: 'AWS::DynamoDB::Table',
      Properties: {
        AttributeDefinitions: [
          { AttributeName: 'pk', AttributeType: 'S' },
          { AttributeName: 'sk', AttributeType: 'S' },
          { AttributeName: 'u', AttributeType: 'S' },
        ],
        BillingMode: 'PAY_PER_REQUEST',
        KeySchema: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' },
        ],
        GlobalSecondaryIndexes: [
          {
            IndexName: 'byUser',
            KeySchema: [
              { AttributeName: 'u', KeyType: 'HASH' },
              { AttributeName: 'sk', KeyType: 'RANGE' },
            ],
            Projection: { ProjectionType: 'INCLUDE', NonKeyAttributes: ['e'] },
          },
        ],
        TimeToLiveSpecification: { AttributeName: 'x', Enabled: true },
      },
      DeletionPolicy: 'Retain',
    },
    Queue: {
      Type: 'AWS::SQS::Queue',
      Properties: {
        VisibilityTimeout: 181,
        MessageRetentionPeriod: 345600,
        SqsManagedSseEnabled: true,
        RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': ['Dlq', 'Arn'] }, maxReceiveCount: 5 },
      },
    },
    Dlq: { Type: 'AWS::SQS::Queue', Properties: { MessageRetentionPeriod: 1209600 } },
    Keys: {
      Type: 'AWS::SecretsManager::Secret',
      Properties: {
        GenerateSecretString: {
          ExcludePunctuation: true,
          GenerateStringKey: 'k1',
          PasswordLength: 64,
          SecretStringTemplate: '{"current":"1"}',
        },
      },
    },
    Pool: { Type: 'AWS::Cognito::UserPool', Properties: {} },
    Ingest: {
      Type: 'AWS::Lambda::Function',
      Properties: {
        Handler: 'index.handler',
        Runtime: 'nodejs22.x',
        Timeout: 10,
        MemorySize: 512,
        Environment: {
          Variables: {
            QUEUE_URL: { Ref: 'Queue' },
            KEYS_SECRET_ARN: { Ref: 'Keys' },
            SHARD_COUNT: '4',
            AUTH_ISSUER: { 'Fn::GetAtt': ['Pool', 'ProviderURL'] },
            QUEUE_ARN: { 'Fn::GetAtt': ['Queue', 'Arn'] },
            TABLE_ARN: { 'Fn::GetAtt': ['Table', 'Arn'] },
            JOINED: { 'Fn::Join': ['/', [{ Ref: 'AWS::Region' }, { Ref: 'AWS::AccountId' }, { Ref: 'Table' }]] },
            SUBBED: { 'Fn::Sub': 'arn:${AWS::Partition}:x:${AWS::Region}:${Table}:${Queue.QueueName}:${!Literal}' },
            SUB_VARS: { 'Fn::Sub': ['${A}-${B}', { A: { Ref: 'Table' }, B: 'b' }] },
            SELECTED: { 'Fn::Select': [1, { 'Fn::Split': [',', 'a,b,c'] }] },
            BOOTSTRAP: { Ref: 'BootstrapVersion' },
          },
        },
      },
      Metadata: { 'aws:asset:path': 'asset.ingest', 'aws:asset:property': 'Code' },
    },
    Query: {
      Type: 'AWS::Lambda::Function',
      Properties: { Handler: 'index.handler', Runtime: 'nodejs22.x', Environment: { Variables: { TABLE_NAME: { Ref: 'Table' } } } },
      Metadata: { 'aws:asset:path': 'asset.query' },
    },
    Writer: {
      Type: 'AWS::Lambda::Function',
      Properties: { Handler: 'index.handler', Runtime: 'nodejs22.x', Timeout: 30 },
      Metadata: { 'aws:asset:path': 'asset.writer' },
    },
    Cleanup: {
      Type: 'AWS::Lambda::Function',
      Properties: { Handler: 'index.handler', Runtime: 'nodejs22.x', Timeout: 300 },
      Metadata: { 'aws:asset:path': 'asset.cleanup' },
    },
    WriterMapping: {
      Type: 'AWS::Lambda::EventSourceMapping',
      Properties: {
        BatchSize: 100,
        EventSourceArn: { 'Fn::GetAtt': ['Queue', 'Arn'] },
        FunctionName: { Ref: 'Writer' },
        FunctionResponseTypes: ['ReportBatchItemFailures'],
        MaximumBatchingWindowInSeconds: 1,
        ScalingConfig: { MaximumConcurrency: 10 },
      },
    },
    Api: { Type: 'AWS::ApiGateway::RestApi', Properties: { Name: 'RestApi' } },
    Stage: { Type: 'AWS::ApiGateway::Stage', Properties: { RestApiId: { Ref: 'Api' }, StageName: 'prod' } },
    V1: {
      Type: 'AWS::ApiGateway::Resource',
      Properties: { ParentId: { 'Fn::GetAtt': ['Api', 'RootResourceId'] }, PathPart: 'v1', RestApiId: { Ref: 'Api' } },
    },
    Events: { Type: 'AWS::ApiGateway::Resource', Properties: { ParentId: { Ref: 'V1' }, PathPart: 'events', RestApiId: { Ref: 'Api' } } },
    EventId: {
      Type: 'AWS::ApiGateway::Resource',
      Properties: { ParentId: { Ref: 'Events' }, PathPart: '{id}', RestApiId: { Ref: 'Api' } },
    },
    EventsPost: {
      Type: 'AWS::ApiGateway::Method',
      Properties: {
        HttpMethod: 'POST',
        AuthorizationType: 'NONE',
        ResourceId: { Ref: 'Events' },
        RestApiId: { Ref: 'Api' },
        Integration: { Type: 'AWS_PROXY', IntegrationHttpMethod: 'POST', Uri: lambdaUri('Ingest') },
      },
    },
    EventsGet: {
      Type: 'AWS::ApiGateway::Method',
      Properties: {
        HttpMethod: 'GET',
        ResourceId: { Ref: 'Events' },
        RestApiId: { Ref: 'Api' },
        Integration: { Type: 'AWS_PROXY', Uri: lambdaUri('Query') },
      },
    },
    EventGet: {
      Type: 'AWS::ApiGateway::Method',
      Properties: {
        HttpMethod: 'GET',
        ResourceId: { Ref: 'EventId' },
        RestApiId: { Ref: 'Api' },
        Integration: { Type: 'AWS_PROXY', Uri: lambdaUri('Query') },
      },
    },
    EventsOptions: {
      Type: 'AWS::ApiGateway::Method',
      Properties: { HttpMethod: 'OPTIONS', ResourceId: { Ref: 'Events' }, RestApiId: { Ref: 'Api' }, Integration: { Type: 'MOCK' } },
    },
    EventOptions: {
      Type: 'AWS::ApiGateway::Method',
      Properties: {
        HttpMethod: 'OPTIONS',
        AuthorizationType: 'NONE',
        ResourceId: { Ref: 'EventId' },
        RestApiId: { Ref: 'Api' },
        Integration: { Type: 'AWS_PROXY', Uri: lambdaUri('Query') },
      },
    },
    RootGet: {
      Type: 'AWS::ApiGateway::Method',
      Properties: {
        HttpMethod: 'GET',
        ResourceId: { 'Fn::GetAtt': ['Api', 'RootResourceId'] },
        RestApiId: { Ref: 'Api' },
        Integration: { Type: 'AWS_PROXY', Uri: lambdaUri('Query') },
      },
    },
    NotFound: {
      Type: 'AWS::ApiGateway::GatewayResponse',
      Properties: {
        ResponseType: 'MISSING_AUTHENTICATION_TOKEN',
        RestApiId: { Ref: 'Api' },
        StatusCode: '404',
        ResponseTemplates: { 'application/json': '{"error":{"code":"not_found","message":"Route not found"}}' },
        ResponseParameters: {
          'gatewayresponse.header.Access-Control-Allow-Origin': "'*'",
          'gatewayresponse.header.X-Echo': 'method.request.header.Origin',
        },
      },
    },
    Cron: {
      Type: 'AWS::Events::Rule',
      Properties: {
        ScheduleExpression: 'rate(1 day)',
        State: 'ENABLED',
        Targets: [{ Arn: { 'Fn::GetAtt': ['Cleanup', 'Arn'] }, Id: 'Target0' }],
      },
    },
    Paused: {
      Type: 'AWS::Events::Rule',
      Properties: {
        ScheduleExpression: 'cron(0 3 * * ? *)',
        State: 'DISABLED',
        Targets: [{ Arn: { 'Fn::GetAtt': ['Cleanup', 'Arn'] }, Id: 'T', Input: '{"dryRun":true}' }],
      },
    },
    Pattern: { Type: 'AWS::Events::Rule', Properties: { EventPattern: { source: ['x'] }, Targets: [] } },
  },
});

const ctx: ResolveContext = {
  region: 'us-east-1',
  accountId: '000000000000',
  stackName: 'ActivityTracker',
  queueUrl: (q) => `http://sqs.us-east-1.localhost:4566/000000000000/${q.queueName}`,
};

describe('parseTemplate', () => {
  const model = parseTemplate(fixture());

  it('reads tables with keys, indexes and the TTL attribute', () => {
    expect(model.tables).toEqual([
      {
        logicalId: 'Table',
        tableName: 'Table',
        keySchema: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' },
        ],
        attributeDefinitions: [
          { AttributeName: 'pk', AttributeType: 'S' },
          { AttributeName: 'sk', AttributeType: 'S' },
          { AttributeName: 'u', AttributeType: 'S' },
        ],
        globalSecondaryIndexes: [
          {
            indexName: 'byUser',
            keySchema: [
              { AttributeName: 'u', KeyType: 'HASH' },
              { AttributeName: 'sk', KeyType: 'RANGE' },
            ],
            projection: { projectionType: 'INCLUDE', nonKeyAttributes: ['e'] },
          },
        ],
        localSecondaryIndexes: [],
        ttlAttribute: 'x',
        billingMode: 'PAY_PER_REQUEST',
      },
    ]);
  });

  it('reads queue settings and resolves the redrive policy to the DLQ logical id', () => {
    const queue = model.queues.find((q) => q.logicalId === 'Queue');
    expect(queue).toEqual({
      logicalId: 'Queue',
      queueName: 'Queue',
      fifo: false,
      attributes: { VisibilityTimeout: '181', MessageRetentionPeriod: '345600' },
      visibilityTimeoutSeconds: 181,
      redrive: { deadLetterQueueLogicalId: 'Dlq', maxReceiveCount: 5 },
    });
    expect(model.queues.find((q) => q.logicalId === 'Dlq')?.visibilityTimeoutSeconds).toBe(30);
  });

  it('orders dead-letter queues before the queues that redrive into them', () => {
    expect(queuesInCreationOrder(model).map((q) => q.logicalId)).toEqual(['Dlq', 'Queue']);
  });

  it('reads the secret generation spec', () => {
    expect(model.secrets).toEqual([
      {
        logicalId: 'Keys',
        secretName: 'Keys',
        generate: {
          secretStringTemplate: '{"current":"1"}',
          generateStringKey: 'k1',
          passwordLength: 64,
          excludeCharacters: '',
          excludePunctuation: true,
          excludeNumbers: false,
          excludeLowercase: false,
          excludeUppercase: false,
          includeSpace: false,
          requireEachIncludedType: true,
        },
      },
    ]);
  });

  it('reads functions with handler, runtime, timeout, memory and asset folder; Lambda defaults otherwise', () => {
    const ingest = model.functions.find((f) => f.logicalId === 'Ingest');
    expect(ingest).toMatchObject({
      handler: 'index.handler',
      runtime: 'nodejs22.x',
      timeoutSeconds: 10,
      memoryMb: 512,
      assetPath: 'asset.ingest',
    });
    expect(model.functions.find((f) => f.logicalId === 'Query')).toMatchObject({ timeoutSeconds: 3, memoryMb: 128 });
  });

  it('reads the event source mapping from the template', () => {
    expect(model.eventSourceMappings).toEqual([
      {
        logicalId: 'WriterMapping',
        queueLogicalId: 'Queue',
        functionLogicalId: 'Writer',
        batchSize: 100,
        maximumBatchingWindowSeconds: 1,
        functionResponseTypes: ['ReportBatchItemFailures'],
        reportBatchItemFailures: true,
        maximumConcurrency: 10,
        enabled: true,
      },
    ]);
  });

  it('walks resources from the root to build routes, ignoring mock methods (an OPTIONS proxy method is a route)', () => {
    const routes = model.routes.map((r) => `${r.httpMethod} ${r.resourcePath} ${r.functionLogicalId}`).sort();
    expect(routes).toEqual([
      'GET / Query',
      'GET /v1/events Query',
      'GET /v1/events/{id} Query',
      'OPTIONS /v1/events/{id} Query',
      'POST /v1/events Ingest',
    ]);
    expect(model.apis).toEqual([{ logicalId: 'Api', name: 'RestApi', stageName: 'prod', binaryMediaTypes: [] }]);
  });

  it('reads gateway responses with static headers and headers mapped from the request', () => {
    expect(model.gatewayResponses).toEqual([
      {
        apiLogicalId: 'Api',
        responseType: 'MISSING_AUTHENTICATION_TOKEN',
        statusCode: 404,
        templates: { 'application/json': '{"error":{"code":"not_found","message":"Route not found"}}' },
        headers: { 'Access-Control-Allow-Origin': '*' },
        requestHeaders: { 'X-Echo': 'Origin' },
      },
    ]);
  });

  it('reads schedule rules (not event-pattern rules) with their targets, input and state', () => {
    expect(model.schedules).toEqual([
      {
        logicalId: 'Cron',
        ruleName: 'Cron',
        scheduleExpression: 'rate(1 day)',
        enabled: true,
        targets: [{ id: 'Target0', functionLogicalId: 'Cleanup' }],
      },
      {
        logicalId: 'Paused',
        ruleName: 'Paused',
        scheduleExpression: 'cron(0 3 * * ? *)',
        enabled: false,
        targets: [{ id: 'T', functionLogicalId: 'Cleanup', input: '{"dryRun":true}' }],
      },
    ]);
  });

  it('rejects an env var using an intrinsic the resolver does not support, naming function and variable', () => {
    const t = fixture();
    (t.Resources.Query.Properties.Environment.Variables as Record<string, unknown>).IMPORTED = { 'Fn::ImportValue': 'shared-table' };
    expect(() => parseTemplate(t)).toThrow(
      new TemplateError('Function Query, environment variable IMPORTED: intrinsic Fn::ImportValue is not supported by the local runtime'),
    );
  });

  it('leaves functions nothing invokes (deploy-time custom resources) unchecked and unstarted', () => {
    const t = fixture() as { Resources: Record<string, unknown> };
    t.Resources.Provider = {
      Type: 'AWS::Lambda::Function',
      Properties: { Handler: 'index.handler', Runtime: 'python3.12', Environment: { Variables: { X: { 'Fn::If': ['C', 'a', 'b'] } } } },
    };
    const m = parseTemplate(t);
    expect(
      invokedFunctions(m)
        .map((f) => f.logicalId)
        .sort(),
    ).toEqual(['Cleanup', 'Ingest', 'Query', 'Writer']);
  });

  it('does not poll for a function whose environment names a resource of a service that does not run locally', () => {
    const t = fixture() as { Resources: Record<string, any> };
    t.Resources.WorkGroup = { Type: 'AWS::Athena::WorkGroup', Properties: { Name: 'wg' } };
    t.Resources.Writer.Properties.Environment = { Variables: { WORKGROUP: { Ref: 'WorkGroup' } } };
    const m = parseTemplate(t);
    expect(m.eventSourceMappings).toEqual([]);
    expect(invokedFunctions(m).map((f) => f.logicalId)).not.toContain('Writer');
    expect(m.warnings.join('\n')).toContain(
      'Function Writer: WORKGROUP names AWS::Athena::WorkGroup WorkGroup, which does not run locally; its event sources (WriterMapping) are not polled',
    );
  });

  it('rejects a redrive policy that does not point at a queue of the template', () => {
    const t = fixture();
    t.Resources.Queue.Properties.RedrivePolicy.deadLetterTargetArn = { 'Fn::GetAtt': ['Table', 'Arn'] };
    expect(() => parseTemplate(t)).toThrow(/Queue Queue: RedrivePolicy.deadLetterTargetArn/);
  });
});

describe('resolveFunctionEnvironment', () => {
  const model = parseTemplate(fixture());
  const ingest = model.functions.find((f) => f.logicalId === 'Ingest')!;

  it('resolves Ref, Fn::GetAtt, Fn::Join, Fn::Sub, Fn::Select, Fn::Split, parameters and pseudo parameters', () => {
    const env = resolveFunctionEnvironment(model, ingest, ctx, new Set(['AUTH_ISSUER']));
    expect(env).toEqual({
      QUEUE_URL: 'http://sqs.us-east-1.localhost:4566/000000000000/Queue',
      KEYS_SECRET_ARN: secretArn('Keys', ctx),
      SHARD_COUNT: '4',
      QUEUE_ARN: 'arn:aws:sqs:us-east-1:000000000000:Queue',
      TABLE_ARN: 'arn:aws:dynamodb:us-east-1:000000000000:table/Table',
      JOINED: 'us-east-1/000000000000/Table',
      SUBBED: 'arn:aws:x:us-east-1:Table:Queue:${Literal}',
      SUB_VARS: 'Table-b',
      SELECTED: 'b',
      BOOTSTRAP: '/cdk-bootstrap/hnb659fds/version',
    });
  });

  it('gives a secret a stable ARN with a 6-character suffix', () => {
    expect(secretArn('Keys', ctx)).toMatch(/^arn:aws:secretsmanager:us-east-1:000000000000:secret:Keys-[A-Za-z0-9]{6}$/);
    expect(secretArn('Keys', ctx)).toBe(secretArn('Keys', ctx));
  });

  it('fails loudly on an attribute it cannot produce locally, unless the runtime overrides the variable', () => {
    expect(() => resolveFunctionEnvironment(model, ingest, ctx)).toThrow(
      new TemplateError(
        'Function Ingest, environment variable AUTH_ISSUER: Fn::GetAtt Pool.ProviderURL (AWS::Cognito::UserPool) is not supported by the local runtime',
      ),
    );
  });
});
