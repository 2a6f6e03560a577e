import { randomBytes } from 'node:crypto';
import { packItem, storedItemBytes, unpackItem } from '../../../lambdas/core/payload';
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
const event = (pad: number) =>
  JSON.stringify({ type: 'page.viewed', userId: 'u-1', details: { note: 'words and more words '.repeat(pad) } });

describe('payload packing', () => {
  it('leaves an item that fits in 1 KB as it is, with e readable', () => {
    const small = item(event(2));
    expect(packItem(small)).toBe(small);
  });

  it('stores a compressible event over 1 KB as z, in fewer write units, and restores it exactly', () => {
    const big = item(event(60));
    const packed = packItem(big);
    expect(packed.e).toBeUndefined();
    expect(packed.z).toBeInstanceOf(Uint8Array);
    expect(Math.ceil(storedItemBytes(packed) / 1024)).toBeLessThan(Math.ceil(storedItemBytes(big) / 1024));
    expect(unpackItem(packed)).toEqual(big);
  });

  it('keeps e when compressing would not save a write unit', () => {
    const random = randomBytes(900).toString('base64');
    const incompressible = item(JSON.stringify({ type: 'a', userId: 'u', details: { r: random } }));
    expect(packItem(incompressible)).toBe(incompressible);
  });

  it('restores z given as base64, as an unmarshalled stream image from Lambda carries it', () => {
    const big = item(event(60));
    const image = lambdaStreamImage(packItem(big));
    expect(typeof image.z).toBe('string');
    expect(unpackItem(image)).toEqual(big);
  });

  it('passes items without z through unchanged', () => {
    const plain = item('{}');
    expect(unpackItem(plain)).toBe(plain);
  });
});
