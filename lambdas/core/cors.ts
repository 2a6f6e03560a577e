import { CORS_ALLOW_HEADERS, CORS_EXPOSE_HEADERS, CORS_MAX_AGE_SECONDS, CORS_METHODS } from '../../contract';

/**
 * CORS for the viewer's read routes, decided per request: an answer names the request's `Origin`
 * when (and only when) it is one of the allowed origins, never `*`, and never allows credentials
 * (the API reads a bearer token, not cookies). `Vary: Origin` keeps caches from mixing answers.
 */
export interface CorsPolicy {
  readonly origins: ReadonlySet<string>;
}

export const corsPolicy = (origins: readonly string[]): CorsPolicy => ({ origins: new Set(origins) });

/** The `Origin` header of a request (any casing of the name). */
export const originOf = (headers: Readonly<Record<string, string | undefined>> | null | undefined): string | undefined =>
  Object.entries(headers ?? {}).find(([name]) => name.toLowerCase() === 'origin')?.[1];

/** Headers to add to an answer: ACAO for an allowed origin, `Vary: Origin` whenever CORS is on. */
export const corsHeaders = (policy: CorsPolicy, origin: string | undefined): Record<string, string> => {
  if (policy.origins.size === 0) return {};
  if (origin === undefined || !policy.origins.has(origin)) return { Vary: 'Origin' };
  return { 'Access-Control-Allow-Origin': origin, 'Access-Control-Expose-Headers': CORS_EXPOSE_HEADERS, Vary: 'Origin' };
};

/**
 * The answer to a preflight (OPTIONS): 204, with the allowed method, headers and cache time for an
 * allowed origin; 204 without any Access-Control-Allow-* header otherwise, which the browser
 * treats as a refusal.
 */
export const preflightHeaders = (policy: CorsPolicy, origin: string | undefined): Record<string, string> => {
  const headers = corsHeaders(policy, origin);
  if (!('Access-Control-Allow-Origin' in headers)) return headers;
  return {
    ...headers,
    'Access-Control-Allow-Methods': CORS_METHODS,
    'Access-Control-Allow-Headers': CORS_ALLOW_HEADERS,
    'Access-Control-Max-Age': String(CORS_MAX_AGE_SECONDS),
  };
};
