import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { errorResponse } from './http';
import { logger, metrics } from './powertools';

/**
 * The frame every API handler shares: request context on the logger, one error mapper, metrics
 * flushed at the end. The body stays a one-liner: parse → core → response.
 */
export const httpHandler =
  (route: (event: APIGatewayProxyEvent) => Promise<APIGatewayProxyResult>) =>
  async (event: APIGatewayProxyEvent, context: Context): Promise<APIGatewayProxyResult> => {
    logger.addContext(context);
    logger.appendKeys({ requestId: event.requestContext?.requestId, route: `${event.httpMethod} ${event.resource}` });
    try {
      return await route(event);
    } catch (error) {
      return errorResponse(error, (message, cause) => logger.error(message, cause as Error));
    } finally {
      if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
      logger.resetKeys();
    }
  };
