import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { Keyring } from './keyring';

/**
 * The erased userId, sealed (AES-256-GCM under the service keys) on the erasure's work item: the
 * bus's `erasure.completed` must name the user so that downstream copies can be erased too, and
 * neither the receipt nor the marker holds it. The work item and its sealed userId are deleted
 * when the sweep ends (ERASURE_SWEEP_DAYS). The tenant and receipt id are authenticated with it:
 * a sealed value copied onto another work item does not open.
 *
 *   <key version>.<12-byte IV, base64url>.<ciphertext + 16-byte tag, base64url>
 */
const aad = (tenant: string, receiptId: string): Buffer => Buffer.from(`erasure-user\u0000${tenant}\u0000${receiptId}`, 'utf8');

export const sealUserId = (keyring: Keyring, tenant: string, receiptId: string, userId: string): string => {
  const key = keyring.current;
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key.erasureCipher, iv).setAAD(aad(tenant, receiptId));
  const sealed = Buffer.concat([cipher.update(userId, 'utf8'), cipher.final(), cipher.getAuthTag()]);
  return `${key.version}.${iv.toString('base64url')}.${sealed.toString('base64url')}`;
};

/** The userId, or undefined when the value is not one this keyring sealed for this tenant and receipt. */
export const openUserId = (keyring: Keyring, tenant: string, receiptId: string, sealed: string): string | undefined => {
  const match = /^(\d{1,3})\.([A-Za-z0-9_-]{16})\.([A-Za-z0-9_-]{22,})$/.exec(sealed);
  const key = match && keyring.get(Number(match[1]));
  if (!match || !key) return undefined;
  const data = Buffer.from(match[3] as string, 'base64url');
  if (data.length < 17) return undefined;
  try {
    const decipher = createDecipheriv('aes-256-gcm', key.erasureCipher, Buffer.from(match[2] as string, 'base64url')).setAAD(
      aad(tenant, receiptId),
    );
    decipher.setAuthTag(data.subarray(data.length - 16));
    return Buffer.concat([decipher.update(data.subarray(0, data.length - 16)), decipher.final()]).toString('utf8');
  } catch {
    return undefined;
  }
};
