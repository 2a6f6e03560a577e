import { createCipheriv, createDecipheriv, createHash, timingSafeEqual, type Cipher, type Hash } from 'node:crypto';
import { decodeBase32, encodeBase32, INTERNAL_ID_BYTES, isInternalId } from './ids';
import type { Keyring } from './keyring';

/**
 * Public ids: opaque, random-looking, bound to the tenant, resolvable to the item key without any
 * index. Layout (25 bytes, 34 characters of base64url):
 *   version (1) | AES-256 of one block: shard (1) + internal id (15) | HMAC tag (8)
 * One AES block is a pseudorandom permutation: the id reveals neither time nor count, and stays
 * the same for the same event (idempotent retries get the same public id). The tag is an HMAC over
 * version, tenant and ciphertext: another tenant's id, or an edited one, fails it and reads as 404.
 */
export interface ItemRef {
  readonly shard: number;
  readonly internalId: string;
}

const TAG_BYTES = 8;
const PUBLIC_ID_BYTES = 1 + 16 + TAG_BYTES;
const PUBLIC_ID_PATTERN = /^[A-Za-z0-9_-]{34}$/;

/** What an id names: an event, or an erasure receipt. One kind's id never resolves as another's. */
export type IdKind = 'event' | 'erasure';

/**
 * HMAC-SHA256 with the key's inner and outer pads absorbed once per key: each id then costs two
 * hash copies instead of a fresh HMAC key setup (the output is the standard HMAC, RFC 2104).
 */
const macStates = new WeakMap<Buffer, { inner: Hash; outer: Hash }>();
const hmacStates = (macKey: Buffer) => {
  let states = macStates.get(macKey);
  if (!states) {
    const block = Buffer.alloc(64);
    (macKey.length > 64 ? createHash('sha256').update(macKey).digest() : macKey).copy(block);
    states = {
      inner: createHash('sha256').update(block.map((b) => b ^ 0x36)),
      outer: createHash('sha256').update(block.map((b) => b ^ 0x5c)),
    };
    macStates.set(macKey, states);
  }
  return states;
};

const tag = (macKey: Buffer, version: number, tenant: string, block: Buffer, kind: IdKind): Buffer => {
  const states = hmacStates(macKey);
  const inner = states.inner
    .copy()
    .update(Buffer.from([version]))
    .update(kind === 'event' ? '' : `${kind}\u0001`)
    .update(tenant)
    .update('\u0000')
    .update(block)
    .digest();
  return states.outer.copy().update(inner).digest().subarray(0, TAG_BYTES);
};

/** One AES-ECB cipher per key, reused: ECB without padding encrypts each 16-byte block on its own. */
const ciphers = new WeakMap<Buffer, Cipher>();
const encryptBlock = (key: Buffer, plain: Buffer): Buffer => {
  let cipher = ciphers.get(key);
  if (!cipher) {
    cipher = createCipheriv('aes-256-ecb', key, null).setAutoPadding(false);
    ciphers.set(key, cipher);
  }
  return cipher.update(plain);
};

export const encodePublicId = (keyring: Keyring, tenant: string, ref: ItemRef, kind: IdKind = 'event'): string => {
  const key = keyring.current;
  const plain = Buffer.alloc(16);
  plain[0] = ref.shard;
  decodeBase32(ref.internalId).copy(plain, 1, 0, INTERNAL_ID_BYTES);
  const block = encryptBlock(key.idCipher, plain);
  return Buffer.concat([Buffer.from([key.version]), block, tag(key.idMac, key.version, tenant, block, kind)]).toString('base64url');
};

/** The item a public id points to, or undefined for anything that is not a valid id of this tenant. */
export const decodePublicId = (keyring: Keyring, tenant: string, publicId: string, kind: IdKind = 'event'): ItemRef | undefined => {
  if (!PUBLIC_ID_PATTERN.test(publicId)) return undefined;
  const bytes = Buffer.from(publicId, 'base64url');
  // Only the canonical spelling: base64 leaves 4 spare bits in the last character.
  if (bytes.length !== PUBLIC_ID_BYTES || bytes.toString('base64url') !== publicId) return undefined;
  const version = bytes[0] as number;
  const key = keyring.get(version);
  if (!key) return undefined;
  const block = bytes.subarray(1, 17);
  if (!timingSafeEqual(tag(key.idMac, version, tenant, block, kind), bytes.subarray(17))) return undefined;
  const decipher = createDecipheriv('aes-256-ecb', key.idCipher, null).setAutoPadding(false);
  const plain = Buffer.concat([decipher.update(block), decipher.final()]);
  const internalId = encodeBase32(plain.subarray(1));
  return isInternalId(internalId) ? { shard: plain[0] as number, internalId } : undefined;
};
