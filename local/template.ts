/**
 * Reads a synthesized CloudFormation template into the model the local runtime runs.
 *
 * Pure: no I/O, no process.env. Everything the runtime needs about tables, queues,
 * secrets, functions, event source mappings, REST routes and schedules comes from here,
 * so local mode follows the stack instead of restating it.
 */

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

interface CfnResource {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
  readonly Metadata?: Record<string, unknown>;
}

export interface CfnTemplate {
  readonly Resources?: Record<string, CfnResource>;
  readonly Parameters?: Record<string, { Type?: string; Default?: unknown }>;
}

/** A template shape or intrinsic the local runtime cannot honour. */
export class TemplateError extends Error {
  override name = 'TemplateError';
}

export interface KeySchemaElement {
  readonly AttributeName: string;
  readonly KeyType: 'HASH' | 'RANGE';
}

export interface AttributeDefinition {
  readonly AttributeName: string;
  readonly AttributeType: 'S' | 'N' | 'B';
}

export interface SecondaryIndexModel {
  readonly indexName: string;
  readonly keySchema: KeySchemaElement[];
  readonly projection: { readonly projectionType: 'ALL' | 'KEYS_ONLY' | 'INCLUDE'; readonly nonKeyAttributes?: string[] };
}

export interface TableModel {
  readonly logicalId: string;
  readonly tableName: string;
  readonly keySchema: KeySchemaElement[];
  readonly attributeDefinitions: AttributeDefinition[];
  readonly globalSecondaryIndexes: SecondaryIndexModel[];
  readonly localSecondaryIndexes: SecondaryIndexModel[];
  /** TTL attribute; informational only: local mode has no TTL, as the design expects. */
  readonly ttlAttribute?: string;
  readonly billingMode: 'PAY_PER_REQUEST' | 'PROVISIONED';
}

export interface QueueModel {
  readonly logicalId: string;
  readonly queueName: string;
  readonly fifo: boolean;
  /** SQS attributes taken from the template (strings, as the SQS API wants them). */
  readonly attributes: Record<string, string>;
  readonly visibilityTimeoutSeconds: number;
  readonly redrive?: { readonly deadLetterQueueLogicalId: string; readonly maxReceiveCount: number };
}

export interface GenerateSecretStringSpec {
  readonly secretStringTemplate?: string;
  readonly generateStringKey?: string;
  readonly passwordLength: number;
  readonly excludeCharacters: string;
  readonly excludePunctuation: boolean;
  readonly excludeNumbers: boolean;
  readonly excludeLowercase: boolean;
  readonly excludeUppercase: boolean;
  readonly includeSpace: boolean;
  readonly requireEachIncludedType: boolean;
}

export interface SecretModel {
  readonly logicalId: string;
  readonly secretName: string;
  readonly generate?: GenerateSecretStringSpec;
  readonly secretString?: string;
}

export interface FunctionModel {
  readonly logicalId: string;
  readonly functionName: string;
  /** e.g. "index.handler": module path "index", export "handler". */
  readonly handler: string;
  readonly runtime: string;
  readonly timeoutSeconds: number;
  readonly memoryMb: number;
  /** Folder of the bundled asset inside the cloud assembly (Metadata aws:asset:path). */
  readonly assetPath?: string;
  /** Environment variables as written in the template (may hold intrinsics). */
  readonly rawEnvironment: Record<string, unknown>;
}

export interface EventSourceMappingModel {
  readonly logicalId: string;
  readonly queueLogicalId: string;
  readonly functionLogicalId: string;
  readonly batchSize: number;
  readonly maximumBatchingWindowSeconds: number;
  readonly functionResponseTypes: string[];
  readonly reportBatchItemFailures: boolean;
  readonly maximumConcurrency?: number;
  readonly enabled: boolean;
}

export interface RestApiModel {
  readonly logicalId: string;
  readonly name: string;
  readonly stageName: string;
  readonly binaryMediaTypes: string[];
}

/** A customized API Gateway error answer (AWS::ApiGateway::GatewayResponse). */
export interface GatewayResponseModel {
  readonly apiLogicalId: string;
  /** e.g. MISSING_AUTHENTICATION_TOKEN, REQUEST_TOO_LARGE, DEFAULT_4XX, DEFAULT_5XX. */
  readonly responseType: string;
  readonly statusCode?: number;
  /** Content type → body mapping template. */
  readonly templates: Record<string, string>;
  /** Header name → value (the quotes of static values removed). */
  readonly headers: Record<string, string>;
}

