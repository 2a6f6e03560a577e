import type { Context } from 'aws-lambda';
import { logger, metrics } from './powertools';
import { traced } from './telemetry';

/**
 * The one observability frame every handler runs in: Lambda context on the logger and a fresh
 * POWERTOOLS_LOGGER_SAMPLE_RATE draw per invocation (whether it logs at DEBUG), an X-Ray
 * subsegment `## handler` annotated with cold start and service, the stored EMF metrics flushed
 * and the per-request log keys reset at the end, whether the body returns or throws.
 *
 * Why a wrapper and not Powertools' middy middlewares (injectLambdaContext, captureLambdaHandler,
 * logMetrics on @middy/core), which do the same three jobs:
 * - @middy/core 7 needs Node ≥ 22 and 5–6 are ESM only: the tests run the handlers as CommonJS
 *   under ts-jest on Node 20, so every handler test would need node_modules transformed; 4.x is EOL.
 * - logMetrics publishes unconditionally, and Powertools then logs "No application metrics to
 *   publish" on every invocation that stored none (a 401, GET /v1/erasures/{id}): a new log line
 *   per request. Here the flush happens only when there is something to flush.
 * - captureLambdaHandler records the whole response as trace metadata unless told not to (event
 *   payloads are personal data) and renames the subsegment after `_HANDLER`.
 * What the middlewares would add beyond this frame is the bundle weight of middy and its hooks.
 */
export const instrumented =
  <E, R>(body: (event: E, context: Context) => Promise<R>) =>
  async (event: E, context: Context): Promise<R> => {
    logger.addContext(context);
    logger.refreshSampleRateCalculation();
    try {
      return await traced('handler', () => body(event, context));
    } finally {
      if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
      logger.resetKeys();
    }
  };
