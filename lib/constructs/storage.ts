import { RemovalPolicy } from 'aws-cdk-lib';
import { AttributeType, BillingMode, type ITable, ProjectionType, Table } from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';

/** Names of the table's key attributes and indexes, shared with lambdas/core/keys.ts by contract. */
export const TABLE_SCHEMA = {
  partitionKey: 'pk',
  sortKey: 'sk',
  byUserIndex: 'byUser',
  byUserKey: 'u',
  byTypeIndex: 'byType',
  byTypeKey: 't',
  byPurgeIndex: 'byPurge',
  byPurgeKey: 'p',
  deletedAtAttribute: 'd',
  ttlAttribute: 'x',
} as const;

export interface EventStorageProps {
  /**
   * What happens to the table when it leaves the stack. Events are the product: keep them.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * Refuse DeleteTable, whoever asks (a stack deletion, a console click), until it is turned off.
   * @default false
   */
  readonly deletionProtection?: boolean;
}

/**
 * The single events table: `pk`/`sk` for the tenant timeline, `byUser` and `byType` indexes for the
 * user and type timelines, a sparse `byPurge` index of soft-deleted items for the cleanup, TTL on `x` as the free retention backstop, on-demand billing, PITR.
 */
export class EventStorage extends Construct {
  readonly table: ITable;

  constructor(scope: Construct, id: string, props: EventStorageProps = {}) {
    super(scope, id);

    const table = new Table(this, 'Table', {
      partitionKey: { name: TABLE_SCHEMA.partitionKey, type: AttributeType.STRING },
      sortKey: { name: TABLE_SCHEMA.sortKey, type: AttributeType.STRING },
      billingMode: BillingMode.PAY_PER_REQUEST,
      timeToLiveAttribute: TABLE_SCHEMA.ttlAttribute,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      // No `encryption`: DynamoDB encrypts at rest with an AWS owned key, at no KMS cost per request.
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
      ...(props.deletionProtection && { deletionProtection: true }),
    });
    table.addGlobalSecondaryIndex({
      indexName: TABLE_SCHEMA.byUserIndex,
      partitionKey: { name: TABLE_SCHEMA.byUserKey, type: AttributeType.STRING },
      sortKey: { name: TABLE_SCHEMA.sortKey, type: AttributeType.STRING },
      projectionType: ProjectionType.ALL,
    });
    table.addGlobalSecondaryIndex({
      indexName: TABLE_SCHEMA.byTypeIndex,
      partitionKey: { name: TABLE_SCHEMA.byTypeKey, type: AttributeType.STRING },
      sortKey: { name: TABLE_SCHEMA.sortKey, type: AttributeType.STRING },
      projectionType: ProjectionType.ALL,
    });
    // Sparse: only soft-deleted items carry `p`, so this index costs a write per delete, not per event.
    table.addGlobalSecondaryIndex({
      indexName: TABLE_SCHEMA.byPurgeIndex,
      partitionKey: { name: TABLE_SCHEMA.byPurgeKey, type: AttributeType.STRING },
      sortKey: { name: TABLE_SCHEMA.deletedAtAttribute, type: AttributeType.NUMBER },
      projectionType: ProjectionType.KEYS_ONLY,
    });
    this.table = table;
  }
}