export interface RouteModel {
  readonly apiLogicalId: string;
  readonly methodLogicalId: string;
  /** Resource path as API Gateway reports it in `event.resource`, e.g. /v1/events/{id}. */
  readonly resourcePath: string;
  /** Upper-case HTTP method, or ANY. */
  readonly httpMethod: string;
  readonly functionLogicalId: string;
  readonly authorizationType: string;
  /** API Gateway gives up on the integration after this long (504). @default 29000 */
  readonly integrationTimeoutMs: number;
}

export interface ScheduleTargetModel {
  readonly id: string;
  readonly functionLogicalId: string;
  /** Constant JSON input configured on the target, if any (replaces the scheduled event). */
  readonly input?: string;
}

export interface ScheduleRuleModel {
  readonly logicalId: string;
  readonly ruleName: string;
  readonly scheduleExpression: string;
  readonly enabled: boolean;
  readonly targets: ScheduleTargetModel[];
}

export interface TemplateModel {
  readonly tables: TableModel[];
  readonly queues: QueueModel[];
  readonly secrets: SecretModel[];
  readonly functions: FunctionModel[];
  readonly eventSourceMappings: EventSourceMappingModel[];
  readonly apis: RestApiModel[];
  readonly routes: RouteModel[];
  readonly gatewayResponses: GatewayResponseModel[];
  readonly schedules: ScheduleRuleModel[];
  /** Things present in the template that local mode does not emulate. */
  readonly warnings: string[];
  /** The raw resources and parameters, for the intrinsic resolver. */
  readonly resources: Record<string, CfnResource>;
  readonly parameters: Record<string, { Type?: string; Default?: unknown }>;
}

/** Physical facts only known once the emulators run. */
export interface ResolveContext {
  readonly region: string;
  readonly accountId: string;
  readonly partition?: string;
  readonly urlSuffix?: string;
  readonly stackName?: string;
  /** URL of a queue as the SQS emulator serves it. */
  readonly queueUrl: (queue: QueueModel) => string;
}

const SQS_DEFAULT_VISIBILITY_TIMEOUT = 30;

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

const num = (v: unknown, what: string): number | undefined => {
  if (v === undefined || v === null) return undefined;
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
  if (!Number.isFinite(n)) throw new TemplateError(`${what}: expected a number, got ${JSON.stringify(v)}`);
  return n;
};

const bool = (v: unknown): boolean | undefined =>
  v === true || v === 'true' ? true : v === false || v === 'false' ? false : undefined;

/** The logical id a `{Ref: X}` or `{Fn::GetAtt: [X, attr]}` points at, if the value is one. */
export const referencedLogicalId = (v: unknown): { logicalId: string; attribute?: string } | undefined => {
  if (!isRecord(v)) return undefined;
  const keys = Object.keys(v);
  if (keys.length !== 1) return undefined;
  if (typeof v.Ref === 'string') return { logicalId: v.Ref };
  const getAtt = v['Fn::GetAtt'];
  if (Array.isArray(getAtt) && typeof getAtt[0] === 'string' && typeof getAtt[1] === 'string') {
    return { logicalId: getAtt[0], attribute: getAtt[1] };
  }
  if (typeof getAtt === 'string') {
    const dot = getAtt.indexOf('.');
    if (dot > 0) return { logicalId: getAtt.slice(0, dot), attribute: getAtt.slice(dot + 1) };
  }
  return undefined;
};

/** Every Ref/GetAtt nested anywhere in a value (depth first, in order). */
const allReferences = (v: unknown, out: { logicalId: string; attribute?: string }[] = []) => {
  const ref = referencedLogicalId(v);
  if (ref) out.push(ref);
  else if (Array.isArray(v)) v.forEach((x) => allReferences(x, out));
  else if (isRecord(v)) Object.values(v).forEach((x) => allReferences(x, out));
  return out;
};

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

