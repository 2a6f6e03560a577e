import type { TenantRates } from '../../contract';
import { TooManyRequestsError } from './errors';

/**
 * Per-tenant fairness: requests (every route) and events (ingest) per second, shared by every
 * execution environment through one counter per tenant and second (a fixed one-second window).
 *
 * Each environment leases capacity in chunks — min(what is left, max(limit / 8, what this call
 * needs)) — and serves the rest of that second from its lease, so a busy tenant costs a handful of
 * counter writes per second and environment rather than one per request. A refused lease is
 * remembered until the second ends, so a flood past the limit costs no further writes either.
 * The price of leasing: units leased by one environment and not used there are lost to the others
 * for that second (at most limit / 8 per environment), and a fixed window lets up to twice the
 * limit through across a window boundary.
 */

export type RateDimension = 'requests' | 'events';
const RATE_DIMENSIONS: readonly RateDimension[] = ['requests', 'events'];

/** Units of each dimension one call asks for. */
export type RateUnits = Partial<Record<RateDimension, number>>;

/** The shared counter (one item per tenant and second): the port the DynamoDB adapter implements. */
export interface RateCounter {
  /**
   * Adds `take` to the tenant's counters for `second` only if no counter would then exceed its
   * limit; true when added, false when refused (nothing added).
   */
  take(tenant: string, second: number, take: RateUnits, limits: TenantRates): Promise<boolean>;
}

/** Too many requests or events for this tenant in this second: 429 `rate_limited`. */
export class RateLimitedError extends TooManyRequestsError {
  constructor(dimension: RateDimension, limit: number, retryAfterSeconds: number) {
    super(
      'rate_limited',
      `more than ${limit} ${dimension} per second for this tenant; retry after ${retryAfterSeconds} s`,
      retryAfterSeconds,
    );
  }
}

export interface RateLimiterDeps {
  readonly counter: RateCounter;
  /** Limits per tenant (defaults with per-tenant overrides). */
  readonly limits: (tenant: string) => TenantRates;
  readonly now?: () => number;
  /** Called when the counter fails; the limiter then admits (fails open). */
  readonly onError?: (error: unknown) => void;
}

/** Admits `units` for `tenant` or throws RateLimitedError. */
export type Admit = (tenant: string, units: RateUnits) => Promise<void>;

/** Share of a limit one lease takes at least: 1/8 of the limit. */
const LEASE_DIVISOR = 8;

interface Window {
  second: number;
  /** Units leased from the counter this second, per dimension. */
  leased: Record<RateDimension, number>;
  used: Record<RateDimension, number>;
  /** Smallest shortfall the counter refused this second: as much or more is refused locally. */
  refused: Record<RateDimension, number>;
}

const limitOf = (rates: TenantRates, dimension: RateDimension): number =>
  dimension === 'requests' ? rates.requestsPerSecond : rates.eventsPerSecond;

/** The rate limiter of one execution environment (build once per cold start). */
export const createRateLimiter = ({ counter, limits, now = Date.now, onError }: RateLimiterDeps): Admit => {
  const windows = new Map<string, Window>();
  return async (tenant, units) => {
    const at = now();
    const second = Math.floor(at / 1000);
    const rates = limits(tenant);
    let w = windows.get(tenant);
    if (!w || w.second !== second) {
      // Only the current second matters: past windows of other tenants go once there are many.
      if (windows.size >= 1000) for (const [t, old] of windows) if (old.second !== second) windows.delete(t);
      w = {
        second,
        leased: { requests: 0, events: 0 },
        used: { requests: 0, events: 0 },
        refused: { requests: Number.POSITIVE_INFINITY, events: Number.POSITIVE_INFINITY },
      };
      windows.set(tenant, w);
    }
    const retryAfter = Math.max(1, Math.ceil(((second + 1) * 1000 - at) / 1000));
    const short: RateUnits = {};
    const lease: RateUnits = {};
    for (const dimension of RATE_DIMENSIONS) {
      // A call larger than the whole window could never pass: it takes the whole window instead.
      const want = Math.min(units[dimension] ?? 0, limitOf(rates, dimension));
      if (want <= 0) continue;
      const missing = want - (w.leased[dimension] - w.used[dimension]);
      if (missing <= 0) continue;
      if (missing >= w.refused[dimension]) throw new RateLimitedError(dimension, limitOf(rates, dimension), retryAfter);
      short[dimension] = missing;
      lease[dimension] = Math.max(missing, Math.ceil(limitOf(rates, dimension) / LEASE_DIVISOR));
    }
    const window = w;
    const grant = (taken: RateUnits) => {
      for (const dimension of RATE_DIMENSIONS) window.leased[dimension] += taken[dimension] ?? 0;
    };
    if (Object.keys(short).length > 0) {
      try {
        let taken = await counter.take(tenant, second, lease, rates);
        if (taken) grant(lease);
        // The chunk did not fit: what is left may still cover this call.
        else if (RATE_DIMENSIONS.some((d) => (lease[d] ?? 0) > (short[d] ?? 0))) {
          taken = await counter.take(tenant, second, short, rates);
          if (taken) grant(short);
        }
        if (!taken) {
          const dimension = RATE_DIMENSIONS.find((d) => short[d] !== undefined) as RateDimension;
          for (const d of RATE_DIMENSIONS) if (short[d] !== undefined) window.refused[d] = Math.min(window.refused[d], short[d]);
          throw new RateLimitedError(dimension, limitOf(rates, dimension), retryAfter);
        }
      } catch (error) {
        if (error instanceof RateLimitedError) throw error;
        // The counter is down: admit rather than refuse every tenant (the stage throttle still holds).
        onError?.(error);
        return;
      }
    }
    for (const dimension of RATE_DIMENSIONS) {
      window.used[dimension] += Math.min(units[dimension] ?? 0, limitOf(rates, dimension));
    }
  };
};

/** Limits per tenant: the defaults, with per-tenant overrides. */
export const tenantLimits =
  (defaults: TenantRates, overrides: Readonly<Record<string, TenantRates>>) =>
  (tenant: string): TenantRates =>
    Object.hasOwn(overrides, tenant) ? (overrides[tenant] as TenantRates) : defaults;
