import type { TenantRates } from '../../../contract';
import { createRateLimiter, RateLimitedError, tenantLimits, type RateCounter, type RateUnits } from '../../../lambdas/core/rate-limit';

/** The shared counter as DynamoDB keeps it: one item per tenant and second, a conditional ADD. */
class MemoryCounter implements RateCounter {
  readonly items = new Map<string, { requests: number; events: number }>();
  writes = 0;
  failWith: Error | undefined;
  async take(tenant: string, second: number, take: RateUnits, limits: TenantRates): Promise<boolean> {
    if (this.failWith) throw this.failWith;
    this.writes++;
    const key = `${tenant}/${second}`;
    const item = this.items.get(key) ?? { requests: 0, events: 0 };
    const requests = item.requests + (take.requests ?? 0);
    const events = item.events + (take.events ?? 0);
    if (requests > limits.requestsPerSecond || events > limits.eventsPerSecond) return false;
    this.items.set(key, { requests, events });
    return true;
  }
}

const LIMITS = { requestsPerSecond: 40, eventsPerSecond: 1000 };
const T0 = Date.parse('2026-12-01T10:00:00Z');

const setup = (limits: TenantRates = LIMITS) => {
  const counter = new MemoryCounter();
  let now = T0;
  const clock = { now: () => now, set: (ms: number) => (now = ms) };
  const limiter = (onError?: (e: unknown) => void) =>
    createRateLimiter({ counter, limits: () => limits, now: clock.now, ...(onError && { onError }) });
  return { counter, clock, limiter };
};

/** How many of `n` calls pass. */
const admitted = async (admit: ReturnType<ReturnType<typeof setup>['limiter']>, tenant: string, n: number, units: RateUnits) => {
  let ok = 0;
  for (let i = 0; i < n; i++) {
    try {
      await admit(tenant, units);
      ok++;
    } catch (error) {
      if (!(error instanceof RateLimitedError)) throw error;
    }
  }
  return ok;
};

describe('per-tenant rate limiter', () => {
  it('admits exactly the limit per second in one environment, then refuses with rate_limited and Retry-After', async () => {
    const { limiter, clock } = setup();
    const admit = limiter();
    expect(await admitted(admit, 'acme', 40, { requests: 1 })).toBe(40);
    clock.set(T0 + 300);
    const refused = await admit('acme', { requests: 1 }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(RateLimitedError);
    expect(refused).toMatchObject({ status: 429, code: 'rate_limited', retryAfterSeconds: 1 });
    expect((refused as Error).message).toBe('more than 40 requests per second for this tenant; retry after 1 s');
  });

  it('starts afresh in the next second', async () => {
    const { limiter, clock } = setup();
    const admit = limiter();
    expect(await admitted(admit, 'acme', 45, { requests: 1 })).toBe(40);
    clock.set(T0 + 1000);
    expect(await admitted(admit, 'acme', 45, { requests: 1 })).toBe(40);
  });

  it('keeps tenants apart: a flooding tenant does not use up another tenant', async () => {
    const { limiter } = setup();
    const admit = limiter();
    expect(await admitted(admit, 'flood', 500, { requests: 1 })).toBe(40);
    expect(await admitted(admit, 'quiet', 10, { requests: 1 })).toBe(10);
  });

  it('holds the limit across environments sharing the counter, losing at most a lease per environment', async () => {
    const { limiter } = setup();
    const environments = Array.from({ length: 4 }, () => limiter());
    let total = 0;
    // Round robin, as a load balancer spreads a flood over warm environments.
    for (let i = 0; i < 400; i++) total += await admitted(environments[i % 4]!, 'acme', 1, { requests: 1 });
    expect(total).toBeLessThanOrEqual(40);
    // Unused leases (at most 40/8 = 5 per environment) are the only units lost.
    expect(total).toBeGreaterThanOrEqual(40 - 3 * 5);
  });

  it('costs a handful of counter writes per second, not one per request, and none once refused', async () => {
    const { limiter, counter } = setup({ requestsPerSecond: 50, eventsPerSecond: 1000 });
    const admit = limiter();
    expect(await admitted(admit, 'acme', 50, { requests: 1 })).toBe(50);
    const writesAtLimit = counter.writes;
    expect(writesAtLimit).toBeLessThanOrEqual(9); // ceil(50 / 7) leases + the one refused
    expect(await admitted(admit, 'acme', 1000, { requests: 1 })).toBe(0);
    // One refused lease (chunk), one refused exact take, then refused locally.
    expect(counter.writes - writesAtLimit).toBeLessThanOrEqual(2);
  });

  it('counts events: a call takes what it needs even when that exceeds a lease chunk', async () => {
    const { limiter, counter } = setup();
    const admit = limiter();
    expect(await admitted(admit, 'acme', 3, { events: 300 })).toBe(3);
    // 100 left: a 300-event batch is refused, a 100-event batch still fits.
    expect(await admitted(admit, 'acme', 1, { events: 300 })).toBe(0);
    expect(await admitted(admit, 'acme', 1, { events: 100 })).toBe(1);
    expect(counter.items.get(`acme/${T0 / 1000}`)?.events).toBe(1000);
  });

  it('lets a call larger than the whole window through when the window is empty (it takes the whole window)', async () => {
    const { limiter } = setup({ requestsPerSecond: 10, eventsPerSecond: 100 });
    const admit = limiter();
    expect(await admitted(admit, 'acme', 1, { events: 500 })).toBe(1);
    expect(await admitted(admit, 'acme', 1, { events: 1 })).toBe(0);
  });

  it('rounds Retry-After up to whole seconds until the window ends', async () => {
    const { limiter, clock } = setup({ requestsPerSecond: 1, eventsPerSecond: 1 });
    const admit = limiter();
    clock.set(T0 + 999);
    await admit('acme', { requests: 1 });
    await expect(admit('acme', { requests: 1 })).rejects.toMatchObject({ retryAfterSeconds: 1 });
  });

  it('admits when the counter fails, and reports the failure', async () => {
    const { limiter, counter } = setup();
    const errors: unknown[] = [];
    const admit = limiter((e) => errors.push(e));
    counter.failWith = new Error('ProvisionedThroughputExceeded');
    expect(await admitted(admit, 'acme', 100, { requests: 1 })).toBe(100);
    expect(errors).toHaveLength(100);
  });

  it('applies per-tenant overrides over the defaults', () => {
    const limits = tenantLimits(LIMITS, { acme: { requestsPerSecond: 200, eventsPerSecond: 5000 } });
    expect(limits('acme')).toEqual({ requestsPerSecond: 200, eventsPerSecond: 5000 });
    expect(limits('globex')).toEqual(LIMITS);
    expect(limits('__proto__')).toEqual(LIMITS);
  });
});