const parseTable = (logicalId: string, p: Record<string, unknown>, warnings: string[]): TableModel => {
  const what = `Table ${logicalId}`;
  const attributeDefinitions = (Array.isArray(p.AttributeDefinitions) ? p.AttributeDefinitions : []).map((a) => {
    if (!isRecord(a) || typeof a.AttributeName !== 'string' || !['S', 'N', 'B'].includes(String(a.AttributeType))) {
      throw new TemplateError(`${what}: invalid AttributeDefinition ${JSON.stringify(a)}`);
    }
    return { AttributeName: a.AttributeName, AttributeType: a.AttributeType as AttributeDefinition['AttributeType'] };
  });
  const ttl = isRecord(p.TimeToLiveSpecification) ? p.TimeToLiveSpecification : undefined;
  if (p.StreamSpecification !== undefined) warnings.push(`${what}: DynamoDB streams are not emulated locally`);
  const billingMode = p.BillingMode === 'PROVISIONED' || (p.BillingMode === undefined && p.ProvisionedThroughput !== undefined)
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

const parseEventSourceMapping = (
  logicalId: string,
  p: Record<string, unknown>,
  resources: Record<string, CfnResource>,
  warnings: string[],
): EventSourceMappingModel | undefined => {
  const what = `EventSourceMapping ${logicalId}`;
  const source = referencedLogicalId(p.EventSourceArn);
  if (!source || resources[source.logicalId]?.Type !== 'AWS::SQS::Queue') {
    warnings.push(`${what}: only SQS queues of this template are polled locally; skipped`);
    return undefined;
  }
  const fnRef = allReferences(p.FunctionName).find((ref) => resources[ref.logicalId]?.Type === 'AWS::Lambda::Function');
  if (!fnRef) throw new TemplateError(`${what}: FunctionName does not reference a function of this template`);
  if (p.FilterCriteria !== undefined) warnings.push(`${what}: FilterCriteria is not emulated locally (every message is delivered)`);
  const functionResponseTypes = Array.isArray(p.FunctionResponseTypes)
    ? p.FunctionResponseTypes.filter((t): t is string => typeof t === 'string')
    : [];
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
const integrationFunction = (integration: Record<string, unknown>, resources: Record<string, CfnResource>) =>
  allReferences(integration.Uri).find((ref) => resources[ref.logicalId]?.Type === 'AWS::Lambda::Function')?.logicalId;

const parseApis = (resources: Record<string, CfnResource>, warnings: string[]) => {
  const apis: RestApiModel[] = [];
  const routes: RouteModel[] = [];
  const entries = Object.entries(resources);
  for (const [apiId, api] of entries) {
    if (api.Type !== 'AWS::ApiGateway::RestApi') continue;
    const p = api.Properties ?? {};
    const refsApi = (v: unknown) => referencedLogicalId(v)?.logicalId === apiId;
    const stage = entries.find(([, r]) => r.Type === 'AWS::ApiGateway::Stage' && refsApi(r.Properties?.RestApiId));
    const deploymentStage = entries.find(
      ([, r]) => r.Type === 'AWS::ApiGateway::Deployment' && refsApi(r.Properties?.RestApiId) && typeof r.Properties?.StageName === 'string',
    );
    apis.push({
      logicalId: apiId,
      name: str(p.Name) ?? apiId,
      stageName: str(stage?.[1].Properties?.StageName) ?? str(deploymentStage?.[1].Properties?.StageName) ?? 'prod',
      binaryMediaTypes: Array.isArray(p.BinaryMediaTypes) ? p.BinaryMediaTypes.filter((t): t is string => typeof t === 'string') : [],
    });

    // Resource id -> full path, walking ParentId chains up to the api's RootResourceId.
    const isRoot = (v: unknown) => {
      const ref = referencedLogicalId(v);
      return ref?.logicalId === apiId && ref.attribute === 'RootResourceId';
    };
    const pathCache = new Map<string, string>();
    const resourcePath = (resourceId: string, seen: string[] = []): string => {
      const cached = pathCache.get(resourceId);
      if (cached !== undefined) return cached;
      const r = resources[resourceId];
      if (!r || r.Type !== 'AWS::ApiGateway::Resource') throw new TemplateError(`ApiGateway resource ${resourceId} not found`);
      if (seen.includes(resourceId)) throw new TemplateError(`ApiGateway resource ${resourceId}: ParentId cycle`);
      const part = str(r.Properties?.PathPart);
      if (!part) throw new TemplateError(`ApiGateway resource ${resourceId}: PathPart missing`);
      const parent = r.Properties?.ParentId;
      let parentPath: string;
      if (isRoot(parent)) parentPath = '';
      else {
        const parentRef = referencedLogicalId(parent);
        if (!parentRef || parentRef.attribute) throw new TemplateError(`ApiGateway resource ${resourceId}: unsupported ParentId`);
        parentPath = resourcePath(parentRef.logicalId, [...seen, resourceId]);
      }
      const full = `${parentPath}/${part}`;
      pathCache.set(resourceId, full);
      return full;
    };

    for (const [methodId, m] of entries) {
      if (m.Type !== 'AWS::ApiGateway::Method' || !refsApi(m.Properties?.RestApiId)) continue;
      const mp = m.Properties ?? {};
      const httpMethod = String(mp.HttpMethod ?? '').toUpperCase();
      const integration = isRecord(mp.Integration) ? mp.Integration : {};
      if (httpMethod === 'OPTIONS' || integration.Type === 'MOCK') continue;
      let path: string;
      if (isRoot(mp.ResourceId)) path = '/';
      else {
        const ref = referencedLogicalId(mp.ResourceId);
        if (!ref || ref.attribute) throw new TemplateError(`ApiGateway method ${methodId}: unsupported ResourceId`);
        path = resourcePath(ref.logicalId);
      }
      const fn = integrationFunction(integration, resources);
      if (integration.Type !== 'AWS_PROXY' || !fn) {
        warnings.push(`ApiGateway method ${methodId} (${httpMethod} ${path}): only Lambda proxy integrations are emulated; skipped`);
        continue;
      }
      const authorizationType = str(mp.AuthorizationType) ?? 'NONE';
      if (authorizationType !== 'NONE') {
        warnings.push(`ApiGateway method ${methodId} (${httpMethod} ${path}): authorizer ${authorizationType} is not emulated; the function verifies tokens itself`);
      }
      if (mp.RequestValidatorId !== undefined) {
        warnings.push(`ApiGateway method ${methodId} (${httpMethod} ${path}): request validation is not emulated locally`);
      }
      const integrationTimeoutMs = num(integration.TimeoutInMillis, `ApiGateway method ${methodId} Integration.TimeoutInMillis`) ?? 29_000;
      routes.push({ apiLogicalId: apiId, methodLogicalId: methodId, resourcePath: path, httpMethod, functionLogicalId: fn, authorizationType, integrationTimeoutMs });
    }
  }
  return { apis, routes };
};

const parseGatewayResponses = (resources: Record<string, CfnResource>, warnings: string[]): GatewayResponseModel[] => {
  const out: GatewayResponseModel[] = [];
  for (const [id, r] of Object.entries(resources)) {
    if (r.Type !== 'AWS::ApiGateway::GatewayResponse') continue;
    const p = r.Properties ?? {};
    const api = referencedLogicalId(p.RestApiId);
    const responseType = str(p.ResponseType);
    if (!api || !responseType) continue;
    const templates: Record<string, string> = {};
    for (const [type, body] of Object.entries(isRecord(p.ResponseTemplates) ? p.ResponseTemplates : {})) {
      if (typeof body === 'string') templates[type.toLowerCase()] = body;
    }
    const headers: Record<string, string> = {};
    for (const [key, value] of Object.entries(isRecord(p.ResponseParameters) ? p.ResponseParameters : {})) {
      const m = /^gatewayresponse\.header\.(.+)$/.exec(key);
      const literal = typeof value === 'string' ? /^'(.*)'$/.exec(value) : null;
      if (m && literal) headers[m[1]!] = literal[1]!;
      else warnings.push(`GatewayResponse ${id}: parameter ${key} is not a static header; ignored locally`);
    }
    const statusCode = num(p.StatusCode, `GatewayResponse ${id} StatusCode`);
    out.push({ apiLogicalId: api.logicalId, responseType, ...(statusCode !== undefined ? { statusCode } : {}), templates, headers });
  }
  return out;
};

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
    secrets: [],
    functions: [],
    eventSourceMappings: [],
    apis: [],
    routes: [],
    gatewayResponses: [],
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
        model.tables.push(parseTable(id, p, warnings));
        break;
      case 'AWS::SQS::Queue':
        model.queues.push(parseQueue(id, p, resources));
        break;
      case 'AWS::SecretsManager::Secret':
        model.secrets.push(parseSecret(id, p));
        break;
      case 'AWS::Lambda::Function':
        model.functions.push(parseFunction(id, r));
        break;
      case 'AWS::Lambda::EventSourceMapping': {
        const esm = parseEventSourceMapping(id, p, resources, warnings);
        if (esm) model.eventSourceMappings.push(esm);
        break;
      }
      case 'AWS::Events::Rule': {
        const rule = parseRule(id, p, resources, warnings);
        if (rule) model.schedules.push(rule);
        break;
      }
      default:
        break;
    }
  }
  const { apis, routes } = parseApis(resources, warnings);
  model.apis.push(...apis);
  model.routes.push(...routes);
  model.gatewayResponses.push(...parseGatewayResponses(resources, warnings));
  for (const fn of invokedFunctions(model)) {
    for (const [name, value] of Object.entries(fn.rawEnvironment)) checkSupported(value, model, `Function ${fn.logicalId}, environment variable ${name}`);
  }
  return model;
};

