/** Limits of the event envelope (README "API"): the validators, the OpenAPI document and the client use these numbers. */
export const LIMITS = {
  maxBodyBytes: 1024 * 1024,
  maxEventsPerRequest: 500,
  maxEventBytes: 32 * 1024,
  maxUserIdLength: 256,
  maxTargetIdLength: 256,
  maxIdempotencyKeyLength: 128,
  maxFutureSkewMs: 5 * 60 * 1000,
  maxUserAgentLength: 512,
} as const;

/** Limits of GET /v1/events; the last two bound the work one page may cost the service. */
export const QUERY_LIMITS = {
  defaultLimit: 100,
  maxLimit: 1000,
  /** Longest `userId` / `targetId` filter (as long as the envelope allows them). */
  maxFilterLength: 256,
  maxDetailKeyLength: 128,
  maxDetailValueLength: 1024,
  maxDetailFilters: 10,
  maxItemsExamined: 5000,
  maxDurationMs: 5000,
} as const;
