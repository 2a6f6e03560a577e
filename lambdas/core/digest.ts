import { createHash } from 'node:crypto';
import type { EventItem } from './item-keys';

/**
 * Tamper-evident digests (the pure part). For each tenant, the sealer writes a chain of digests:
 * each covers the time range [from, to) since the previous one and commits to
 *
 * - every event **stored** in that range (the writer's `w`), by a salted leaf hash: the salt (`s`)
 *   is stored with the event and destroyed with it, so after an erasure the leaf reveals nothing
 *   about the person (no guess of the content can be checked) and still verifies;
 * - every removal made in that range (erasure with its receipt, purge after soft delete), which
 *   the cleanup wrote ahead into a removal log;
 * - `expiredThrough`: the cleanup's retention removals in that range (one log entry per tenant and
 *   run, not one per event): events whose committed expiry `x` is at or before it may be gone.
 *
 * A digest is signed (KMS, asymmetric RSA 2048, PKCS #1 v1.5 / SHA-256) over its canonical JSON
 * (KMS gets the SHA-256, MessageType DIGEST), and names the hash of the previous digest: the chain. ./digest-verify.ts re-derives it all.
 */

export const DIGEST_VERSION = 1;
/** KMS RSA_2048 key, PKCS #1 v1.5 with SHA-256: any standard library verifies it with the public key alone. */
export const SIGNING_ALGORITHM = 'RSASSA_PKCS1_V1_5_SHA_256';

/** One stored event, as a digest commits to it. `id` is the internal id (never leaves the service but here). */
export interface DigestLeaf {
  readonly shard: number;
  readonly id: string;
  /** base64url SHA-256 of salt ‖ the item's canonical form. */
  readonly hash: string;
  /** The event's expiry (epoch s), so retention removals are accounted for. */
  readonly x: number;
}

export type RemovalReason = 'erasure' | 'purge' | 'retention';

export interface DigestRemoval {
  readonly shard: number;
  readonly id: string;
  readonly reason: RemovalReason;
  /** The erasure's receipt id (public), for an erasure. */
  readonly receipt?: string;
  /** When it was removed (ms). */
  readonly at: number;
}

export interface Digest {
  readonly version: number;
  readonly tenant: string;
  /** ISO times: the digest covers events stored and removals made in [from, to). */
  readonly from: string;
  readonly to: string;
  readonly sequence: number;
  /** The previous digest's object key and the SHA-256 (base64url) of its signed bytes; null for the first. */
  readonly previous: { readonly key: string; readonly hash: string } | null;
  readonly events: readonly DigestLeaf[];
  readonly removals: readonly DigestRemoval[];
  /**
   * Epoch seconds: the cleanup removed events whose `x` is at or before it (retention), in this
   * digest's range; 0 when it removed none by retention then.
   */
  readonly expiredThrough: number;
  readonly keyId: string;
  readonly algorithm: string;
}

/** The object written to the bucket. */
export interface SignedDigest {
  readonly digest: Digest;
  /** base64 signature (RSASSA-PKCS1-v1_5, SHA-256) of canonicalJson(digest). */
  readonly signature: string;
}

/** A removal log entry the cleanup writes before it deletes (`<tenant>#R`). */
export interface RemovalLogItem {
  pk: string;
  sk: string;
  /** Reason. */
  r: RemovalReason;
  /** Receipt id (public) of an erasure. */
  rc?: string;
  /** The removed item's shard and internal id (none for retention: one entry covers every event with `x` ≤ `th`). */
  sh: number;
  id: string;
  /** Retention: events whose expiry (epoch s) is at or before this were removed. */
  th?: number;
  /** When (ms). */
  at: number;
  x: number;
}

/** An event stored long after its sort-key time (`<tenant>#L`), written by the writer before the event. */
export interface LateLogItem {
  pk: string;
  sk: string;
  sh: number;
  id: string;
  x: number;
}

/**
 * How far behind its sort-key time an event may be stored and still be found by the sealer in the
 * timeline; later ones are in the late log. Sort-key time may also be up to 5 minutes ahead.
 */
export const LATE_AFTER_MS = 10 * 60_000;
export const FUTURE_SKEW_MS = 5 * 60_000;

/** Where the digest chain of a tenant stands (`<tenant>#G` / `head`). */
export interface DigestHead {
  readonly to: number;
  readonly key: string;
  readonly hash: string;
  readonly sequence: number;
}

export const removalLogPartition = (tenant: string): string => `${tenant}#R`;
export const lateLogPartition = (tenant: string): string => `${tenant}#L`;
export const digestHeadPartition = (tenant: string): string => `${tenant}#G`;

/** A sortable time prefix for log sort keys (ms, zero-padded). */
export const timeKey = (ms: number): string => String(Math.max(0, Math.floor(ms))).padStart(15, '0');

/** JSON with sorted keys and no spaces: the bytes that are hashed and signed. */
export const canonicalJson = (value: unknown): string => {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const object = value as Record<string, unknown>;
    return `{${Object.keys(object)
      .filter((key) => object[key] !== undefined)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${canonicalJson(object[key])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
};

const sha256 = (data: string | Buffer): Buffer => createHash('sha256').update(data).digest();

/**
 * The leaf hash of a stored item: its salt, then every attribute that says what the event is
 * (keys, index keys, content, expiry, payload digest). Soft delete (`d`, `p`) is not part of it: a
 * delete and a restore are recorded as audit events instead.
 */
export const leafHash = (item: EventItem): string => {
  const canonical = canonicalJson({ pk: item.pk, sk: item.sk, u: item.u, t: item.t, e: item.e, x: item.x, h: item.h });
  return sha256(Buffer.concat([Buffer.from(item.s ?? '', 'base64url'), Buffer.from(canonical, 'utf8')])).toString('base64url');
};

export const toLeaf = (shard: number, item: EventItem): DigestLeaf => ({ shard, id: item.sk, hash: leafHash(item), x: item.x });

/** The bytes a digest's signature covers: its canonical JSON. */
export const digestBytes = (digest: Digest): Buffer => Buffer.from(canonicalJson(digest), 'utf8');

/** What KMS signs (MessageType DIGEST): the SHA-256 of those bytes. */
export const digestMessage = (digest: Digest): Buffer => sha256(digestBytes(digest));

/** The hash the next digest names as `previous.hash`. */
export const signedDigestHash = (signed: SignedDigest): string => sha256(canonicalJson(signed)).toString('base64url');

/** The object key of a digest: by tenant, then the end of its range (sortable). */
export const digestKey = (tenant: string, toMs: number): string => `digests/${tenant}/${new Date(toMs).toISOString()}.json`;

export const HOUR_MS = 3_600_000;

/** The end of the period holding `ms` (periods are aligned to the epoch). */
export const periodEnd = (ms: number, periodMs: number): number => Math.floor(ms / periodMs) * periodMs + periodMs;
