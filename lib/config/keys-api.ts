import { ENV } from '../../contract';
import type { ConfigKeySpec } from './key-spec';

/**
 * Configuration keys of the API and its limits (lib/config-keys.ts combines every area's keys): request
 * size, per-tenant rates, browser origins, the WAF and the stage's throttling.
 */

/** The size of one request. */
export const REQUEST_KEYS = {
  maxEventsPerRequest: {
    default: 500,
    kind: 'integer',
    min: ENV.maxEventsPerRequest.min,
    max: ENV.maxEventsPerRequest.max,
    meaning: "events one request may carry (500 is the API contract's maximum); above it: 413 `too_many_events`",
  },
} satisfies Record<string, ConfigKeySpec>;

/** Per-tenant rates, browser origins and the WAF. */
export const LIMIT_KEYS = {
  tenantRequestsPerSecond: {
    default: ENV.tenantRequestsPerSecond.default,
    kind: 'integer',
    min: ENV.tenantRequestsPerSecond.min,
    max: ENV.tenantRequestsPerSecond.max,
    meaning:
      'requests per second one tenant may make, all routes together, across every function instance; beyond: 429 `rate_limited` with `Retry-After` (docs/security.md, "Fairness")',
  },
  tenantEventsPerSecond: {
    default: ENV.tenantEventsPerSecond.default,
    kind: 'integer',
    min: ENV.tenantEventsPerSecond.min,
    max: ENV.tenantEventsPerSecond.max,
    meaning: 'events per second one tenant may send (at least `maxEventsPerRequest`); beyond: 429 `rate_limited` with `Retry-After`',
  },
  tenantRateOverrides: {
    kind: 'list',
    allowed: '`tenant=requests/events` entries separated by commas (each within the bounds above)',
    meaning: 'per-tenant limits instead of the two defaults above, e.g. `acme=200/5000,globex=10/500`',
  },
  corsAllowedOrigins: {
    defaultText: 'none (no browser reads from another origin)',
    kind: 'list',
    allowed: 'origins separated by commas: `https://host[:port]` (http only on localhost/127.0.0.1); never `*`',
    meaning:
      "origins whose pages may read the viewer's routes (GET /v1/events, /v1/events/{id}, /v1/stats) from a browser: those routes answer the preflight, and their answers and the gateway's errors name the allowed `Origin` (docs/security.md)",
  },
  wafRateLimit: {
    defaultText: 'off (no web ACL)',
    kind: 'integer',
    min: 10,
    max: 2_000_000_000,
    meaning:
      'when set, a WAF web ACL on the API stage blocks an IP address that sends more than this many requests in 5 minutes (before any function runs; WAF bills per ACL, rule and request)',
  },
} satisfies Record<string, ConfigKeySpec>;

/** The API stage's throttling. */
export const THROTTLE_KEYS = {
  apiThrottleRateLimit: {
    default: 100,
    kind: 'number',
    min: 1,
    max: 1_000_000,
    meaning: 'API stage steady-state limit, requests per second (beyond: 429 `throttled`)',
  },
  apiThrottleBurstLimit: {
    default: 200,
    kind: 'integer',
    min: 1,
    max: 1_000_000,
    meaning: 'API stage burst limit, requests',
  },
} satisfies Record<string, ConfigKeySpec>;
