import { createCipheriv, createDecipheriv, createHmac, timingSafeEqual } from 'node:crypto';
import { decodeBase32, encodeBase32, INTERNAL_ID_BYTES, isInternalId } from './ids';
import type { Keyring } from './keyring';

/**
 * Public ids: opaque, random-looking, bound to the tenant, resolvable to the item key without any
 * index. Layout (33 bytes, 44 characters of base64url):
 *   version (1) | AES-256 of one block: shard (1) + internal id (15) | HMAC-SHA256 tag, truncated (16)
 * One AES block is a pseudorandom permutation: the id reveals neither time nor count, and stays
 * the same for the same event (idempotent retries get the same public id). The tag is an HMAC over
 * version, tenant and ciphertext: another tenant's id, or an edited one, fails it and reads as 404.
 */
export interface ItemRef {
  readonly shard: number;
  readonly internalId: string;
}

/** 128 bits: forging an id for a guessed item is as hard as breaking the MAC itself. */
const TAG_BYTES = 16;
const PUBLIC_ID_BYTES = 1 + 16 + TAG_BYTES;
const PUBLIC_ID_PATTERN = /^[A-Za-z0-9_-]{44}$/;

/** What an id names: an event, an erasure receipt or an export job. One kind's id never resolves as another's. */
export type IdKind = 'event' | 'erasure' | 'export';

const tag = (macKey: Buffer, version: number, tenant: string, block: Buffer, kind: IdKind): Buffer =>
  createHmac('sha256', macKey)
    .update(Buffer.from([version]))
    .update(kind === 'event' ? '' : `${kind}\u0001`)
    .update(tenant)
    .update('\u0000')
    .update(block)
    .digest()
    .subarray(0, TAG_BYTES);

/**
 * AES-256 of 16-byte blocks, each on its own (ECB without padding is the bare block cipher, block by
 * block): one cipher for a whole request's ids costs what one id did. A fresh cipher per call, no shared state.
 */
const encryptBlocks = (key: Buffer, plain: Buffer): Buffer => {
  const cipher = createCipheriv('aes-256-ecb', key, null).setAutoPadding(false);
  return Buffer.concat([cipher.update(plain), cipher.final()]);
};

/** The public ids of several items of one tenant, in order (ingest names a request's events at once). */
export const encodePublicIds = (keyring: Keyring, tenant: string, refs: readonly ItemRef[], kind: IdKind = 'event'): string[] => {
  const key = keyring.current;
  const plain = Buffer.alloc(16 * refs.length);
  refs.forEach((ref, i) => {
    plain[16 * i] = ref.shard;
    decodeBase32(ref.internalId).copy(plain, 16 * i + 1, 0, INTERNAL_ID_BYTES);
  });
  const blocks = encryptBlocks(key.idCipher, plain);
  const version = Buffer.from([key.version]);
  return refs.map((_, i) => {
    const block = blocks.subarray(16 * i, 16 * i + 16);
    return Buffer.concat([version, block, tag(key.idMac, key.version, tenant, block, kind)]).toString('base64url');
  });
};

export const encodePublicId = (keyring: Keyring, tenant: string, ref: ItemRef, kind: IdKind = 'event'): string =>
  encodePublicIds(keyring, tenant, [ref], kind)[0] as string;

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
