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
