import { BillingMode, type Table } from 'aws-cdk-lib/aws-dynamodb';
import type { TableCapacity } from '../config';

/** The units of each global secondary index for `capacity` (none on demand): the minimums auto scaling starts from. */
export const indexUnitsOf = (capacity: TableCapacity) =>
  capacity.mode === 'provisioned' ? { readCapacity: capacity.read.min, writeCapacity: capacity.write.min } : {};

/** A table's billing props for `capacity`. */
export const billingOf = (capacity: TableCapacity) => ({
  billingMode: capacity.mode === 'provisioned' ? BillingMode.PROVISIONED : BillingMode.PAY_PER_REQUEST,
  ...indexUnitsOf(capacity),
});

/**
 * Target-tracking auto scaling of reads and writes on the table and on each of `indexNames`, within
 * the configured bounds; nothing on demand.
 */
export const autoScale = (table: Table, capacity: TableCapacity, indexNames: readonly string[] = []): void => {
  if (capacity.mode !== 'provisioned') return;
  const scale = (attribute: { scaleOnUtilization(p: { targetUtilizationPercent: number }): void }) =>
    attribute.scaleOnUtilization({ targetUtilizationPercent: capacity.targetUtilization });
  const bounds = (b: { min: number; max: number }) => ({ minCapacity: b.min, maxCapacity: b.max });
  scale(table.autoScaleReadCapacity(bounds(capacity.read)));
  scale(table.autoScaleWriteCapacity(bounds(capacity.write)));
  for (const indexName of indexNames) {
    scale(table.autoScaleGlobalSecondaryIndexReadCapacity(indexName, bounds(capacity.read)));
    scale(table.autoScaleGlobalSecondaryIndexWriteCapacity(indexName, bounds(capacity.write)));
  }
};