/**
 * Functions something invokes: a route, an event source mapping or a schedule. Others (CDK
 * custom-resource providers, for instance) only run at deploy time.
 */
export const invokedFunctions = (model: TemplateModel): FunctionModel[] => {
  const invoked = new Set([
    ...model.routes.map((r) => r.functionLogicalId),
    ...model.eventSourceMappings.map((m) => m.functionLogicalId),
    ...model.schedules.flatMap((s) => s.targets.map((t) => t.functionLogicalId)),
  ]);
  return model.functions.filter((fn) => invoked.has(fn.logicalId));
};

// ---------------------------------------------------------------------------------------
// Intrinsic functions

const SUPPORTED_INTRINSICS = new Set(['Ref', 'Fn::GetAtt', 'Fn::Join', 'Fn::Sub', 'Fn::Select', 'Fn::Split']);

const checkSupported = (v: unknown, model: TemplateModel, where: string): void => {
  if (Array.isArray(v)) return v.forEach((x) => checkSupported(x, model, where));
  if (!isRecord(v)) return;
  const keys = Object.keys(v);
  const intrinsic = keys.find((k) => k === 'Ref' || k.startsWith('Fn::') || k === 'Condition');
  if (intrinsic && !SUPPORTED_INTRINSICS.has(intrinsic)) {
    throw new TemplateError(`${where}: intrinsic ${intrinsic} is not supported by the local runtime`);
  }
  Object.values(v).forEach((x) => checkSupported(x, model, where));
};

