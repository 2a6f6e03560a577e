import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Context, ScheduledEvent } from 'aws-lambda';
import { ENV } from '../../contract';
import { documentClient } from '../adapters/dynamo-client';
import { sqsClient } from '../adapters/sqs-client';
import { SqsEventQueue } from '../adapters/sqs-queue';
import { auditRecorder } from '../core/audit-records';
import { DynamoEventStore } from '../adapters/dynamo-store';
import { RETENTION_TTL_GRACE_DAYS, runCleanup, type CleanupDeps, type CleanupReport } from '../core/cleanup';
import { readInt, readOptionalInt, readRetention, requireString } from '../shared/config';
import { instrumented } from '../shared/instrument';
import { logger, metrics } from '../shared/powertools';
import { annotate } from '../shared/telemetry';

/** Scheduled cleanup (EventBridge): erasures, purge of soft-deleted events, retention. */
export const createCleanupHandler = (deps: Omit<CleanupDeps, 'remainingMs'>) =>
  instrumented(async (_event: ScheduledEvent, context: Context): Promise<CleanupReport> => {
    const startedAt = Date.now();
    let report: CleanupReport;
    try {
      report = await runCleanup({ ...deps, remainingMs: () => context.getRemainingTimeInMillis() });
    } catch (error) {
      // The "cleanup failed" alarm watches this as well as the function's Errors.
      metrics.addMetric('CleanupFailures', MetricUnit.Count, 1);
      metrics.addMetric('CleanupDuration', MetricUnit.Milliseconds, Date.now() - startedAt);
      logger.error('cleanup failed', error as Error);
      throw error;
    }
    metrics.addMetric('ItemsPurged', MetricUnit.Count, report.purged);
    metrics.addMetric('ItemsExpired', MetricUnit.Count, report.expired);
    metrics.addMetric('EventsErased', MetricUnit.Count, report.erased);
    metrics.addMetric('ErasuresCompleted', MetricUnit.Count, report.erasuresCompleted);
    metrics.addMetric('CleanupRuns', MetricUnit.Count, 1);
    metrics.addMetric('CleanupDuration', MetricUnit.Milliseconds, Date.now() - startedAt);
    annotate({ purged: report.purged, expired: report.expired, erased: report.erased });
    logger.info('cleanup finished', { ...report });
    return report;
  });

const env = process.env;
export const handler = createCleanupHandler({
  store: new DynamoEventStore(documentClient(), requireString(env, ENV.tableName)),
  shardCount: readInt(env, ENV.shardCount),
  deleteGraceDays: readInt(env, ENV.deleteGraceDays),
  retentionDays: readRetention(env),
  ttlGraceDays: RETENTION_TTL_GRACE_DAYS,
  chunkSize: readInt(env, ENV.cleanupChunkSize),
  maxChunks: readOptionalInt(env, ENV.cleanupMaxChunks),
  audit: auditRecorder({
    queue: new SqsEventQueue(sqsClient(), requireString(env, ENV.queueUrl)),
    shardCount: readInt(env, ENV.shardCount),
    retentionDays: readRetention(env),
  }),
});
