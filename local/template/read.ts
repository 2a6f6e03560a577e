import { createHash } from 'node:crypto';
/**
 * Reads a synthesized CloudFormation template into the model the local runtime runs.
 *
 * Pure: no I/O, no process.env. Everything the runtime needs about tables, queues,
 * secrets, functions, event source mappings, REST routes and schedules comes from here,
 * so local mode follows the stack instead of restating it. Resolving intrinsics is
 * intrinsics.ts's job; API Gateway resources are read by read-api.ts.
 */
import { LOCAL_REF_TYPES, checkSupported } from './intrinsics';
import {
  TemplateError,
  type AttributeDefinition,
  type CfnResource,
  type EventSourceMappingModel,
  type FunctionModel,
  type GenerateSecretStringSpec,
  type KeySchemaElement,
  type BucketModel,
  type QueueModel,
  type ScheduleRuleModel,
  type ScheduleTargetModel,
  type SecondaryIndexModel,
  type SecretModel,
  type StreamEventSourceMappingModel,
  type StreamViewType,
  type TableModel,
  type TemplateModel,
} from './model';
import { parseApis, parseAuthorizers, parseGatewayResponses } from './read-api';
import { parseBusRule, parseEventBus } from './read-bus';
import { allReferences, bool, isRecord, num, referencedLogicalId, str } from './values';

const SQS_DEFAULT_VISIBILITY_TIMEOUT = 30;

const keySchema = (v: unknown, what: string): KeySchemaElement[] => {
  if (!Array.isArray(v) || v.length === 0) throw new TemplateError(`${what}: KeySchema missing`);
  return v.map((k) => {
    if (!isRecord(k) || typeof k.AttributeName !== 'string' || (k.KeyType !== 'HASH' && k.KeyType !== 'RANGE')) {
      throw new TemplateError(`${what}: invalid KeySchema element ${JSON.stringify(k)}`);
    }
    return { AttributeName: k.AttributeName, KeyType: k.KeyType };
  });
};

const secondaryIndexes = (v: unknown, what: string): SecondaryIndexModel[] => {
  if (v === undefined) return [];
  if (!Array.isArray(v)) throw new TemplateError(`${what}: expected a list of indexes`);
  return v.map((ix, i) => {
    if (!isRecord(ix) || typeof ix.IndexName !== 'string') throw new TemplateError(`${what}[${i}]: IndexName missing`);
    const p = isRecord(ix.Projection) ? ix.Projection : {};
    const projectionType = (str(p.ProjectionType) ?? 'KEYS_ONLY') as SecondaryIndexModel['projection']['projectionType'];
    const nonKey = Array.isArray(p.NonKeyAttributes) ? p.NonKeyAttributes.filter((a): a is string => typeof a === 'string') : undefined;
    return {
      indexName: ix.IndexName,
      keySchema: keySchema(ix.KeySchema, `${what} ${ix.IndexName}`),
      projection: nonKey ? { projectionType, nonKeyAttributes: nonKey } : { projectionType },
    };
  });
};

const parseTable = (logicalId: string, p: Record<string, unknown>): TableModel => {
  const what = `Table ${logicalId}`;
  const attributeDefinitions = (Array.isArray(p.AttributeDefinitions) ? p.AttributeDefinitions : []).map((a) => {
    if (!isRecord(a) || typeof a.AttributeName !== 'string' || !['S', 'N', 'B'].includes(String(a.AttributeType))) {
      throw new TemplateError(`${what}: invalid AttributeDefinition ${JSON.stringify(a)}`);
    }
    return { AttributeName: a.AttributeName, AttributeType: a.AttributeType as AttributeDefinition['AttributeType'] };
  });
  const ttl = isRecord(p.TimeToLiveSpecification) ? p.TimeToLiveSpecification : undefined;
  const streamSpec = isRecord(p.StreamSpecification) ? p.StreamSpecification : undefined;
  const viewType = streamSpec ? str(streamSpec.StreamViewType) : undefined;
  if (streamSpec && !['KEYS_ONLY', 'NEW_IMAGE', 'OLD_IMAGE', 'NEW_AND_OLD_IMAGES'].includes(viewType ?? '')) {
    throw new TemplateError(`${what}: StreamSpecification.StreamViewType must be KEYS_ONLY, NEW_IMAGE, OLD_IMAGE or NEW_AND_OLD_IMAGES`);
  }
  const billingMode =
    p.BillingMode === 'PROVISIONED' || (p.BillingMode === undefined && p.ProvisionedThroughput !== undefined)
      ? 'PROVISIONED'
      : 'PAY_PER_REQUEST';
  const ttlAttribute = ttl && bool(ttl.Enabled) !== false ? str(ttl.AttributeName) : undefined;
  return {
    logicalId,
    tableName: str(p.TableName) ?? logicalId,
    keySchema: keySchema(p.KeySchema, what),
    attributeDefinitions,
    globalSecondaryIndexes: secondaryIndexes(p.GlobalSecondaryIndexes, `${what} GlobalSecondaryIndexes`),
    localSecondaryIndexes: secondaryIndexes(p.LocalSecondaryIndexes, `${what} LocalSecondaryIndexes`),
    ...(ttlAttribute ? { ttlAttribute } : {}),
    billingMode,
    ...(viewType ? { stream: { viewType: viewType as StreamViewType } } : {}),
  };
};

