import { randomInternalId } from '../../../lambdas/core/ids';
import { decodePublicId, encodePublicId } from '../../../lambdas/core/public-id';
import { encodeCursor, decodeCursor, filterDigest } from '../../../lambdas/core/cursor';
import { parseKeyring } from '../../../lambdas/core/keyring';
import { SECRET_V1, SECRET_V2, testKeyring } from '../../support/fakes';

describe('public ids', () => {
  const keyring = testKeyring();
  const ref = { shard: 3, internalId: randomInternalId(Date.parse('2026-11-21T10:00:00Z')) };

  it('resolves to the item key for its tenant, and is stable', () => {
    const id = encodePublicId(keyring, 'acme', ref);
    expect(id).toMatch(/^[A-Za-z0-9_-]{34}$/);
    expect(encodePublicId(keyring, 'acme', ref)).toBe(id);
    expect(decodePublicId(keyring, 'acme', id)).toEqual(ref);
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
    expect(() => parseKeyring('{"current":"2","k1":"' + 'x'.repeat(40) + '"}')).toThrow(/current/);
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
    expect(() => decodeCursor(keyring, 'acme', filterDigest({ userId: 'u-2', order: 'desc' }), cursor)).toThrow(expect.objectContaining({ status: 400 }));
    const [payload, tag] = cursor.split('.') as [string, string];
    const forged = Buffer.from(JSON.stringify({ k: 1, f: digest, p: 'ZZZ' })).toString('base64url');
    expect(() => decodeCursor(keyring, 'acme', digest, `${forged}.${tag}`)).toThrow(expect.objectContaining({ status: 400 }));
    expect(() => decodeCursor(keyring, 'acme', digest, `${payload}.AAAA${tag.slice(4)}`)).toThrow(expect.objectContaining({ status: 400 }));
    expect(() => decodeCursor(keyring, 'acme', digest, 'garbage')).toThrow(expect.objectContaining({ status: 400 }));
  });
});
