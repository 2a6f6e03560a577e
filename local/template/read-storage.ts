/**
 * The data stores of a template, as the local runtime creates them: DynamoDB tables (keys,
 * indexes, TTL, billing, stream), SQS queues (attributes, redrive), Secrets Manager secrets and S3
 * buckets. Pure, like read.ts, which calls these.
 */
import { createHash } from 'node:crypto';
import {
  TemplateError,
  type AttributeDefinition,
  type CfnResource,
  type GenerateSecretStringSpec,
  type KeySchemaElement,
  type KmsKeyModel,
  type BucketModel,
  type QueueModel,
  type SecondaryIndexModel,
  type SecretModel,
  type StreamViewType,
  type TableModel,
} from './model';
import { bool, isRecord, num, referencedLogicalId, str } from './values';

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

export const parseTable = (logicalId: string, p: Record<string, unknown>): TableModel => {
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

export const parseQueue = (logicalId: string, p: Record<string, unknown>, resources: Record<string, CfnResource>): QueueModel => {
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

/** A KMS key: its spec and usage (the local KMS signs with it), under a stable local key id. */
export const parseKmsKey = (logicalId: string, p: Record<string, unknown>): KmsKeyModel => ({
  logicalId,
  keyId: localKeyId(logicalId),
  keySpec: str(p.KeySpec) ?? 'SYMMETRIC_DEFAULT',
  keyUsage: str(p.KeyUsage) ?? 'ENCRYPT_DECRYPT',
});

export const parseSecret = (logicalId: string, p: Record<string, unknown>): SecretModel => {
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

/** Bucket names are lower-case, 3-63 characters; CloudFormation generates one when the template sets none. */
export const parseBucket = (logicalId: string, p: Record<string, unknown>, warnings: string[]): BucketModel => {
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
