import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { ENV } from '../../contract';
import { athenaClient } from '../adapters/athena-client';
import { athenaQueries } from '../adapters/athena-queries';
import { s3ArchiveFiles } from '../adapters/s3-archive-files';
import { s3Client } from '../adapters/s3-client';
import { sqsClient } from '../adapters/sqs-client';
import { sqsEraserQueue } from '../adapters/sqs-eraser-queue';
import { type ArchiveErasureDeps, eraseFromArchive, parseErasureDetail } from '../core/archive-erasure';
import { UnsafeArchiveValueError } from '../core/archive-sql';
import { requireString } from '../shared/config';
import { instrumented } from '../shared/instrument';
import { logger, metrics } from '../shared/powertools';
import { annotate } from '../shared/telemetry';

export interface ArchiveEraserDeps extends Omit<ArchiveErasureDeps, 'remainingMs'> {
  readonly queue: {
    again(receiptHandle: string, seconds: number): Promise<void>;
    deadLetter(body: string, messageId: string): Promise<void>;
  };
}

const parseBody = (body: string) => {
  let event: { 'detail-type'?: unknown; detail?: unknown };
  try {
    event = JSON.parse(body) as typeof event;
  } catch {
    throw new UnsafeArchiveValueError('the message is not JSON');
  }
  if (event['detail-type'] !== 'erasure.completed') throw new UnsafeArchiveValueError('the message is not an erasure.completed event');
  return parseErasureDetail(event.detail);
};

/**
 * `erasure.completed` (a rule on the bus → a FIFO queue, one message group: one erasure at a time)
 * → the user's rows leave the archive (core/archive-erasure.ts). A run that stops for time makes
 * its message visible again and the next run continues from the marker (one that comes
 * before Firehose's buffer has flushed the last rows, core SETTLE_MS, makes it visible when it has); a failed run is retried
 * by SQS; a message that can never be processed (not an erasure, a value SQL cannot carry) goes to
 * the dead-letter queue at once instead of blocking the erasures behind it.
 */
export const createArchiveEraserHandler = ({ queue, ...deps }: ArchiveEraserDeps) =>
  instrumented(async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
    const batchItemFailures: SQSBatchResponse['batchItemFailures'] = [];
    for (const record of event.Records) {
      // FIFO: after a failure, the records behind it in the batch must not run before it.
      if (batchItemFailures.length > 0) {
        batchItemFailures.push({ itemIdentifier: record.messageId });
        continue;
      }
      try {
        const request = parseBody(record.body);
        annotate({ tenant: request.tenant });
        const result = await eraseFromArchive(request, { ...deps, remainingMs: () => context.getRemainingTimeInMillis() });
        if (result.outcome === 'continue' || result.outcome === 'later') {
          logger.info('archive erasure continues in a next run', { erasureId: request.erasureId, outcome: result.outcome });
          await queue.again(record.receiptHandle, result.outcome === 'later' ? result.seconds : 0);
          batchItemFailures.push({ itemIdentifier: record.messageId });
          continue;
        }
        logger.info('archive erasure completed', { erasureId: request.erasureId, files: result.files, rewrites: result.rewrites });
        metrics.addMetric('ArchiveErasuresCompleted', MetricUnit.Count, 1);
        metrics.addMetric('ArchiveFilesRewritten', MetricUnit.Count, result.files);
      } catch (error) {
        if (error instanceof UnsafeArchiveValueError) {
          logger.error('archive erasure refused: message parked in the dead-letter queue', { reason: error.message });
          await queue.deadLetter(record.body, record.messageId);
          continue;
        }
        logger.error('archive erasure failed', error as Error);
        batchItemFailures.push({ itemIdentifier: record.messageId });
      }
    }
    // Batch size 1: a failure is this message's, reported (not thrown) so a continuation is not counted as an error.
    return { batchItemFailures };
  });

const env = process.env;
const archiveBucket = requireString(env, ENV.archiveBucket);
export const handler = createArchiveEraserHandler({
  athena: athenaQueries(athenaClient, requireString(env, ENV.athenaWorkGroup), requireString(env, ENV.archiveDatabase)),
  files: s3ArchiveFiles(s3Client, archiveBucket, requireString(env, ENV.eraserWorkBucket)),
  table: { database: requireString(env, ENV.archiveDatabase), table: 'events', bucket: archiveBucket },
  queue: sqsEraserQueue(sqsClient, requireString(env, ENV.eraserQueueUrl), requireString(env, ENV.eraserDeadLetterUrl)),
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
});
