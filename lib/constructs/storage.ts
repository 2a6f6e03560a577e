import { RemovalPolicy } from 'aws-cdk-lib';
import { AttributeType, type ITable, ProjectionType, StreamViewType, Table, TableClass } from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import type { TableCapacity } from '../config';
import { autoScale, billingOf, indexUnitsOf } from './table-capacity';
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
  /**
   * The table class. Standard-IA stores for 60 % less and writes for 25 % more: an audit trail
   * kept for months costs less there (docs/performance.md prices the break-even).
   * @default 'STANDARD_INFREQUENT_ACCESS'
   */
  readonly tableClass?: 'STANDARD' | 'STANDARD_INFREQUENT_ACCESS';
  /**
   * On-demand, or provisioned with target-tracking auto scaling on the table and every index
   * (a steady workload pays for less: docs/performance.md).
   * @default { mode: 'on-demand' }
   */
  readonly capacity?: TableCapacity;
  /**
   * Continuous backups (restore to any second of the last 35 days), billed on the table's size.
   * @default true
   */
  readonly pointInTimeRecovery?: boolean;
}

/**
 * The single events table: `pk`/`sk` for the tenant timeline, `byUser` and `byType` indexes for the
 * user and type timelines, a sparse `byPurge` index of soft-deleted items for the cleanup, TTL on `x` as the free retention backstop, on-demand billing (or provisioned with auto scaling), PITR (unless turned off).
 *
 * Its change stream (new and old images) is the backbone for everything downstream of a stored
 * event: each consumer subscribes with its own event source mapping (DynamoDB Streams allows two
 * per shard). Local mode produces the same records from the writes (local/stream-capture.ts).
 */
export class EventStorage extends Construct {
  readonly table: ITable;

  constructor(scope: Construct, id: string, props: EventStorageProps = {}) {
    super(scope, id);

    const capacity = props.capacity ?? { mode: 'on-demand' };
    const table = new Table(this, 'Table', {
      partitionKey: { name: ATTRIBUTES.partitionKey, type: AttributeType.STRING },
      sortKey: { name: ATTRIBUTES.sortKey, type: AttributeType.STRING },
      ...billingOf(capacity),
      tableClass: TableClass[props.tableClass ?? 'STANDARD_INFREQUENT_ACCESS'],
      timeToLiveAttribute: ATTRIBUTES.expiresAt,
      stream: StreamViewType.NEW_AND_OLD_IMAGES,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: props.pointInTimeRecovery ?? true },
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
        ...indexUnitsOf(capacity),
      });
    }
    // Target tracking on the table and each index: every write lands in the table and in each index it is keyed for.
    autoScale(table, capacity, [GSI_BY_USER, GSI_BY_TYPE, GSI_BY_PURGE]);
    this.table = table;
  }
}
