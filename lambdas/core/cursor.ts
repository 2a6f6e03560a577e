import { createCipheriv, createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { BadRequestError } from './errors';
import type { Keyring, KeyVersion } from './keyring';

/**
 * Opaque, tamper-proof page cursors. A cursor carries the position (the last sort key examined,
 * which holds an internal id and its time) encrypted, bound to the tenant and to a hash of the
 * query's filters: a cursor edited by hand, minted for another tenant, or reused with other
 * filters is rejected with 400, and nothing in it can be read without the keys.
 *
 * The construction is a synthetic IV (SIV): the IV is an HMAC over tenant, filters and position,
 * the position is encrypted with AES-256-CTR under that IV, and the IV doubles as the tag. It is
 * deterministic (the same page gives the same cursor) and has no nonce to run out of.
 * Layout, base64url: key version (1 byte) | IV (16 bytes) | encrypted position.
 */
export interface CursorState {
  /** Sort key of the last item examined; the next page starts after it. */
  readonly position: string;
}

const IV_BYTES = 16;
const MAX_POSITION_BYTES = 256;
const invalid = (): BadRequestError => new BadRequestError('invalid_cursor', 'the cursor is invalid, expired, or belongs to another query');

/** A stable digest of the query's filters, so a cursor only continues the query it came from. */
export const filterDigest = (filters: Record<string, unknown>): string =>
  createHash('sha256').update(JSON.stringify(filters)).digest('base64url').slice(0, 22);

const syntheticIv = (key: KeyVersion, tenant: string, digest: string, position: Buffer): Buffer =>
  createHmac('sha256', key.cursorMac)
    .update(tenant)
    .update('\u0000')
    .update(digest)
    .update('\u0000')
    .update(position)
    .digest()
    .subarray(0, IV_BYTES);

/** AES-CTR is its own inverse. */
const ctr = (key: KeyVersion, iv: Buffer, data: Buffer): Buffer => {
  const cipher = createCipheriv('aes-256-ctr', key.cursorCipher, iv);
  return Buffer.concat([cipher.update(data), cipher.final()]);
};

export const encodeCursor = (keyring: Keyring, tenant: string, digest: string, state: CursorState): string => {
  const key = keyring.current;
  const position = Buffer.from(state.position, 'utf8');
  const iv = syntheticIv(key, tenant, digest, position);
  return Buffer.concat([Buffer.of(key.version), iv, ctr(key, iv, position)]).toString('base64url');
};

export const decodeCursor = (keyring: Keyring, tenant: string, digest: string, cursor: string): CursorState => {
  if (!/^[A-Za-z0-9_-]+$/.test(cursor) || cursor.length > 512) throw invalid();
  const bytes = Buffer.from(cursor, 'base64url');
  if (bytes.length <= 1 + IV_BYTES || bytes.length > 1 + IV_BYTES + MAX_POSITION_BYTES) throw invalid();
  const key = keyring.get(bytes[0] as number);
  if (!key) throw invalid();
  const iv = bytes.subarray(1, 1 + IV_BYTES);
  const position = ctr(key, iv, bytes.subarray(1 + IV_BYTES));
  if (!timingSafeEqual(iv, syntheticIv(key, tenant, digest, position))) throw invalid();
  return { position: position.toString('utf8') };
};
