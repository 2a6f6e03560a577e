import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { AppError, ServiceUnavailableError, TooManyRequestsError, UnauthorizedError } from '../core/errors';

const BASE_HEADERS = {
  'content-type': 'application/json; charset=utf-8',
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
} as const;

export const json = (statusCode: number, body: unknown, headers: Record<string, string> = {}): APIGatewayProxyResult => ({
  statusCode,
  headers: { ...BASE_HEADERS, ...headers },
  body: body === undefined ? '' : JSON.stringify(body),
});

export const noContent = (): APIGatewayProxyResult => ({ statusCode: 204, headers: { 'cache-control': 'no-store' }, body: '' });

/**
 * The one error mapper: AppErrors become their status and `{"error":{"code","message"}}`;
 * anything else is a 500 that says nothing about internals (it is logged instead).
 */
export const errorResponse = (error: unknown, log: (message: string, error: unknown) => void): APIGatewayProxyResult => {
  if (error instanceof AppError) {
    const headers: Record<string, string> = {};
    if (error instanceof UnauthorizedError) headers['www-authenticate'] = 'Bearer error="invalid_token"';
    if (error instanceof ServiceUnavailableError) headers['retry-after'] = '1';
    if (error instanceof TooManyRequestsError && error.retryAfterSeconds !== undefined)
      headers['retry-after'] = String(error.retryAfterSeconds);
    if (error.status >= 500) log('request failed', error);
    return json(error.status, { error: { code: error.code, message: error.message } }, headers);
  }
  log('unexpected error', error);
  return json(500, { error: { code: 'internal_error', message: 'internal error' } });
};

export const header = (event: Pick<APIGatewayProxyEvent, 'headers'>, name: string): string | undefined => {
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(event.headers ?? {})) {
    if (key.toLowerCase() === wanted) return value ?? undefined;
  }
  return undefined;
};

/** All query-string values by name (repeated names keep every value). */
export const queryParams = (
  event: Pick<APIGatewayProxyEvent, 'queryStringParameters' | 'multiValueQueryStringParameters'>,
): Record<string, string[]> => {
  // Prototype-free: a parameter may be called `toString` or `__proto__`.
  const out: Record<string, string[]> = Object.create(null);
  for (const [name, values] of Object.entries(event.multiValueQueryStringParameters ?? {})) if (values) out[name] = values;
  for (const [name, value] of Object.entries(event.queryStringParameters ?? {}))
    if (value !== undefined && !Object.hasOwn(out, name)) out[name] = [value];
  return out;
};
