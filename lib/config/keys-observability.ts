import type { ConfigKeySpec } from './key-spec';

/**
 * Configuration keys of logs, traces and alarms (lib/config-keys.ts combines every area's keys).
 */

export const LOG_LEVELS = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'CRITICAL', 'SILENT'] as const;

/** Log level and retention. */
export const LOG_KEYS = {
  logLevel: {
    default: 'INFO',
    kind: 'string',
    values: LOG_LEVELS,
    meaning: 'Powertools log level (any casing)',
  },
  logRetentionDays: {
    default: 30,
    kind: 'integer',
    allowed: 'a CloudWatch Logs retention value (1, 3, 5, 7, 14, 30, 60, 90, …)',
    meaning: 'retention of the function and API access log groups',
  },
} satisfies Record<string, ConfigKeySpec>;

/** Debug-log and trace sampling. */
export const SAMPLING_KEYS = {
  logSampleRate: {
    default: 0,
    kind: 'number',
    min: 0,
    max: 1,
    meaning: 'share of invocations that log at DEBUG whatever `logLevel` says (`POWERTOOLS_LOGGER_SAMPLE_RATE`)',
  },
  traceSampleRate: {
    default: 0.01,
    kind: 'number',
    min: 0,
    max: 1,
    meaning: "share of API requests X-Ray traces beyond the first one each second (X-Ray's own default is 0.05)",
  },
} satisfies Record<string, ConfigKeySpec>;

/** Where alarms go and when they fire. */
export const ALARM_KEYS = {
  alarmEmail: {
    kind: 'string',
    allowed: 'an e-mail address',
    meaning: 'subscribed to the alarm topic (optional; subscribe anything else to the topic yourself)',
  },
  alarmQueueAgeSeconds: {
    default: 300,
    kind: 'integer',
    // The events queue keeps messages 4 days (lib/constructs/queue.ts): the alarm must fire well before.
    min: 60,
    max: 259_200,
    meaning:
      'alarm when the oldest queued event is older than this (the queue keeps messages 4 days, so the alarm leaves at least a day to act)',
  },
  alarmApi5xxPercent: {
    default: 1,
    kind: 'number',
    min: 0,
    max: 100,
    meaning: 'alarm when 5xx answers exceed this share (%) of API requests over 5 minutes',
  },
  alarmWriterErrors: {
    default: 1,
    kind: 'integer',
    min: 1,
    max: 100_000,
    meaning: 'alarm when the writer fails this many invocations in 5 minutes',
  },
  alarmCleanupMissedDays: {
    default: 2,
    kind: 'integer',
    // CloudWatch evaluates daily periods over at most 7 days.
    min: 1,
    max: 7,
    meaning:
      "alarm when the cleanup has not run successfully for this many days (7 is CloudWatch's longest evaluation range; give it more than the schedule's period)",
  },
} satisfies Record<string, ConfigKeySpec>;
