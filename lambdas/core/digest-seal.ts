import {
  canonicalJson,
  DIGEST_VERSION,
  digestKey,
  digestMessage,
  FUTURE_SKEW_MS,
  LATE_AFTER_MS,
  lateLogPartition,
  periodEnd,
  removalLogPartition,
  SIGNING_ALGORITHM,
  signedDigestHash,
  timeKey,
  toLeaf,
  type Digest,
  type DigestHead,
  type DigestLeaf,
  type DigestRemoval,
  type LateLogItem,
  type RemovalLogItem,
  type SignedDigest,
} from './digest';
import { adjacentId, highestIdAt, lowestIdAt } from './ids';
import { parseTenantPartition, shardRange, tenantPartition, type EventItem, type ItemKey } from './item-keys';
import type { RangeRequest } from './query';

/** The storage port of the sealer. */
export interface DigestStore {
  listTenants(): Promise<string[]>;
  queryRange(request: RangeRequest): Promise<{ items: EventItem[]; done: boolean }>;
  /** Log items of a partition with fromKey ≤ sk < toKey, in order. */
  listLog<T extends LateLogItem | RemovalLogItem>(partition: string, fromKey: string, toKey: string): Promise<T[]>;
  /** The items that exist among these keys (consistent reads). */
  getItems(keys: readonly ItemKey[]): Promise<EventItem[]>;
  getDigestHead(tenant: string): Promise<DigestHead | undefined>;
  /** Moves the head, only if it is still where this run found it (`previousTo`, undefined for none). */
  putDigestHead(tenant: string, head: DigestHead, previousTo: number | undefined): Promise<void>;
}

/** Signs the SHA-256 of a digest with an asymmetric key (KMS Sign, MessageType DIGEST). */
export interface DigestSigner {
  readonly keyId: string;
  sign(sha256: Buffer): Promise<Buffer>;
}

/** The bucket the digests go to (Object Lock keeps them). */
export interface DigestBucket {
  put(key: string, body: string): Promise<void>;
}

export interface SealDeps {
  readonly store: DigestStore;
  readonly signer: DigestSigner;
  readonly bucket: DigestBucket;
  readonly shardCount: number;
  /** Length of a digest period (ms). @default one hour */
  readonly periodMs: number;
  /** A period is sealed this long after it ended (writes stamped just before its end have landed). @default 2 minutes */
  readonly settleMs?: number;
  readonly now?: () => number;
}

export interface SealReport {
  readonly tenants: number;
  readonly digests: number;
  readonly events: number;
  readonly removals: number;
}

/**
 * The scheduled sealer: for every tenant, every complete period since its last digest that stored
 * events or made removals gets one signed digest, chained to the one before (a quiet period adds
 * none: the next digest's range starts where the last one ended). Resumable: the head moves only
 * after the digest is in the bucket.
 */
export const sealDigests = async (deps: SealDeps): Promise<SealReport> => {
  const now = (deps.now ?? Date.now)();
  const lastEnd = periodEnd(now - (deps.settleMs ?? 120_000), deps.periodMs) - deps.periodMs;
  const report = { tenants: 0, digests: 0, events: 0, removals: 0 };
  for (const tenant of await deps.store.listTenants()) {
    report.tenants++;
    const head = await deps.store.getDigestHead(tenant);
    const from = head?.to ?? 0;
    if (lastEnd <= from) continue;
    const { events, removals, retention } = await contentsOf(tenant, from, lastEnd, deps);
    const ends = [...new Set([...events.keys(), ...removals.keys(), ...retention.keys()])].sort((a, b) => a - b);
    let previous = head;
    for (const end of ends) {
      const leaves = events.get(end) ?? [];
      const gone = removals.get(end) ?? [];
      const digest: Digest = {
        version: DIGEST_VERSION,
        tenant,
        from: new Date(previous?.to ?? 0).toISOString(),
        to: new Date(end).toISOString(),
        sequence: (previous?.sequence ?? 0) + 1,
        previous: previous ? { key: previous.key, hash: previous.hash } : null,
        events: leaves,
        removals: gone,
        expiredThrough: retention.get(end) ?? 0,
        keyId: deps.signer.keyId,
        algorithm: SIGNING_ALGORITHM,
      };
      const signed: SignedDigest = { digest, signature: (await deps.signer.sign(digestMessage(digest))).toString('base64') };
      const key = digestKey(tenant, end);
      await deps.bucket.put(key, canonicalJson(signed));
      const next: DigestHead = { to: end, key, hash: signedDigestHash(signed), sequence: digest.sequence };
      await deps.store.putDigestHead(tenant, next, previous?.to);
      previous = next;
      report.digests++;
      report.events += leaves.length;
      report.removals += gone.length;
    }
  }
  return report;
};

/** Events stored and removals made in [from, to), by the end of the period they fall in. */
const contentsOf = async (
  tenant: string,
  from: number,
  to: number,
  deps: SealDeps,
): Promise<{ events: Map<number, DigestLeaf[]>; removals: Map<number, DigestRemoval[]>; retention: Map<number, number> }> => {
  const events = new Map<number, DigestLeaf[]>();
  const seen = new Set<string>();
  const add = (item: EventItem) => {
    const parts = parseTenantPartition(item.pk);
    if (!parts || item.w === undefined || item.w < from || item.w >= to) return;
    const id = `${parts.shard}#${item.sk}`;
    if (seen.has(id)) return;
    seen.add(id);
    const end = periodEnd(item.w, deps.periodMs);
    events.set(end, [...(events.get(end) ?? []), toLeaf(parts.shard, item)]);
  };
  // Events stored on time have a sort-key time near their storage time...
  for (const shard of shardRange(deps.shardCount)) {
    let lower: string | undefined = lowestIdAt(Math.max(0, from - LATE_AFTER_MS));
    const upper = highestIdAt(to + FUTURE_SKEW_MS);
    while (lower !== undefined) {
      const page = await deps.store.queryRange({ partition: tenantPartition(tenant, shard), lower, upper, order: 'asc', limit: 500 });
      page.items.forEach(add);
      const last = page.items[page.items.length - 1];
      lower = page.done || !last ? undefined : adjacentId(last.sk, 1);
    }
  }
  // ...the others were noted in the late log before they were stored.
  const late = await deps.store.listLog<LateLogItem>(lateLogPartition(tenant), timeKey(from), timeKey(to));
  if (late.length > 0) {
    (await deps.store.getItems(late.map((entry) => ({ pk: tenantPartition(tenant, entry.sh), sk: entry.id })))).forEach(add);
  }
  const removals = new Map<number, DigestRemoval[]>();
  const retention = new Map<number, number>();
  for (const entry of await deps.store.listLog<RemovalLogItem>(removalLogPartition(tenant), timeKey(from), timeKey(to))) {
    const end = periodEnd(entry.at, deps.periodMs);
    if (entry.r === 'retention') {
      retention.set(end, Math.max(retention.get(end) ?? 0, entry.th ?? 0));
      continue;
    }
    const removal: DigestRemoval = { shard: entry.sh, id: entry.id, reason: entry.r, ...(entry.rc && { receipt: entry.rc }), at: entry.at };
    removals.set(end, [...(removals.get(end) ?? []), removal]);
  }
  for (const list of events.values()) list.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : a.shard - b.shard));
  return { events, removals, retention };
};
