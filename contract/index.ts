/**
 * The contract the stack (lib/), the functions (lambdas/), the client (client/) and the bench
 * share: table layout, environment variables with their bounds, scopes, limits and error codes.
 * Plain TypeScript that imports nothing outside this folder, so each side can depend on it.
 */
export { ENV, type EnvVariable, type IntVariable, type TextVariable } from './env';
export {
  ConfigError,
  EVENT_ERROR_CODES,
  type ErrorCode,
  type EventErrorCode,
} from './errors';
export { parseAccessTokenRule, type AccessTokenRule } from './access-token';
export { LIMITS, QUERY_LIMITS } from './limits';
export {
  PUBLIC_ROUTES,
  ROUTE_SCOPES,
  SCOPE_FORMATS,
  SCOPES,
  VIEWER_ROUTES,
  VIEWER_USER_FILTERED_ROUTES,
  type Route,
  type Scope,
  type ScopeFormat,
} from './scopes';
export {
  CORS_ALLOW_HEADERS,
  CORS_EXPOSE_HEADERS,
  CORS_MAX_AGE_SECONDS,
  CORS_METHODS,
  parseCorsOrigins,
} from './cors';
export { EXPORT_LIMITS, VIEWER_LIMITS } from './exports';
export { ATTRIBUTES, GSI_BY_PURGE, GSI_BY_TYPE, GSI_BY_USER, INDEXES, RATE_PARTITION_PREFIX } from './table';
export { parseTenantRates, parseTenantRetention, TENANT_PATTERN, type TenantRates } from './tenants';
