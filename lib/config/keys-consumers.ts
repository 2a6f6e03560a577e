import { ENV } from '../../contract';
import type { ConfigKeySpec } from './key-spec';

/**
 * Configuration keys of what reads the stored events out (lib/config-keys.ts combines every area's keys):
 * exports, the event bus and the archive.
 */

/** Export files and their download URLs. */
export const EXPORT_KEYS = {
  exportExpiryDays: {
    default: ENV.exportExpiryDays.default,
    kind: 'integer',
    min: ENV.exportExpiryDays.min,
    max: ENV.exportExpiryDays.max,
    meaning: 'days an export file stays in the export bucket (its lifecycle rule deletes it after)',
  },
  exportUrlSeconds: {
    default: ENV.exportUrlSeconds.default,
    kind: 'integer',
    min: ENV.exportUrlSeconds.min,
    max: ENV.exportUrlSeconds.max,
    meaning: 'lifetime of the download URL GET /v1/exports/{id} returns (a new one on each GET)',
  },
} satisfies Record<string, ConfigKeySpec>;

/** The event bus and the archive fed from it. */
export const CONSUMER_KEYS = {
  busPublishing: {
    default: 'on',
    kind: 'string',
    values: ['on', 'off'],
    meaning:
      "publish every change (stored, deleted, restored events, completed erasures) on the stack's EventBridge bus (docs/consumers.md); `off`: no bus, no publisher",
  },
  archive: {
    defaultText: '`on` in the `prod` stage, `off` otherwise',
    kind: 'string',
    values: ['on', 'off'],
    meaning:
      'archive every stored event in S3 as Parquet partitioned by tenant and date, with a Glue table for Athena (docs/consumers.md, "Archive"); an erasure removes the user\'s rows from it (the archive eraser, Athena); needs `busPublishing=on`',
  },
  archiveRetentionDays: {
    default: 1095,
    kind: 'integer',
    min: 1,
    max: 3650,
    meaning: 'days archived files are kept before the bucket lifecycle deletes them',
  },
} satisfies Record<string, ConfigKeySpec>;
