import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { documentClient } from '../adapters/dynamo-client';
import { secretsClient } from '../adapters/secrets-client';
import { DynamoEventStore } from '../adapters/dynamo-store';
import { secretKeyring } from '../adapters/secret-keyring';
import { ENV } from '../../contract';
import { NotFoundError } from '../core/errors';
import type { Keyring } from '../core/keyring';
import { getEvent, parseEventQuery, queryEvents, type QueryDeps } from '../core/query';
import { readContextSettings, readCorsPolicy, readInt, requireString } from '../shared/config';
import { json, queryParams } from '../shared/http';
import { callerFromAuthorizer, httpHandler, type Authenticate } from '../shared/http-handler';
import { metrics } from '../shared/powertools';
import type { CorsPolicy } from '../core/cors';
import { rateLimiter } from '../shared/rate-limiter';
import type { Admit } from '../core/rate-limit';
import { annotate } from '../shared/telemetry';

export interface QueryHandlerDeps extends Omit<QueryDeps, 'keyring'> {
  readonly authenticate: Authenticate;
  readonly keyring: () => Promise<Keyring>;
  /** Per-tenant fairness: one request (core/rate-limit.ts). */
  readonly admit?: Admit;
  /** Browser reads from other origins. @default none */
  readonly cors?: CorsPolicy;
}

/** GET /v1/events and GET /v1/events/{id} */
export const createQueryHandler = ({ authenticate, keyring, admit, cors, ...deps }: QueryHandlerDeps) =>
  httpHandler(async (event) => {
    const { tenant, viewer } = await authenticate(event, 'events:read');
    annotate({ tenant });
    await admit?.(tenant, { requests: 1 });
    const queryDeps = { ...deps, keyring: await keyring() };
    const id = event.pathParameters?.id;
    const started = Date.now();
    try {
      if (id !== undefined) {
        const found = await getEvent(tenant, id, queryDeps);
        // A viewer token bound to one user sees no other user's event (404, as for any id it may not read).
        if (viewer?.userId !== undefined && found.userId !== viewer.userId) throw new NotFoundError('event not found');
        return json(200, found);
      }
      const page = await queryEvents(tenant, parseEventQuery(queryParams(event)), queryDeps);
      annotate({ eventCount: page.events.length });
      return json(200, { events: page.events, nextCursor: page.nextCursor });
    } finally {
      metrics.addMetric('QueryLatency', MetricUnit.Milliseconds, Date.now() - started);
    }
  }, cors);

const env = process.env;
export const handler = createQueryHandler({
  authenticate: callerFromAuthorizer(readContextSettings(env)),
  store: new DynamoEventStore(documentClient(), requireString(env, ENV.tableName)),
  keyring: secretKeyring(secretsClient(), requireString(env, ENV.keysSecretArn)),
  shardCount: readInt(env, ENV.shardCount),
  admit: rateLimiter(env),
  cors: readCorsPolicy(env),
});
