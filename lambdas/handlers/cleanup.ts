import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Context, ScheduledEvent } from 'aws-lambda';
import { documentClient } from '../adapters/clients';
import { DynamoEventStore } from '../adapters/dynamo-store';
import { purgeSoftDeleted, type CleanupDeps, type CleanupReport } from '../core/cleanup';
import { requireInt, requireString } from '../shared/config';
import { logger, metrics } from '../shared/powertools';

/** Scheduled cleanup (EventBridge): purges soft-deleted events past the grace period. */
export const createCleanupHandler =
  (deps: Omit<CleanupDeps, 'remainingMs'>) =>
  async (_event: ScheduledEvent, context: Context): Promise<CleanupReport> => {
    logger.addContext(context);
    const startedAt = Date.now();
    try {
      const report = await purgeSoftDeleted({ ...deps, remainingMs: () => context.getRemainingTimeInMillis() });
      metrics.addMetric('ItemsPurged', MetricUnit.Count, report.purged);
      metrics.addMetric('CleanupDuration', MetricUnit.Milliseconds, Date.now() - startedAt);
      logger.info('cleanup finished', { ...report });
      return report;
    } finally {
      if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
    }
  };

const env = process.env;
export const handler = createCleanupHandler({
  store: new DynamoEventStore(documentClient(), requireString(env, 'TABLE_NAME')),
  shardCount: requireInt(env, 'SHARD_COUNT', 1, 256),
  deleteGraceDays: requireInt(env, 'DELETE_GRACE_DAYS', 0, 3650),
});
