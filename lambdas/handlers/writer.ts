import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { documentClient } from '../adapters/clients';
import { DynamoEventStore } from '../adapters/dynamo-store';
import { writeBatch, type EventWriteStore } from '../core/writer';
import { requireString } from '../shared/config';
import { logger, metrics } from '../shared/powertools';

/**
 * SQS consumer with ReportBatchItemFailures. The whole batch is written together (BatchWriteItem
 * in chunks of 25), which a record-by-record processor cannot do, so the core reports the failed
 * message ids itself — and throws when nothing could be written, so the batch is retried whole.
 */
export const createWriterHandler =
  (store: EventWriteStore, registerTenants?: (tenants: string[]) => Promise<void>) =>
  async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
    logger.addContext(context);
    try {
      const outcome = await writeBatch(
        event.Records.map((record) => ({
          messageId: record.messageId,
          body: record.body,
          receiveCount: Number(record.attributes?.ApproximateReceiveCount ?? '1'),
        })),
        { store, registerTenants, log: (message, fields) => logger.warn(message, fields) },
      );
      metrics.addMetric('EventsWritten', MetricUnit.Count, outcome.written);
      metrics.addMetric('BatchItemFailures', MetricUnit.Count, outcome.batchItemFailures.length);
      logger.info('batch written', {
        records: event.Records.length,
        written: outcome.written,
        alreadyStored: outcome.alreadyStored,
        failed: outcome.batchItemFailures.length,
      });
      return { batchItemFailures: outcome.batchItemFailures };
    } finally {
      if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
    }
  };

const table = new DynamoEventStore(documentClient(), requireString(process.env, 'TABLE_NAME'));
/** Tenants this execution environment has registered: one write per tenant per cold start. */
const registered = new Set<string>();
export const handler = createWriterHandler(table, async (tenants) => {
  for (const tenant of tenants.filter((t) => !registered.has(t))) {
    await table.registerTenant(tenant);
    registered.add(tenant);
  }
});
