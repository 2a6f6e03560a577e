import { ConfigError, parseTenantRates, type TenantRates } from '../../contract';

/**
 * The per-tenant fairness limits of lib/config.ts: the defaults and the `tenantRateOverrides`
 * entries. A request's events must fit into one second's budget, or a full-size batch could never
 * pass: every events limit is at least `maxEventsPerRequest`.
 * @throws ConfigError naming the key
 */
export const checkTenantRates = (tenantRates: TenantRates, overrides: unknown, maxEventsPerRequest: number) => {
  const tenantRateOverrides = overrides === undefined ? {} : parseTenantRates(String(overrides), 'tenantRateOverrides', 'context');
  if (tenantRates.eventsPerSecond < maxEventsPerRequest) {
    throw new ConfigError(
      'tenantEventsPerSecond',
      `must be at least maxEventsPerRequest (${maxEventsPerRequest}), got ${tenantRates.eventsPerSecond}`,
    );
  }
  for (const [tenant, rates] of Object.entries(tenantRateOverrides)) {
    if (rates.eventsPerSecond < maxEventsPerRequest) {
      throw new ConfigError(
        'tenantRateOverrides',
        `${tenant}: events per second must be at least maxEventsPerRequest (${maxEventsPerRequest}), got ${rates.eventsPerSecond}`,
      );
    }
  }
  return { tenantRates, tenantRateOverrides };
};
