import { decodeMessage } from './message';

/**
 * When the API received the event a queue message carries (epoch ms), read from the stored
 * event's `receivedAt`; undefined for a message that does not decode. The writer measures its
 * end-to-end lag (received → written) from it.
 */
export const receivedAtOf = (body: string): number | undefined => {
  try {
    const stored = JSON.parse(decodeMessage(body).item.e) as { receivedAt?: unknown };
    const ms = typeof stored.receivedAt === 'string' ? Date.parse(stored.receivedAt) : NaN;
    return Number.isFinite(ms) ? ms : undefined;
  } catch {
    return undefined;
  }
};
