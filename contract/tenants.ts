import { ConfigError, type ConfigSource } from './errors';
import { ENV } from './env';

/** A tenant id: what the token's tenant claim holds, and the first part of every key of the tenant's items. */
export const TENANT_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * Per-tenant retention overrides, `acme=90,globex=730` (days, within the RETENTION_DAYS bounds):
 * the `tenantRetentionDays` context key at deploy time, TENANT_RETENTION_DAYS at run time.
 * @throws ConfigError naming `key` for the first malformed entry
 */
export const parseTenantRetention = (text: string, key: string, source: ConfigSource): Record<string, number> => {
  const { min, max } = ENV.retentionDays;
  const out: Record<string, number> = {};
  for (const entry of text
    .split(',')
    .map((e) => e.trim())
    .filter(Boolean)) {
    const [tenant = '', days = '', ...rest] = entry.split('=');
    if (rest.length > 0 || !TENANT_PATTERN.test(tenant) || !/^\d{1,4}$/.test(days) || Number(days) < min || Number(days) > max) {
      const reason = `expected tenant=days entries (days ${min}..${max}) separated by commas, got ${JSON.stringify(entry)}`;
      throw new ConfigError(key, reason, source);
    }
    out[tenant] = Number(days);
  }
  return out;
};

/** A tenant's fairness limits: requests per second (every route) and events per second (ingest). */
export interface TenantRates {
  readonly requestsPerSecond: number;
  readonly eventsPerSecond: number;
}

/**
 * Per-tenant rate overrides, `acme=200/5000,globex=10/100` (requests/events per second, within the
 * TENANT_REQUESTS_PER_SECOND and TENANT_EVENTS_PER_SECOND bounds): the `tenantRateOverrides`
 * context key at deploy time, TENANT_RATE_OVERRIDES at run time.
 * @throws ConfigError naming `key` for the first malformed entry
 */
export const parseTenantRates = (text: string, key: string, source: ConfigSource): Record<string, TenantRates> => {
  const r = ENV.tenantRequestsPerSecond;
  const e = ENV.tenantEventsPerSecond;
  const out: Record<string, TenantRates> = {};
  for (const entry of text
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean)) {
    const match = /^([^=]+)=(\d{1,7})\/(\d{1,7})$/.exec(entry);
    const tenant = match?.[1] ?? '';
    const requests = Number(match?.[2]);
    const events = Number(match?.[3]);
    if (!match || !TENANT_PATTERN.test(tenant) || requests < r.min || requests > r.max || events < e.min || events > e.max) {
      const reason = `expected tenant=requests/events entries (requests ${r.min}..${r.max}, events ${e.min}..${e.max} per second) separated by commas, got ${JSON.stringify(entry)}`;
      throw new ConfigError(key, reason, source);
    }
    out[tenant] = { requestsPerSecond: requests, eventsPerSecond: events };
  }
  return out;
};