const QUEUE_ATTRIBUTES = [
  'DelaySeconds',
  'MaximumMessageSize',
  'MessageRetentionPeriod',
  'ReceiveMessageWaitTimeSeconds',
  'VisibilityTimeout',
  'ContentBasedDeduplication',
] as const;

const parseQueue = (logicalId: string, p: Record<string, unknown>, resources: Record<string, CfnResource>): QueueModel => {
  const what = `Queue ${logicalId}`;
  const fifo = bool(p.FifoQueue) === true;
  const attributes: Record<string, string> = {};
  for (const name of QUEUE_ATTRIBUTES) {
    const v = p[name];
    if (v === undefined) continue;
    if (typeof v !== 'number' && typeof v !== 'string' && typeof v !== 'boolean') {
      throw new TemplateError(`${what}: ${name} must be a literal, got ${JSON.stringify(v)}`);
    }
    attributes[name] = String(v);
  }
  if (fifo) attributes.FifoQueue = 'true';
  let redrive: QueueModel['redrive'];
  if (p.RedrivePolicy !== undefined) {
    const rp = typeof p.RedrivePolicy === 'string' ? (JSON.parse(p.RedrivePolicy) as unknown) : p.RedrivePolicy;
    if (!isRecord(rp)) throw new TemplateError(`${what}: RedrivePolicy must be an object`);
    const target = referencedLogicalId(rp.deadLetterTargetArn);
    if (!target || resources[target.logicalId]?.Type !== 'AWS::SQS::Queue' || (target.attribute ?? 'Arn') !== 'Arn') {
      throw new TemplateError(`${what}: RedrivePolicy.deadLetterTargetArn must be Fn::GetAtt [<queue in this template>, Arn]`);
    }
    const maxReceiveCount = num(rp.maxReceiveCount, `${what} RedrivePolicy.maxReceiveCount`);
    if (maxReceiveCount === undefined) throw new TemplateError(`${what}: RedrivePolicy.maxReceiveCount missing`);
    redrive = { deadLetterQueueLogicalId: target.logicalId, maxReceiveCount };
  }
  const name = str(p.QueueName) ?? (fifo ? `${logicalId}.fifo` : logicalId);
  return {
    logicalId,
    queueName: name,
    fifo,
    attributes,
    visibilityTimeoutSeconds: num(p.VisibilityTimeout, `${what} VisibilityTimeout`) ?? SQS_DEFAULT_VISIBILITY_TIMEOUT,
    ...(redrive ? { redrive } : {}),
  };
};

/** A stable, UUID-shaped key id for a logical id. */
const localKeyId = (logicalId: string): string => {
  const hex = createHash('sha256').update(logicalId).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
};

