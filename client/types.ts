/** Types of the Activity Tracker API v1 (openapi.yaml is the reference). */
import type { ErrorCode, EventErrorCode } from '../contract';

export interface EventTarget {
  type: string;
  id: string;
}

/** An event as a client sends it. */
export interface TrackEvent {
  /** Lower-case, `^[a-z0-9][a-z0-9_.:-]{0,99}$`. */
  type: string;
  /** 1..256 characters. */
  userId: string;
  /** RFC 3339. The client fills in the current time when it is missing. */
  occurredAt?: string;
  target?: EventTarget;
  /** 1..128 characters. The client generates one when it is missing, so retries never duplicate. */
  idempotencyKey?: string;
  details?: Record<string, unknown>;
}

/** A stored event as the API returns it. */
export interface Event {
  id: string;
  type: string;
  userId: string;
  occurredAt: string;
  target?: EventTarget;
  details?: Record<string, unknown>;
  receivedAt: string;
  source: { ip?: string; userAgent?: string };
}

export interface ErrorDetail<Code extends ErrorCode = ErrorCode> {
  code: Code;
  message: string;
}

export type EventResult = { id: string } | { error: ErrorDetail<EventErrorCode> };

export interface IngestResponse {
  results: EventResult[];
  accepted: number;
  rejected: number;
}

export interface EventFilters {
  userId?: string;
  type?: string;
  targetId?: string;
  /** RFC 3339 (inclusive), or a Date. */
  from?: string | Date;
  /** RFC 3339 (exclusive), or a Date. */
  to?: string | Date;
  /** Equality filters on details: `{ currency: 'EUR' }` → `details.currency=EUR`. */
  details?: Record<string, string | number | boolean | null>;
  order?: 'asc' | 'desc';
  /** Events per page, 1..1000 (default 100). */
  limit?: number;
}

export interface EventPage {
  events: Event[];
  nextCursor: string | null;
}

export interface ErasureReceipt {
  id: string;
  status: 'pending' | 'completed';
  erased: number;
  requestedAt: string;
  completedAt: string | null;
}

/** GET /v1/stats parameters (docs/api.md#stats-get-v1stats). */
export interface StatsQuery {
  /** RFC 3339, on a bucket boundary. */
  from: string;
  /** RFC 3339, exclusive. */
  to: string;
  interval?: 'hour' | 'day' | 'month';
  groupBy?: 'type' | 'targetType';
  type?: string;
  userId?: string;
  targetType?: string;
  /** Top-N groups, 1..100 (default 10). */
  limit?: number;
}

export interface StatsGroup {
  key: string;
  count: number;
}

export interface Stats {
  from: string;
  to: string;
  interval: 'hour' | 'day' | 'month' | null;
  groupBy: 'type' | 'targetType' | null;
  total: number;
  groups: StatsGroup[];
  buckets: { start: string; count: number; groups: StatsGroup[] }[];
}

/** POST /v1/exports: a user's (with userId) or the tenant's events in a range, as a gzip file. */
export interface ExportRequest {
  format: 'ndjson' | 'csv';
  userId?: string;
  type?: string;
  from?: string;
  to?: string;
}

/** An export job; `url` (completed jobs) downloads the gzip file until `expiresAt`. */
export interface ExportJob {
  id: string;
  status: 'pending' | 'completed' | 'failed';
  reason?: 'erased' | 'error';
  format: 'ndjson' | 'csv';
  events: number;
  bytes: number;
  requestedAt: string;
  completedAt: string | null;
  url: string | null;
  expiresAt: string | null;
}

/** A read-only token for the embedded viewer (`<activity-log>`). */
export interface ViewerSession {
  token: string;
  expiresAt: string;
}
