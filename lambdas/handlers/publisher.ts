import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';
import { ENV } from '../../contract';
import { documentClient } from '../adapters/dynamo-client';
import { DynamoErasureStore } from '../adapters/dynamo-erasure-store';
import { EventBridgeBus } from '../adapters/event-bus';
import { eventBridgeClient } from '../adapters/eventbridge-client';
import { secretKeyring } from '../adapters/secret-keyring';
import { secretsClient } from '../adapters/secrets-client';
import type { Keyring } from '../core/keyring';
import { type BusPort, type ChangeRecord, publishChanges, type PublishDeps } from '../core/publish';
import { requireString } from '../shared/config';
import { instrumented } from '../shared/instrument';
import { logger, metrics } from '../shared/powertools';
import { annotate } from '../shared/telemetry';

type Image = Record<string, AttributeValue> | undefined;
const image = (raw: unknown): Record<string, unknown> | undefined => (raw ? unmarshall(raw as NonNullable<Image>) : undefined);

/**
 * The events table's change stream → the bus (core/publish.ts), with ReportBatchItemFailures: the
 * first record that could not be published and those after it are retried by Lambda, and after
 * the mapping's retries go to its on-failure destination.
 */
export const createPublisherHandler = (deps: { bus: BusPort; keyring: () => Promise<Keyring> } & Omit<PublishDeps, 'bus' | 'keyring'>) =>
  instrumented(async (event: DynamoDBStreamEvent): Promise<DynamoDBBatchResponse> => {
    const records: ChangeRecord[] = event.Records.map((r) => ({
      sequenceNumber: r.dynamodb?.SequenceNumber ?? '',
      change: {
        eventName: r.eventName ?? 'MODIFY',
        ...(r.dynamodb?.NewImage && { newImage: image(r.dynamodb.NewImage) }),
        ...(r.dynamodb?.OldImage && { oldImage: image(r.dynamodb.OldImage) }),
        approximateCreationMs: (r.dynamodb?.ApproximateCreationDateTime ?? Date.now() / 1000) * 1000,
      },
    }));
    annotate({ recordCount: records.length });
    const oldest = Math.min(...records.map((r) => r.change.approximateCreationMs));
    const outcome = await publishChanges(records, {
      ...deps,
      keyring: await deps.keyring(),
      log: (message, fields) => logger.warn(message, fields),
    });
    if (outcome.withheld > 0) metrics.addMetric('EventsWithheld', MetricUnit.Count, outcome.withheld);
    // How far publishing trails the table: the oldest change of the batch, once it is on the bus.
    if (records.length > 0) metrics.addMetric('PublishLag', MetricUnit.Milliseconds, Math.max(0, Date.now() - oldest));
    metrics.addMetric('EventsPublished', MetricUnit.Count, outcome.published);
    metrics.addMetric('PublishRetries', MetricUnit.Count, outcome.retried);
    metrics.addMetric('PublishFailures', MetricUnit.Count, outcome.batchItemFailures.length);
    logger.info('changes published', {
      records: records.length,
      published: outcome.published,
      skipped: outcome.skipped,
      withheld: outcome.withheld,
      retried: outcome.retried,
      byType: outcome.byType,
      failedFrom: outcome.batchItemFailures[0]?.itemIdentifier ?? null,
    });
    return { batchItemFailures: outcome.batchItemFailures };
  });

const env = process.env;
const markers = new DynamoErasureStore(documentClient(), requireString(env, ENV.tableName));
export const handler = createPublisherHandler({
  bus: new EventBridgeBus(eventBridgeClient(), requireString(env, ENV.eventBusName)),
  keyring: secretKeyring(secretsClient(), requireString(env, ENV.keysSecretArn)),
  erasures: { listMarkers: (tenant) => markers.listMarkers(tenant, false) },
});