const parseSecret = (logicalId: string, p: Record<string, unknown>): SecretModel => {
  const g = isRecord(p.GenerateSecretString) ? p.GenerateSecretString : undefined;
  const name = str(p.Name) ?? logicalId;
  const generate: GenerateSecretStringSpec | undefined = g
    ? {
        ...(str(g.SecretStringTemplate) !== undefined ? { secretStringTemplate: str(g.SecretStringTemplate) } : {}),
        ...(str(g.GenerateStringKey) !== undefined ? { generateStringKey: str(g.GenerateStringKey) } : {}),
        passwordLength: num(g.PasswordLength, `Secret ${logicalId} PasswordLength`) ?? 32,
        excludeCharacters: str(g.ExcludeCharacters) ?? '',
        excludePunctuation: bool(g.ExcludePunctuation) ?? false,
        excludeNumbers: bool(g.ExcludeNumbers) ?? false,
        excludeLowercase: bool(g.ExcludeLowercase) ?? false,
        excludeUppercase: bool(g.ExcludeUppercase) ?? false,
        includeSpace: bool(g.IncludeSpace) ?? false,
        requireEachIncludedType: bool(g.RequireEachIncludedType) ?? true,
      }
    : undefined;
  const secretString = str(p.SecretString);
  return { logicalId, secretName: name, ...(generate ? { generate } : {}), ...(secretString !== undefined ? { secretString } : {}) };
};

const parseFunction = (logicalId: string, r: CfnResource): FunctionModel => {
  const p = r.Properties ?? {};
  const what = `Function ${logicalId}`;
  const env = isRecord(p.Environment) && isRecord(p.Environment.Variables) ? p.Environment.Variables : {};
  const assetPath = str(r.Metadata?.['aws:asset:path']);
  return {
    logicalId,
    functionName: str(p.FunctionName) ?? logicalId,
    handler: str(p.Handler) ?? 'index.handler',
    runtime: str(p.Runtime) ?? 'unknown',
    timeoutSeconds: num(p.Timeout, `${what} Timeout`) ?? 3,
    memoryMb: num(p.MemorySize, `${what} MemorySize`) ?? 128,
    ...(assetPath ? { assetPath } : {}),
    rawEnvironment: { ...env },
  };
};

const TABLE_TYPES = ['AWS::DynamoDB::Table', 'AWS::DynamoDB::GlobalTable'];

const functionResponseTypesOf = (p: Record<string, unknown>) =>
  Array.isArray(p.FunctionResponseTypes) ? p.FunctionResponseTypes.filter((t): t is string => typeof t === 'string') : [];

/** A mapping on a table's change stream, with Lambda's stream defaults. */
const parseStreamMapping = (
  logicalId: string,
  p: Record<string, unknown>,
  tableLogicalId: string,
  functionLogicalId: string,
  resources: Record<string, CfnResource>,
  warnings: string[],
): StreamEventSourceMappingModel => {
  const what = `EventSourceMapping ${logicalId}`;
  const table = resources[tableLogicalId]?.Properties ?? {};
  if (!isRecord(table.StreamSpecification)) throw new TemplateError(`${what}: table ${tableLogicalId} has no StreamSpecification`);
  const position = str(p.StartingPosition) ?? 'TRIM_HORIZON';
  if (position !== 'TRIM_HORIZON' && position !== 'LATEST' && position !== 'AT_TIMESTAMP') {
    throw new TemplateError(`${what}: StartingPosition must be TRIM_HORIZON, LATEST or AT_TIMESTAMP`);
  }
  const timestamp = num(p.StartingPositionTimestamp, `${what} StartingPositionTimestamp`);
  if (p.FilterCriteria !== undefined) warnings.push(`${what}: FilterCriteria is not emulated locally (every record is delivered)`);
  if (p.TumblingWindowInSeconds !== undefined) warnings.push(`${what}: TumblingWindowInSeconds is not emulated locally`);
  const functionResponseTypes = functionResponseTypesOf(p);
  let onFailureQueueLogicalId: string | undefined;
  const onFailure = isRecord(p.DestinationConfig) && isRecord(p.DestinationConfig.OnFailure) ? p.DestinationConfig.OnFailure : undefined;
  if (onFailure?.Destination !== undefined) {
    const dest = referencedLogicalId(onFailure.Destination);
    if (dest && resources[dest.logicalId]?.Type === 'AWS::SQS::Queue') onFailureQueueLogicalId = dest.logicalId;
    else warnings.push(`${what}: only an SQS queue of this template is emulated as on-failure destination; discarded batches are logged`);
  }
  return {
    logicalId,
    tableLogicalId,
    functionLogicalId,
    batchSize: num(p.BatchSize, `${what} BatchSize`) ?? 100,
    maximumBatchingWindowSeconds: num(p.MaximumBatchingWindowInSeconds, `${what} MaximumBatchingWindowInSeconds`) ?? 0,
    startingPosition: position,
    ...(timestamp !== undefined ? { startingPositionTimestamp: timestamp } : {}),
    maximumRetryAttempts: num(p.MaximumRetryAttempts, `${what} MaximumRetryAttempts`) ?? -1,
    maximumRecordAgeSeconds: num(p.MaximumRecordAgeInSeconds, `${what} MaximumRecordAgeInSeconds`) ?? -1,
    bisectBatchOnFunctionError: bool(p.BisectBatchOnFunctionError) ?? false,
    functionResponseTypes,
    reportBatchItemFailures: functionResponseTypes.includes('ReportBatchItemFailures'),
    ...(onFailureQueueLogicalId ? { onFailureQueueLogicalId } : {}),
    parallelizationFactor: num(p.ParallelizationFactor, `${what} ParallelizationFactor`) ?? 1,
    enabled: bool(p.Enabled) ?? true,
  };
};

