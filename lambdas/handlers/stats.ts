import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { ENV } from '../../contract';
import { documentClient } from '../adapters/dynamo-client';
import { DynamoStatsStore } from '../adapters/dynamo-stats-store';
import type { Admit } from '../core/rate-limit';
import { parseStatsQuery, queryStats, type CounterReadStore } from '../core/stats-query';
import { readContextSettings, readCorsPolicy, readInt, requireString } from '../shared/config';
import { json, queryParams } from '../shared/http';
import { callerFromAuthorizer, httpHandler, type Authenticate } from '../shared/http-handler';
import { metrics } from '../shared/powertools';
import type { CorsPolicy } from '../core/cors';
import { rateLimiter } from '../shared/rate-limiter';
import { annotate } from '../shared/telemetry';

export interface StatsHandlerDeps {
  readonly authenticate: Authenticate;
  readonly store: CounterReadStore;
  readonly shardCount: number;
  readonly admit?: Admit;
  /** Browser reads from other origins. @default none */
  readonly cors?: CorsPolicy;
}

/** GET /v1/stats: counts from the counters table, never from the events. */
export const createStatsHandler = ({ authenticate, store, shardCount, admit, cors }: StatsHandlerDeps) =>
  httpHandler(async (event) => {
    const { tenant } = await authenticate(event, 'events:read');
    annotate({ tenant });
    await admit?.(tenant, { requests: 1 });
    const query = parseStatsQuery(queryParams(event));
    const started = Date.now();
    try {
      return json(200, await queryStats(tenant, query, { store, shardCount }));
    } finally {
      metrics.addMetric('StatsLatency', MetricUnit.Milliseconds, Date.now() - started);
    }
  }, cors);

const env = process.env;
export const handler = createStatsHandler({
  authenticate: callerFromAuthorizer(readContextSettings(env)),
  store: new DynamoStatsStore(documentClient(), requireString(env, ENV.statsTableName)),
  shardCount: readInt(env, ENV.shardCount),
  admit: rateLimiter(env),
  cors: readCorsPolicy(env),
});
