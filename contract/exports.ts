/** Limits of exports (POST /v1/exports) and viewer sessions (POST /v1/viewer-sessions). */
export const EXPORT_LIMITS = {
  formats: ['ndjson', 'csv'],
  /** Export requests one tenant may have pending at once. */
  maxPending: 10,
} as const;

export const VIEWER_LIMITS = {
  minTtlSeconds: 60,
  maxTtlSeconds: 3600,
  defaultTtlSeconds: 900,
} as const;
