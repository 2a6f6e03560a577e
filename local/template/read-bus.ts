/**
 * EventBridge buses and event-pattern rules of a template (schedule rules are read.ts's). A rule's
 * targets that are queues or functions of the template run locally; others are reported.
 */
import type { BusRuleModel, BusRuleTargetModel, CfnResource, EventBusModel } from './model';
import { TemplateError } from './model';
import { allReferences, isRecord, str } from './values';

export const parseEventBus = (logicalId: string, p: Record<string, unknown>): EventBusModel => ({
  logicalId,
  name: str(p.Name) ?? logicalId,
});

const busNameOf = (v: unknown, resources: Record<string, CfnResource>, what: string): string => {
  if (v === undefined) return 'default';
  const literal = str(v);
  if (literal !== undefined) return literal.includes(':event-bus/') ? (literal.split(':event-bus/')[1] as string) : literal;
  const ref = allReferences(v).find((r) => resources[r.logicalId]?.Type === 'AWS::Events::EventBus');
  if (!ref) throw new TemplateError(`${what}: EventBusName must be a name or a reference to a bus of this template`);
  const name = resources[ref.logicalId]?.Properties?.Name;
  return typeof name === 'string' ? name : ref.logicalId;
};

export const parseBusRule = (
  logicalId: string,
  p: Record<string, unknown>,
  resources: Record<string, CfnResource>,
  warnings: string[],
): BusRuleModel | undefined => {
  if (p.EventPattern === undefined) return undefined;
  const what = `Rule ${logicalId}`;
  const pattern = typeof p.EventPattern === 'string' ? (JSON.parse(p.EventPattern) as unknown) : p.EventPattern;
  if (!isRecord(pattern)) throw new TemplateError(`${what}: EventPattern must be an object`);
  const targets: BusRuleTargetModel[] = [];
  for (const [i, t] of (Array.isArray(p.Targets) ? p.Targets : []).entries()) {
    if (!isRecord(t)) continue;
    const id = String(t.Id ?? `Target${i}`);
    const ref = allReferences(t.Arn).find((r) => ['AWS::SQS::Queue', 'AWS::Lambda::Function'].includes(resources[r.logicalId]?.Type ?? ''));
    if (!ref) {
      warnings.push(`${what}: target ${id} is neither a queue nor a function of this template; not delivered locally`);
      continue;
    }
    if (t.InputPath !== undefined || t.InputTransformer !== undefined || t.Input !== undefined) {
      warnings.push(`${what}: target ${id}: Input/InputPath/InputTransformer are not emulated; the target gets the whole event`);
    }
    const messageGroupId = isRecord(t.SqsParameters) ? str(t.SqsParameters.MessageGroupId) : undefined;
    targets.push({
      id,
      kind: resources[ref.logicalId]?.Type === 'AWS::SQS::Queue' ? 'sqs' : 'lambda',
      logicalId: ref.logicalId,
      ...(messageGroupId !== undefined && { messageGroupId }),
    });
  }
  return {
    logicalId,
    ruleName: str(p.Name) ?? logicalId,
    busName: busNameOf(p.EventBusName, resources, what),
    eventPattern: pattern,
    enabled: (str(p.State) ?? 'ENABLED') === 'ENABLED',
    targets,
  };
};
