import type { Pricing } from '../../bench/cost-model';
import type { LifetimeSettings } from '../../bench/lifetime-model';

/**
 * Hand-picked prices for the bench's cost tests, round enough to check by hand: a write unit is
 * $0.50 per million on demand and $0.00072 per WCU-hour provisioned, a read unit $0.10 per million on
 * demand and $0.00036 per RCU-hour provisioned (Standard class).
 */
export const HAND_PRICES = {
  apiGatewayRestPerMillionRequests: 3.5,
  lambdaArmPerGbSecond: 1.33334e-5,
  lambdaPerMillionRequests: 0.2,
  dynamoDbOnDemandPerMillionWriteUnits: 0.5,
  dynamoDbOnDemandPerMillionReadUnits: 0.1,
  dynamoDbStoragePerGbMonth: 0.25,
  dynamoDbPitrPerGbMonth: 0.2,
  dynamoDbProvisionedPerWcuHour: 0.00072,
  dynamoDbProvisionedPerRcuHour: 0.00036,
  dynamoDbItemOverheadBytes: 100,
  dynamoDbInfrequentAccess: {
    onDemandPerMillionWriteUnits: 0.9,
    onDemandPerMillionReadUnits: 0.2,
    storagePerGbMonth: 0.1,
    provisionedPerWcuHour: 0.0009,
    provisionedPerRcuHour: 0.0002,
  },
} as unknown as Pricing;

/** A year on the Standard class, on demand, PITR on, TTL deletes, one 100-event page per 1,000 events: override what a case varies. */
export const lifetimeSettings = (overrides: Partial<LifetimeSettings> = {}): LifetimeSettings => ({
  retentionDays: 365,
  tableClass: 'STANDARD',
  capacity: { mode: 'on-demand' },
  pitr: true,
  retentionDeletes: 'ttl',
  reads: { pagesPerThousand: 1, eventsPerPage: 100, index: 'byUser' },
  ...overrides,
});