const parseEventSourceMapping = (
  logicalId: string,
  p: Record<string, unknown>,
  resources: Record<string, CfnResource>,
  warnings: string[],
): EventSourceMappingModel | StreamEventSourceMappingModel | undefined => {
  const what = `EventSourceMapping ${logicalId}`;
  const source = referencedLogicalId(p.EventSourceArn);
  const sourceType = source ? resources[source.logicalId]?.Type : undefined;
  const fnRef = allReferences(p.FunctionName).find((ref) => resources[ref.logicalId]?.Type === 'AWS::Lambda::Function');
  if (source && sourceType && TABLE_TYPES.includes(sourceType) && source.attribute === 'StreamArn') {
    if (!fnRef) throw new TemplateError(`${what}: FunctionName does not reference a function of this template`);
    return parseStreamMapping(logicalId, p, source.logicalId, fnRef.logicalId, resources, warnings);
  }
  if (!source || sourceType !== 'AWS::SQS::Queue') {
    warnings.push(`${what}: only SQS queues and table streams of this template are polled locally; skipped`);
    return undefined;
  }
  if (!fnRef) throw new TemplateError(`${what}: FunctionName does not reference a function of this template`);
  if (p.FilterCriteria !== undefined) warnings.push(`${what}: FilterCriteria is not emulated locally (every message is delivered)`);
  const functionResponseTypes = functionResponseTypesOf(p);
  const scaling = isRecord(p.ScalingConfig) ? p.ScalingConfig : undefined;
  const maximumConcurrency = scaling ? num(scaling.MaximumConcurrency, `${what} ScalingConfig.MaximumConcurrency`) : undefined;
  return {
    logicalId,
    queueLogicalId: source.logicalId,
    functionLogicalId: fnRef.logicalId,
    batchSize: num(p.BatchSize, `${what} BatchSize`) ?? 10,
    maximumBatchingWindowSeconds: num(p.MaximumBatchingWindowInSeconds, `${what} MaximumBatchingWindowInSeconds`) ?? 0,
    functionResponseTypes,
    reportBatchItemFailures: functionResponseTypes.includes('ReportBatchItemFailures'),
    ...(maximumConcurrency !== undefined ? { maximumConcurrency } : {}),
    enabled: bool(p.Enabled) ?? true,
  };
};

