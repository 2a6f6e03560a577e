import { LIMITS } from '../contract';
import { ApiError, EventRejectedError, isRetryableStatus, type ApiErrorCode } from './errors';
import type {
  ErasureReceipt,
  Event,
  EventFilters,
  EventPage,
  EventResult,
  ExportJob,
  ExportRequest,
  Stats,
  StatsQuery,
  IngestResponse,
  TrackEvent,
  ViewerSession,
} from './types';
import { EventList, queryString } from './event-list';

/** The API's limits a batch must respect (contract/limits.ts; openapi.yaml: maxItems 500, 1 MiB). */
export const API_MAX_EVENTS = LIMITS.maxEventsPerRequest;
export const API_MAX_BODY_BYTES = LIMITS.maxBodyBytes;

export interface BatchOptions {
  /** Events per request, 1..500. @default 500 */
  readonly maxEvents?: number;
  /** Request body bytes, below 1 MiB. @default 1 MiB - 1 KiB */
  readonly maxBytes?: number;
  /** Longest time an event waits in the buffer, ms. @default 1000 */
  readonly flushIntervalMs?: number;
  /** Batches in flight at once. @default 4 */
  readonly maxConcurrency?: number;
}

export interface RetryOptions {
  /** Attempts per request, the first included. @default 6 */
  readonly maxAttempts?: number;
  /** Backoff base, ms: attempt n waits a random time in [0, min(max, base × 2^n)) ("full jitter"). @default 200 */
  readonly baseDelayMs?: number;
  /** Longest backoff, ms. @default 20000 */
  readonly maxDelayMs?: number;
  /** Longest wait the client accepts from a Retry-After header, ms. @default 60000 */
  readonly maxRetryAfterMs?: number;
}

export interface ClientOptions {
  /** The API's base URL: the stack's `ApiUrl` output, or `http://127.0.0.1:3000` locally. */
  readonly baseUrl: string;
  /** Returns a bearer token (JWT); called for every request, so it may refresh and cache. */
  readonly token: () => Promise<string> | string;
  readonly batch?: BatchOptions;
  readonly retry?: RetryOptions;
  /**
   * Called for every tracked event that finally failed (rejected by the API, or its batch failed
   * after all retries), besides rejecting the promise `track` returned.
   */
  readonly onError?: (error: EventRejectedError | ApiError, event: TrackEvent) => void;
  /**
   * Also flush when the Node process is about to exit ('beforeExit'), without waiting for the
   * flush interval. Buffered events keep the process alive until they are sent in any case.
   * @default false
   */
  readonly flushOnExit?: boolean;
  /** @default globalThis.fetch */
  readonly fetch?: typeof fetch;
  /** For tests. @default setTimeout-based */
  readonly sleep?: (ms: number) => Promise<void>;
  /** For tests: a number in [0, 1). @default Math.random */
  readonly random?: () => number;
  /** For tests. @default () => new Date() */
  readonly now?: () => Date;
  /** For tests. @default crypto.randomUUID */
  readonly newIdempotencyKey?: () => string;
}

interface Pending {
  readonly event: TrackEvent;
  readonly bytes: number;
  readonly resolve: (id: string) => void;
  readonly reject: (error: Error) => void;
  /** Sends so far (events that SQS could not take are sent again, up to maxAttempts). */
  attempts: number;
}

const encoder = new TextEncoder();
const byteLength = (text: string): number => encoder.encode(text).length;
/** `{"events":[` + `]}` around the comma-separated events. */
const BATCH_OVERHEAD = byteLength('{"events":[]}');

/** Parses Retry-After (seconds or an HTTP date) into ms. */
export const parseRetryAfter = (value: string | null, nowMs: number): number | undefined => {
  if (value === null || value.trim() === '') return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs);
};

/**
 * The Activity Tracker client: batching `track`, retries with idempotency keys, paginated
 * queries, delete/restore and erasures. Works wherever `fetch` does (Node 20+, browsers).
 */
