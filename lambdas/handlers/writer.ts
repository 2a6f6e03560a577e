import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { ENV } from '../../contract';
import { documentClient } from '../adapters/dynamo-client';
import { DynamoEventStore } from '../adapters/dynamo-store';
import { CORRELATION_ATTRIBUTE } from '../core/message';
import { writeBatch, type EventWriteStore, type RecordOutcome, type WriteOutcome, type WriterDeps } from '../core/writer';
import { readInt, requireString } from '../shared/config';
import { instrumented } from '../shared/instrument';
import { logger, metrics } from '../shared/powertools';
import { annotate, traceRootOf } from '../shared/telemetry';

/**
 * SQS consumer with ReportBatchItemFailures. The whole batch is written together (conditional puts
 * with bounded concurrency, one write per event even when messages repeat it), which a
 * record-by-record processor cannot do, so the core reports the failed message ids itself — and
 * throws when nothing could be written, so the batch is retried whole.
 */
export const createWriterHandler = (store: EventWriteStore, opts: Pick<WriterDeps, 'registerTenants' | 'redeliveryAgeMs' | 'now'> = {}) =>
  instrumented(async (event: SQSEvent): Promise<SQSBatchResponse> => {
    const records = event.Records.map((record) => ({
      messageId: record.messageId,
      body: record.body,
      receiveCount: Number(record.attributes?.ApproximateReceiveCount ?? '1'),
      correlationId: record.messageAttributes?.[CORRELATION_ATTRIBUTE]?.stringValue,
      // The producer's trace (the ingest request), which X-Ray links to this invocation.
      producerTraceId: traceRootOf(record.attributes?.AWSTraceHeader),
    }));
    /** One line per record (one API request's events), so a request's correlation id finds them. */
    const logRecords = (outcomes: (index: number) => { outcome: RecordOutcome['outcome'] | 'batch_failed'; events?: number }) => {
      records.forEach((r, index) => {
        logger.info('record handled', {
          correlation_id: r.correlationId ?? null,
          messageId: r.messageId,
          receiveCount: r.receiveCount,
          ...outcomes(index),
          ...(r.producerTraceId && { producerTraceId: r.producerTraceId }),
        });
      });
    };
    annotate({ recordCount: records.length });
    let outcome: WriteOutcome;
    try {
      outcome = await writeBatch(records, { ...opts, store, log: (message, fields) => logger.warn(message, fields) });
    } catch (error) {
      metrics.addMetric('BatchItemFailures', MetricUnit.Count, records.length);
      logRecords(() => ({ outcome: 'batch_failed' }));
      throw error;
    }
    annotate({ eventCount: outcome.records.reduce((sum, r) => sum + r.events, 0) });
    const writtenAt = (opts.now ?? Date.now)();
    for (const r of outcome.records) {
      // One value per stored record: CloudWatch computes p50/p99 of the end-to-end lag from them.
      if (r.outcome === 'stored' && r.receivedAt !== undefined) {
        metrics.addMetric('EndToEndLag', MetricUnit.Milliseconds, Math.max(0, writtenAt - r.receivedAt));
      }
    }
    metrics.addMetric('EventsWritten', MetricUnit.Count, outcome.written);
    if (outcome.redelivered > 0) metrics.addMetric('WriteRetries', MetricUnit.Count, outcome.redelivered);
    metrics.addMetric('BatchItemFailures', MetricUnit.Count, outcome.batchItemFailures.length);
    if (outcome.poison > 0) metrics.addMetric('PoisonMessages', MetricUnit.Count, outcome.poison);
    // An idempotency key replayed with another payload: the first stays stored. Internal fields only.
    if (outcome.conflicts.length > 0) metrics.addMetric('IdempotencyConflicts', MetricUnit.Count, outcome.conflicts.length);
    for (const conflict of outcome.conflicts) logger.warn('idempotency conflict: first payload kept', { ...conflict });
    // The core reports the records in the order it was given them.
    logRecords((index) => {
      const r = outcome.records[index] as RecordOutcome;
      return { outcome: r.outcome, events: r.events };
    });
    logger.info('batch written', {
      records: records.length,
      written: outcome.written,
      alreadyStored: outcome.alreadyStored,
      failed: outcome.batchItemFailures.length,
    });
    return { batchItemFailures: outcome.batchItemFailures };
  });

const table = new DynamoEventStore(documentClient(), requireString(process.env, ENV.tableName));
/** Tenants this execution environment has registered: one write per tenant per cold start. */
const registered = new Set<string>();
export const handler = createWriterHandler(table, {
  registerTenants: async (tenants) => {
    for (const tenant of tenants.filter((t) => !registered.has(t))) {
      await table.registerTenant(tenant);
      registered.add(tenant);
    }
  },
  // A message redriven from the DLQ waited out several visibility timeouts before it got there.
  redeliveryAgeMs: readInt(process.env, ENV.queueVisibilityTimeoutSeconds) * 1000,
});
