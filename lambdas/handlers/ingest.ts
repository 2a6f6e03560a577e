import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { secretsClient } from '../adapters/secrets-client';
import { sqsClient } from '../adapters/sqs-client';
import { secretKeyring } from '../adapters/secret-keyring';
import { SqsEventQueue } from '../adapters/sqs-queue';
import { ENV } from '../../contract';
import { AppError } from '../core/errors';
import { ingest, type EventQueue, type IngestDeps } from '../core/ingest';
import type { Keyring } from '../core/keyring';
import type { Admit } from '../core/rate-limit';
import { readContextSettings, readInt, readRetention, requireString } from '../shared/config';
import { header, json } from '../shared/http';
import { callerFromAuthorizer, httpHandler, type Authenticate } from '../shared/http-handler';
import { metrics } from '../shared/powertools';
import { rateLimiter } from '../shared/rate-limiter';
import { annotate, publishRejections, REJECTION_REASONS } from '../shared/telemetry';

export interface IngestHandlerDeps extends Omit<IngestDeps, 'keyring'> {
  readonly authenticate: Authenticate;
  readonly keyring: () => Promise<Keyring>;
  /** Per-tenant fairness: one request, then the body's events (core/rate-limit.ts). */
  readonly admit?: Admit;
}

/** Counts what the queue could not take (EnqueueFailures), whether it reports it or throws. */
const countingQueue = (queue: EventQueue): EventQueue => ({
  send: async (messages) => {
    try {
      const failed = await queue.send(messages);
      if (failed.size > 0) metrics.addMetric('EnqueueFailures', MetricUnit.Count, failed.size);
      return failed;
    } catch (error) {
      metrics.addMetric('EnqueueFailures', MetricUnit.Count, messages.length);
      throw error;
    }
  },
});

/** POST /v1/events */
export const createIngestHandler = ({ authenticate, keyring, admit, ...deps }: IngestHandlerDeps) => {
  const queue = countingQueue(deps.queue);
  return httpHandler(async (event, { correlationId }) => {
    const { tenant } = await authenticate(event, 'events:write');
    annotate({ tenant });
    await admit?.(tenant, { requests: 1 });
    const identity = event.requestContext?.identity;
    let result: Awaited<ReturnType<typeof ingest>>;
    try {
      result = await ingest(
        {
          tenant,
          body: event.body,
          contentType: header(event, 'content-type'),
          isBase64Encoded: event.isBase64Encoded,
          source: { ip: identity?.sourceIp, userAgent: identity?.userAgent ?? header(event, 'user-agent') },
          correlationId,
        },
        { ...deps, queue, keyring: await keyring(), ...(admit && { admitEvents: (n: number) => admit(tenant, { events: n }) }) },
      );
    } catch (error) {
      // A single-event body answers its event's error as the request's status: still a rejected event.
      if (error instanceof AppError && REJECTION_REASONS.has(error.code)) {
        metrics.addMetric('EventsRejected', MetricUnit.Count, 1);
        publishRejections([error.code]);
      }
      throw error;
    }
    metrics.addMetric('EventsAccepted', MetricUnit.Count, result.accepted);
    metrics.addMetric('EventsRejected', MetricUnit.Count, result.rejected);
    publishRejections(result.results.flatMap((r) => ('error' in r ? [r.error.code] : [])));
    annotate({ eventCount: result.results.length, accepted: result.accepted, rejected: result.rejected });
    // The request's log record is the metrics document itself (one line instead of two per request):
    // EventsAccepted / EventsRejected with the correlation id as metadata, found by the same filter.
    metrics.addMetadata('correlation_id', correlationId);
    return json(202, { results: result.results, accepted: result.accepted, rejected: result.rejected });
  });
};

const env = process.env;
export const handler = createIngestHandler({
  authenticate: callerFromAuthorizer(readContextSettings(env)),
  queue: new SqsEventQueue(sqsClient(), requireString(env, ENV.queueUrl)),
  keyring: secretKeyring(secretsClient(), requireString(env, ENV.keysSecretArn)),
  shardCount: readInt(env, ENV.shardCount),
  retentionDays: readRetention(env),
  maxEventsPerRequest: readInt(env, ENV.maxEventsPerRequest),
  admit: rateLimiter(env),
});
