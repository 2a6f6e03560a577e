import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { ENV } from '../../contract';
import { documentClient } from '../adapters/dynamo-client';
import { DynamoExportStore } from '../adapters/dynamo-export-store';
import { DynamoEventStore } from '../adapters/dynamo-store';
import { s3Client } from '../adapters/s3-client';
import { s3ExportFiles } from '../adapters/s3-export-files';
import { secretKeyring } from '../adapters/secret-keyring';
import { secretsClient } from '../adapters/secrets-client';
import { sqsClient } from '../adapters/sqs-client';
import { sqsExportQueue } from '../adapters/sqs-export-queue';
import { runExport, type ExportRunDeps, type ExportWorkMessage } from '../core/exports';
import type { Keyring } from '../core/keyring';
import { readInt, requireString } from '../shared/config';
import { instrumented } from '../shared/instrument';
import { logger, metrics } from '../shared/powertools';
import { annotate } from '../shared/telemetry';

export interface ExporterHandlerDeps extends Omit<ExportRunDeps, 'keyring' | 'remainingMs'> {
  readonly keyring: () => Promise<Keyring>;
  /** Sends the job again when this run stopped before the end (time ran low). */
  readonly requeue: (message: ExportWorkMessage) => Promise<void>;
}

const parseMessage = (body: string): ExportWorkMessage => {
  const parsed = JSON.parse(body) as Partial<ExportWorkMessage>;
  if (typeof parsed.tenant !== 'string' || typeof parsed.job !== 'string') throw new Error('not an export message');
  return { tenant: parsed.tenant, job: parsed.job };
};

/**
 * The export worker: one job per message (batch size 1). A run goes on until the job is done or
 * the time left runs low; then it saves its progress, sends the job again and succeeds, so a long
 * export is many short runs and never hits the queue's receive limit. A run that fails is retried
 * by SQS from the saved progress (and lands in the DLQ after the queue's receive limit).
 */
export const createExporterHandler = ({ keyring, requeue, ...deps }: ExporterHandlerDeps) =>
  instrumented(async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
    const batchItemFailures: SQSBatchResponse['batchItemFailures'] = [];
    for (const record of event.Records) {
      try {
        const message = parseMessage(record.body);
        annotate({ tenant: message.tenant });
        const outcome = await runExport(message, {
          ...deps,
          keyring: await keyring(),
          remainingMs: () => context.getRemainingTimeInMillis(),
        });
        logger.info('export run', { job: message.job, outcome });
        if (outcome === 'continue') await requeue(message);
        if (outcome === 'completed') metrics.addMetric('ExportsCompleted', MetricUnit.Count, 1);
      } catch (error) {
        logger.error('export run failed', error as Error);
        batchItemFailures.push({ itemIdentifier: record.messageId });
      }
    }
    if (batchItemFailures.length === event.Records.length && event.Records.length > 0)
      throw new Error('every export run in the batch failed');
    return { batchItemFailures };
  });

const env = process.env;
const events = new DynamoEventStore(documentClient(), requireString(env, ENV.tableName));
export const handler = createExporterHandler({
  store: new DynamoExportStore(documentClient(), requireString(env, ENV.tableName), events),
  events,
  files: s3ExportFiles(s3Client, requireString(env, ENV.exportBucket)),
  keyring: secretKeyring(secretsClient(), requireString(env, ENV.keysSecretArn)),
  requeue: sqsExportQueue(sqsClient, requireString(env, ENV.exportQueueUrl)),
  shardCount: readInt(env, ENV.shardCount),
  partBytes: readInt(env, ENV.exportPartBytes),
});
