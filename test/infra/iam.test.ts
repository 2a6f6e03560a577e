import type { Template } from 'aws-cdk-lib/assertions';
import { OIDC_CONTEXT, synthStack } from '../support/stack';

type Json = any;

/** Every action of the identity policies attached to each function's role, by construct path. */
const actionsByFunction = (template: Template): Record<string, string[]> => {
  const policies = Object.values(template.findResources('AWS::IAM::Policy')) as Json[];
  const result: Record<string, string[]> = {};
  for (const fn of Object.values(template.findResources('AWS::Lambda::Function')) as Json[]) {
    const path = fn.Metadata?.['aws:cdk:path'] as string;
    const roleId = fn.Properties.Role['Fn::GetAtt'][0] as string;
    const actions = policies
      .filter((p) => (p.Properties.Roles as Json[]).some((r) => r.Ref === roleId))
      .flatMap((p) => (p.Properties.PolicyDocument.Statement as Json[]).flatMap((s) => [s.Action].flat() as string[]));
    result[path.replace(/^ActivityTracker\//, '').replace(/\/Resource$/, '')] = [...new Set(actions)].sort();
  }
  return result;
};

const TELEMETRY = ['logs:CreateLogStream', 'logs:PutLogEvents', 'xray:PutTelemetryRecords', 'xray:PutTraceSegments'];
const only = (...actions: string[]) => [...actions, ...TELEMETRY].sort();

describe('least privilege: each role lists exactly the actions its code uses', () => {
  const expected = {
    // UpdateItem: the per-tenant rate counters only (a LeadingKeys condition, tested below).
    'Functions/Ingest': only('sqs:SendMessage', 'secretsmanager:GetSecretValue', 'dynamodb:UpdateItem'),
    'Functions/Query': only(
      'dynamodb:Query',
      'dynamodb:GetItem',
      'dynamodb:BatchGetItem',
      'dynamodb:UpdateItem',
      'secretsmanager:GetSecretValue',
    ),
    'Functions/Admin': only(
      'dynamodb:Query',
      'dynamodb:GetItem',
      'dynamodb:UpdateItem',
      'dynamodb:PutItem',
      'secretsmanager:GetSecretValue',
      // Audit records go through the events queue; exports: send the job, sign the download URL,
      // delete a file of a user erased since.
      'sqs:SendMessage',
      's3:GetObject',
      's3:DeleteObject',
    ),
    // The SQS actions are the event source mapping's (it polls, deletes and extends visibility for the function).
    // No BatchWriteItem: it cannot carry a condition, and every event is written so it cannot overwrite.
    'Functions/Writer': only(
      'dynamodb:BatchGetItem',
      'dynamodb:PutItem',
      'sqs:ReceiveMessage',
      'sqs:DeleteMessage',
      'sqs:ChangeMessageVisibility',
      'sqs:GetQueueAttributes',
      'sqs:GetQueueUrl',
    ),
    // The digest sealer: timelines and logs, late events, the chain head; KMS Sign and PutObject only (never Verify or Delete).
    'Digests/Sealer': only('dynamodb:Query', 'dynamodb:BatchGetItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'kms:Sign', 's3:PutObject'),
    // sqs:SendMessage: erasure completions are recorded through the events queue.
    'Functions/Cleanup': only('dynamodb:Query', 'dynamodb:BatchGetItem', 'dynamodb:DeleteItem', 'dynamodb:UpdateItem', 'sqs:SendMessage'),
    // Reads timelines and its job items, uploads (multipart) and deletes its files, sends a long job back to its queue.
    'ExportWorker/Exporter': only(
      'dynamodb:Query',
      'dynamodb:GetItem',
      'dynamodb:BatchGetItem',
      'dynamodb:UpdateItem',
      'secretsmanager:GetSecretValue',
      's3:PutObject',
      's3:AbortMultipartUpload',
      's3:DeleteObject',
      's3:GetObject',
      'sqs:SendMessage',
      'sqs:ReceiveMessage',
      'sqs:DeleteMessage',
      'sqs:ChangeMessageVisibility',
      'sqs:GetQueueAttributes',
      'sqs:GetQueueUrl',
    ),
    // The stream reads and the on-failure queue's actions are the stream event source mapping's;
    // GetItem/UpdateItem on the counters table only.
    'Stats/Consumer': only(
      'dynamodb:DescribeStream',
      'dynamodb:GetItem',
      'dynamodb:GetRecords',
      'dynamodb:GetShardIterator',
      'dynamodb:ListStreams',
      'dynamodb:UpdateItem',
      'sqs:GetQueueAttributes',
      'sqs:GetQueueUrl',
      'sqs:SendMessage',
    ),
    // The stream reads and the on-failure queue's actions are the stream mapping's; the code puts events, reads the id keys
    // and queries the erasure markers (an event an erasure hides is not published).
    'Publishing/Publisher': only(
      'dynamodb:DescribeStream',
      'dynamodb:GetRecords',
      'dynamodb:GetShardIterator',
      'dynamodb:ListStreams',
      'dynamodb:Query',
      'events:PutEvents',
      'secretsmanager:GetSecretValue',
      'sqs:GetQueueAttributes',
      'sqs:GetQueueUrl',
      'sqs:SendMessage',
    ),
    // Query on the counters table; UpdateItem on the rate counters only.
    'Stats/Query': only('dynamodb:Query', 'dynamodb:UpdateItem'),
    // Serves a static module from its bundle: nothing to read or write.
    'Viewer/Function': only(),
  };

  it('in Cognito mode, where the pre-token trigger can list client names but never read a client secret', () => {
    const actions = actionsByFunction(synthStack().template);
    expect(actions).toEqual({
      ...expected,
      'Auth/PreTokenGeneration': only('cognito-idp:ListUserPoolClients'),
      // The viewer reads' token authorizer: the keys secret (viewer tokens), no table.
      'Functions/Authorizer': only('secretsmanager:GetSecretValue'),
    });
  });

  it('in OIDC mode, where the token authorizer reads only the keys secret (viewer tokens), no table', () => {
    expect(actionsByFunction(synthStack(OIDC_CONTEXT).template)).toEqual({
      ...expected,
      'Functions/Authorizer': only('secretsmanager:GetSecretValue'),
    });
  });

  it('gives no function Scan or DescribeTable, and the stream reads to the stream consumers only', () => {
    const consumers = ['Stats/Consumer', 'Publishing/Publisher'];
    const byFunction = actionsByFunction(synthStack().template);
    const all = Object.entries(byFunction)
      .filter(([fn]) => !consumers.includes(fn))
      .flatMap(([, actions]) => actions);
    for (const fn of consumers) expect(byFunction[fn]).not.toContain('dynamodb:Scan');
    for (const action of [
      'dynamodb:Scan',
      'dynamodb:GetRecords',
      'dynamodb:GetShardIterator',
      'dynamodb:DescribeTable',
      'secretsmanager:DescribeSecret',
    ]) {
      expect(all).not.toContain(action);
    }
  });
});

describe('rate counters', () => {
  /** The statements of one function's role that allow an action. */
  const statementsWith = (template: Template, fnPath: string, action: string): Json[] => {
    const fn = (Object.values(template.findResources('AWS::Lambda::Function')) as Json[]).find(
      (f) => f.Metadata?.['aws:cdk:path'] === `ActivityTracker/${fnPath}/Resource`,
    );
    const roleId = fn.Properties.Role['Fn::GetAtt'][0] as string;
    return (Object.values(template.findResources('AWS::IAM::Policy')) as Json[])
      .filter((p) => (p.Properties.Roles as Json[]).some((r) => r.Ref === roleId))
      .flatMap((p) => p.Properties.PolicyDocument.Statement as Json[])
      .filter((s) => [s.Action].flat().includes(action));
  };

  it.each(['Functions/Ingest', 'Functions/Query'])('%s may update only items whose key starts with $rate#', (fnPath) => {
    const statements = statementsWith(synthStack().template, fnPath, 'dynamodb:UpdateItem');
    expect(statements).toHaveLength(1);
    expect(statements[0].Condition).toEqual({ 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['$rate#*'] } });
    // The table only: no index is ever updated.
    expect(JSON.stringify(statements[0].Resource)).not.toContain('/index/');
  });
});

describe('table deletion protection', () => {
  it('is on for prod, where a stray DeleteTable must fail', () => {
    synthStack({ stage: 'prod' }).template.hasResourceProperties('AWS::DynamoDB::Table', { DeletionProtectionEnabled: true });
  });

  it('is off elsewhere, so a dev stack can be torn down', () => {
    const [table] = Object.values(synthStack().template.findResources('AWS::DynamoDB::Table')) as Json[];
    expect(table.Properties.DeletionProtectionEnabled).toBeUndefined();
  });
});
