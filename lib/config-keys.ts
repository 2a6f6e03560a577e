import { LIMIT_KEYS, REQUEST_KEYS, THROTTLE_KEYS } from './config/keys-api';
import { AUTH_KEYS } from './config/keys-auth';
import { CONSUMER_KEYS, EXPORT_KEYS } from './config/keys-consumers';
import { ALARM_KEYS, LOG_KEYS, SAMPLING_KEYS } from './config/keys-observability';
import { STAGE_KEYS, TABLE_KEYS } from './config/keys-table';
import { QUEUE_KEYS, WORKER_KEYS } from './config/keys-workers';
import type { ConfigKeySpec } from './config/key-spec';

export type { ConfigKeySpec };

/**
 * The one definition of the deploy-time configuration: every CDK context key with its default,
 * bounds or allowed values and meaning, defined by area in lib/config/keys-*.ts. `loadConfig`
 * (lib/config.ts) validates with these fields, and `npm run docs` (scripts/config-docs.ts) renders
 * docs/configuration.md's reference from them; a test fails when that page drifts. Numeric bounds
 * are plain fields on purpose: a bound shared with the functions comes from contract/env.ts, so
 * deploy time and run time agree.
 *
 * The docs list the keys in this order, so an area may come in more than one run.
 */
const keys = {
  ...STAGE_KEYS,
  ...AUTH_KEYS,
  ...REQUEST_KEYS,
  ...TABLE_KEYS,
  ...EXPORT_KEYS,
  ...LIMIT_KEYS,
  ...WORKER_KEYS,
  ...LOG_KEYS,
  ...THROTTLE_KEYS,
  ...QUEUE_KEYS,
  ...SAMPLING_KEYS,
  ...CONSUMER_KEYS,
  ...ALARM_KEYS,
};

export type ConfigKeyName = keyof typeof keys;

/** Every deploy-time setting, in the order the docs list them. */
export const CONFIG_KEYS: Readonly<Record<ConfigKeyName, ConfigKeySpec>> = keys;
