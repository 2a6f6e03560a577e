import { createHash } from 'node:crypto';
import { TENANT_PATTERN } from '../../contract';

/**
 * How the core builds the keys of the items it stores. The table's attribute and index names are
 * contract/table.ts (the stack creates the table from them); this is what goes into them:
 *
 *   pk = <tenant>#<shard>, u = <tenant>#<hash(userId)>, t = <tenant>#<shard>#<type>, p = D#<shard>
 */

/** A stored event, attribute by attribute (contract ATTRIBUTES). */
export interface EventItem {
  pk: string;
  sk: string;
  u: string;
  t: string;
  e: string;
  x: number;
  d?: number;
  p?: string;
  /** Digest of the client payload of an idempotency-keyed event (ids.ts payloadDigest): a replay with other content is detected. */
  h?: string;
  /** When the writer stored it (ms): the digest period it belongs to (core/digest.ts). */
  w?: number;
  /** The salt of its digest leaf hash (base64url, 16 bytes): destroyed with the item, so an erased event's leaf reveals nothing. */
  s?: string;
}

/** The primary key of an item. */
export interface ItemKey {
  pk: string;
  sk: string;
}

/** One string per primary key, for maps and sets of items. */
export const keyString = (key: ItemKey): string => `${key.pk}\u0000${key.sk}`;

export const tenantPartition = (tenant: string, shard: number): string => `${tenant}#${shard}`;

export const userPartition = (tenant: string, userId: string): string =>
  `${tenant}#${createHash('sha256').update(userId).digest('base64url').slice(0, 22)}`;

/**
 * The digest erasure markers and work items hold instead of the userId (full SHA-256, base64url):
 * the cleanup deletes, and reads hide, only events whose stored userId has exactly this digest, not
 * every event that shares the 132-bit user partition. Only well-formed text has one (UTF-8 of an
 * unpaired surrogate is U+FFFD's, so "\ud800" and "\ufffd" would share it).
 */
export const userIdDigest = (userId: string): string | undefined =>
  userId.isWellFormed() ? createHash('sha256').update(userId, 'utf8').digest('base64url') : undefined;

export const typePartition = (tenant: string, shard: number, type: string): string => `${tenant}#${shard}#${type}`;

const TENANT_PARTITION = new RegExp(`^(${TENANT_PATTERN.source.slice(1, -1)})#(\\d{1,3})$`);

/** Splits `<tenant>#<shard>` back into its parts (the tenant never contains '#'). */
export const parseTenantPartition = (pk: string): { tenant: string; shard: number } | undefined => {
  const match = TENANT_PARTITION.exec(pk);
  return match ? { tenant: match[1] as string, shard: Number(match[2]) } : undefined;
};

export const shardRange = (shardCount: number): number[] => Array.from({ length: shardCount }, (_, i) => i);

/** The byPurge partition of a soft-deleted item: spread like the tenant timeline it came from. */
export const purgePartition = (shard: number): string => `D#${shard}`;

/**
 * Lifecycle items live beside the events, in partitions no event key can take (a shard is a
 * number, these end in a letter), and with attribute names the indexes do not use — so they never
 * show up in a timeline.
 *
 *   <tenant>#E / <receipt id>   erasure receipt: s status, n erased, ra requestedAt, ca completedAt
 *   <tenant>#X / <user key u>   erasure marker: r receipt id, uh userId digest, ra requestedAt = the
 *                               cutoff (ms), c completedAt (absent while pending), x TTL
 *   $erasures / <receipt id>#<tenant>   the cleanup's work list: tn tenant, rs receipt, pid its public id, uk user key, uh userId digest,
 *                               us userId sealed (erasure-user.ts),
 *                               ra requestedAt (the cutoff), n erased so far, ck the chunk being deleted
 *                               (write-ahead), c completedAt and su sweep-until (ms) once completed
 *   $tenants / <tenant>         tenants that have stored events (for retention; written once per
 *                               tenant per writer container)
 */
export const receiptPartition = (tenant: string): string => `${tenant}#E`;
export const markerPartition = (tenant: string): string => `${tenant}#X`;
export const ERASURE_WORK_PARTITION = '$erasures';
export const TENANT_REGISTRY_PARTITION = '$tenants';

export interface ErasureReceiptItem {
  pk: string;
  sk: string;
  s: 'pending' | 'completed';
  n: number;
  ra: number;
  ca?: number;
}

export interface ErasureMarkerItem {
  pk: string;
  sk: string;
  r: string;
  /** userIdDigest of the erased userId. */
  uh: string;
  /** The request's time (ms): the cutoff, events received later are not erased. */
  ra: number;
  c?: number;
  x?: number;
}

export interface ErasureWorkItem {
  pk: string;
  sk: string;
  tn: string;
  rs: string;
  /** The receipt's public id: the cleanup records the completion under it without the id keys. */
  pid: string;
  uk: string;
  /** userIdDigest of the erased userId. */
  uh: string;
  /** The userId sealed under the service keys (erasure-user.ts), for the bus's `erasure.completed`. */
  us?: string;
  /** The request's time (ms): the cutoff. */
  ra: number;
  n?: number;
  ck?: ItemKey[];
  c?: number;
  su?: number;
}
