import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { errorResponse } from './http';
import { logger, metrics } from './powertools';
import { correlationIdOf, traced } from './telemetry';

/** What the frame knows about the request beyond the proxy event. */
export interface RequestFrame {
  /** One id per API request (client `x-request-id` if valid, else API Gateway's request id). */
  readonly correlationId: string;
}

/**
 * The frame every API handler shares: request context and correlation id on the logger, an
 * X-Ray subsegment, one error mapper, metrics flushed at the end. The body stays a one-liner:
 * parse → core → response. The correlation id goes back to the client as `x-request-id`.
 */
export const httpHandler =
  (route: (event: APIGatewayProxyEvent, frame: RequestFrame) => Promise<APIGatewayProxyResult>) =>
  async (event: APIGatewayProxyEvent, context: Context): Promise<APIGatewayProxyResult> => {
    const correlationId = correlationIdOf(event);
    logger.addContext(context);
    // POWERTOOLS_LOGGER_SAMPLE_RATE: a fresh draw per request decides whether it logs at DEBUG.
    logger.refreshSampleRateCalculation();
    logger.setCorrelationId(correlationId);
    logger.appendKeys({ requestId: event.requestContext?.requestId, route: `${event.httpMethod} ${event.resource}` });
    try {
      const result = await traced('handler', async () => {
        try {
          return await route(event, { correlationId });
        } catch (error) {
          return errorResponse(error, (message, cause) => logger.error(message, cause as Error));
        }
      });
      return { ...result, headers: { ...result.headers, 'x-request-id': correlationId } };
    } finally {
      if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
      logger.resetKeys();
    }
  };