const SECRET_SUFFIX_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** Secrets Manager appends 6 random characters to a secret's ARN; locally they derive from the name. */
export const secretArn = (name: string, ctx: Pick<ResolveContext, 'region' | 'accountId' | 'partition'>): string => {
  let h = 2166136261;
  for (const c of name) h = Math.imul(h ^ c.charCodeAt(0), 16777619) >>> 0;
  let suffix = '';
  for (let i = 0; i < 6; i++) {
    suffix += SECRET_SUFFIX_ALPHABET[h % SECRET_SUFFIX_ALPHABET.length];
    h = Math.imul(h ^ (i + 1), 2654435761) >>> 0;
  }
  return `arn:${ctx.partition ?? 'aws'}:secretsmanager:${ctx.region}:${ctx.accountId}:secret:${name}-${suffix}`;
};

export const queueArn = (q: QueueModel, ctx: Pick<ResolveContext, 'region' | 'accountId' | 'partition'>) =>
  `arn:${ctx.partition ?? 'aws'}:sqs:${ctx.region}:${ctx.accountId}:${q.queueName}`;

export const functionArn = (fn: FunctionModel, ctx: Pick<ResolveContext, 'region' | 'accountId' | 'partition'>) =>
  `arn:${ctx.partition ?? 'aws'}:lambda:${ctx.region}:${ctx.accountId}:function:${fn.functionName}`;

export const tableArn = (t: TableModel, ctx: Pick<ResolveContext, 'region' | 'accountId' | 'partition'>) =>
  `arn:${ctx.partition ?? 'aws'}:dynamodb:${ctx.region}:${ctx.accountId}:table/${t.tableName}`;

export const ruleArn = (r: ScheduleRuleModel, ctx: Pick<ResolveContext, 'region' | 'accountId' | 'partition'>) =>
  `arn:${ctx.partition ?? 'aws'}:events:${ctx.region}:${ctx.accountId}:rule/${r.ruleName}`;

