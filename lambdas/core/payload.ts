import { deflateRawSync, inflateRawSync } from 'node:zlib';
import type { EventItem } from './item-keys';

/**
 * How an event item's payload is stored. Keeping an event costs more than writing it over a
 * retention of months (storage and PITR are billed on the item's bytes every month), so the event
 * JSON is stored deflated against a preset dictionary of the stored event's envelope whenever that
 * makes the item smaller: `y` (a Binary attribute: one version byte, then deflate-raw) instead of
 * `e`. An event that does not shrink (tiny, or random bytes) stays as `e`, readable by eye.
 *
 * Items written before the dictionary may hold `z` (deflate-raw without a dictionary, set when it
 * saved a write unit); they are read as they are. The dictionary is part of the stored format: a new
 * one needs a new version byte, and the reader keeps every earlier one.
 *
 * Only the table adapter packs (lambdas/adapters/dynamo-store.ts): the core, the queue messages,
 * the writer and the test fakes always see `e`. Whatever reads stored items unpacks them: the
 * adapter, and the readers of the table's change stream (core/bus-events.ts, core/stats-counters.ts),
 * whose images hold items as stored.
 */
export interface StoredEventItem extends Omit<EventItem, 'e'> {
  e?: string;
  /** Version byte + deflate-raw of the event JSON against that version's dictionary, set instead of `e`. */
  y?: Uint8Array;
  /** deflate-raw of the event JSON (no dictionary): items stored before `y`, read only. */
  z?: Uint8Array;
}

/**
 * Version 1: the stored event's field names and fixed shapes in the order the ingest core writes
 * them (envelope.ts StoredEvent), so deflate finds them as back-references. Nothing of any
 * tenant's values. Never edit: add a version.
 */
const DICTIONARIES: Readonly<Record<number, Buffer>> = {
  1: Buffer.from(
    '{"type":"","userId":"","occurredAt":"2026-01-01T00:00:00.000Z","target":{"type":"","id":""},"details":{},"receivedAt":"2026-01-01T00:00:00.000Z","source":{"ip":"","userAgent":""}}',
  ),
};
const CURRENT = 1;

const valueBytes = (value: unknown): number => {
  if (typeof value === 'string') return Buffer.byteLength(value, 'utf8');
  if (typeof value === 'number') return Math.ceil(String(Math.abs(value)).replace(/\D/g, '').replace(/^0+/, '').length / 2) + 1;
  if (value instanceof Uint8Array) return value.byteLength;
  return 1;
};

/** DynamoDB's size of a flat item: attribute names plus values (strings UTF-8, numbers ~digits/2+1, binary bytes). */
export const storedItemBytes = (item: object): number =>
  Object.entries(item).reduce((sum, [name, value]) => (value === undefined ? sum : sum + name.length + valueBytes(value)), 0);

/** The event JSON deflated against the current dictionary, behind its version byte. */
export const deflateEvent = (json: string): Buffer =>
  Buffer.concat([Buffer.of(CURRENT), deflateRawSync(Buffer.from(json, 'utf8'), { dictionary: DICTIONARIES[CURRENT] })]);

const inflateEvent = (y: Uint8Array): string => {
  const dictionary = DICTIONARIES[y[0] as number];
  if (!dictionary) throw new Error(`stored event payload of unknown version ${y[0]}`);
  return inflateRawSync(y.subarray(1), { dictionary }).toString('utf8');
};

/** The item as the table stores it: the event deflated against the dictionary when that makes the item smaller. */
export const packItem = (item: EventItem): StoredEventItem => {
  const { e, ...rest } = item;
  const y = deflateEvent(e);
  // `e` costs its name and its UTF-8 bytes, `y` its name and its bytes: both names are one byte.
  return y.byteLength < Buffer.byteLength(e, 'utf8') ? { ...rest, y } : item;
};

/**
 * Binary attribute bytes: as the document client reads them, or a base64 string as a change
 * stream image has them (Lambda delivers stream records as JSON, where a Binary attribute is
 * `{"B": "<base64>"}`, and unmarshall leaves that string as it is).
 */
const binary = (value: unknown): Uint8Array | undefined =>
  value instanceof Uint8Array ? value : typeof value === 'string' ? Buffer.from(value, 'base64') : undefined;

/** The item as the core sees it, whichever way it was stored. */
export const unpackItem = <T extends object>(stored: T): T => {
  const { y, z, ...rest } = stored as T & { y?: unknown; z?: unknown };
  const dictionary = binary(y);
  if (dictionary) return { ...rest, e: inflateEvent(dictionary) } as unknown as T;
  const plain = binary(z);
  if (plain) return { ...rest, e: inflateRawSync(plain).toString('utf8') } as unknown as T;
  return stored;
};
