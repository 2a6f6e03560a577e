/**
 * Resolves CloudFormation intrinsics (Ref, Fn::GetAtt, Fn::Join, Fn::Sub, Fn::Select, Fn::Split)
 * and pseudo parameters to local values, and builds the ARNs a deployed stack would show.
 */
import {
  TemplateError,
  type FunctionModel,
  type QueueModel,
  type ResolveContext,
  type ScheduleRuleModel,
  type TableModel,
  type TemplateModel,
} from './model';
import { isRecord, referencedLogicalId } from './values';

const SUPPORTED_INTRINSICS = new Set(['Ref', 'Fn::GetAtt', 'Fn::Join', 'Fn::Sub', 'Fn::Select', 'Fn::Split']);

export const checkSupported = (v: unknown, model: TemplateModel, where: string): void => {
  if (Array.isArray(v)) {
    for (const x of v) checkSupported(x, model, where);
    return;
  }
  if (!isRecord(v)) return;
  const keys = Object.keys(v);
  const intrinsic = keys.find((k) => k === 'Ref' || k.startsWith('Fn::') || k === 'Condition');
  if (intrinsic && !SUPPORTED_INTRINSICS.has(intrinsic)) {
    throw new TemplateError(`${where}: intrinsic ${intrinsic} is not supported by the local runtime`);
  }
  for (const x of Object.values(v)) checkSupported(x, model, where);
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

/** A table's stream ARN; the label is fixed locally (the table is created once per run). */
export const tableStreamArn = (t: TableModel, ctx: Pick<ResolveContext, 'region' | 'accountId' | 'partition'>) =>
  `${tableArn(t, ctx)}/stream/1970-01-01T00:00:00.000`;

export const ruleArn = (r: ScheduleRuleModel, ctx: Pick<ResolveContext, 'region' | 'accountId' | 'partition'>) =>
  `arn:${ctx.partition ?? 'aws'}:events:${ctx.region}:${ctx.accountId}:rule/${r.ruleName}`;

/** Resource types whose Ref resolves locally (the cases of refValue below). */
export const LOCAL_REF_TYPES: ReadonlySet<string> = new Set([
  'AWS::DynamoDB::Table',
  'AWS::DynamoDB::GlobalTable',
  'AWS::SQS::Queue',
  'AWS::SecretsManager::Secret',
  'AWS::S3::Bucket',
  'AWS::Lambda::Function',
  'AWS::KMS::Key',
  'AWS::Events::Rule',
  'AWS::Events::EventBus',
]);

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
  // LOCAL_REF_TYPES lists these cases.
  switch (r.Type) {
    case 'AWS::DynamoDB::Table':
    case 'AWS::DynamoDB::GlobalTable':
      return model.tables.find((t) => t.logicalId === name)!.tableName;
    case 'AWS::SQS::Queue':
      return ctx.queueUrl(model.queues.find((q) => q.logicalId === name)!);
    case 'AWS::SecretsManager::Secret':
      return secretArn(model.secrets.find((s) => s.logicalId === name)!.secretName, ctx);
    case 'AWS::S3::Bucket':
      return model.buckets.find((b) => b.logicalId === name)!.bucketName;
    case 'AWS::Lambda::Function':
      return model.functions.find((f) => f.logicalId === name)!.functionName;
    case 'AWS::KMS::Key':
      return model.kmsKeys.find((k) => k.logicalId === name)!.keyId;
    case 'AWS::Events::Rule': {
      const rule = model.schedules.find((s) => s.logicalId === name);
      return rule?.ruleName ?? name;
    }
    case 'AWS::Events::EventBus':
      return model.eventBuses.find((b) => b.logicalId === name)!.name;
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
      if (attr === 'StreamArn' && t.stream) return tableStreamArn(t, ctx);
      throw unsupported();
    }
    case 'AWS::Lambda::Function': {
      const f = model.functions.find((x) => x.logicalId === name)!;
      if (attr === 'Arn') return functionArn(f, ctx);
      throw unsupported();
    }
    case 'AWS::S3::Bucket': {
      const b = model.buckets.find((x) => x.logicalId === name)!;
      if (attr === 'Arn') return `arn:${ctx.partition ?? 'aws'}:s3:::${b.bucketName}`;
      throw unsupported();
    }
    case 'AWS::KMS::Key': {
      const k = model.kmsKeys.find((x) => x.logicalId === name)!;
      if (attr === 'Arn' || attr === 'KeyId') {
        return attr === 'KeyId' ? k.keyId : `arn:${ctx.partition ?? 'aws'}:kms:${ctx.region}:${ctx.accountId}:key/${k.keyId}`;
      }
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
    case 'AWS::Events::EventBus': {
      const bus = model.eventBuses.find((x) => x.logicalId === name)!;
      if (attr === 'Name') return bus.name;
      if (attr === 'Arn') return `arn:${ctx.partition ?? 'aws'}:events:${ctx.region}:${ctx.accountId}:event-bus/${bus.name}`;
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
