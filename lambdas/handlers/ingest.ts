import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { createAuthenticator, type Authenticate } from '../adapters/jwt-authenticator';
import { secretsClient, sqsClient } from '../adapters/clients';
import { secretKeyring } from '../adapters/secret-keyring';
import { SqsEventQueue } from '../adapters/sqs-queue';
import { ingest, type IngestDeps } from '../core/ingest';
import type { Keyring } from '../core/keyring';
import { readAuthConfig, readRetention, requireInt, requireString } from '../shared/config';
import { header, json } from '../shared/http';
import { httpHandler } from '../shared/http-handler';
import { metrics } from '../shared/powertools';

export interface IngestHandlerDeps extends Omit<IngestDeps, 'keyring'> {
  readonly authenticate: Authenticate;
  readonly keyring: () => Promise<Keyring>;
}

/** POST /v1/events */
export const createIngestHandler = ({ authenticate, keyring, ...deps }: IngestHandlerDeps) =>
  httpHandler(async (event) => {
    const { tenant } = await authenticate(event.headers, 'events:write');
    const identity = event.requestContext?.identity;
    const result = await ingest(
      {
        tenant,
        body: event.body,
        contentType: header(event, 'content-type'),
        isBase64Encoded: event.isBase64Encoded,
        source: { ip: identity?.sourceIp, userAgent: identity?.userAgent ?? header(event, 'user-agent') },
      },
      { ...deps, keyring: await keyring() },
    );
    metrics.addMetric('EventsAccepted', MetricUnit.Count, result.accepted);
    metrics.addMetric('EventsRejected', MetricUnit.Count, result.rejected);
    return json(202, { results: result.results, accepted: result.accepted, rejected: result.rejected });
  });

const env = process.env;
export const handler = createIngestHandler({
  authenticate: createAuthenticator(readAuthConfig(env)),
  queue: new SqsEventQueue(sqsClient(), requireString(env, 'QUEUE_URL')),
  keyring: secretKeyring(secretsClient(), requireString(env, 'KEYS_SECRET_ARN')),
  shardCount: requireInt(env, 'SHARD_COUNT', 1, 256),
  retentionDays: readRetention(env),
  maxEventsPerRequest: requireInt(env, 'MAX_EVENTS_PER_REQUEST', 1, 500, 500),
});
