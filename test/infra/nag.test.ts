import { Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import { nagPacks } from '../../lib/nag';
import { OIDC_CONTEXT, synthStack } from '../support/stack';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** Every acknowledgement in the tree: rule id → reasons. */
const acknowledgements = (root: IConstruct): Map<string, Set<string>> => {
  const out = new Map<string, Set<string>>();
  for (const c of root.node.findAll()) {
    for (const entry of c.node.metadata) {
      if (entry.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY) continue;
      for (const [id, reason] of Object.entries(entry.data as Record<string, string>)) {
        const rule = id.replace(/^annotation::/i, '');
        out.set(rule, (out.get(rule) ?? new Set()).add(reason));
      }
    }
  }
  return out;
};

const CORS_CONTEXT = { corsAllowedOrigins: 'https://app.example.com' };

describe.each([
  ['cognito (default)', {}],
  ['oidc', OIDC_CONTEXT],
  ['cognito with CORS', CORS_CONTEXT],
])('cdk-nag, %s mode', (_mode, context) => {
  const { stack, template } = synthStack(context);

  it.each(nagPacks().map((pack) => [pack.readPackName, pack] as const))(
    'reports no unacknowledged finding of the %s pack, error or warning',
    (_name, pack) => {
      const report = pack.validateScope(stack);
      const findings = report.violations.map(
        (v) => `${v.severity} ${v.ruleName}: ${v.violatingResources.map((r) => r.constructPath).join(', ')}`,
      );
      expect(findings).toEqual([]);
    },
  );

  it('acknowledges only the reviewed rules, each with a specific reason', () => {
    const acks = acknowledgements(stack);
    const reviewed = [
      'AwsSolutions-SMG4',
      // S1 (no access logs): the digest bucket (Object Lock, signed content) and the export bucket.
      // IAM5: the sealer's put-only prefix grant.
      'AwsSolutions-IAM5[Resource::<DigestsBucket7909429A.Arn>/digests/*]',
      'AwsSolutions-APIG2',
      'AwsSolutions-APIG3',
      'AwsSolutions-APIG6',
      'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
      'AwsSolutions-IAM5[Resource::*]',
      'AwsSolutions-IAM5[Resource::<StorageTableB43FDCE7.Arn>/index/*]',
      'AwsSolutions-IAM5[Resource::<ExportsBucket54D5CE64.Arn>/*]',
      'AwsSolutions-S1',
      'Serverless-LambdaDLQ',
      'Serverless-LambdaEventSourceMappingDestination',
      'Serverless-SQSRedrivePolicy',
      'Serverless-EventBusDLQ',
      // SQS3: the stats consumer's and the publisher's stream mappings send what they give up on to
      // a queue that is a dead-letter queue itself.
      'AwsSolutions-SQS3',
      // The gateway authenticates every method but GET /viewer/{file} (a public static module) and the
      // CORS preflights: APIG4 for those methods only. COG4: a token authorizer runs on every method
      // (OIDC) or on the viewer's read routes (Cognito: viewer tokens are not the pool's).
      'AwsSolutions-APIG4',
      'AwsSolutions-COG4',
      ...(context === OIDC_CONTEXT ? [] : ['AwsSolutions-COG8']),
      // DDB3: the stats counters table (derived data, rebuilt by the recount) has no PITR.
      'AwsSolutions-DDB3',
    ];
    expect([...acks.keys()].sort()).toEqual(reviewed.sort());
    expect([...(acks.get('AwsSolutions-DDB3') ?? [])]).toEqual([expect.stringContaining('stats:recount -- --repair')]);
    for (const reasons of acks.values()) for (const reason of reasons) expect(reason.length).toBeGreaterThan(60);
  });

  it('holds the evidence behind the IAM acknowledgements: "*" only for X-Ray and ListStreams, no wildcard action', () => {
    const statements: Json[] = Object.values(template.findResources('AWS::IAM::Policy')).flatMap(
      (p) => p.Properties.PolicyDocument.Statement as Json[],
    );
    for (const statement of statements) {
      const actions = [statement.Action].flat() as string[];
      expect(actions.filter((a) => a === '*' || a.endsWith(':*'))).toEqual([]);
      if ([statement.Resource].flat().includes('*')) {
        expect(actions.filter((a) => !a.startsWith('xray:') && a !== 'dynamodb:ListStreams')).toEqual([]);
      }
    }
  });

  it('gives no role an AWS managed policy but the API Gateway account logging role', () => {
    const roles = Object.entries(template.findResources('AWS::IAM::Role')).filter(
      ([, r]) => (r.Properties.ManagedPolicyArns ?? []).length > 0,
    );
    expect(roles.map(([, r]) => r.Metadata['aws:cdk:path'])).toEqual(['ActivityTracker/Api/RestApi/CloudWatchRole/Resource']);
  });

  it('lets each function write logs to its own log group only', () => {
    for (const [id, fn] of Object.entries(template.findResources('AWS::Lambda::Function'))) {
      const roleId = fn.Properties.Role['Fn::GetAtt'][0] as string;
      const logGroupId = fn.Properties.LoggingConfig.LogGroup.Ref as string;
      const logStatements = Object.values(template.findResources('AWS::IAM::Policy'))
        .filter((p) => (p.Properties.Roles as Json[]).some((r) => r.Ref === roleId))
        .flatMap((p) => p.Properties.PolicyDocument.Statement as Json[])
        .filter((s) => [s.Action].flat().some((a: string) => a.startsWith('logs:')));
      expect({ id, resources: logStatements.map((s) => s.Resource) }).toEqual({ id, resources: [{ 'Fn::GetAtt': [logGroupId, 'Arn'] }] });
    }
  });
});
