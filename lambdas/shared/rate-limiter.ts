import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { ENV } from '../../contract';
import { documentClient } from '../adapters/dynamo-client';
import { DynamoRateCounter } from '../adapters/dynamo-rate-counter';
import { createRateLimiter, type Admit } from '../core/rate-limit';
import { readRateLimits, requireString } from './config';
import { logger, metrics } from './powertools';

type Env = Readonly<Record<string, string | undefined>>;

/**
 * The per-tenant rate limiter of an API function, built once per cold start: limits from the
 * environment, counters in the events table. A counter failure admits the request (logged, and
 * counted as RateLimiterErrors) rather than refusing every tenant.
 */
export const rateLimiter = (env: Env): Admit =>
  createRateLimiter({
    counter: new DynamoRateCounter(documentClient(), requireString(env, ENV.tableName)),
    limits: readRateLimits(env),
    onError: (error) => {
      logger.warn('rate limiter unavailable; admitting', error as Error);
      metrics.addMetric('RateLimiterErrors', MetricUnit.Count, 1);
    },
  });