/** The function a method's integration invokes: the Lambda function referenced inside Integration.Uri. */
const parseRule = (
  logicalId: string,
  p: Record<string, unknown>,
  resources: Record<string, CfnResource>,
  warnings: string[],
): ScheduleRuleModel | undefined => {
  const expr = str(p.ScheduleExpression);
  if (!expr) return undefined; // event-pattern rules are not schedules
  const targets: ScheduleTargetModel[] = [];
  for (const [i, t] of (Array.isArray(p.Targets) ? p.Targets : []).entries()) {
    if (!isRecord(t)) continue;
    const fn = allReferences(t.Arn).find((ref) => resources[ref.logicalId]?.Type === 'AWS::Lambda::Function');
    if (!fn) {
      warnings.push(`Rule ${logicalId}: target ${String(t.Id ?? i)} is not a function of this template; skipped`);
      continue;
    }
    if (t.InputPath !== undefined || t.InputTransformer !== undefined) {
      warnings.push(`Rule ${logicalId}: InputPath/InputTransformer are not emulated; the target gets the scheduled event`);
    }
    const input = str(t.Input);
    targets.push({ id: String(t.Id ?? `Target${i}`), functionLogicalId: fn.logicalId, ...(input !== undefined ? { input } : {}) });
  }
  return {
    logicalId,
    ruleName: str(p.Name) ?? logicalId,
    scheduleExpression: expr,
    enabled: (str(p.State) ?? 'ENABLED') === 'ENABLED',
    targets,
  };
};

/** Bucket names are lower-case, 3-63 characters; CloudFormation generates one when the template sets none. */
const parseBucket = (logicalId: string, p: Record<string, unknown>, warnings: string[]): BucketModel => {
  const configured = [
    'BucketEncryption',
    'LifecycleConfiguration',
    'ObjectLockEnabled',
    'ObjectLockConfiguration',
    'VersioningConfiguration',
  ].filter((name) => p[name] !== undefined);
  if (configured.length > 0) warnings.push(`Bucket ${logicalId}: ${configured.join(', ')} not emulated locally`);
  const generated = logicalId
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, '-')
    .slice(0, 63)
    .padEnd(3, '0');
  return { logicalId, bucketName: str(p.BucketName) ?? generated };
};

/**
 * Parses a synthesized template. Env vars are checked (not resolved) here: an intrinsic the
 * resolver does not support fails now, naming the function and the variable.
 */
export const parseTemplate = (template: unknown): TemplateModel => {
  if (!isRecord(template) || !isRecord(template.Resources)) throw new TemplateError('Template has no Resources');
  const resources = template.Resources as Record<string, CfnResource>;
  const parameters = (isRecord(template.Parameters) ? template.Parameters : {}) as TemplateModel['parameters'];
  const warnings: string[] = [];
  const model: TemplateModel = {
    tables: [],
    queues: [],
    buckets: [],
    secrets: [],
    kmsKeys: [],
    functions: [],
    eventSourceMappings: [],
    streamEventSourceMappings: [],
    eventBuses: [],
    busRules: [],
    apis: [],
    routes: [],
    gatewayResponses: [],
    authorizers: [],
    schedules: [],
    warnings,
    resources,
    parameters,
  };
  for (const [id, r] of Object.entries(resources)) {
    if (!isRecord(r) || typeof r.Type !== 'string') throw new TemplateError(`Resource ${id} has no Type`);
    const p = r.Properties ?? {};
    switch (r.Type) {
      case 'AWS::DynamoDB::Table':
      case 'AWS::DynamoDB::GlobalTable':
        model.tables.push(parseTable(id, p));
        break;
      case 'AWS::SQS::Queue':
        model.queues.push(parseQueue(id, p, resources));
        break;
      case 'AWS::S3::Bucket':
        model.buckets.push(parseBucket(id, p, warnings));
        break;
      case 'AWS::SecretsManager::Secret':
        model.secrets.push(parseSecret(id, p));
        break;
      case 'AWS::KMS::Key':
        model.kmsKeys.push({
          logicalId: id,
          keyId: localKeyId(id),
          keySpec: str(p.KeySpec) ?? 'SYMMETRIC_DEFAULT',
          keyUsage: str(p.KeyUsage) ?? 'ENCRYPT_DECRYPT',
        });
        break;
      case 'AWS::Lambda::Function':
        model.functions.push(parseFunction(id, r));
        break;
      case 'AWS::Lambda::EventSourceMapping': {
        const esm = parseEventSourceMapping(id, p, resources, warnings);
        if (esm && 'tableLogicalId' in esm) model.streamEventSourceMappings.push(esm);
        else if (esm) model.eventSourceMappings.push(esm);
        break;
      }
      case 'AWS::Events::Rule': {
        const rule = parseRule(id, p, resources, warnings);
        if (rule) model.schedules.push(rule);
        const busRule = parseBusRule(id, p, resources, warnings);
        if (busRule) model.busRules.push(busRule);
        break;
      }
      case 'AWS::Events::EventBus':
        model.eventBuses.push(parseEventBus(id, p));
        break;
      default:
        break;
    }
  }
  const { apis, routes } = parseApis(resources, warnings);
  model.apis.push(...apis);
  model.routes.push(...routes);
  model.gatewayResponses.push(...parseGatewayResponses(resources, warnings));
  model.authorizers.push(...parseAuthorizers(resources, warnings));
  leaveOutFunctionsOfMissingServices(model, warnings);
  for (const fn of invokedFunctions(model)) {
    for (const [name, value] of Object.entries(fn.rawEnvironment))
      checkSupported(value, model, `Function ${fn.logicalId}, environment variable ${name}`);
  }
  return model;
};

