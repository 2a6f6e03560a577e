import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { ScheduledEvent } from 'aws-lambda';
import { ENV } from '../../contract';
import { kmsSigner, s3DigestBucket } from '../adapters/digest-io';
import { documentClient } from '../adapters/dynamo-client';
import { DynamoEventStore } from '../adapters/dynamo-store';
import { kmsClient } from '../adapters/kms-client';
import { s3Client } from '../adapters/s3-client';
import { sealDigests, type SealDeps, type SealReport } from '../core/digest-seal';
import { readInt, requireString } from '../shared/config';
import { instrumented } from '../shared/instrument';
import { logger, metrics } from '../shared/powertools';

/** Scheduled sealer (EventBridge): signed, chained digests per tenant and period. */
export const createDigestHandler = (deps: SealDeps) =>
  instrumented(async (_event: ScheduledEvent): Promise<SealReport> => {
    const report = await sealDigests(deps);
    metrics.addMetric('DigestsSealed', MetricUnit.Count, report.digests);
    metrics.addMetric('DigestEvents', MetricUnit.Count, report.events);
    logger.info('digests sealed', { ...report });
    return report;
  });

const env = process.env;
export const handler = createDigestHandler({
  store: new DynamoEventStore(documentClient(), requireString(env, ENV.tableName)),
  signer: kmsSigner(kmsClient, requireString(env, ENV.digestKeyId)),
  bucket: s3DigestBucket(s3Client, requireString(env, ENV.digestBucket)),
  shardCount: readInt(env, ENV.shardCount),
  periodMs: readInt(env, ENV.digestPeriodMinutes) * 60_000,
});
