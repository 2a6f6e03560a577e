import type { EventItem } from './item-keys';

/**
 * When the API received a queued event (epoch ms), read from the stored event's `receivedAt`;
 * undefined when the item holds none. The writer measures its end-to-end lag (received → written)
 * from it.
 */
export const receivedAtOfItem = (item: EventItem): number | undefined => {
  try {
    const stored = JSON.parse(item.e) as { receivedAt?: unknown };
    const ms = typeof stored.receivedAt === 'string' ? Date.parse(stored.receivedAt) : NaN;
    return Number.isFinite(ms) ? ms : undefined;
  } catch {
    return undefined;
  }
};
