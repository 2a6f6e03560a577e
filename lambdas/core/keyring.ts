import { hkdfSync } from 'node:crypto';

/**
 * Versioned keys for public ids and cursors, derived from the stack's secret
 * `{"current":"1","k1":"...","k2":"..."}`. New ids and cursors use the current version; old
 * versions stay readable, so rotating (add k2, set current to "2") breaks no id in the wild.
 */
export interface KeyVersion {
  readonly version: number;
  /** AES-256 key that hides the item key inside a public id. */
  readonly idCipher: Buffer;
  /** HMAC key that binds a public id to its tenant and authenticates it. */
  readonly idMac: Buffer;
  /** HMAC key that makes cursors tamper-proof (their synthetic IV). */
  readonly cursorMac: Buffer;
  /** AES-256 key that hides the position inside a cursor. */
  readonly cursorCipher: Buffer;
  /** AES-256-GCM key that seals the userId an erasure work item keeps until its sweep ends (erasure-user.ts). */
  readonly erasureCipher: Buffer;
  /** HMAC key that signs viewer tokens (POST /v1/viewer-sessions). */
  readonly viewerMac: Buffer;
}

export interface Keyring {
  readonly current: KeyVersion;
  get(version: number): KeyVersion | undefined;
}

const MIN_SECRET_LENGTH = 32;

const derive = (secret: string, purpose: string): Buffer =>
  Buffer.from(hkdfSync('sha256', Buffer.from(secret, 'utf8'), 'activity-tracker', purpose, 32));

export const parseKeyring = (secretString: string): Keyring => {
  let parsed: unknown;
  try {
    parsed = JSON.parse(secretString);
  } catch {
    throw new Error('keys secret is not JSON');
  }
  if (typeof parsed !== 'object' || parsed === null) throw new Error('keys secret is not a JSON object');
  const record = parsed as Record<string, unknown>;
  const versions = new Map<number, KeyVersion>();
  for (const [name, value] of Object.entries(record)) {
    const match = /^k([1-9][0-9]{0,2})$/.exec(name);
    if (!match) continue;
    const version = Number(match[1]);
    if (version > 255) throw new Error(`keys secret: ${name} is above the highest version 255`);
    if (typeof value !== 'string' || value.length < MIN_SECRET_LENGTH) {
      throw new Error(`keys secret: ${name} must be a string of at least ${MIN_SECRET_LENGTH} characters`);
    }
    versions.set(version, {
      version,
      idCipher: derive(value, 'public-id-cipher'),
      idMac: derive(value, 'public-id-mac'),
      cursorMac: derive(value, 'cursor-mac'),
      cursorCipher: derive(value, 'cursor-cipher'),
      erasureCipher: derive(value, 'erasure-user-cipher'),
      viewerMac: derive(value, 'viewer-token-mac'),
    });
  }
  const current = versions.get(Number(record.current));
  if (!current) throw new Error('keys secret: "current" must name a key version that is present (e.g. "1" with k1)');
  return { current, get: (version) => versions.get(version) };
};
