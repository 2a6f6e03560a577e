import { RemovalPolicy } from 'aws-cdk-lib';
import { AttributeType, BillingMode, type ITable, ProjectionType, StreamViewType, Table } from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import { ATTRIBUTES, GSI_BY_PURGE, GSI_BY_TYPE, GSI_BY_USER, INDEXES } from '../../contract';

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
 *
 * Its change stream (new and old images) is the backbone for everything downstream of a stored
 * event: each consumer subscribes with its own event source mapping (DynamoDB Streams allows two
 * per shard). Local mode produces the same records from the writes (local/stream-capture.ts).
 */
export class EventStorage extends Construct {
  readonly table: ITable;

  constructor(scope: Construct, id: string, props: EventStorageProps = {}) {
    super(scope, id);

    const table = new Table(this, 'Table', {
      partitionKey: { name: ATTRIBUTES.partitionKey, type: AttributeType.STRING },
      sortKey: { name: ATTRIBUTES.sortKey, type: AttributeType.STRING },
      billingMode: BillingMode.PAY_PER_REQUEST,
      timeToLiveAttribute: ATTRIBUTES.expiresAt,
      stream: StreamViewType.NEW_AND_OLD_IMAGES,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      // No `encryption`: DynamoDB encrypts at rest with an AWS owned key, at no KMS cost per request.
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
      ...(props.deletionProtection && { deletionProtection: true }),
    });
    // The layout is contract/table.ts: the functions query these indexes by name.
    for (const indexName of [GSI_BY_USER, GSI_BY_TYPE, GSI_BY_PURGE] as const) {
      const index = INDEXES[indexName];
      table.addGlobalSecondaryIndex({
        indexName,
        partitionKey: { name: index.partitionKey, type: AttributeType.STRING },
        // byPurge sorts by deletedAt, epoch ms.
        sortKey: { name: index.sortKey, type: index.sortKey === ATTRIBUTES.deletedAt ? AttributeType.NUMBER : AttributeType.STRING },
        projectionType: ProjectionType[index.projection],
      });
    }
    this.table = table;
  }
}
