import { type CfnElement, type IResolvable, type Stack, Validations } from 'aws-cdk-lib';
import { AuthorizationType, Method, RestApi, TokenAuthorizer } from 'aws-cdk-lib/aws-apigateway';
import { UserPool } from 'aws-cdk-lib/aws-cognito';
import { type CfnTable, Table } from 'aws-cdk-lib/aws-dynamodb';
import { Rule } from 'aws-cdk-lib/aws-events';
import { Policy, Role } from 'aws-cdk-lib/aws-iam';
import { CfnEventSourceMapping, CfnPermission, EventSourceMapping, Function as LambdaFunction } from 'aws-cdk-lib/aws-lambda';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { Queue } from 'aws-cdk-lib/aws-sqs';
import { EventArchive } from './constructs/archive';
import { EventStats } from './constructs/stats';
import { EventStorage } from './constructs/storage';
import { ArchiveEraser } from './constructs/archive-eraser';
import { ViewerAsset } from './constructs/viewer-asset';
import { Bucket, type CfnBucket } from 'aws-cdk-lib/aws-s3';
import type { IConstruct } from 'constructs';

/**
 * Every cdk-nag finding this stack acknowledges, with its reason — the only place suppressions
 * live. Each is tied to the construct it is about, and the generic ones are checked against the
 * evidence (a `*` resource is suppressed only where the statement holds X-Ray actions alone; a
 * missing DLQ only for a function nothing invokes asynchronously but its schedule), so a new
 * resource that breaks a rule is reported, not silently covered.
 *
 * Applied by the stack itself; the rule packs run in `bin/app.ts` (every `cdk synth`) and in
 * test/infra/nag.test.ts.
 */
