import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import type { Scope } from '../../contract';
import { principalFromAuthorizer, requireScope, requireViewerAccess, type ContextSettings, type Principal } from '../core/auth';
import { corsHeaders, corsPolicy, originOf, preflightHeaders, type CorsPolicy } from '../core/cors';
import { errorResponse } from './http';
import { instrumented } from './instrument';
import { logger } from './powertools';
import { correlationIdOf } from './telemetry';

/** What the frame knows about the request beyond the proxy event. */
export interface RequestFrame {
  /** One id per API request (client `x-request-id` if valid, else API Gateway's request id). */
  readonly correlationId: string;
}

const NO_CORS = corsPolicy([]);

/**
 * What every API handler adds to the common frame (./instrument.ts): the correlation id, request
 * id and route on the logger, one error mapper. The body stays a one-liner: parse → core →
 * response. The correlation id goes back to the client as `x-request-id`.
 *
 * With a CORS policy (the viewer's read routes), every answer, errors included, names an allowed
 * `Origin`, and a preflight (OPTIONS, which the gateway sends without an authorizer) is answered
 * here before anything else runs: no caller, no store, no rate counter.
 */
export const httpHandler = (
  route: (event: APIGatewayProxyEvent, frame: RequestFrame) => Promise<APIGatewayProxyResult>,
  cors: CorsPolicy = NO_CORS,
) =>
  instrumented(async (event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> => {
    const origin = originOf(event.headers);
    if (event.httpMethod === 'OPTIONS') return { statusCode: 204, headers: preflightHeaders(cors, origin), body: '' };
    const correlationId = correlationIdOf(event);
    logger.setCorrelationId(correlationId);
    logger.appendKeys({ requestId: event.requestContext?.requestId, route: `${event.httpMethod} ${event.resource}` });
    let result: APIGatewayProxyResult;
    try {
      result = await route(event, { correlationId });
    } catch (error) {
      result = errorResponse(error, (message, cause) => logger.error(message, cause as Error));
    }
    return { ...result, headers: { ...result.headers, ...corsHeaders(cors, origin), 'x-request-id': correlationId } };
  });

/** The caller of a request, which must hold the route's scope (401 / 403 otherwise). */
export type Authenticate = (
  event: Pick<APIGatewayProxyEvent, 'requestContext' | 'headers' | 'httpMethod' | 'resource' | 'queryStringParameters'>,
  scope: Scope,
) => Promise<Principal>;

/**
 * The functions take the caller from API Gateway's authorizer output and verify no token
 * themselves: the gateway refused every request without a valid one before any function ran.
 */
export const callerFromAuthorizer =
  (settings: ContextSettings): Authenticate =>
  async (event, scope) => {
    const principal = principalFromAuthorizer(event.requestContext?.authorizer, settings);
    requireScope(principal, scope);
    requireViewerAccess(principal, `${event.httpMethod} ${event.resource}`, event.queryStringParameters?.userId ?? undefined);
    return principal;
  };
