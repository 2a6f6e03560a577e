import { deflateRawSync, inflateRawSync } from 'node:zlib';
import type { EventItem } from './item-keys';

/**
 * How an event item's payload is stored. Every started KB of an item is one write unit in the
 * table and one more in each index that projects the whole item (byUser, byType), so a 1 KB event
 * — once its keys, receipt time and source are added — would cost double everywhere. When
 * deflating `e` brings the item into fewer KB, the stored item holds `z` (deflate-raw of the JSON,
 * a Binary attribute) instead of `e`; otherwise it stays as it is, readable by eye.
 *
 * Only the table adapter packs (lambdas/adapters/dynamo-store.ts): the core, the queue messages,
 * the writer and the test fakes always see `e`. Whatever reads stored items unpacks them: the
 * adapter, and the readers of the table's change stream (core/bus-events.ts, core/stats-counters.ts),
 * whose images hold items as stored.
 */
export interface StoredEventItem extends Omit<EventItem, 'e'> {
  e?: string;
  /** deflate-raw of the event JSON, set instead of `e` when that saves write units. */
  z?: Uint8Array;
}

const KB = 1024;

const valueBytes = (value: unknown): number => {
  if (typeof value === 'string') return Buffer.byteLength(value, 'utf8');
  if (typeof value === 'number') return Math.ceil(String(Math.abs(value)).replace(/\D/g, '').replace(/^0+/, '').length / 2) + 1;
  if (value instanceof Uint8Array) return value.byteLength;
  return 1;
};

/** DynamoDB's size of a flat item: attribute names plus values (strings UTF-8, numbers ~digits/2+1, binary bytes). */
export const storedItemBytes = (item: object): number =>
  Object.entries(item).reduce((sum, [name, value]) => (value === undefined ? sum : sum + name.length + valueBytes(value)), 0);

/** The item as the table stores it: compressed when that saves at least one started KB. */
export const packItem = (item: EventItem): StoredEventItem => {
  const plain = storedItemBytes(item);
  if (plain <= KB) return item;
  const { e, ...rest } = item;
  const packed: StoredEventItem = { ...rest, z: deflateRawSync(Buffer.from(e, 'utf8')) };
  return Math.ceil(storedItemBytes(packed) / KB) < Math.ceil(plain / KB) ? packed : item;
};

/**
 * The item as the core sees it, whichever way it was stored. `z` is bytes as the document client
 * reads it, or a base64 string as a change stream image has it: Lambda delivers stream records as
 * JSON, where a Binary attribute is `{"B": "<base64>"}`, and unmarshall leaves that string as it is.
 */
export const unpackItem = <T extends object>(stored: T): T => {
  const z = (stored as { z?: unknown }).z;
  const bytes = z instanceof Uint8Array ? z : typeof z === 'string' ? Buffer.from(z, 'base64') : undefined;
  if (bytes === undefined) return stored;
  const { z: _z, ...rest } = stored as T & { z: unknown };
  return { ...rest, e: inflateRawSync(bytes).toString('utf8') } as unknown as T;
};
