import { digestCostPerMillionEvents } from '../../../bench/cost-model';

describe('digest cost model', () => {
  it('grows with tenants and periods, and falls with volume', () => {
    const base = digestCostPerMillionEvents({ tenants: 100, eventsPerMonth: 100_000_000 });
    expect(digestCostPerMillionEvents({ tenants: 200, eventsPerMonth: 100_000_000 }).perMonth).toBeGreaterThan(base.perMonth);
    expect(digestCostPerMillionEvents({ tenants: 100, eventsPerMonth: 100_000_000, periodMinutes: 15 }).perMonth).toBeGreaterThan(
      base.perMonth,
    );
    expect(digestCostPerMillionEvents({ tenants: 100, eventsPerMonth: 1_000_000_000 }).perMillion).toBeLessThan(base.perMillion);
  });
});
