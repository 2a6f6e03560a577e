import { createHash, randomBytes } from 'node:crypto';
import { canonicalJson } from './digest';

/**
 * Internal event ids: 15 bytes = 6 bytes of occurredAt (ms since epoch, big-endian) followed by
 * 9 bytes that are random, or derived from the idempotency key so a retry lands on the same item.
 * Encoded as 24 characters of Crockford base32, whose alphabet is in ASCII order: the string
 * order is the time order, so the id is the sort key of every timeline.
 */
export const INTERNAL_ID_BYTES = 15;
export const INTERNAL_ID_LENGTH = 24;
const TIME_BYTES = 6;
const MAX_TIME_MS = 2 ** 48 - 1;

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const DECODE = new Map([...ALPHABET].map((c, i) => [c, i]));
const INTERNAL_ID_PATTERN = /^[0-9A-HJKMNP-TV-Z]{24}$/;

export const encodeBase32 = (bytes: Uint8Array): string => {
  let out = '';
  let buffer = 0;
  let bits = 0;
  for (const byte of bytes) {
    buffer = (buffer << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out += ALPHABET[(buffer >>> bits) & 31];
    }
    buffer &= (1 << bits) - 1;
  }
  if (bits > 0) out += ALPHABET[(buffer << (5 - bits)) & 31];
  return out;
};

export const decodeBase32 = (text: string): Buffer => {
  const out: number[] = [];
  let buffer = 0;
  let bits = 0;
  for (const char of text) {
    const value = DECODE.get(char);
    if (value === undefined) throw new Error('invalid base32');
    buffer = (buffer << 5) | value;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out.push((buffer >>> bits) & 255);
    }
    buffer &= (1 << bits) - 1;
  }
  return Buffer.from(out);
};

export const isInternalId = (text: string): boolean => INTERNAL_ID_PATTERN.test(text);

const withTime = (timeMs: number, tail: Uint8Array): Buffer => {
  if (!Number.isInteger(timeMs) || timeMs < 0 || timeMs > MAX_TIME_MS) {
    throw new RangeError(`time out of range: ${timeMs}`);
  }
  const bytes = Buffer.alloc(INTERNAL_ID_BYTES);
  bytes.writeUIntBE(timeMs, 0, TIME_BYTES);
  bytes.set(tail.subarray(0, INTERNAL_ID_BYTES - TIME_BYTES), TIME_BYTES);
  return bytes;
};

const POOL_BYTES = 4096;
let pool = Buffer.alloc(0);
let poolOffset = 0;

/**
 * Bytes from the CSPRNG, drawn from a 4 KiB buffer refilled by one `randomBytes` call: a call per
 * id or salt is a system call each (~6 µs, most of the ingest core's time per event), the way Node's
 * own `randomUUID` and `randomInt` buffer theirs. Every byte is handed out once, copied out of the buffer (a kept id or salt does not pin 4 KiB).
 */
export const pooledRandomBytes = (n: number): Buffer => {
  if (n > POOL_BYTES) return randomBytes(n);
  if (poolOffset + n > pool.length) {
    pool = randomBytes(POOL_BYTES);
    poolOffset = 0;
  }
  const out = Buffer.from(pool.subarray(poolOffset, poolOffset + n));
  poolOffset += n;
  return out;
};

/** A fresh id for an event without an idempotency key. */
export const randomInternalId = (timeMs: number, random: (n: number) => Uint8Array = pooledRandomBytes): string =>
  encodeBase32(withTime(timeMs, random(INTERNAL_ID_BYTES - TIME_BYTES)));

/**
 * Whose idempotency key: a client's (ingest), or the service's own for an audit record. The two
 * never share an id, whatever key a client sends.
 */
export type KeyDomain = 'client' | 'audit';

/**
 * The id for an event with an idempotency key: a hash of tenant, key and occurredAt, so the same
 * triple always maps to the same item. No secret is needed: the internal id never leaves the service.
 */
export const idempotentInternalId = (tenant: string, idempotencyKey: string, timeMs: number, domain: KeyDomain = 'client'): string =>
  internalIdOfDigest(timeMs, idempotencyDigest(tenant, idempotencyKey, timeMs, domain));

/** The idempotent id of an `idempotencyDigest` already computed (ingest also takes the shard from it). */
export const internalIdOfDigest = (timeMs: number, digest: Uint8Array): string => encodeBase32(withTime(timeMs, digest));

/**
 * The digest behind an idempotent id; its last byte also picks the shard. An audit record's digest
 * ends in a non-numeric field a client's (which ends in its time) cannot produce, so no client key —
 * `activity-tracker.event.deleted:<id>` included — can take an audit record's item first.
 */
export const idempotencyDigest = (tenant: string, idempotencyKey: string, timeMs: number, domain: KeyDomain = 'client'): Buffer =>
  createHash('sha256')
    .update(`${tenant}\u0000${idempotencyKey}\u0000${timeMs}${domain === 'audit' ? '\u0000audit' : ''}`)
    .digest();

/**
 * The digest of what a client sent for an idempotency-keyed event (type, userId, occurredAt, target,
 * details — not the receipt time or source, which differ on every retry), with object keys sorted so
 * a retry that orders `details` differently is the same payload. 22 base64url characters (132 bits).
 * Depth is bounded by the envelope check (details ≤ 32 levels), so the recursion is too.
 */
export const payloadDigest = (event: { type: string; userId: string; occurredAt?: string; target?: unknown; details?: unknown }): string =>
  createHash('sha256')
    .update(
      canonicalJson({ type: event.type, userId: event.userId, occurredAt: event.occurredAt, target: event.target, details: event.details }),
    )
    .digest('base64url')
    .slice(0, 22);

export const timeOfInternalId = (id: string): number => decodeBase32(id).readUIntBE(0, TIME_BYTES);

/** The smallest id at a given millisecond: the inclusive lower bound of a time range. */
export const lowestIdAt = (timeMs: number): string => encodeBase32(withTime(clampTime(timeMs), Buffer.alloc(9, 0)));

/** The largest id at a given millisecond: the inclusive upper bound of a time range. */
export const highestIdAt = (timeMs: number): string => encodeBase32(withTime(clampTime(timeMs), Buffer.alloc(9, 0xff)));

const clampTime = (timeMs: number): number => Math.min(Math.max(Math.floor(timeMs), 0), MAX_TIME_MS);

/**
 * The id right after (+1) or right before (-1) another, for exclusive bounds in key conditions
 * (DynamoDB's BETWEEN is inclusive). Undefined past either end of the id space.
 */
export const adjacentId = (id: string, delta: 1 | -1): string | undefined => {
  const digits = [...id].map((char) => DECODE.get(char) ?? 0);
  for (let i = digits.length - 1; i >= 0; i--) {
    const value = (digits[i] as number) + delta;
    if (value >= 0 && value < 32) {
      digits[i] = value;
      return digits.map((d) => ALPHABET[d]).join('');
    }
    digits[i] = delta === 1 ? 0 : 31;
  }
  return undefined;
};

export const MIN_ID = ALPHABET[0]!.repeat(INTERNAL_ID_LENGTH);
export const MAX_ID = ALPHABET[31]!.repeat(INTERNAL_ID_LENGTH);