const pseudo = (name: string, ctx: ResolveContext): string | undefined => {
  switch (name) {
    case 'AWS::Region':
      return ctx.region;
    case 'AWS::AccountId':
      return ctx.accountId;
    case 'AWS::Partition':
      return ctx.partition ?? 'aws';
    case 'AWS::URLSuffix':
      return ctx.urlSuffix ?? 'amazonaws.com';
    case 'AWS::StackName':
      return ctx.stackName ?? 'local';
    case 'AWS::StackId':
      return `arn:${ctx.partition ?? 'aws'}:cloudformation:${ctx.region}:${ctx.accountId}:stack/${ctx.stackName ?? 'local'}/00000000-0000-0000-0000-000000000000`;
    default:
      return undefined;
  }
};

const NO_VALUE = Symbol('AWS::NoValue');

const refValue = (name: string, model: TemplateModel, ctx: ResolveContext, where: string): string | typeof NO_VALUE => {
  if (name === 'AWS::NoValue') return NO_VALUE;
  const p = pseudo(name, ctx);
  if (p !== undefined) return p;
  const param = model.parameters[name];
  if (param) {
    if (param.Default === undefined) throw new TemplateError(`${where}: parameter ${name} has no Default to use locally`);
    return String(param.Default);
  }
  const r = model.resources[name];
  if (!r) throw new TemplateError(`${where}: Ref to unknown resource ${name}`);
  switch (r.Type) {
    case 'AWS::DynamoDB::Table':
    case 'AWS::DynamoDB::GlobalTable':
      return model.tables.find((t) => t.logicalId === name)!.tableName;
    case 'AWS::SQS::Queue':
      return ctx.queueUrl(model.queues.find((q) => q.logicalId === name)!);
    case 'AWS::SecretsManager::Secret':
      return secretArn(model.secrets.find((s) => s.logicalId === name)!.secretName, ctx);
    case 'AWS::Lambda::Function':
      return model.functions.find((f) => f.logicalId === name)!.functionName;
    case 'AWS::Events::Rule': {
      const rule = model.schedules.find((s) => s.logicalId === name);
      return rule?.ruleName ?? name;
    }
    default:
      throw new TemplateError(`${where}: Ref to ${r.Type} (${name}) is not supported by the local runtime`);
  }
};

const getAttValue = (name: string, attr: string, model: TemplateModel, ctx: ResolveContext, where: string): string => {
  const r = model.resources[name];
  if (!r) throw new TemplateError(`${where}: Fn::GetAtt on unknown resource ${name}`);
  const unsupported = () => new TemplateError(`${where}: Fn::GetAtt ${name}.${attr} (${r.Type}) is not supported by the local runtime`);
  switch (r.Type) {
    case 'AWS::SQS::Queue': {
      const q = model.queues.find((x) => x.logicalId === name)!;
      if (attr === 'Arn') return queueArn(q, ctx);
      if (attr === 'QueueUrl') return ctx.queueUrl(q);
      if (attr === 'QueueName') return q.queueName;
      throw unsupported();
    }
    case 'AWS::DynamoDB::Table':
    case 'AWS::DynamoDB::GlobalTable': {
      const t = model.tables.find((x) => x.logicalId === name)!;
      if (attr === 'Arn') return tableArn(t, ctx);
      throw unsupported();
    }
    case 'AWS::Lambda::Function': {
      const f = model.functions.find((x) => x.logicalId === name)!;
      if (attr === 'Arn') return functionArn(f, ctx);
      throw unsupported();
    }
    case 'AWS::SecretsManager::Secret': {
      const s = model.secrets.find((x) => x.logicalId === name)!;
      if (attr === 'Id' || attr === 'Arn' || attr === 'SecretArn') return secretArn(s.secretName, ctx);
      throw unsupported();
    }
    case 'AWS::Events::Rule': {
      const rule = model.schedules.find((x) => x.logicalId === name);
      if (attr === 'Arn' && rule) return ruleArn(rule, ctx);
      throw unsupported();
    }
    default:
      throw unsupported();
  }
};

const asString = (v: unknown, where: string, what: string): string => {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  throw new TemplateError(`${where}: ${what} must resolve to a string, got ${JSON.stringify(v)}`);
};