export const acknowledgeNagFindings = (stack: Stack): void => {
  const all = stack.node.findAll();
  const ack = (scope: IConstruct, id: string, reason: string) => Validations.of(scope).acknowledge({ id, reason });

  for (const bucket of all.filter((c): c is Bucket => c instanceof Bucket)) {
    ack(
      bucket,
      'AwsSolutions-S1',
      'The digest bucket holds only signed, chained digests under Object Lock (compliance mode): an object cannot be changed or deleted before its retention ends, and `npm run verify` checks every signature and the chain; CloudTrail data events are the place to log reads if an operator wants them.',
    );
  }
  for (const policy of all.filter((c): c is Policy | Role => c instanceof Role && c.node.path.includes('/Digests/'))) {
    Validations.of(policy).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::<DigestsBucket7909429A.Arn>/digests/*]',
      reason:
        'The sealer puts one object per tenant and period under digests/<tenant>/: the key names are not known in advance, so the grant is the prefix (PutObject only; Object Lock prevents overwrites of a locked version).',
    });
  }

  for (const secret of all.filter((c): c is Secret => c instanceof Secret)) {
    ack(
      secret,
      'AwsSolutions-SMG4',
      'The id/cursor keys are versioned ({"current":"1","k1":...}); rotating means adding k2 and switching "current" while keeping k1 so old ids and cursors still resolve. A Secrets Manager rotation function replaces the value, which would break them; rotation is an operator step documented in docs/security.md.',
    );
  }

  for (const pool of all.filter((c): c is UserPool => c instanceof UserPool)) {
    ack(
      pool,
      'AwsSolutions-COG8',
      'The pool issues client-credentials (machine-to-machine) tokens only. Plus adds threat protection for user sign-ins, which this pool has none of; Essentials is the lowest plan whose pre-token-generation trigger (V3_0) customizes M2M access tokens.',
    );
  }

  // Only the CORS preflights (config corsAllowedOrigins) run without an authorizer: each method of
  // this shape is acknowledged by itself, so any other method without one is still reported.
  for (const method of all.filter((c): c is Method => c instanceof Method && c.httpMethod === 'OPTIONS')) {
    const cfn = method.node.defaultChild as { authorizationType?: string } | undefined;
    if (cfn?.authorizationType !== AuthorizationType.NONE) continue;
    ack(
      method,
      'AwsSolutions-APIG4',
      "A CORS preflight (OPTIONS) of a viewer read route: browsers never send a token with it, so it runs no authorizer; its function answers it before reading anything (no caller, no store), naming the request's Origin only when it is an allowed one.",
    );
  }

  for (const api of all.filter((c): c is RestApi => c instanceof RestApi)) {
    // APIG4 is acknowledged only for the viewer's static module and the CORS preflights (each
    // method by itself): every other method runs an authorizer. COG4 asks for a Cognito
    // authorizer, which the OIDC mode cannot use, nor the viewer's read routes in Cognito mode.
    if (all.some((c) => c instanceof TokenAuthorizer)) {
      ack(
        api,
        'AwsSolutions-COG4',
        "A Lambda token authorizer (aws-jwt-verify: signature, issuer, audience, expiry, access-token rule, lifetime cap, tenant claim) runs where a Cognito authorizer cannot: on every method in OIDC mode (tokens come from an external issuer), and in Cognito mode on the three read routes a viewer token may use (viewer tokens are signed with the stack's keys; pool tokens are verified there by the Cognito authorizer's rule: the pool's issuer and keys, token_use access, one of the API's scopes).",
      );
    }
    ack(
      api,
      'AwsSolutions-APIG2',
      'Requests are validated in the functions before any work (body size before parsing, JSON schema of each event, query parameters), with per-event errors the contract requires; a gateway validator would answer a missing Authorization header with 400 where the contract says 401.',
    );
    ack(
      api,
      'AwsSolutions-APIG6',
      'JSON access logs record every request in a log group with retention, and each function logs its requests with context; execution logs would go to a log group API Gateway creates outside the stack, without retention.',
    );
    ack(
      api,
      'AwsSolutions-APIG3',
      'Abuse is bounded by stage throttling (rate and burst from context), per-tenant rate limits in the functions, payload limits and per-request caps; a WAF web ACL costs per ACL, rule and request, so it is opt-in: wafRateLimit adds one with a per-IP rate rule.',
    );
    ack(
      api,
      'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
      'The account-level role API Gateway assumes to write the access logs; AmazonAPIGatewayPushToCloudWatchLogs is the policy AWS documents for it, and only the API Gateway service can assume the role.',
    );
  }

  // The one public method: the viewer's module, a static file (evidence: no authorizer, GET only).
  for (const viewer of all.filter((c): c is ViewerAsset => c instanceof ViewerAsset)) {
    if (viewer.method.httpMethod !== 'GET' || viewer.method.resource.path !== '/viewer/{file}') continue;
    const reason =
      'GET /viewer/{file} serves the public <activity-log> module, a static file holding no data: a <script type="module"> tag sends no token, so the method has no authorizer; the data routes it calls all do.';
    ack(viewer.method, 'AwsSolutions-APIG4', reason);
    ack(viewer.method, 'AwsSolutions-COG4', reason);
  }

  const tables = all.filter((c): c is Table => c instanceof Table);
  const counterTables = new Set<unknown>(all.filter((c): c is EventStats => c instanceof EventStats).map((s) => s.table));
  const eventTables = new Set<unknown>(all.filter((c): c is EventStorage => c instanceof EventStorage).map((s) => s.table));
  for (const table of tables) {
    const pitr = (table.node.defaultChild as CfnTable).pointInTimeRecoverySpecification as
      | { pointInTimeRecoveryEnabled?: boolean }
      | undefined;
    // The stats counters (derived data), or a table whose PITR the operator turned off
    // (`pointInTimeRecovery=off`); any other table without it is still reported.
    if (pitr?.pointInTimeRecoveryEnabled === false && counterTables.has(table)) {
      ack(
        table,
        'AwsSolutions-DDB3',
        'The stats counters are derived data: `npm run stats:recount -- --repair` rebuilds them from the events table, which has point-in-time recovery; continuous backups of the counters would be billed every month for counts a recount restores (docs/operating.md, "Recounting the stats").',
      );
    } else if (pitr?.pointInTimeRecoveryEnabled === false && eventTables.has(table)) {
      ack(
        table,
        'AwsSolutions-DDB3',
        'Point-in-time recovery was turned off by configuration (`pointInTimeRecovery=off`): at long retention it is the largest line of the lifetime cost, and the operator chose another copy (the S3 archive, or on-demand backups) as the backup; docs/performance.md and docs/operating.md say what is lost.',
      );
    }
  }
  const indexWildcards = tables.map((table) => `Resource::<${stack.getLogicalId(table.node.defaultChild as CfnTable)}.Arn>/index/*`);
  const erasers = all.filter((c): c is ArchiveEraser => c instanceof ArchiveEraser);
  const buckets = all.filter((c): c is Bucket => c instanceof Bucket);
  const objectWildcards = buckets.map((bucket) => `Resource::<${stack.getLogicalId(bucket.node.defaultChild as CfnBucket)}.Arn>/*`);
  for (const bucket of buckets) {
    ack(
      bucket,
      'AwsSolutions-S1',
      'The export bucket holds short-lived files written by the export worker only; every request for one (POST/GET /v1/exports) is in the API access log, and downloads use URLs signed per request.',
    );
  }

  for (const fn of all.filter((c): c is LambdaFunction => c instanceof LambdaFunction)) {
    const statements = fn.role instanceof Role ? statementsOf(stack, fn.role) : [];
    const starStatements = statements.filter((s) => [s.Resource].flat().includes('*'));
    if (
      starStatements.length > 0 &&
      starStatements.every((s) =>
        [s.Action].flat().every((a) => typeof a === 'string' && (a.startsWith('xray:') || a === 'dynamodb:ListStreams')),
      )
    ) {
      ack(
        fn.role!,
        'AwsSolutions-IAM5[Resource::*]',
        "X-Ray active tracing: xray:PutTraceSegments and xray:PutTelemetryRecords support no resource-level permissions; neither does dynamodb:ListStreams, which a stream event source mapping needs (the stream reads themselves are granted on the table's stream ARN only).",
      );
    }
    const resources = new Set(statements.flatMap((s) => [s.Resource].flat()).map((r) => showResource(stack, r)));
    for (const wildcard of objectWildcards) {
      if (erasers.some((e) => e.function === fn)) continue;
      if (resources.has(wildcard.slice('Resource::'.length))) {
        ack(
          fn.role!,
          `AwsSolutions-IAM5[${wildcard}]`,
          'Export files are named per job at run time (`<tenant>/<job>.<format>.gz`): the grant covers the objects of the export bucket only, with the few object actions the function calls.',
        );
      }
    }
    for (const wildcard of indexWildcards) {
      if (resources.has(wildcard.slice('Resource::'.length))) {
        ack(
          fn.role!,
          `AwsSolutions-IAM5[${wildcard}]`,
          "CDK's table grants add `<table>/index/*`: it covers this table's own secondary indexes and no other table, and the actions stay those of the grant (read-only for the query function, write-only for the writer).",
        );
      }
    }

    const invokers = invokersOf(stack, fn);
    const reason = dlqReason(invokers);
    if (reason) ack(fn, 'Serverless-LambdaDLQ', reason);
  }

  for (const mapping of all.filter((c): c is EventSourceMapping => c instanceof EventSourceMapping)) {
    ack(
      mapping,
      'Serverless-LambdaEventSourceMappingDestination',
      "An SQS event source takes no on-failure destination; a message that keeps failing moves to the queue's dead-letter queue by its redrive policy (maxReceiveCount), where operators inspect and redrive it.",
    );
  }

  for (const queue of all.filter((c): c is Queue => c instanceof Queue)) {
    const isDeadLetterQueue = all.some((c) => c instanceof Queue && c.deadLetterQueue?.queue === queue);
    const destinations = JSON.stringify(
      stack.resolve(
        all
          .filter((c): c is EventSourceMapping => c instanceof EventSourceMapping)
          .map((m) => (m.node.defaultChild as CfnEventSourceMapping).destinationConfig ?? null),
      ),
    );
    if (destinations.includes(`"${stack.getLogicalId(queue.node.defaultChild as CfnElement)}"`)) {
      for (const id of ['AwsSolutions-SQS3', 'Serverless-SQSRedrivePolicy']) {
        ack(
          queue,
          id,
          "A stream event source's on-failure destination: it holds descriptions of the batches given up on (alarmed), which operators read before a recount; nothing consumes it.",
        );
      }
    }
    if (isDeadLetterQueue) {
      ack(
        queue,
        'Serverless-SQSRedrivePolicy',
        'This is the dead-letter queue itself; operators redrive its messages back to the events queue.',
      );
    }
  }

  const archiveRules = new Set<IConstruct>();
  for (const archive of all.filter((c): c is EventArchive => c instanceof EventArchive)) {
    for (const c of archive.node.findAll()) if (c instanceof Rule) archiveRules.add(c);
    ack(
      archive.deliveryRole,
      `AwsSolutions-IAM5[Resource::<${stack.getLogicalId(archive.bucket.node.defaultChild as CfnBucket)}.Arn>/*]`,
      "Firehose writes new objects under generated names (partition prefixes and timestamps) into the archive bucket: object-level actions need the bucket's objects; the role holds no other bucket and no delete.",
    );
  }

  // A queue that is a stream mapping's on-failure destination is itself the dead-letter queue.
  const failureDestinations = new Set(
    all
      .filter((c): c is CfnEventSourceMapping => c instanceof CfnEventSourceMapping)
      .map((m) =>
        JSON.stringify(
          stack.resolve((m.destinationConfig as { onFailure?: { destination?: unknown } } | undefined)?.onFailure?.destination),
        ),
      ),
  );
  for (const queue of all.filter((c): c is Queue => c instanceof Queue)) {
    if (!failureDestinations.has(JSON.stringify(stack.resolve(queue.queueArn)))) continue;
    const reason =
      'The on-failure destination of a stream event source mapping: it receives what could not be processed after every retry (a dead-letter queue itself), is alarmed, and is read by operators (docs/operating.md).';
    ack(queue, 'AwsSolutions-SQS3', reason);
    ack(queue, 'Serverless-SQSRedrivePolicy', reason);
  }

  for (const eraser of erasers) {
    const role = (eraser.function as LambdaFunction).role!;
    const logicalId = (b: IConstruct) => stack.getLogicalId((b as Bucket).node.defaultChild as CfnBucket);
    const archive = all.find((c): c is EventArchive => c instanceof EventArchive);
    ack(
      role,
      `AwsSolutions-IAM5[Resource::<${logicalId(eraser.workBucket)}.Arn>/*]`,
      "The eraser's own work bucket: Athena writes query results and UNLOAD files under names it generates, and the eraser keeps one progress marker per erasure; nothing else is in that bucket, and its lifecycle deletes everything after 7 days.",
    );
    if (archive) {
      ack(
        role,
        `AwsSolutions-IAM5[Resource::<${logicalId(archive.bucket)}.Arn>/events/*]`,
        'Erasure rewrites archive files: Athena reads the listed files, the eraser copies rewritten files in and deletes exactly the listed ones. The files are named by Firehose and UNLOAD at run time, so the grant is the events/ prefix (Get, Put, Delete only).',
      );
    }
  }

  for (const rule of all.filter((c): c is Rule => c instanceof Rule)) {
    if (erasers.some((e) => e.rule === rule)) {
      ack(
        rule,
        'Serverless-EventBusDLQ',
        "The eraser rule targets an SQS queue, which EventBridge retries for 24 hours; the queue's own dead-letter queue and the ArchiveErasureFailed alarm cover the eraser. An EventBridge target dead-letter queue must be a standard queue, and the erasure queue is FIFO.",
      );
      continue;
    }
    if (archiveRules.has(rule)) {
      ack(
        rule,
        'Serverless-EventBusDLQ',
        'The archive rule delivers to Firehose, which EventBridge retries for 24 hours; Firehose buffers durably and writes its own failures under errors/ in the bucket. An event missing from the archive stays in the table and on the bus.',
      );
      continue;
    }
    ack(
      rule,
      'Serverless-EventBusDLQ',
      'The schedule invokes the cleanup with 2 retries; the cleanup is resumable and idempotent, so the next scheduled run finishes what a failed one left, and a failure shows in the function Errors metric.',
    );
  }
};

type Statement = { Action?: unknown; Resource?: unknown };

/** Statements of the role's own policies (its default policy and any attached policy). */
const statementsOf = (stack: Stack, role: Role): Statement[] => {
  const policies = stack.node.findAll().filter((c): c is Policy => c instanceof Policy && isAttachedTo(stack, c, role));
  const defaultPolicy = role.node.tryFindChild('DefaultPolicy');
  const documents = [...(defaultPolicy instanceof Policy ? [defaultPolicy] : []), ...policies.filter((p) => p !== defaultPolicy)].map(
    (p) => stack.resolve(p.document.toJSON()) as { Statement?: Statement[] } | undefined,
  );
  return documents.flatMap((d) => d?.Statement ?? []);
};

const isAttachedTo = (stack: Stack, policy: Policy, role: Role): boolean => {
  const cfn = policy.node.defaultChild as { roles?: unknown } | undefined;
  const roles = cfn ? (stack.resolve(cfn.roles) as unknown[] | undefined) : undefined;
  const roleRef = stack.resolve(role.roleName);
  return (roles ?? []).some((r) => JSON.stringify(r) === JSON.stringify(roleRef));
};

/** A resource as cdk-nag prints it: `{"Fn::GetAtt":["Table","Arn"]}` → `<Table.Arn>`. */
const showResource = (stack: Stack, resource: unknown): string => {
  const r = stack.resolve(resource) as unknown;
  if (typeof r === 'string') return r;
  if (r && typeof r === 'object') {
    const o = r as Record<string, unknown>;
    const getAtt = o['Fn::GetAtt'];
    if (Array.isArray(getAtt)) return `<${getAtt.join('.')}>`;
    if (typeof o.Ref === 'string') return `<${o.Ref}>`;
    const join = o['Fn::Join'];
    if (Array.isArray(join) && Array.isArray(join[1]))
      return (join[1] as unknown[]).map((p) => showResource(stack, p)).join(join[0] as string);
  }
  return JSON.stringify(r);
};

/** Who may invoke the function: service principals of its permissions, plus `sqs` for an event source. */
const invokersOf = (stack: Stack, fn: LambdaFunction): Set<string> => {
  const invokers = new Set<string>();
  const fnArn = JSON.stringify(stack.resolve(fn.functionArn));
  for (const c of stack.node.findAll()) {
    if (c instanceof CfnPermission && JSON.stringify(stack.resolve(c.functionName)) === fnArn) {
      invokers.add(String(stack.resolve(c.principal as string | IResolvable)));
    }
    if (c instanceof EventSourceMapping && c.node.scope === fn) invokers.add('sqs');
  }
  return invokers;
};

const SYNC_INVOKERS: Record<string, string> = {
  'apigateway.amazonaws.com': 'API Gateway (Lambda proxy integration)',
  'cognito-idp.amazonaws.com': 'Cognito (pre-token-generation trigger)',
};

/** Why a function needs no asynchronous-invocation DLQ, or undefined when it may need one. */
const dlqReason = (invokers: ReadonlySet<string>): string | undefined => {
  const list = [...invokers];
  if (list.length === 0) return undefined;
  if (list.every((i) => i in SYNC_INVOKERS)) {
    return `Invoked synchronously only, by ${list.map((i) => SYNC_INVOKERS[i]).join(' and ')}: the caller receives the error, and an asynchronous-invocation DLQ would never receive anything.`;
  }
  if (list.every((i) => i === 'sqs')) {
    return "Invoked only by its SQS event source (synchronously): failed messages return to the queue and move to the queue's dead-letter queue by its redrive policy.";
  }
  if (list.every((i) => i === 'events.amazonaws.com')) {
    return 'Invoked only by its EventBridge schedule; the cleanup is resumable and idempotent, so the next scheduled run redoes a failed one (an event in a DLQ would only say "run again"), and failures show in the Errors metric.';
  }
  return undefined;
};
