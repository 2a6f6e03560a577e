import { ENV } from '../../contract';
import type { ConfigKeySpec } from './key-spec';

/**
 * Configuration keys of the functions behind the queue and the schedules (lib/config-keys.ts combines
 * every area's keys): the cleanup, the shards and the writer, the digest, and the queue's DLQ.
 */

/** The cleanup's chunks, the shards, the writer's batching, the digest, and the cleanup's schedule. */
export const WORKER_KEYS = {
  cleanupChunkSize: {
    default: 100,
    kind: 'integer',
    min: ENV.cleanupChunkSize.min,
    max: ENV.cleanupChunkSize.max,
    meaning: 'items the cleanup handles per chunk',
  },
  cleanupMaxChunks: {
    defaultText: 'as many as the timeout allows',
    kind: 'integer',
    min: ENV.cleanupMaxChunks.min,
    max: ENV.cleanupMaxChunks.max,
    meaning: 'chunks with work per cleanup run at most (the cleanup stops between chunks before its 15-minute timeout)',
  },
  shardCount: {
    default: 4,
    kind: 'integer',
    min: ENV.shardCount.min,
    max: ENV.shardCount.max,
    meaning:
      'partition-key shards per tenant: about 1,000 writes/s per shard; raise it, never lower it (docs/performance.md, "Hot tenants")',
  },
  writerBatchSize: {
    default: 100,
    kind: 'integer',
    min: 1,
    max: 10_000,
    meaning: 'SQS messages per writer invocation (above 10 needs `writerBatchWindowSeconds` ≥ 1)',
  },
  writerBatchWindowSeconds: {
    default: 1,
    kind: 'integer',
    min: 0,
    max: 300,
    meaning: "longest time the writer's event source gathers a batch",
  },
  writerTimeoutSeconds: {
    default: 30,
    kind: 'integer',
    min: 1,
    max: 900,
    meaning: "writer function timeout; the queue's visibility timeout is 6 × this + the batching window",
  },
  writerMaxConcurrency: {
    default: 10,
    kind: 'integer',
    min: 2,
    max: 1000,
    meaning: 'most concurrent writer invocations from the queue',
  },
  digestPeriodMinutes: {
    default: 60,
    kind: 'integer',
    min: ENV.digestPeriodMinutes.min,
    max: ENV.digestPeriodMinutes.max,
    meaning: "length of a digest period: the digest function seals each tenant's events stored in it (also its schedule, in minutes)",
  },
  digestRetentionDays: {
    default: 400,
    kind: 'integer',
    min: 1,
    max: 36_500,
    meaning: 'days the digest bucket keeps each digest under Object Lock (compliance mode: nobody can delete or overwrite it sooner)',
  },
  cleanupSchedule: {
    default: 'rate(1 day)',
    kind: 'string',
    allowed: '`rate(<n> <unit>)` or `cron(<6 fields>)`',
    meaning: 'EventBridge schedule of the cleanup function',
  },
} satisfies Record<string, ConfigKeySpec>;

/** When a message goes to the DLQ. */
export const QUEUE_KEYS = {
  maxReceiveCount: {
    default: 5,
    kind: 'integer',
    // SQS allows 1..1000; below 5, throttled (never processed) messages may reach the DLQ.
    min: 5,
    max: 1000,
    meaning: 'deliveries of a message before SQS moves it to the DLQ',
  },
} satisfies Record<string, ConfigKeySpec>;
