import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import type { DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';
import { ENV } from '../../contract';
import { documentClient } from '../adapters/dynamo-client';
import { DynamoStatsStore } from '../adapters/dynamo-stats-store';
import { countBatch, type CounterWriteStore } from '../core/stats-consumer';
import type { ChangeRecord } from '../core/stats-counters';
import { requireString } from '../shared/config';
import { instrumented } from '../shared/instrument';
import { logger, metrics } from '../shared/powertools';
import { annotate } from '../shared/telemetry';

type Image = Record<string, AttributeValue>;

/**
 * The events table's change stream → the stats counters. ReportBatchItemFailures: a failed counter
 * update reports its first record (Lambda retries from there; the counters' checkpoints make the
 * retry exact); a batch where every update failed throws.
 */
export const createStatsConsumerHandler = (store: CounterWriteStore, now: () => number = Date.now) =>
  instrumented(async (event: DynamoDBStreamEvent): Promise<DynamoDBBatchResponse> => {
    const records: ChangeRecord[] = event.Records.map((r) => ({
      sequenceNumber: r.dynamodb?.SequenceNumber ?? '',
      ...(r.dynamodb?.ApproximateCreationDateTime !== undefined && { atMs: r.dynamodb.ApproximateCreationDateTime * 1000 }),
      ...(r.dynamodb?.OldImage && { oldImage: unmarshall(r.dynamodb.OldImage as Image) }),
      ...(r.dynamodb?.NewImage && { newImage: unmarshall(r.dynamodb.NewImage as Image) }),
    }));
    annotate({ recordCount: records.length });
    const outcome = await countBatch(records, store, { log: (message, fields) => logger.warn(message, fields), now });
    const oldest = Math.min(...event.Records.map((r) => (r.dynamodb?.ApproximateCreationDateTime ?? now() / 1000) * 1000));
    if (Number.isFinite(oldest)) metrics.addMetric('StatsLag', MetricUnit.Milliseconds, Math.max(0, now() - oldest));
    metrics.addMetric('CounterUpdates', MetricUnit.Count, outcome.updates);
    if (outcome.replays > 0) metrics.addMetric('CounterReplays', MetricUnit.Count, outcome.replays);
    if (outcome.released > 0) metrics.addMetric('CountersReleased', MetricUnit.Count, outcome.released);
    metrics.addMetric('CounterFailures', MetricUnit.Count, outcome.failed);
    logger.info('stream batch counted', {
      records: records.length,
      updates: outcome.updates,
      replays: outcome.replays,
      released: outcome.released,
      failed: outcome.failed,
    });
    return { batchItemFailures: outcome.firstFailedRecord !== undefined ? [{ itemIdentifier: outcome.firstFailedRecord }] : [] };
  });

export const handler = createStatsConsumerHandler(new DynamoStatsStore(documentClient(), requireString(process.env, ENV.statsTableName)));
