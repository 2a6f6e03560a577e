import { createHmac } from 'node:crypto';
import { randomInternalId } from '../../../lambdas/core/ids';
import { decodePublicId, encodePublicId, encodePublicIds } from '../../../lambdas/core/public-id';
import { encodeCursor, decodeCursor, filterDigest } from '../../../lambdas/core/cursor';
import { parseKeyring } from '../../../lambdas/core/keyring';
import { SECRET_V1, SECRET_V2, testKeyring } from '../../support/fakes';

describe('public ids', () => {
  const keyring = testKeyring();
  const ref = { shard: 3, internalId: randomInternalId(Date.parse('2026-11-21T10:00:00Z')) };

  it('resolves to the item key for its tenant, and is stable', () => {
    const id = encodePublicId(keyring, 'acme', ref);
    expect(id).toMatch(/^[A-Za-z0-9_-]{44}$/);
    expect(encodePublicId(keyring, 'acme', ref)).toBe(id);
    expect(decodePublicId(keyring, 'acme', id)).toEqual(ref);
  });

  it('names many items at once exactly as one by one', () => {
    const refs = Array.from({ length: 40 }, (_, i) => ({ shard: i % 4, internalId: randomInternalId(1_700_000_000_000 + i) }));
    const ids = encodePublicIds(keyring, 'acme', refs);
    expect(ids).toEqual(refs.map((ref) => encodePublicId(keyring, 'acme', ref)));
    expect(ids.map((id) => decodePublicId(keyring, 'acme', id))).toEqual(refs);
    expect(new Set(ids).size).toBe(40);
    expect(encodePublicIds(keyring, 'acme', [])).toEqual([]);
  });

  it('carries a 128-bit HMAC-SHA256 tag over version, tenant and ciphertext', () => {
    const bytes = Buffer.from(encodePublicId(keyring, 'acme', ref), 'base64url');
    const expected = createHmac('sha256', keyring.current.idMac)
      .update(bytes.subarray(0, 1))
      .update('acme')
      .update('\u0000')
      .update(bytes.subarray(1, 17))
      .digest();
    expect(bytes.subarray(17)).toEqual(expected.subarray(0, 16));
  });

  it('does not resolve for another tenant', () => {
    const id = encodePublicId(keyring, 'acme', ref);
    expect(decodePublicId(keyring, 'globex', id)).toBeUndefined();
  });

  it('rejects any edited character and garbage', () => {
    const id = encodePublicId(keyring, 'acme', ref);
    for (let i = 0; i < id.length; i++) {
      const swapped = id[i] === 'A' ? 'B' : 'A';
      const edited = id.slice(0, i) + swapped + id.slice(i + 1);
      expect(decodePublicId(keyring, 'acme', edited)).toBeUndefined();
    }
    expect(decodePublicId(keyring, 'acme', 'not-an-id')).toBeUndefined();
    expect(decodePublicId(keyring, 'acme', '')).toBeUndefined();
  });

  it('reveals neither time nor order: ids of consecutive events look unrelated', () => {
    const a = encodePublicId(keyring, 'acme', { shard: 0, internalId: randomInternalId(1000) });
    const b = encodePublicId(keyring, 'acme', { shard: 0, internalId: randomInternalId(1001) });
    let shared = 0;
    while (a[shared + 1] === b[shared + 1]) shared++;
    expect(shared).toBeLessThan(3);
  });

  it('keeps old ids readable after a key rotation', () => {
    const old = encodePublicId(parseKeyring(SECRET_V1), 'acme', ref);
    const rotated = parseKeyring(SECRET_V2);
    expect(decodePublicId(rotated, 'acme', old)).toEqual(ref);
    const fresh = encodePublicId(rotated, 'acme', ref);
    expect(fresh).not.toBe(old);
    expect(decodePublicId(rotated, 'acme', fresh)).toEqual(ref);
    expect(decodePublicId(parseKeyring(SECRET_V1), 'acme', fresh)).toBeUndefined();
  });

  it('refuses a secret without a current key', () => {
    expect(() => parseKeyring(`{"current":"2","k1":"${'x'.repeat(40)}"}`)).toThrow(/current/);
    expect(() => parseKeyring('{"current":"1","k1":"short"}')).toThrow(/k1/);
    expect(() => parseKeyring('nope')).toThrow(/JSON/);
  });
});

describe('cursors', () => {
  const keyring = testKeyring();
  const digest = filterDigest({ userId: 'u-1', order: 'desc' });

  it('round-trips the position', () => {
    const cursor = encodeCursor(keyring, 'acme', digest, { position: 'ABC' });
    expect(decodeCursor(keyring, 'acme', digest, cursor)).toEqual({ position: 'ABC' });
  });

  it('rejects a cursor of another tenant, another filter, or edited by hand', () => {
    const cursor = encodeCursor(keyring, 'acme', digest, { position: 'ABC' });
    expect(() => decodeCursor(keyring, 'globex', digest, cursor)).toThrow(expect.objectContaining({ status: 400, code: 'invalid_cursor' }));
    expect(() => decodeCursor(keyring, 'acme', filterDigest({ userId: 'u-2', order: 'desc' }), cursor)).toThrow(
      expect.objectContaining({ status: 400 }),
    );
    // Every single-bit change to the bytes is refused (version, IV, or encrypted position).
    const bytes = Buffer.from(cursor, 'base64url');
    for (let i = 0; i < bytes.length; i++) {
      const edited = Buffer.from(bytes);
      edited[i] = (edited[i] as number) ^ 1;
      expect(() => decodeCursor(keyring, 'acme', digest, edited.toString('base64url'))).toThrow(
        expect.objectContaining({ status: 400, code: 'invalid_cursor' }),
      );
    }
    expect(() => decodeCursor(keyring, 'acme', digest, bytes.subarray(0, 17).toString('base64url'))).toThrow(
      expect.objectContaining({ status: 400 }),
    );
    for (const junk of ['garbage', 'a.b', '', 'x'.repeat(600)]) {
      expect(() => decodeCursor(keyring, 'acme', digest, junk)).toThrow(expect.objectContaining({ status: 400 }));
    }
  });

  it('hides the position: neither the sort key nor its time can be read from the cursor', () => {
    const position = '06GZV339001S6F6V46CG5KA9';
    const cursor = encodeCursor(keyring, 'acme', digest, { position });
    const raw = Buffer.from(cursor, 'base64url');
    expect(raw.includes(Buffer.from(position))).toBe(false);
    expect(raw.includes(Buffer.from(position.slice(0, 10)))).toBe(false);
    expect(cursor).not.toContain(position.slice(0, 10));
    // Deterministic: the same page of the same query gives the same cursor; another position another one.
    expect(encodeCursor(keyring, 'acme', digest, { position })).toBe(cursor);
    expect(encodeCursor(keyring, 'acme', digest, { position: `${position.slice(0, -1)}B` })).not.toBe(cursor);
  });

  it('reads cursors of an older key version after a rotation', () => {
    const before = parseKeyring(JSON.stringify({ current: '1', k1: 'a'.repeat(40) }));
    const after = parseKeyring(JSON.stringify({ current: '2', k1: 'a'.repeat(40), k2: 'b'.repeat(40) }));
    const cursor = encodeCursor(before, 'acme', digest, { position: 'ABC' });
    expect(decodeCursor(after, 'acme', digest, cursor)).toEqual({ position: 'ABC' });
    expect(Buffer.from(encodeCursor(after, 'acme', digest, { position: 'ABC' }), 'base64url')[0]).toBe(2);
  });
});