/**
 * A function whose environment names a resource of a service that has no local emulator (an
 * Athena workgroup, say) cannot do its work locally: its queue and stream event sources are not
 * polled, so it does not run and fail over and over; its queue keeps the messages, visible on the
 * status page. The function itself is the same code in the cloud (no `if (local)` anywhere).
 */
const leaveOutFunctionsOfMissingServices = (model: TemplateModel, warnings: string[]) => {
  for (const fn of invokedFunctions(model)) {
    const missing = Object.entries(fn.rawEnvironment).flatMap(([name, value]) =>
      allReferences(value)
        .filter((r) => r.attribute === undefined && model.resources[r.logicalId] !== undefined)
        .filter((r) => !LOCAL_REF_TYPES.has(model.resources[r.logicalId]!.Type))
        .map((r) => `${name} names ${model.resources[r.logicalId]!.Type} ${r.logicalId}`),
    );
    if (missing.length === 0) continue;
    const sources = [...model.eventSourceMappings, ...model.streamEventSourceMappings].filter((m) => m.functionLogicalId === fn.logicalId);
    warnings.push(
      `Function ${fn.logicalId}: ${missing.join(', ')}, which does not run locally; its event sources (${sources.map((m) => m.logicalId).join(', ') || 'none'}) are not polled`,
    );
    const keep = <T extends { functionLogicalId: string }>(list: T[]) => {
      const kept = list.filter((m) => m.functionLogicalId !== fn.logicalId);
      list.splice(0, list.length, ...kept);
    };
    keep(model.eventSourceMappings);
    keep(model.streamEventSourceMappings);
  }
};

/**
 * Functions something invokes: a route, an authorizer, an event source mapping or a schedule. Others (CDK
 * custom-resource providers, for instance) only run at deploy time.
 */
export const invokedFunctions = (model: TemplateModel): FunctionModel[] => {
  const invoked = new Set([
    ...model.routes.map((r) => r.functionLogicalId),
    ...model.authorizers.flatMap((a) => (a.functionLogicalId ? [a.functionLogicalId] : [])),
    ...model.eventSourceMappings.map((m) => m.functionLogicalId),
    ...model.streamEventSourceMappings.map((m) => m.functionLogicalId),
    ...model.schedules.flatMap((s) => s.targets.map((t) => t.functionLogicalId)),
  ]);
  return model.functions.filter((fn) => invoked.has(fn.logicalId));
};

/** Queues ordered so each dead-letter queue comes before the queues that redrive into it. */
export const queuesInCreationOrder = (model: TemplateModel): QueueModel[] => {
  const byId = new Map(model.queues.map((q) => [q.logicalId, q]));
  const ordered: QueueModel[] = [];
  const visit = (q: QueueModel, path: string[]) => {
    if (ordered.includes(q)) return;
    if (path.includes(q.logicalId)) throw new TemplateError(`Queue ${q.logicalId}: redrive cycle`);
    if (q.redrive) {
      const dlq = byId.get(q.redrive.deadLetterQueueLogicalId);
      if (!dlq) throw new TemplateError(`Queue ${q.logicalId}: dead-letter queue ${q.redrive.deadLetterQueueLogicalId} not found`);
      visit(dlq, [...path, q.logicalId]);
    }
    ordered.push(q);
  };
  for (const q of model.queues) visit(q, []);
  return ordered;
};
