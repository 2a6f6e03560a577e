/**
 * What invokes the template's functions besides the API: SQS and DynamoDB stream event source
 * mappings (with Lambda's defaults) and schedule rules. Pure, like read.ts, which calls these.
 */
import {
  TemplateError,
  type CfnResource,
  type EventSourceMappingModel,
  type ScheduleRuleModel,
  type ScheduleTargetModel,
  type StreamEventSourceMappingModel,
} from './model';
import { allReferences, bool, isRecord, num, referencedLogicalId, str } from './values';

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

export const parseEventSourceMapping = (
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

/** A schedule rule and the template's functions it targets (event-pattern rules are read-bus.ts's). */
export const parseRule = (
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
