import {
  adjacentId,
  decodeBase32,
  encodeBase32,
  highestIdAt,
  idempotentInternalId,
  isInternalId,
  lowestIdAt,
  pooledRandomBytes,
  randomInternalId,
  timeOfInternalId,
} from '../../../lambdas/core/ids';
import { randomBytes } from 'node:crypto';

describe('internal ids', () => {
  it('round-trips bytes through Crockford base32', () => {
    for (let i = 0; i < 50; i++) {
      const bytes = randomBytes(15);
      const text = encodeBase32(bytes);
      expect(text).toHaveLength(24);
      expect(decodeBase32(text).equals(bytes)).toBe(true);
    }
  });

  it('sorts by time as strings', () => {
    const times = [0, 1, 1_700_000_000_000, 1_700_000_000_001, 2_000_000_000_000];
    const ids = times.map((t) => randomInternalId(t));
    expect([...ids].sort()).toEqual(ids);
    for (const [i, id] of ids.entries()) expect(timeOfInternalId(id)).toBe(times[i]);
    expect(ids.every(isInternalId)).toBe(true);
  });

  it('derives the same id for the same tenant, key and time, and another for any change', () => {
    const t = Date.parse('2026-11-21T10:00:00Z');
    expect(idempotentInternalId('acme', 'k', t)).toBe(idempotentInternalId('acme', 'k', t));
    expect(idempotentInternalId('acme', 'k', t)).not.toBe(idempotentInternalId('other', 'k', t));
    expect(idempotentInternalId('acme', 'k', t)).not.toBe(idempotentInternalId('acme', 'k2', t));
    expect(idempotentInternalId('acme', 'k', t)).not.toBe(idempotentInternalId('acme', 'k', t + 1));
  });

  it('brackets every id of a millisecond between the lowest and highest id', () => {
    const t = 1_763_000_000_123;
    for (let i = 0; i < 20; i++) {
      const id = randomInternalId(t);
      expect(id >= lowestIdAt(t) && id <= highestIdAt(t)).toBe(true);
      expect(id > highestIdAt(t - 1) && id < lowestIdAt(t + 1)).toBe(true);
    }
  });

  it('steps to the adjacent id with carry and borrow', () => {
    const id = randomInternalId(5);
    const next = adjacentId(id, 1) as string;
    expect(next > id).toBe(true);
    expect(adjacentId(next, -1)).toBe(id);
    expect(adjacentId('0000000000000000000000ZZ', 1)).toBe('00000000000000000000010' + '0');
    expect(adjacentId('000000000000000000000000', -1)).toBeUndefined();
    expect(adjacentId('ZZZZZZZZZZZZZZZZZZZZZZZZ', 1)).toBeUndefined();
  });

  it('hands out each pooled random byte once, across refills', () => {
    // 16-byte draws over three 4 KiB refills: no two alike.
    const seen = new Set<string>();
    for (let i = 0; i < 800; i++) {
      const bytes = pooledRandomBytes(16);
      expect(bytes).toHaveLength(16);
      seen.add(bytes.toString('hex'));
    }
    expect(seen.size).toBe(800);
    expect(pooledRandomBytes(9000)).toHaveLength(9000);
    const ids = new Set(Array.from({ length: 1000 }, () => randomInternalId(1_700_000_000_000)));
    expect(ids.size).toBe(1000);
  });
});
