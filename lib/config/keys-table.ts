import { ENV } from '../../contract';
import type { ConfigKeySpec } from './key-spec';

/**
 * Configuration keys of the stage and the events table (lib/config-keys.ts combines every area's keys):
 * table class and capacity, backups, retention, soft deletion and erasure requests.
 */

export const TABLE_CLASSES = ['STANDARD', 'STANDARD_INFREQUENT_ACCESS'] as const;

export const CAPACITY_MODES = ['on-demand', 'provisioned'] as const;

/** The deployment name, first in the docs. */
export const STAGE_KEYS = {
  stage: {
    default: 'dev',
    kind: 'string',
    allowed: '1..32 letters, digits or `-`',
    meaning: 'deployment name: the stack is `ActivityTracker-<stage>` (plain `ActivityTracker` for `dev`, see lib/stage.ts), and tags',
  },
} satisfies Record<string, ConfigKeySpec>;

/** Retention, table class and capacity, backups, per-tenant retention, soft deletion and erasures. */
export const TABLE_KEYS = {
  retentionDays: {
    default: 365,
    kind: 'integer',
    min: ENV.retentionDays.min,
    max: ENV.retentionDays.max,
    meaning:
      'days an event is kept after it was received; expired events are hidden at once and deleted by DynamoDB TTL (free), or by the cleanup when TTL has not deleted them within 3 days',
  },
  tableClass: {
    default: 'STANDARD_INFREQUENT_ACCESS',
    kind: 'string',
    values: TABLE_CLASSES,
    meaning:
      'DynamoDB table class of the events table: Standard-IA stores for 60 % less and writes for 25 % more, so it costs less from about 90 days of retention (docs/performance.md); `STANDARD` for shorter retention',
  },
  capacityMode: {
    default: 'on-demand',
    kind: 'string',
    values: CAPACITY_MODES,
    meaning:
      'billing of the events table, its indexes and the stats counters table: `provisioned` with auto scaling (`provisioned*` keys) costs less for a steady workload and pays for idle capacity under bursty traffic (docs/performance.md prices both)',
  },
  provisionedMinWriteUnits: {
    default: 5,
    kind: 'integer',
    min: 1,
    max: 40_000,
    meaning: 'with `capacityMode=provisioned`: the fewest write capacity units auto scaling keeps on each table and index',
  },
  provisionedMaxWriteUnits: {
    default: 1000,
    kind: 'integer',
    min: 1,
    max: 40_000,
    meaning: 'with `capacityMode=provisioned`: the most write capacity units auto scaling sets on each table and index',
  },
  provisionedMinReadUnits: {
    default: 5,
    kind: 'integer',
    min: 1,
    max: 40_000,
    meaning: 'with `capacityMode=provisioned`: the fewest read capacity units auto scaling keeps on each table and index',
  },
  provisionedMaxReadUnits: {
    default: 500,
    kind: 'integer',
    min: 1,
    max: 40_000,
    meaning: 'with `capacityMode=provisioned`: the most read capacity units auto scaling sets on each table and index',
  },
  provisionedTargetUtilization: {
    default: 70,
    kind: 'integer',
    min: 20,
    max: 90,
    meaning: 'with `capacityMode=provisioned`: the consumed share of provisioned capacity, in percent, auto scaling aims at',
  },
  pointInTimeRecovery: {
    default: 'on',
    kind: 'string',
    values: ['on', 'off'],
    meaning:
      "continuous backups of the events table (restore to any second of the last 35 days), billed on the table's size: at 365 days of retention the largest single line of the lifetime cost (docs/performance.md); `off` only where the archive or another copy is the backup",
  },
  tenantRetentionDays: {
    kind: 'list',
    min: ENV.retentionDays.min,
    max: ENV.retentionDays.max,
    allowed: '`tenant=days` entries separated by commas',
    meaning: 'per-tenant retention overrides, e.g. `acme=90,globex=730`',
  },
  deleteGraceDays: {
    default: 30,
    kind: 'integer',
    min: ENV.deleteGraceDays.min,
    max: ENV.deleteGraceDays.max,
    meaning: 'days a soft-deleted event can be restored before the cleanup purges it',
  },
  maxOpenErasures: {
    default: 100,
    kind: 'integer',
    min: ENV.maxOpenErasures.min,
    max: ENV.maxOpenErasures.max,
    meaning: 'erasure requests one tenant may have pending at once; beyond: 429 `too_many_erasures`',
  },
} satisfies Record<string, ConfigKeySpec>;