const substitute = (text: string, vars: Record<string, unknown>, model: TemplateModel, ctx: ResolveContext, where: string) =>
  text.replace(/\$\{([^}]*)\}/g, (_m, expr: string) => {
    if (expr.startsWith('!')) return `\${${expr.slice(1)}}`;
    const name = expr.trim();
    if (name in vars) return asString(resolve(vars[name], model, ctx, where), where, `Fn::Sub variable ${name}`);
    const dot = name.indexOf('.');
    if (dot > 0 && !name.startsWith('AWS::')) return getAttValue(name.slice(0, dot), name.slice(dot + 1), model, ctx, where);
    const v = refValue(name, model, ctx, where);
    if (v === NO_VALUE) throw new TemplateError(`${where}: AWS::NoValue inside Fn::Sub`);
    return v;
  });

/** Resolves intrinsics in a value; `where` names the place for error messages. */
export const resolve = (v: unknown, model: TemplateModel, ctx: ResolveContext, where: string): unknown => {
  if (Array.isArray(v)) {
    return v.map((x) => resolve(x, model, ctx, where)).filter((x) => x !== NO_VALUE);
  }
  if (!isRecord(v)) return v;
  const keys = Object.keys(v);
  if (keys.length === 1) {
    const key = keys[0]!;
    const arg = v[key];
    switch (key) {
      case 'Ref':
        if (typeof arg !== 'string') throw new TemplateError(`${where}: Ref needs a name`);
        return refValue(arg, model, ctx, where);
      case 'Fn::GetAtt': {
        const ref = referencedLogicalId(v);
        if (!ref?.attribute) throw new TemplateError(`${where}: malformed Fn::GetAtt ${JSON.stringify(arg)}`);
        return getAttValue(ref.logicalId, ref.attribute, model, ctx, where);
      }
      case 'Fn::Join': {
        if (!Array.isArray(arg) || typeof arg[0] !== 'string') throw new TemplateError(`${where}: malformed Fn::Join`);
        const list = resolve(arg[1], model, ctx, where);
        if (!Array.isArray(list)) throw new TemplateError(`${where}: Fn::Join needs a list`);
        return list.map((x) => asString(x, where, 'Fn::Join item')).join(arg[0]);
      }
      case 'Fn::Sub': {
        if (typeof arg === 'string') return substitute(arg, {}, model, ctx, where);
        if (Array.isArray(arg) && typeof arg[0] === 'string' && (arg[1] === undefined || isRecord(arg[1]))) {
          return substitute(arg[0], (arg[1] ?? {}) as Record<string, unknown>, model, ctx, where);
        }
        throw new TemplateError(`${where}: malformed Fn::Sub`);
      }
      case 'Fn::Select': {
        if (!Array.isArray(arg) || arg.length !== 2) throw new TemplateError(`${where}: malformed Fn::Select`);
        const index = Number(resolve(arg[0], model, ctx, where));
        const list = resolve(arg[1], model, ctx, where);
        if (!Array.isArray(list) || !Number.isInteger(index) || index < 0 || index >= list.length) {
          throw new TemplateError(`${where}: Fn::Select index ${String(arg[0])} out of range`);
        }
        return list[index];
      }
      case 'Fn::Split': {
        if (!Array.isArray(arg) || typeof arg[0] !== 'string' || arg[0] === '') throw new TemplateError(`${where}: malformed Fn::Split`);
        return asString(resolve(arg[1], model, ctx, where), where, 'Fn::Split source').split(arg[0]);
      }
      default:
        if (key === 'Condition' || key.startsWith('Fn::')) {
          throw new TemplateError(`${where}: intrinsic ${key} is not supported by the local runtime`);
        }
    }
  }
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) {
    const r = resolve(x, model, ctx, where);
    if (r !== NO_VALUE) out[k] = r;
  }
  return out;
};

/**
 * A function's environment with every intrinsic resolved to a local value. Variables named in
 * `overridden` are left out unresolved: the local runtime replaces them (e.g. the issuer URL,
 * which in the cloud comes from a Cognito user pool that has no local counterpart).
 */
export const resolveFunctionEnvironment = (
  model: TemplateModel,
  fn: FunctionModel,
  ctx: ResolveContext,
  overridden: ReadonlySet<string> = new Set(),
): Record<string, string> => {
  const env: Record<string, string> = {};
  for (const [name, raw] of Object.entries(fn.rawEnvironment)) {
    if (overridden.has(name)) continue;
    const where = `Function ${fn.logicalId}, environment variable ${name}`;
    const value = resolve(raw, model, ctx, where);
    if (value === NO_VALUE) continue;
    env[name] = asString(value, where, 'the value');
  }
  return env;
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
  model.queues.forEach((q) => visit(q, []));
  return ordered;
};
