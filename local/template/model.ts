/**
 * The model a synthesized CloudFormation template is read into: tables, queues, secrets,
 * functions, event source mappings, REST routes and schedules, plus the raw resources the
 * intrinsic resolver (intrinsics.ts) works on.
 */

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export interface CfnResource {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
  readonly Metadata?: Record<string, unknown>;
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
  /** The table's change stream (StreamSpecification): local mode produces its records (local/stream-capture.ts). */
  readonly stream?: { readonly viewType: StreamViewType };
}

export type StreamViewType = 'KEYS_ONLY' | 'NEW_IMAGE' | 'OLD_IMAGE' | 'NEW_AND_OLD_IMAGES';

export interface QueueModel {
  readonly logicalId: string;
  readonly queueName: string;
  readonly fifo: boolean;
  /** SQS attributes taken from the template (strings, as the SQS API wants them). */
  readonly attributes: Record<string, string>;
  readonly visibilityTimeoutSeconds: number;
  readonly redrive?: { readonly deadLetterQueueLogicalId: string; readonly maxReceiveCount: number };
}

/** An S3 bucket: created empty in the emulator; its configuration (encryption, lifecycle, policy) is not emulated. */
export interface BucketModel {
  readonly logicalId: string;
  /** BucketName when the template sets one, else a name made from the logical id. */
  readonly bucketName: string;
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

/** A KMS key (local mode: asymmetric sign/verify keys, served by local/kms.ts). */
export interface KmsKeyModel {
  readonly logicalId: string;
  /** A stable key id derived from the logical id. */
  readonly keyId: string;
  readonly keySpec: string;
  readonly keyUsage: string;
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

/**
 * A Lambda event source mapping on a table's change stream (EventSourceArn = GetAtt Table.StreamArn),
 * with Lambda's defaults for stream sources where the template leaves a setting out.
 */
export interface StreamEventSourceMappingModel {
  readonly logicalId: string;
  readonly tableLogicalId: string;
  readonly functionLogicalId: string;
  /** @default 100 */
  readonly batchSize: number;
  readonly maximumBatchingWindowSeconds: number;
  readonly startingPosition: 'TRIM_HORIZON' | 'LATEST' | 'AT_TIMESTAMP';
  /** AT_TIMESTAMP: epoch seconds. */
  readonly startingPositionTimestamp?: number;
  /** Retries of a failed batch before it goes to the on-failure destination; -1 = until the record expires. @default -1 */
  readonly maximumRetryAttempts: number;
  /** Records older than this are sent to the on-failure destination unprocessed; -1 = no limit. @default -1 */
  readonly maximumRecordAgeSeconds: number;
  readonly bisectBatchOnFunctionError: boolean;
  readonly functionResponseTypes: string[];
  readonly reportBatchItemFailures: boolean;
  /** DestinationConfig.OnFailure: a queue of this template that gets one record per discarded batch. */
  readonly onFailureQueueLogicalId?: string;
  /** Concurrent batches per shard in the cloud; locally one (order per item holds either way). @default 1 */
  readonly parallelizationFactor: number;
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
  /** Header name → the request header its value is taken from (`method.request.header.NAME`). */
  readonly requestHeaders?: Record<string, string>;
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
  /** The method's AWS::ApiGateway::Authorizer (COGNITO_USER_POOLS or CUSTOM methods). */
  readonly authorizerLogicalId?: string;
  /** A Cognito method's AuthorizationScopes: the token needs one of them. */
  readonly authorizationScopes: string[];
  /** API Gateway gives up on the integration after this long (504). @default 29000 */
  readonly integrationTimeoutMs: number;
}

/** An AWS::ApiGateway::Authorizer. */
export interface AuthorizerModel {
  readonly logicalId: string;
  readonly apiLogicalId: string;
  readonly type: 'COGNITO_USER_POOLS' | 'TOKEN' | 'REQUEST';
  /** Mapping expressions, e.g. `method.request.header.Authorization`. */
  readonly identitySource: string[];
  /** AuthorizerResultTtlInSeconds (API Gateway's default: 300). */
  readonly ttlSeconds: number;
  /** TOKEN authorizers: a token not matching it is refused without invoking the function. */
  readonly identityValidationExpression?: string;
  /** TOKEN / REQUEST: the function in AuthorizerUri. */
  readonly functionLogicalId?: string;
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

/** An AWS::Events::EventBus. */
export interface EventBusModel {
  readonly logicalId: string;
  readonly name: string;
}

/** Where a bus rule delivers locally: a queue or a function of the template. */
export interface BusRuleTargetModel {
  readonly id: string;
  readonly kind: 'sqs' | 'lambda';
  readonly logicalId: string;
  /** A FIFO queue target's SqsParameters.MessageGroupId. */
  readonly messageGroupId?: string;
}

/** An AWS::Events::Rule with an EventPattern (schedules are ScheduleRuleModel). */
export interface BusRuleModel {
  readonly logicalId: string;
  readonly ruleName: string;
  /** The bus's name (`default` when the rule names none). */
  readonly busName: string;
  readonly eventPattern: Record<string, unknown>;
  readonly enabled: boolean;
  readonly targets: BusRuleTargetModel[];
}

export interface TemplateModel {
  readonly tables: TableModel[];
  readonly queues: QueueModel[];
  readonly buckets: BucketModel[];
  readonly secrets: SecretModel[];
  readonly kmsKeys: KmsKeyModel[];
  readonly functions: FunctionModel[];
  readonly eventSourceMappings: EventSourceMappingModel[];
  /** Mappings on DynamoDB change streams (any number per table). */
  readonly streamEventSourceMappings: StreamEventSourceMappingModel[];
  readonly apis: RestApiModel[];
  readonly routes: RouteModel[];
  readonly gatewayResponses: GatewayResponseModel[];
  readonly authorizers: AuthorizerModel[];
  readonly schedules: ScheduleRuleModel[];
  readonly eventBuses: EventBusModel[];
  /** Event-pattern rules on the buses, run locally against local targets (local/event-bus.ts). */
  readonly busRules: BusRuleModel[];
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