export class ActivityTrackerClient {
  private readonly baseUrl: string;
  private readonly fetchFn: typeof fetch;
  private readonly maxEvents: number;
  private readonly maxBytes: number;
  private readonly flushIntervalMs: number;
  private readonly maxConcurrency: number;
  private readonly maxAttempts: number;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly maxRetryAfterMs: number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly random: () => number;
  private readonly now: () => Date;
  private readonly newKey: () => string;

  private buffer: Pending[] = [];
  private bufferBytes = BATCH_OVERHEAD;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly waiting: (() => void)[] = [];
  private running = 0;
  private closed = false;
  private readonly exitHook: (() => void) | undefined;

  /** Events: list (pages and items), get, delete, restore. */
  readonly events: {
    list: (filters?: EventFilters) => EventList;
    page: (filters?: EventFilters & { cursor?: string }) => Promise<EventPage>;
    get: (id: string) => Promise<Event>;
    delete: (id: string) => Promise<void>;
    restore: (id: string) => Promise<Event>;
  };

  /** GDPR erasure requests. */
  readonly erasures: {
    create: (userId: string) => Promise<ErasureReceipt>;
    get: (id: string) => Promise<ErasureReceipt>;
  };

  /** GET /v1/stats: totals, top groups and buckets from the counters. */
  stats(query: StatsQuery): Promise<Stats> {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) if (v !== undefined) params.set(k, String(v));
    return this.request<Stats>('GET', `/v1/stats?${params.toString()}`);
  }

  /** Export jobs (scope events:export): request one, then poll until it is completed and download `url`. */
  readonly exports: {
    create: (request: ExportRequest) => Promise<Pick<ExportJob, 'id' | 'status' | 'requestedAt'>>;
    get: (id: string) => Promise<ExportJob>;
  };

  /** Mints a read-only viewer token (scope events:read), for the tenant or one user. Call it server-side. */
  readonly viewerSessions: {
    create: (options?: { userId?: string; ttlSeconds?: number }) => Promise<ViewerSession>;
  };

  constructor(private readonly options: ClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    const f = options.fetch ?? globalThis.fetch;
    if (typeof f !== 'function') throw new Error('no fetch available: pass options.fetch');
    this.fetchFn = f;
    const b = options.batch ?? {};
    this.maxEvents = clamp(b.maxEvents ?? API_MAX_EVENTS, 1, API_MAX_EVENTS);
    this.maxBytes = clamp(b.maxBytes ?? API_MAX_BODY_BYTES - 1024, 1024, API_MAX_BODY_BYTES - 1);
    this.flushIntervalMs = Math.max(0, b.flushIntervalMs ?? 1000);
    this.maxConcurrency = Math.max(1, b.maxConcurrency ?? 4);
    const r = options.retry ?? {};
    this.maxAttempts = Math.max(1, r.maxAttempts ?? 6);
    this.baseDelayMs = r.baseDelayMs ?? 200;
    this.maxDelayMs = r.maxDelayMs ?? 20_000;
    this.maxRetryAfterMs = r.maxRetryAfterMs ?? 60_000;
    this.sleep = options.sleep ?? ((ms) => new Promise((done) => setTimeout(done, ms)));
    this.random = options.random ?? Math.random;
    this.now = options.now ?? (() => new Date());
    this.newKey = options.newIdempotencyKey ?? randomKey;

    this.events = {
      list: (filters = {}) => new EventList(this, filters),
      page: (filters = {}) => this.request<EventPage>('GET', `/v1/events${queryString(filters)}`),
      get: (id) => this.request<Event>('GET', `/v1/events/${encodeURIComponent(id)}`),
      delete: async (id) => {
        await this.request<void>('DELETE', `/v1/events/${encodeURIComponent(id)}`);
      },
      restore: (id) => this.request<Event>('POST', `/v1/events/${encodeURIComponent(id)}/restore`),
    };
    this.erasures = {
      create: (userId) => this.request<ErasureReceipt>('POST', '/v1/erasures', { userId }),
      get: (id) => this.request<ErasureReceipt>('GET', `/v1/erasures/${encodeURIComponent(id)}`),
    };
    this.exports = {
      create: (request) => this.request<Pick<ExportJob, 'id' | 'status' | 'requestedAt'>>('POST', '/v1/exports', request),
      get: (id) => this.request<ExportJob>('GET', `/v1/exports/${encodeURIComponent(id)}`),
    };
    this.viewerSessions = {
      create: (options = {}) => this.request<ViewerSession>('POST', '/v1/viewer-sessions', options),
    };

    const proc = (globalThis as { process?: { once: (e: string, f: () => void) => void; off: (e: string, f: () => void) => void } })
      .process;
    if (options.flushOnExit && proc) {
      // 'beforeExit' fires when the event loop is empty: the flush's requests keep the process
      // alive until they settle, then it fires again with nothing left to send.
      this.exitHook = () => {
        if (this.buffer.length > 0) void this.flush();
      };
      proc.once('beforeExit', this.exitHook);
    }
  }

  /**
   * Buffers one event and resolves to its id once the API has accepted it; rejects with
   * EventRejectedError (the API's per-event error) or ApiError (its batch failed after all
   * retries). The event gets an idempotencyKey and occurredAt when it has none, so a retry
   * stores it once.
   */
  track(event: TrackEvent): Promise<string> {
    if (this.closed) return Promise.reject(new Error('the client is closed'));
    const prepared: TrackEvent = {
      ...event,
      occurredAt: event.occurredAt ?? this.now().toISOString(),
      idempotencyKey: event.idempotencyKey ?? this.newKey(),
    };
    const bytes = byteLength(JSON.stringify(prepared));
    return new Promise<string>((resolve, reject) => {
      if (BATCH_OVERHEAD + bytes > this.maxBytes) {
        const error = new EventRejectedError('event_too_large', `the event is ${bytes} bytes: more than a request may carry`, prepared);
        this.options.onError?.(error, prepared);
        reject(error);
        return;
      }
      this.enqueue({ event: prepared, bytes, resolve, reject, attempts: 0 });
    });
  }

  /** Sends everything buffered and resolves once every batch sent so far has settled. */
  async flush(): Promise<void> {
    this.cutBatch();
    while (this.inFlight.size > 0 || this.buffer.length > 0) {
      this.cutBatch();
      await Promise.allSettled([...this.inFlight]);
    }
  }

  /** Flushes, then refuses further events. */
  async close(): Promise<void> {
    this.closed = true;
    await this.flush();
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const proc = (globalThis as { process?: { off: (e: string, f: () => void) => void } }).process;
    if (this.exitHook && proc) proc.off('beforeExit', this.exitHook);
  }

  /** Events buffered and not yet sent. */
  get buffered(): number {
    return this.buffer.length;
  }

  private enqueue(pending: Pending): void {
    const separator = this.buffer.length > 0 ? 1 : 0;
    if (this.bufferBytes + separator + pending.bytes > this.maxBytes) this.cutBatch();
    this.buffer.push(pending);
    this.bufferBytes += (this.buffer.length > 1 ? 1 : 0) + pending.bytes;
    if (this.buffer.length >= this.maxEvents) {
      this.cutBatch();
    } else if (!this.timer) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.cutBatch();
      }, this.flushIntervalMs);
      // Not unref'd: buffered events keep a Node process alive until they are sent (at most flushIntervalMs).
    }
  }

  /** Takes the buffer as one batch and sends it. */
  private cutBatch(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.buffer.length === 0) return;
    const batch = this.buffer;
    this.buffer = [];
    this.bufferBytes = BATCH_OVERHEAD;
    const sending = this.withSlot(() => this.sendBatch(batch)).finally(() => this.inFlight.delete(sending));
    this.inFlight.add(sending);
  }

  private async withSlot(work: () => Promise<void>): Promise<void> {
    while (this.running >= this.maxConcurrency) await new Promise<void>((go) => this.waiting.push(go));
    this.running++;
    try {
      await work();
    } finally {
      this.running--;
      this.waiting.shift()?.();
    }
  }

  private async sendBatch(batch: Pending[]): Promise<void> {
    const fail = (p: Pending, error: EventRejectedError | ApiError) => {
      this.options.onError?.(error, p.event);
      p.reject(error);
    };
    let response: IngestResponse;
    try {
      response = await this.request<IngestResponse>('POST', '/v1/events', { events: batch.map((p) => p.event) });
    } catch (error) {
      const apiError = error instanceof ApiError ? error : new ApiError(0, 'network_error', String(error));
      for (const p of batch) fail(p, apiError);
      return;
    }
    const again: Pending[] = [];
    batch.forEach((p, index) => {
      p.attempts++;
      const result: EventResult | undefined = response.results[index];
      if (result && 'id' in result) {
        p.resolve(result.id);
        return;
      }
      const detail = result?.error ?? { code: 'missing_result', message: 'the API returned no result for this event' };
      // SQS could not take it: the same key and occurredAt give the same id, so sending it again is safe.
      if (detail.code === 'enqueue_failed' && p.attempts < this.maxAttempts) again.push(p);
      else fail(p, new EventRejectedError(detail.code, detail.message, p.event));
    });
    if (again.length > 0) {
      await this.sleep(this.backoff(Math.max(...again.map((p) => p.attempts)) - 1));
      await this.sendBatch(again);
    }
  }

  private backoff(attempt: number): number {
    return Math.floor(this.random() * Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** attempt));
  }

  /** One API call with retries on 429, 5xx and network errors (Retry-After honoured). */
  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    for (let attempt = 0; ; attempt++) {
      // Asked on every attempt, so a provider can refresh an expiring token; its errors are the caller's.
      const token = await this.options.token();
      let error: ApiError;
      try {
        const headers: Record<string, string> = { authorization: `Bearer ${token}`, accept: 'application/json' };
        if (payload !== undefined) headers['content-type'] = 'application/json';
        const res = await this.fetchFn(`${this.baseUrl}${path}`, { method, headers, ...(payload !== undefined && { body: payload }) });
        const text = await res.text();
        if (res.ok) return (text === '' ? undefined : JSON.parse(text)) as T;
        let detail: { code: ApiErrorCode; message: string } = { code: `http_${res.status}`, message: text.slice(0, 200) || res.statusText };
        try {
          const parsed = JSON.parse(text) as { error?: { code?: unknown; message?: unknown } };
          if (typeof parsed.error?.code === 'string') {
            detail = { code: parsed.error.code as ApiErrorCode, message: String(parsed.error.message ?? '') };
          }
        } catch {
          // not JSON: keep the text
        }
        error = new ApiError(
          res.status,
          detail.code,
          detail.message,
          parseRetryAfter(res.headers.get('retry-after'), this.now().getTime()),
        );
      } catch (thrown) {
        // fetch rejects on network failures (TypeError); a body that is not JSON lands here too.
        error = new ApiError(0, 'network_error', thrown instanceof Error ? thrown.message : String(thrown));
      }
      if (!isRetryableStatus(error.status) || attempt + 1 >= this.maxAttempts) throw error;
      const wait = error.retryAfterMs !== undefined ? Math.min(error.retryAfterMs, this.maxRetryAfterMs) : this.backoff(attempt);
      await this.sleep(wait);
    }
  }
}

/**
 * A random idempotency key: crypto.randomUUID where it exists (Node, browsers in secure contexts),
 * else 128 random bits from getRandomValues (browsers on plain http).
 */
const randomKey = (): string => {
  const c = globalThis.crypto;
  if (typeof c.randomUUID === 'function') return c.randomUUID();
  return Array.from(c.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, '0')).join('');
};

const clamp = (value: number, min: number, max: number): number => Math.min(max, Math.max(min, Math.floor(value)));
