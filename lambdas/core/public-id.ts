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

/** AES-256 of one 16-byte block (ECB without padding is the bare block cipher); a fresh cipher per call, no shared state. */
const encryptBlock = (key: Buffer, plain: Buffer): Buffer => {
  const cipher = createCipheriv('aes-256-ecb', key, null).setAutoPadding(false);
  return Buffer.concat([cipher.update(plain), cipher.final()]);
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
