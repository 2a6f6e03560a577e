import { UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { RATE_PARTITION_PREFIX, type TenantRates } from '../../contract';
import type { RateCounter, RateUnits } from '../core/rate-limit';
import { isConditionFailure } from './dynamo-client';

/** Seconds a counter item outlives its window (DynamoDB TTL removes it; nothing reads it after its second). */
const RATE_ITEM_TTL_SECONDS = 60;

/** Attribute of each dimension's count on the counter item (one letter: every byte is paid per write). */
const COUNT_ATTRIBUTE = { requests: 'r', events: 'v' } as const;

/**
 * The per-tenant, per-second counters in the events table (contract/table.ts): one atomic UpdateItem
 * `ADD` whose condition refuses to go over any limit. The item carries no index attribute, so a
 * take costs exactly one write unit (a refused take too: DynamoDB bills failed conditional writes).
 */
export class DynamoRateCounter implements RateCounter {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async take(tenant: string, second: number, take: RateUnits, limits: TenantRates): Promise<boolean> {
    const adds: string[] = [];
    const conditions: string[] = [];
    const names: Record<string, string> = { '#x': 'x' };
    const values: Record<string, number> = { ':x': second + RATE_ITEM_TTL_SECONDS };
    for (const [dimension, attribute] of Object.entries(COUNT_ATTRIBUTE) as [keyof RateUnits, string][]) {
      const units = take[dimension] ?? 0;
      if (units <= 0) continue;
      const limit = dimension === 'requests' ? limits.requestsPerSecond : limits.eventsPerSecond;
      names[`#${attribute}`] = attribute;
      values[`:${attribute}`] = units;
      values[`:${attribute}max`] = limit - units;
      adds.push(`#${attribute} :${attribute}`);
      conditions.push(`(attribute_not_exists(#${attribute}) OR #${attribute} <= :${attribute}max)`);
      // Asking for more than the whole window can never succeed.
      if (limit - units < 0) return false;
    }
    if (adds.length === 0) return true;
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: `${RATE_PARTITION_PREFIX}${tenant}`, sk: String(second) },
          UpdateExpression: `ADD ${adds.join(', ')} SET #x = :x`,
          ConditionExpression: conditions.join(' AND '),
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }
}
