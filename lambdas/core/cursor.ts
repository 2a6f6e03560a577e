import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { BadRequestError } from './errors';
import type { Keyring } from './keyring';

/**
 * Opaque, tamper-proof page cursors. A cursor carries the position (the last sort key read) and a
 * hash of the query's filters, and is authenticated by an HMAC over tenant and payload: a cursor
 * edited by hand, minted for another tenant, or reused with other filters is rejected with 400.
 */
export interface CursorState {
  /** Sort key of the last item examined; the next page starts after it. */
  readonly position: string;
}

const TAG_BYTES = 16;
const invalid = (): BadRequestError => new BadRequestError('invalid_cursor', 'the cursor is invalid, expired, or belongs to another query');

/** A stable digest of the query's filters, so a cursor only continues the query it came from. */
export const filterDigest = (filters: Record<string, unknown>): string =>
  createHash('sha256').update(JSON.stringify(filters)).digest('base64url').slice(0, 22);

const mac = (key: Buffer, tenant: string, payload: string): Buffer =>
  createHmac('sha256', key).update(tenant).update('\u0000').update(payload).digest().subarray(0, TAG_BYTES);

export const encodeCursor = (keyring: Keyring, tenant: string, digest: string, state: CursorState): string => {
  const payload = Buffer.from(JSON.stringify({ k: keyring.current.version, f: digest, p: state.position })).toString('base64url');
  return `${payload}.${mac(keyring.current.cursorMac, tenant, payload).toString('base64url')}`;
};

export const decodeCursor = (keyring: Keyring, tenant: string, digest: string, cursor: string): CursorState => {
  const [payload, tag, extra] = cursor.split('.');
  if (!payload || !tag || extra !== undefined || payload.length > 512) throw invalid();
  let parsed: { k?: unknown; f?: unknown; p?: unknown };
  try {
    parsed = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as typeof parsed;
  } catch {
    throw invalid();
  }
  const key = typeof parsed.k === 'number' ? keyring.get(parsed.k) : undefined;
  if (!key) throw invalid();
  const given = Buffer.from(tag, 'base64url');
  if (given.length !== TAG_BYTES || !timingSafeEqual(given, mac(key.cursorMac, tenant, payload))) throw invalid();
  if (parsed.f !== digest || typeof parsed.p !== 'string') throw invalid();
  return { position: parsed.p };
};
