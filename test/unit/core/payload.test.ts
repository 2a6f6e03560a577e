import { randomBytes } from 'node:crypto';
import { deflateRawSync } from 'node:zlib';
import { deflateEvent, packItem, storedItemBytes, unpackItem } from '../../../lambdas/core/payload';
import type { EventItem } from '../../../lambdas/core/item-keys';
import { lambdaStreamImage } from '../../support/fakes';

const item = (e: string): EventItem => ({
  pk: 't#0',
  sk: '0123456789ABCDEFGHJKMNPQ',
  u: 't#abcdefghijklmnopqrstuv',
  t: 't#0#page.viewed',
  e,
  x: 1_900_000_000,
});
const stored = (details: Record<string, unknown>) =>
  JSON.stringify({
    type: 'page.viewed',
    userId: 'user-1842@example.com',
    occurredAt: '2026-11-30T09:12:44.120Z',
    target: { type: 'invoice', id: 'inv-00042' },
    details,
    receivedAt: '2026-11-30T09:12:44.301Z',
    source: { ip: '203.0.113.9', userAgent: 'curl/8.5.0' },
  });

describe('payload packing', () => {
  it('stores a typical small event deflated against the envelope dictionary: smaller, restored exactly', () => {
    const small = item(stored({ plan: 'team' }));
    const packed = packItem(small);
    expect(packed.e).toBeUndefined();
    expect(packed.y).toBeInstanceOf(Uint8Array);
    expect(packed.y![0]).toBe(1);
    expect(storedItemBytes(packed)).toBeLessThan(storedItemBytes(small));
    expect(unpackItem(packed)).toEqual(small);
  });

  it('shrinks the envelope more than deflate alone does (the field names and timestamp shapes are in the dictionary)', () => {
    const json = stored({ plan: 'team' });
    expect(deflateEvent(json).byteLength).toBeLessThan(deflateRawSync(Buffer.from(json)).byteLength - 40);
  });

  it('stores a compressible event over 1 KB in fewer write units', () => {
    const big = item(stored({ note: 'words and more words '.repeat(60) }));
    const packed = packItem(big);
    expect(Math.ceil(storedItemBytes(packed) / 1024)).toBeLessThan(Math.ceil(storedItemBytes(big) / 1024));
    expect(unpackItem(packed)).toEqual(big);
  });

  it('keeps e, readable, when deflating would not make the item smaller', () => {
    const tiny = item('{}');
    expect(packItem(tiny)).toBe(tiny);
    const short = item(JSON.stringify({ r: randomBytes(6).toString('base64') }));
    expect(packItem(short)).toBe(short);
  });

  it('reads items stored before the dictionary (z: deflate-raw alone)', () => {
    const old = item(stored({ note: 'words and more words '.repeat(60) }));
    const { e, ...rest } = old;
    expect(unpackItem({ ...rest, z: deflateRawSync(Buffer.from(e)) })).toEqual(old);
  });

  it('refuses a payload of a version it does not know rather than guess', () => {
    const { e: _e, ...rest } = item('{}');
    expect(() => unpackItem({ ...rest, y: Uint8Array.of(9, 1, 2) })).toThrow('unknown version 9');
  });

  it('restores y and z given as base64, as an unmarshalled stream image from Lambda carries them', () => {
    const big = item(stored({ note: 'words and more words '.repeat(60) }));
    const image = lambdaStreamImage(packItem(big));
    expect(typeof image.y).toBe('string');
    expect(unpackItem(image)).toEqual(big);
    const { e, ...rest } = big;
    const old = lambdaStreamImage({ ...rest, z: deflateRawSync(Buffer.from(e)) });
    expect(typeof old.z).toBe('string');
    expect(unpackItem(old)).toEqual(big);
  });

  it('passes items without y or z through unchanged', () => {
    const plain = item('{}');
    expect(unpackItem(plain)).toBe(plain);
  });
});
