import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { ActivityTrackerStack } from '../../lib/activity-tracker-stack';
import { loadConfig } from '../../lib/config';
import { nagPacks } from '../../lib/nag';

/** The feature flags of cdk.json, so tests synthesize what `cdk synth` does. */
const CDK_JSON_CONTEXT = (
  JSON.parse(readFileSync(join(__dirname, '..', '..', 'cdk.json'), 'utf8')) as {
    context: Record<string, unknown>;
  }
).context;

interface SynthOptions {
  /** Run esbuild (slow); otherwise bundling is skipped. */
  readonly bundle?: boolean;
  readonly outdir?: string;
}

const synth = (context: Record<string, unknown> = {}, { bundle = false, outdir }: SynthOptions = {}) => {
  const app = new App({
    outdir,
    context: {
      ...CDK_JSON_CONTEXT,
      // The CLI turns path and asset metadata on by default; the local runtime relies on the latter.
      'aws:cdk:enable-path-metadata': true,
      'aws:cdk:enable-asset-metadata': true,
      ...(bundle ? {} : { 'aws:cdk:bundling-stacks': [] }),
      ...context,
    },
  });
  const config = loadConfig((key) => app.node.tryGetContext(key));
  const stack = new ActivityTrackerStack(app, 'ActivityTracker', { config });
  return { app, stack, template: Template.fromStack(stack) };
};

let defaultTemplate: Template | undefined;
const defaults = (): Template => (defaultTemplate ??= synth().template);

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
type FunctionName = 'Ingest' | 'Query' | 'Admin' | 'Writer' | 'Cleanup';
const FUNCTION_NAMES: FunctionName[] = ['Ingest', 'Query', 'Admin', 'Writer', 'Cleanup'];

const resourceAt = (template: Template, type: string, path: string): { id: string; resource: Json } => {
  const found = Object.entries(template.findResources(type)).filter(([, resource]) => resource.Metadata?.['aws:cdk:path'] === path);
  expect(found).toHaveLength(1);
  const [id, resource] = found[0]!;
  return { id, resource };
};

const fn = (template: Template, name: FunctionName) =>
  resourceAt(template, 'AWS::Lambda::Function', `ActivityTracker/Functions/${name}/Resource`);

const eventsQueue = (template: Template) => resourceAt(template, 'AWS::SQS::Queue', 'ActivityTracker/Queue/Queue/Resource');
const deadLetterQueue = (template: Template) => resourceAt(template, 'AWS::SQS::Queue', 'ActivityTracker/Queue/DeadLetterQueue/Resource');

/** Every statement of the identity policies attached to the function's role. */
const statementsOf = (template: Template, name: FunctionName): Json[] => {
  const roleId = fn(template, name).resource.Properties.Role['Fn::GetAtt'][0] as string;
  const policies = Object.values(template.findResources('AWS::IAM::Policy')).filter((policy) =>
    (policy.Properties.Roles as Json[]).some((role) => role.Ref === roleId),
  );
  return policies.flatMap((policy) => policy.Properties.PolicyDocument.Statement as Json[]);
};

const actionsOf = (template: Template, name: FunctionName): string[] =>
  statementsOf(template, name).flatMap((statement) => [statement.Action].flat() as string[]);

/** "METHOD /path -> FunctionName" for every API method. */
const routesOf = (template: Template): string[] => {
  const resources = template.findResources('AWS::ApiGateway::Resource');
  const pathOf = (id: string): string => {
    const resource = resources[id];
    if (!resource) return '';
    const parent = resource.Properties.ParentId as Json;
    return `${parent.Ref ? pathOf(parent.Ref as string) : ''}/${resource.Properties.PathPart as string}`;
  };
  const functionIds = new Map(FUNCTION_NAMES.map((name) => [fn(template, name).id, name]));
  return Object.values(template.findResources('AWS::ApiGateway::Method')).map((method) => {
    const uriParts = method.Properties.Integration.Uri['Fn::Join'][1] as Json[];
    const target = uriParts.find((part) => part['Fn::GetAtt'])?.['Fn::GetAtt'][0] as string;
    expect(method.Properties.Integration.Type).toBe('AWS_PROXY');
    return `${method.Properties.HttpMethod as string} ${pathOf(method.Properties.ResourceId.Ref as string)} -> ${functionIds.get(target) ?? (target.startsWith('StatsQuery') ? 'StatsQuery' : target.startsWith('ViewerFunction') ? 'Viewer' : undefined)}`;
  });
};

