/**
 * Reads a synthesized CloudFormation template into the model the local runtime runs.
 *
 * Pure: no I/O, no process.env. Everything the runtime needs about tables, queues,
 * secrets, functions, event source mappings, REST routes and schedules comes from here,
 * so local mode follows the stack instead of restating it. Resolving intrinsics is
 * intrinsics.ts's job; data stores are read by read-storage.ts, event sources and schedules by
 * read-sources.ts, buses and their rules by read-bus.ts, API Gateway resources by read-api.ts.
 */
import { LOCAL_REF_TYPES, checkSupported } from './intrinsics';
import { TemplateError, type CfnResource, type FunctionModel, type QueueModel, type TemplateModel } from './model';
import { parseBucket, parseKmsKey, parseQueue, parseSecret, parseTable } from './read-storage';
import { parseEventSourceMapping, parseRule } from './read-sources';
import { parseApis, parseAuthorizers, parseGatewayResponses } from './read-api';
import { parseBusRule, parseEventBus } from './read-bus';
import { allReferences, isRecord, num, str } from './values';

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
        model.kmsKeys.push(parseKmsKey(id, p));
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
