import { ConfigError, parseTenantRetention } from '../../contract';
import { CAPACITY_MODES } from './keys-table';
import { type ContextReader, int, show, str } from './read';

export type TableCapacity =
  | { readonly mode: 'on-demand' }
  | {
      readonly mode: 'provisioned';
      readonly write: { readonly min: number; readonly max: number };
      readonly read: { readonly min: number; readonly max: number };
      /** Percent of provisioned capacity auto scaling aims to consume. */
      readonly targetUtilization: number;
    };

export const tableCapacity = (ctx: ContextReader): TableCapacity => {
  const mode = str(ctx, 'capacityMode');
  if (!(CAPACITY_MODES as readonly string[]).includes(mode)) {
    throw new ConfigError('capacityMode', `expected one of ${CAPACITY_MODES.join(', ')}, got ${show(mode)}`);
  }
  if (mode === 'on-demand') return { mode: 'on-demand' };
  const bounds = (unit: 'Write' | 'Read') => {
    const [minKey, maxKey] = [`provisionedMin${unit}Units`, `provisionedMax${unit}Units`] as const;
    const min = int(ctx, minKey);
    const max = int(ctx, maxKey);
    if (min > max) throw new ConfigError(maxKey, `must be at least provisionedMin${unit}Units (${min}), got ${max}`);
    return { min, max };
  };
  return { mode: 'provisioned', write: bounds('Write'), read: bounds('Read'), targetUtilization: int(ctx, 'provisionedTargetUtilization') };
};

/** `tenantRetentionDays=acme=90,globex=730`: per-tenant retention overrides. */
export const tenantRetention = (ctx: ContextReader): Record<string, number> => {
  const raw = ctx('tenantRetentionDays');
  return raw === undefined || raw === '' ? {} : parseTenantRetention(String(raw), 'tenantRetentionDays', 'context');
};
