import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { ENV } from '../../contract';
import { documentClient } from '../adapters/dynamo-client';
import { DynamoStatsStore } from '../adapters/dynamo-stats-store';
import type { Admit } from '../core/rate-limit';
import { parseStatsQuery, queryStats, type CounterReadStore } from '../core/stats-query';
import { readContextSettings, readInt, requireString } from '../shared/config';
import { json, queryParams } from '../shared/http';
import { callerFromAuthorizer, httpHandler, type Authenticate } from '../shared/http-handler';
import { metrics } from '../shared/powertools';
import { rateLimiter } from '../shared/rate-limiter';
import { annotate } from '../shared/telemetry';

export interface StatsHandlerDeps {
  readonly authenticate: Authenticate;
  readonly store: CounterReadStore;
  readonly shardCount: number;
  readonly admit?: Admit;
}

/** GET /v1/stats: counts from the counters table, never from the events. */
export const createStatsHandler = ({ authenticate, store, shardCount, admit }: StatsHandlerDeps) =>
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
  });

const env = process.env;
export const handler = createStatsHandler({
  authenticate: callerFromAuthorizer(readContextSettings(env)),
  store: new DynamoStatsStore(documentClient(), requireString(env, ENV.statsTableName)),
  shardCount: readInt(env, ENV.shardCount),
  admit: rateLimiter(env),
});