describe('ActivityTracker stack', () => {
  describe('REST API', () => {
    it('routes ingest, query and the lifecycle routes to their functions, as Lambda proxy integrations', () => {
      expect(routesOf(defaults()).sort()).toEqual(
        [
          'DELETE /v1/events/{id} -> Admin',
          'GET /v1/erasures/{id} -> Admin',
          'GET /v1/events -> Query',
          'GET /v1/events/{id} -> Query',
          'GET /v1/stats -> StatsQuery',
          'POST /v1/erasures -> Admin',
          'POST /v1/events -> Ingest',
          'POST /v1/events/{id}/restore -> Admin',
          'GET /v1/exports/{id} -> Admin',
          'POST /v1/exports -> Admin',
          'POST /v1/viewer-sessions -> Admin',
          'GET /viewer/{file} -> Viewer',
        ].sort(),
      );
    });

    it('serves the viewer module without an authorizer, from a function with no environment beyond its telemetry', () => {
      const template = defaults();
      const methods = Object.values(template.findResources('AWS::ApiGateway::Method'));
      const open = methods.filter((m) => m.Properties.AuthorizationType === 'NONE' && m.Properties.HttpMethod !== 'OPTIONS');
      expect(open).toHaveLength(1);
      expect(routesOf(template).filter((r) => r.endsWith('-> Viewer'))).toEqual(['GET /viewer/{file} -> Viewer']);
      const [, viewer] = Object.entries(template.findResources('AWS::Lambda::Function')).find(([id]) => id.startsWith('ViewerFunction'))!;
      expect(Object.keys(viewer.Properties.Environment.Variables).filter((k) => !/^(POWERTOOLS_|NODE_OPTIONS)/.test(k))).toEqual([]);
      expect(viewer.Properties.MemorySize).toBe(128);
    });

    it('traces the stage with X-Ray and writes JSON access logs to a log group with retention', () => {
      const template = defaults();
      template.hasResourceProperties('AWS::ApiGateway::Stage', {
        TracingEnabled: true,
        AccessLogSetting: {
          DestinationArn: Match.anyValue(),
          Format: Match.serializedJson(Match.objectLike({ requestId: '$context.requestId', status: '$context.status' })),
        },
      });
      const accessLogs = resourceAt(template, 'AWS::Logs::LogGroup', 'ActivityTracker/Api/AccessLogs/Resource');
      expect(accessLogs.resource.Properties.RetentionInDays).toBe(30);
    });

    it('creates the account-level CloudWatch role that API Gateway logging needs, and keeps it on deletion', () => {
      defaults().hasResource('AWS::ApiGateway::Account', { DeletionPolicy: 'Retain' });
    });

    it('throttles the stage with the default limits and enables metrics', () => {
      defaults().hasResourceProperties('AWS::ApiGateway::Stage', {
        MethodSettings: Match.arrayWith([
          Match.objectLike({
            HttpMethod: '*',
            ResourcePath: '/*',
            ThrottlingRateLimit: 100,
            ThrottlingBurstLimit: 200,
            MetricsEnabled: true,
          }),
        ]),
      });
    });

    it('throttles the stage with the limits given in context', () => {
      synth({ apiThrottleRateLimit: '25', apiThrottleBurstLimit: '50' }).template.hasResourceProperties('AWS::ApiGateway::Stage', {
        MethodSettings: Match.arrayWith([Match.objectLike({ ThrottlingRateLimit: 25, ThrottlingBurstLimit: 50 })]),
      });
    });

    it('answers gateway errors in the API error shape, with no internals in 5xx bodies', () => {
      const template = defaults();
      for (const type of ['DEFAULT_4XX', 'DEFAULT_5XX', 'THROTTLED', 'MISSING_AUTHENTICATION_TOKEN']) {
        template.hasResourceProperties('AWS::ApiGateway::GatewayResponse', {
          ResponseType: type,
          ResponseTemplates: { 'application/json': Match.stringLikeRegexp('^\\{"error":\\{"code":"[a-z_]+","message":') },
        });
      }
      template.hasResourceProperties('AWS::ApiGateway::GatewayResponse', {
        ResponseType: 'DEFAULT_5XX',
        ResponseTemplates: { 'application/json': Match.not(Match.stringLikeRegexp('\\$context')) },
      });
      template.hasResourceProperties('AWS::ApiGateway::GatewayResponse', {
        ResponseType: 'MISSING_AUTHENTICATION_TOKEN',
        StatusCode: '404',
      });
    });
  });

  describe('functions', () => {
    it('runs every function on nodejs24.x, arm64, with active tracing and its own log group with retention', () => {
      const template = defaults();
      const serviceFunctions = Object.values(template.findResources('AWS::Lambda::Function')).filter((r) =>
        String(r.Metadata?.['aws:cdk:path']).startsWith('ActivityTracker/Functions/'),
      );
      // The five, and the token authorizer (256 MB; in Cognito mode it guards the viewer's reads).
      expect(serviceFunctions).toHaveLength(FUNCTION_NAMES.length + 1);
      const authorizer = serviceFunctions.find((r) => r.Metadata?.['aws:cdk:path'] === 'ActivityTracker/Functions/Authorizer/Resource');
      expect(authorizer?.Properties).toMatchObject({ Runtime: 'nodejs24.x', Architectures: ['arm64'], MemorySize: 256 });
      for (const name of FUNCTION_NAMES) {
        const { resource } = fn(template, name);
        expect(resource.Properties).toMatchObject({
          Runtime: 'nodejs24.x',
          Architectures: ['arm64'],
          TracingConfig: { Mode: 'Active' },
          Handler: 'index.handler',
          MemorySize: 512,
        });
        const logGroupId = resource.Properties.LoggingConfig.LogGroup.Ref as string;
        const logGroup = template.findResources('AWS::Logs::LogGroup')[logGroupId];
        expect(logGroup?.Properties.RetentionInDays).toBe(30);
        expect(logGroup?.DeletionPolicy).toBe('Delete');
      }
    });

    it('applies logRetentionDays from context to every log group', () => {
      const template = synth({ logRetentionDays: '7' }).template;
      const logGroups = Object.values(template.findResources('AWS::Logs::LogGroup'));
      // One per function (the Cognito trigger included) and the API access log.
      expect(logGroups).toHaveLength(Object.keys(template.findResources('AWS::Lambda::Function')).length + 1);
      for (const logGroup of logGroups) expect(logGroup.Properties.RetentionInDays).toBe(7);
    });

    it('times out the API functions at 10 s, the writer at writerTimeoutSeconds and the cleanup at 15 min', () => {
      const template = synth({ writerTimeoutSeconds: '45' }).template;
      expect(fn(template, 'Ingest').resource.Properties.Timeout).toBe(10);
      expect(fn(template, 'Query').resource.Properties.Timeout).toBe(10);
      expect(fn(template, 'Writer').resource.Properties.Timeout).toBe(45);
      expect(fn(template, 'Admin').resource.Properties.Timeout).toBe(10);
      expect(fn(template, 'Cleanup').resource.Properties.Timeout).toBe(900);
    });

    it('gives each function exactly the environment of the contract', () => {
      const template = defaults();
      const shared = [
        'NODE_OPTIONS',
        'POWERTOOLS_LOG_LEVEL',
        'POWERTOOLS_LOGGER_SAMPLE_RATE',
        'POWERTOOLS_METRICS_NAMESPACE',
        'POWERTOOLS_SERVICE_NAME',
      ];
      // The gateway verifies tokens: the functions only read the caller from its authorizer.
      const auth = ['AUTH_SCOPE_PREFIX', 'AUTH_TENANT_CLAIM'];
      // Per-tenant fairness limits on every API function (ingest's TABLE_NAME is for the rate counters only).
      const rates = ['TENANT_REQUESTS_PER_SECOND', 'TENANT_EVENTS_PER_SECOND'];
      const expected: Record<FunctionName, string[]> = {
        Ingest: [
          ...shared,
          ...auth,
          ...rates,
          'TABLE_NAME',
          'QUEUE_URL',
          'KEYS_SECRET_ARN',
          'SHARD_COUNT',
          'RETENTION_DAYS',
          'MAX_EVENTS_PER_REQUEST',
        ],
        Query: [...shared, ...auth, ...rates, 'TABLE_NAME', 'KEYS_SECRET_ARN', 'SHARD_COUNT', 'RETENTION_DAYS', 'DELETE_GRACE_DAYS'],
        Admin: [
          ...shared,
          ...auth,
          ...rates,
          'TABLE_NAME',
          'KEYS_SECRET_ARN',
          'DELETE_GRACE_DAYS',
          'MAX_OPEN_ERASURES',
          // Audit records (core/audit-records.ts) go through the events queue.
          'QUEUE_URL',
          'SHARD_COUNT',
          'RETENTION_DAYS',
          'EXPORT_BUCKET',
          'EXPORT_QUEUE_URL',
          'EXPORT_EXPIRY_DAYS',
          'EXPORT_URL_SECONDS',
        ],
        Writer: [...shared, 'TABLE_NAME', 'QUEUE_VISIBILITY_TIMEOUT_SECONDS'],
        // QUEUE_URL: erasure completions are audit records, sent through the events queue.
        Cleanup: [...shared, 'TABLE_NAME', 'SHARD_COUNT', 'RETENTION_DAYS', 'DELETE_GRACE_DAYS', 'CLEANUP_CHUNK_SIZE', 'QUEUE_URL'],
      };
      for (const name of FUNCTION_NAMES) {
        const variables = fn(template, name).resource.Properties.Environment.Variables as Json;
        expect(Object.keys(variables).sort()).toEqual([...expected[name]].sort());
        expect(variables).toMatchObject({
          NODE_OPTIONS: '--enable-source-maps',
          POWERTOOLS_SERVICE_NAME: 'activity-tracker',
          POWERTOOLS_METRICS_NAMESPACE: 'ActivityTracker',
          POWERTOOLS_LOG_LEVEL: 'INFO',
        });
      }
    });

    it('passes data settings from context as strings', () => {
      const template = synth({ shardCount: '8', retentionDays: '90', deleteGraceDays: '14', logLevel: 'debug' }).template;
      expect(fn(template, 'Query').resource.Properties.Environment.Variables).toMatchObject({
        SHARD_COUNT: '8',
        RETENTION_DAYS: '90',
        DELETE_GRACE_DAYS: '14',
        POWERTOOLS_LOG_LEVEL: 'DEBUG',
      });
    });

    it('points TABLE_NAME, QUEUE_URL and KEYS_SECRET_ARN at the stack resources', () => {
      const template = defaults();
      const table = resourceAt(template, 'AWS::DynamoDB::Table', 'ActivityTracker/Storage/Table/Resource').id;
      const secret = resourceAt(template, 'AWS::SecretsManager::Secret', 'ActivityTracker/Keys/Secret/Resource').id;
      expect(fn(template, 'Ingest').resource.Properties.Environment.Variables).toMatchObject({
        QUEUE_URL: { Ref: eventsQueue(template).id },
        KEYS_SECRET_ARN: { Ref: secret },
      });
      for (const name of ['Query', 'Writer', 'Cleanup'] as const) {
        expect(fn(template, name).resource.Properties.Environment.Variables.TABLE_NAME).toEqual({ Ref: table });
      }
    });

    it("gives the writer the queue's visibility timeout (a first receive older than it may be a redrive)", () => {
      for (const [context, seconds] of [
        [{}, '181'],
        [{ writerTimeoutSeconds: '5', writerBatchWindowSeconds: '2' }, '32'],
      ] as const) {
        const template = synth(context).template;
        expect(eventsQueue(template).resource.Properties.VisibilityTimeout).toBe(Number(seconds));
        expect(fn(template, 'Writer').resource.Properties.Environment.Variables.QUEUE_VISIBILITY_TIMEOUT_SECONDS).toBe(seconds);
      }
    });

    it('bundles each handler into an ESM index.mjs in the asset folder named by aws:asset:path', () => {
      const outdir = mkdtempSync(join(tmpdir(), 'activity-tracker-cdk-'));
      try {
        const { app, template } = synth({}, { bundle: true, outdir });
        app.synth();
        for (const name of FUNCTION_NAMES) {
          const assetPath = fn(template, name).resource.Metadata['aws:asset:path'] as string;
          expect(assetPath).toMatch(/^asset\.[0-9a-f]{64}$/);
          const bundle = join(outdir, assetPath, 'index.mjs');
          expect(existsSync(bundle)).toBe(true);
          expect(existsSync(`${bundle}.map`)).toBe(true);
          expect(readFileSync(bundle, 'utf8')).toMatch(/^import \{ createRequire \} from 'module';/);
        }
      } finally {
        rmSync(outdir, { recursive: true, force: true });
      }
    }, 60_000);
  });

  describe('queue', () => {
    it('redrives to the dead-letter queue after maxReceiveCount (at least 5) deliveries', () => {
      const template = defaults();
      expect(eventsQueue(template).resource.Properties.RedrivePolicy).toEqual({
        deadLetterTargetArn: { 'Fn::GetAtt': [deadLetterQueue(template).id, 'Arn'] },
        maxReceiveCount: 5,
      });
      expect(eventsQueue(synth({ maxReceiveCount: '8' }).template).resource.Properties.RedrivePolicy.maxReceiveCount).toBe(8);
    });

    it('keeps dead letters longer than the queue keeps messages', () => {
      const template = defaults();
      const queueRetention = eventsQueue(template).resource.Properties.MessageRetentionPeriod as number;
      const dlqRetention = deadLetterQueue(template).resource.Properties.MessageRetentionPeriod as number;
      expect(queueRetention).toBe(4 * 24 * 3600);
      expect(dlqRetention).toBe(14 * 24 * 3600);
      expect(dlqRetention).toBeGreaterThan(queueRetention);
    });

    it.each([{}, { writerTimeoutSeconds: '90', writerBatchWindowSeconds: '20' }])(
      'sets the visibility timeout to at least six times the writer timeout (%j)',
      (context) => {
        const template = synth(context).template;
        const writerTimeout = fn(template, 'Writer').resource.Properties.Timeout as number;
        expect(eventsQueue(template).resource.Properties.VisibilityTimeout).toBeGreaterThanOrEqual(6 * writerTimeout);
      },
    );

    it('encrypts both queues with SQS-managed keys and denies requests without TLS', () => {
      const template = defaults();
      for (const queue of [eventsQueue(template), deadLetterQueue(template)]) {
        expect(queue.resource.Properties.SqsManagedSseEnabled).toBe(true);
        template.hasResourceProperties('AWS::SQS::QueuePolicy', {
          Queues: [{ Ref: queue.id }],
          PolicyDocument: {
            Statement: Match.arrayWith([
              Match.objectLike({
                Effect: 'Deny',
                Action: 'sqs:*',
                Condition: { Bool: { 'aws:SecureTransport': 'false' } },
              }),
            ]),
          },
        });
      }
    });
  });

  describe('writer event source', () => {
    it('reports batch item failures and uses the default batching', () => {
      defaults().hasResourceProperties('AWS::Lambda::EventSourceMapping', {
        EventSourceArn: { 'Fn::GetAtt': [eventsQueue(defaults()).id, 'Arn'] },
        FunctionName: { Ref: fn(defaults(), 'Writer').id },
        FunctionResponseTypes: ['ReportBatchItemFailures'],
        BatchSize: 100,
        MaximumBatchingWindowInSeconds: 1,
        ScalingConfig: { MaximumConcurrency: 10 },
      });
    });

    it('takes batch size, batching window and maximum concurrency from context', () => {
      synth({ writerBatchSize: '250', writerBatchWindowSeconds: '7', writerMaxConcurrency: '20' }).template.hasResourceProperties(
        'AWS::Lambda::EventSourceMapping',
        {
          FunctionResponseTypes: ['ReportBatchItemFailures'],
          BatchSize: 250,
          MaximumBatchingWindowInSeconds: 7,
          ScalingConfig: { MaximumConcurrency: 20 },
        },
      );
    });
  });

  describe('table', () => {
    it('is Standard-IA by default (an audit trail is kept for months), Standard when `tableClass` says so', () => {
      defaults().hasResourceProperties('AWS::DynamoDB::Table', { TableClass: 'STANDARD_INFREQUENT_ACCESS' });
      synth({ tableClass: 'STANDARD' }).template.hasResourceProperties('AWS::DynamoDB::Table', { TableClass: 'STANDARD' });
      expect(() => synth({ tableClass: 'GLACIER' })).toThrow(/tableClass/);
    });

    it('keys items by pk/sk with keys-only byUser and byType and sparse byPurge indexes, TTL on x, on-demand billing and PITR', () => {
      defaults().hasResourceProperties('AWS::DynamoDB::Table', {
        KeySchema: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' },
        ],
        AttributeDefinitions: Match.arrayWith([
          { AttributeName: 'pk', AttributeType: 'S' },
          { AttributeName: 'sk', AttributeType: 'S' },
          { AttributeName: 'u', AttributeType: 'S' },
          { AttributeName: 't', AttributeType: 'S' },
        ]),
        GlobalSecondaryIndexes: [
          {
            IndexName: 'byUser',
            KeySchema: [
              { AttributeName: 'u', KeyType: 'HASH' },
              { AttributeName: 'sk', KeyType: 'RANGE' },
            ],
            Projection: { ProjectionType: 'KEYS_ONLY' },
          },
          {
            IndexName: 'byType',
            KeySchema: [
              { AttributeName: 't', KeyType: 'HASH' },
              { AttributeName: 'sk', KeyType: 'RANGE' },
            ],
            Projection: { ProjectionType: 'KEYS_ONLY' },
          },
          {
            IndexName: 'byPurge',
            KeySchema: [
              { AttributeName: 'p', KeyType: 'HASH' },
              { AttributeName: 'd', KeyType: 'RANGE' },
            ],
            Projection: { ProjectionType: 'KEYS_ONLY' },
          },
        ],
        TimeToLiveSpecification: { AttributeName: 'x', Enabled: true },
        BillingMode: 'PAY_PER_REQUEST',
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      });
    });

    it('is provisioned with target-tracking auto scaling on the table, every index and the counters table when `capacityMode=provisioned`', () => {
      const { template } = synth({
        capacityMode: 'provisioned',
        provisionedMinWriteUnits: 10,
        provisionedMaxWriteUnits: 400,
        provisionedTargetUtilization: 60,
      });
      template.hasResourceProperties('AWS::DynamoDB::Table', {
        // PROVISIONED is CloudFormation's default: CDK leaves BillingMode out.
        BillingMode: Match.absent(),
        ProvisionedThroughput: { ReadCapacityUnits: 5, WriteCapacityUnits: 10 },
        GlobalSecondaryIndexes: Match.arrayWith([
          Match.objectLike({ IndexName: 'byUser', ProvisionedThroughput: { ReadCapacityUnits: 5, WriteCapacityUnits: 10 } }),
        ]),
      });
      // The stats counters table follows the events table's capacity mode (on demand by default).
      const counters = (t: Template) => resourceAt(t, 'AWS::DynamoDB::Table', 'ActivityTracker/Stats/Counters/Resource').resource;
      expect(counters(template).Properties.BillingMode).toBeUndefined();
      expect(counters(template).Properties.ProvisionedThroughput).toEqual({ ReadCapacityUnits: 5, WriteCapacityUnits: 10 });
      expect(counters(defaults()).Properties.BillingMode).toBe('PAY_PER_REQUEST');
      const targets = Object.values(template.findResources('AWS::ApplicationAutoScaling::ScalableTarget')).map((r) => r.Properties as Json);
      // Reads and writes of the events table and of byUser, byType and byPurge; of the counters table.
      expect(targets).toHaveLength(10);
      const writes = targets.filter((t) => String(t.ScalableDimension).endsWith('WriteCapacityUnits'));
      expect(writes.map((t) => [t.ScalableDimension, t.MinCapacity, t.MaxCapacity]).sort()).toEqual(
        [
          ['dynamodb:index:WriteCapacityUnits', 10, 400],
          ['dynamodb:index:WriteCapacityUnits', 10, 400],
          ['dynamodb:index:WriteCapacityUnits', 10, 400],
          ['dynamodb:table:WriteCapacityUnits', 10, 400],
          ['dynamodb:table:WriteCapacityUnits', 10, 400],
        ].sort(),
      );
      // Each table's targets name that table.
      const tables = Object.keys(template.findResources('AWS::DynamoDB::Table'));
      const scaled = targets.map((t) => JSON.stringify(t.ResourceId));
      for (const table of tables) expect(scaled.some((id) => id.includes(table))).toBe(true);
      const policies = Object.values(template.findResources('AWS::ApplicationAutoScaling::ScalingPolicy')).map((r) => r.Properties as Json);
      expect(policies).toHaveLength(10);
      for (const policy of policies) expect(policy.TargetTrackingScalingPolicyConfiguration.TargetValue).toBe(60);
      expect(() => synth({ capacityMode: 'provisioned', provisionedMinReadUnits: 50, provisionedMaxReadUnits: 10 })).toThrow(
        /provisionedMaxReadUnits.*at least provisionedMinReadUnits/,
      );
      expect(() => synth({ capacityMode: 'reserved' })).toThrow(/capacityMode/);
      expect(Object.keys(defaults().findResources('AWS::ApplicationAutoScaling::ScalableTarget'))).toEqual([]);
    });

    it('turns PITR off only when `pointInTimeRecovery=off`, and cdk-nag reports a table without it unless that is why', () => {
      const { stack, template } = synth({ pointInTimeRecovery: 'off' });
      template.hasResourceProperties('AWS::DynamoDB::Table', {
        GlobalSecondaryIndexes: Match.anyValue(),
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: false },
      });
      const findings = nagPacks().flatMap((pack) => pack.validateScope(stack).violations.map((v) => v.ruleName));
      expect(findings.filter((rule) => rule.includes('DDB3'))).toEqual([]);
      expect(() => synth({ pointInTimeRecovery: 'maybe' })).toThrow(/pointInTimeRecovery/);
    });

    it('retains the table on deletion and replacement', () => {
      defaults().hasResource('AWS::DynamoDB::Table', { DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
    });

    it('gives the stats counters table TTL on x and no PITR (derived data, rebuilt by the recount), which cdk-nag accepts for it alone', () => {
      const { stack, template } = synth();
      template.hasResourceProperties('AWS::DynamoDB::Table', {
        KeySchema: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' },
        ],
        GlobalSecondaryIndexes: Match.absent(),
        TimeToLiveSpecification: { AttributeName: 'x', Enabled: true },
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: false },
      });
      const findings = nagPacks().flatMap((pack) => pack.validateScope(stack).violations.map((v) => v.ruleName));
      expect(findings.filter((rule) => rule.includes('DDB3'))).toEqual([]);
    });
  });

  describe('keys secret', () => {
    it('generates {"current":"1","k1":<64 chars>} and is retained on deletion', () => {
      defaults().hasResource('AWS::SecretsManager::Secret', {
        Properties: Match.objectLike({
          GenerateSecretString: {
            SecretStringTemplate: '{"current":"1"}',
            GenerateStringKey: 'k1',
            PasswordLength: 64,
            ExcludePunctuation: true,
          },
        }),
        DeletionPolicy: 'Retain',
        UpdateReplacePolicy: 'Retain',
      });
    });
  });

  describe('cleanup schedule', () => {
    it('runs the cleanup function every day by default', () => {
      defaults().hasResourceProperties('AWS::Events::Rule', {
        ScheduleExpression: 'rate(1 day)',
        State: 'ENABLED',
        Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [fn(defaults(), 'Cleanup').id, 'Arn'] } })],
      });
    });

    it('uses cleanupSchedule from context', () => {
      synth({ cleanupSchedule: 'cron(0 3 * * ? *)' }).template.hasResourceProperties('AWS::Events::Rule', {
        ScheduleExpression: 'cron(0 3 * * ? *)',
      });
    });
  });

  describe('IAM', () => {
    it('lets the writer write the table and check which keys exist, but not query it', () => {
      const actions = actionsOf(defaults(), 'Writer');
      expect(actions).toEqual(expect.arrayContaining(['dynamodb:PutItem', 'dynamodb:BatchGetItem']));
      for (const read of ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:Scan', 'dynamodb:BatchWriteItem']) {
        expect(actions).not.toContain(read);
      }
      expect(actions.filter((action) => action.startsWith('secretsmanager:'))).toEqual([]);
      expect(actions).not.toContain('sqs:SendMessage');
    });

    // UpdateItem is there for the rate counters only (a LeadingKeys condition: test/infra/iam.test.ts).
    it('lets the query function read the table and the keys but not write events', () => {
      const actions = actionsOf(defaults(), 'Query');
      expect(actions).toEqual(expect.arrayContaining(['dynamodb:Query', 'dynamodb:GetItem', 'secretsmanager:GetSecretValue']));
      for (const write of ['dynamodb:PutItem', 'dynamodb:BatchWriteItem', 'dynamodb:DeleteItem']) {
        expect(actions).not.toContain(write);
      }
      expect(actions.filter((action) => action.startsWith('sqs:'))).toEqual([]);
    });

    it('lets ingest send to the queue and read the keys, and in the table only update (the rate counters)', () => {
      const actions = actionsOf(defaults(), 'Ingest');
      expect(actions).toEqual(expect.arrayContaining(['sqs:SendMessage', 'secretsmanager:GetSecretValue']));
      expect(actions.filter((action) => action.startsWith('dynamodb:'))).toEqual(['dynamodb:UpdateItem']);
      expect(actions).not.toContain('sqs:ReceiveMessage');
    });

    it('lets the cleanup read and delete table items and send erasure-completion records, and nothing else', () => {
      const actions = actionsOf(defaults(), 'Cleanup');
      expect(actions).toEqual(expect.arrayContaining(['dynamodb:Query', 'dynamodb:DeleteItem', 'dynamodb:UpdateItem']));
      expect(actions).not.toContain('dynamodb:BatchWriteItem');
      expect(
        actions.filter((action) => !/^(dynamodb|xray):/.test(action) && !['logs:CreateLogStream', 'logs:PutLogEvents'].includes(action)),
        // SendMessage: erasure completions are audit records, sent through the events queue.
      ).toEqual(['sqs:SendMessage']);
    });

    it('grants no wildcard actions, and resource "*" only for X-Ray and a stream source\'s ListStreams', () => {
      const template = defaults();
      const statements = [
        ...Object.values(template.findResources('AWS::IAM::Policy')).flatMap(
          (policy) => policy.Properties.PolicyDocument.Statement as Json[],
        ),
        ...Object.values(template.findResources('AWS::IAM::Role')).flatMap((role) =>
          ((role.Properties.Policies ?? []) as Json[]).flatMap((policy) => policy.PolicyDocument.Statement as Json[]),
        ),
      ];
      expect(statements.length).toBeGreaterThan(0);
      for (const statement of statements) {
        const actions = [statement.Action].flat() as string[];
        for (const action of actions) {
          expect(action).not.toBe('*');
          expect(action).not.toMatch(/^[a-z0-9-]+:\*$/);
        }
        if (statement.Resource === '*') {
          // X-Ray, and ListStreams for the stream event source: neither has resource-level permissions.
          expect(actions.every((action) => action.startsWith('xray:') || action === 'dynamodb:ListStreams')).toBe(true);
        }
      }
    });
  });

  describe('auth', () => {
    it('creates a Cognito user pool with a resource server and the five API scopes by default', () => {
      const template = defaults();
      template.hasResource('AWS::Cognito::UserPool', {
        Properties: Match.objectLike({ AdminCreateUserConfig: { AllowAdminCreateUserOnly: true } }),
        DeletionPolicy: 'Retain',
      });
      template.hasResourceProperties('AWS::Cognito::UserPoolResourceServer', {
        Identifier: 'activity-tracker',
        Scopes: ['events:write', 'events:read', 'events:delete', 'events:erase', 'events:export'].map((ScopeName) =>
          Match.objectLike({ ScopeName }),
        ),
      });
      template.hasOutput('UserPoolId', {});
    });

    it('verifies Cognito access tokens at the gateway, and tells the functions the claim and scope prefix', () => {
      const template = defaults();
      const userPool = resourceAt(template, 'AWS::Cognito::UserPool', 'ActivityTracker/Auth/UserPool/Resource').id;
      template.hasResourceProperties('AWS::ApiGateway::Authorizer', {
        Type: 'COGNITO_USER_POOLS',
        IdentitySource: 'method.request.header.Authorization',
        ProviderARNs: [{ 'Fn::GetAtt': [userPool, 'Arn'] }],
        AuthorizerResultTtlInSeconds: 60,
      });
      for (const name of ['Ingest', 'Query', 'Admin'] as const) {
        expect(fn(template, name).resource.Properties.Environment.Variables).toMatchObject({
          AUTH_SCOPE_PREFIX: 'activity-tracker/',
          AUTH_TENANT_CLAIM: 'tenant_id',
        });
      }
    });

    it('uses the configured issuer, audiences and JWKS in oidc mode, with no user pool', () => {
      const template = synth({
        authMode: 'oidc',
        issuer: 'https://idp.example.com/',
        audience: 'api-a,api-b',
        jwksUri: 'https://idp.example.com/jwks.json',
        tenantClaim: 'org:tenant',
      }).template;
      template.resourceCountIs('AWS::Cognito::UserPool', 0);
      expect(Object.keys(template.findOutputs('UserPoolId'))).toEqual([]);
      expect(
        resourceAt(template, 'AWS::Lambda::Function', 'ActivityTracker/Functions/Authorizer/Resource').resource.Properties.Environment
          .Variables,
      ).toMatchObject({
        AUTH_ISSUER: 'https://idp.example.com/',
        AUTH_AUDIENCE: 'api-a,api-b',
        AUTH_JWKS_URI: 'https://idp.example.com/jwks.json',
        AUTH_SCOPE_PREFIX: '',
        AUTH_TENANT_CLAIM: 'org:tenant',
      });
      for (const name of ['Ingest', 'Query'] as const) {
        expect(
          Object.keys(fn(template, name).resource.Properties.Environment.Variables)
            .filter((v) => v.startsWith('AUTH_'))
            .sort(),
        ).toEqual(['AUTH_SCOPE_PREFIX', 'AUTH_TENANT_CLAIM']);
      }
    });

    it.each(['issuer', 'audience', 'jwksUri'])('refuses to synthesize oidc mode without %s', (key) => {
      const context: Record<string, unknown> = {
        authMode: 'oidc',
        issuer: 'https://idp.example.com/',
        audience: 'api',
        jwksUri: 'https://idp.example.com/jwks.json',
      };
      delete context[key];
      expect(() => synth(context)).toThrow(`"${key}"`);
    });
  });

  describe('outputs and tags', () => {
    it('outputs the API URL, table name and queue URLs', () => {
      const template = defaults();
      for (const output of ['ApiUrl', 'TableName', 'QueueUrl', 'DlqUrl']) template.hasOutput(output, {});
      template.hasOutput('QueueUrl', { Value: { Ref: eventsQueue(template).id } });
      template.hasOutput('DlqUrl', { Value: { Ref: deadLetterQueue(template).id } });
    });

    it('tags the stack with the service and the stage', () => {
      const { stack } = synth({ stage: 'staging' });
      expect(stack.tags.tagValues()).toEqual({ service: 'activity-tracker', stage: 'staging' });
    });
  });
});
