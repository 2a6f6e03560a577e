import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { errorResponse } from './http';
import { instrumented } from './instrument';
import { logger } from './powertools';
import { correlationIdOf } from './telemetry';

/** What the frame knows about the request beyond the proxy event. */
export interface RequestFrame {
  /** One id per API request (client `x-request-id` if valid, else API Gateway's request id). */
  readonly correlationId: string;
}

/**
 * What every API handler adds to the common frame (./instrument.ts): the correlation id, request
 * id and route on the logger, one error mapper. The body stays a one-liner: parse → core →
 * response. The correlation id goes back to the client as `x-request-id`.
 */
export const httpHandler = (route: (event: APIGatewayProxyEvent, frame: RequestFrame) => Promise<APIGatewayProxyResult>) =>
  instrumented(async (event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> => {
    const correlationId = correlationIdOf(event);
    logger.setCorrelationId(correlationId);
    logger.appendKeys({ requestId: event.requestContext?.requestId, route: `${event.httpMethod} ${event.resource}` });
    let result: APIGatewayProxyResult;
    try {
      result = await route(event, { correlationId });
    } catch (error) {
      result = errorResponse(error, (message, cause) => logger.error(message, cause as Error));
    }
    return { ...result, headers: { ...result.headers, 'x-request-id': correlationId } };
  });
