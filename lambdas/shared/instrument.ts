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
 * - The one supported middy, 7.x, needs Node ≥ 22; the code stays runnable on Node 20 (local mode,
 *   tests), and every middy that runs there is past its end of life (6.x: 2026-04-30, per
 *   middy.js.org/docs/intro/release-cycle). 5.x and up are also ESM only, while the tests load the
 *   handlers as CommonJS under ts-jest: every handler test would need node_modules transformed.
 * - logMetrics publishes unconditionally, and Powertools then logs "No application metrics to
 *   publish" on every invocation that stored none (a 401, GET /v1/erasures/{id}): a new log line
 *   per request. Here the flush happens only when there is something to flush.
 * - captureLambdaHandler records the whole response as trace metadata unless told not to (event
 *   payloads are personal data) and names the subsegment after `_HANDLER`.
 * Powertools' own primitives (addContext, refreshSampleRateCalculation, annotateColdStart,
 * publishStoredMetrics) do the work here, in the same order the middlewares call them.
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
