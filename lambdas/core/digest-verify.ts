import { digestBytes, leafHash, signedDigestHash, type DigestLeaf, type SignedDigest } from './digest';
import { parseTenantPartition, type EventItem } from './item-keys';

/**
 * Re-derives a tenant's digests from what is stored (the pure part of `npm run verify`): the chain
 * and every signature, then each stored event against its leaf, and each leaf against what is
 * stored or a signed removal. Every discrepancy is named.
 */

export type ProblemKind =
  | 'bad signature'
  | 'digest missing or out of chain'
  | 'event edited'
  | 'event inserted outside any digest'
  | 'event missing without a signed removal record';

export interface Problem {
  readonly kind: ProblemKind;
  readonly detail: string;
}

export interface VerifyInput {
  readonly tenant: string;
  /** Every digest object of the tenant, in key order; `signed` undefined when it does not parse. */
  readonly digests: readonly { readonly key: string; readonly signed: SignedDigest | undefined }[];
  /** Every event item of the tenant now stored (every shard). */
  readonly items: readonly EventItem[];
  /** Verifies a signature (SIGNING_ALGORITHM) of a digest's canonical bytes with the public key. */
  readonly verifySignature: (bytes: Buffer, signature: Buffer) => boolean;
  /** Only events stored (and leaves sealed) in [from, to) are compared. @default everything */
  readonly from?: number;
  readonly to?: number;
  /**
   * The time of the check (ms). A leaf whose signed expiry has passed by then may be gone without a
   * removal record: DynamoDB TTL deletes expired events on its own (retention), before the cleanup does.
   */
  readonly now?: number;
}

export interface VerifyReport {
  readonly ok: boolean;
  readonly digests: number;
  readonly eventsVerified: number;
  /** Leaves no longer stored, accounted for by a signed removal record or retention, by reason. */
  readonly removals: Record<string, number>;
  /** Events stored after the last digest's end: not sealed yet (the next run seals them). */
  readonly unsealed: number;
  readonly problems: readonly Problem[];
}

const keyOf = (shard: number, id: string) => `${shard}#${id}`;

export const verifyDigests = (input: VerifyInput): VerifyReport => {
  const problems: Problem[] = [];
  const from = input.from ?? Number.NEGATIVE_INFINITY;
  const to = input.to ?? Number.POSITIVE_INFINITY;
  const inWindow = (ms: number) => ms >= from && ms < to;

  // 1. The chain and the signatures.
  const valid: { key: string; signed: SignedDigest; fromMs: number; toMs: number }[] = [];
  let previous: { key: string; signed: SignedDigest } | undefined;
  for (const { key, signed } of input.digests) {
    if (!signed) {
      problems.push({ kind: 'bad signature', detail: `${key}: not a signed digest` });
      continue;
    }
    const { digest } = signed;
    if (digest.tenant !== input.tenant || !input.verifySignature(digestBytes(digest), Buffer.from(signed.signature, 'base64'))) {
      problems.push({ kind: 'bad signature', detail: `${key}: the signature does not verify` });
      continue;
    }
    if (previous === undefined) {
      if (digest.previous !== null || digest.sequence !== 1) {
        problems.push({
          kind: 'digest missing or out of chain',
          detail: `${key} (sequence ${digest.sequence}) names a previous digest ${digest.previous?.key ?? ''} that is not in the bucket`,
        });
      }
    } else if (
      digest.previous?.key !== previous.key ||
      digest.previous.hash !== signedDigestHash(previous.signed) ||
      digest.from !== previous.signed.digest.to ||
      digest.sequence !== previous.signed.digest.sequence + 1
    ) {
      problems.push({
        kind: 'digest missing or out of chain',
        detail: `${key} (sequence ${digest.sequence}) does not follow ${previous.key} (sequence ${previous.signed.digest.sequence})`,
      });
    }
    valid.push({ key, signed, fromMs: Date.parse(digest.from), toMs: Date.parse(digest.to) });
    previous = { key, signed };
  }
  const sealedThrough = valid.length > 0 ? Math.max(...valid.map((d) => d.toMs)) : 0;

  // 2. Leaves, removals and retention from the valid digests.
  const leaves = new Map<string, { leaf: DigestLeaf; key: string; toMs: number }>();
  const removed = new Map<string, string>();
  let expiredThrough = 0;
  for (const { key, signed, toMs } of valid) {
    for (const leaf of signed.digest.events) leaves.set(keyOf(leaf.shard, leaf.id), { leaf, key, toMs });
    for (const removal of signed.digest.removals) removed.set(keyOf(removal.shard, removal.id), removal.reason);
    expiredThrough = Math.max(expiredThrough, signed.digest.expiredThrough);
  }

  // 3. Every stored event against its leaf.
  let eventsVerified = 0;
  let unsealed = 0;
  const present = new Set<string>();
  for (const item of input.items) {
    const shard = parseTenantPartition(item.pk)?.shard ?? -1;
    const id = keyOf(shard, item.sk);
    present.add(id);
    const entry = leaves.get(id);
    if (entry) {
      if (!inWindow(entry.toMs - 1)) continue;
      if (leafHash(item) === entry.leaf.hash) eventsVerified++;
      else problems.push({ kind: 'event edited', detail: `event ${id} differs from its leaf in ${entry.key}` });
      continue;
    }
    if (item.w !== undefined && item.w >= sealedThrough) {
      if (inWindow(item.w)) unsealed++;
      continue;
    }
    if (item.w === undefined || inWindow(item.w)) {
      problems.push({
        kind: 'event inserted outside any digest',
        detail: `event ${id} (stored ${item.w === undefined ? 'at no recorded time' : new Date(item.w).toISOString()}) is in no digest`,
      });
    }
  }

  // 4. Every leaf no longer stored: a signed removal, or retention.
  const removals: Record<string, number> = {};
  for (const [id, { leaf, key, toMs }] of leaves) {
    if (present.has(id) || !inWindow(toMs - 1)) continue;
    const expired = leaf.x <= expiredThrough || (input.now !== undefined && leaf.x * 1000 <= input.now);
    const reason = removed.get(id) ?? (expired ? 'retention' : undefined);
    if (reason) removals[reason] = (removals[reason] ?? 0) + 1;
    else problems.push({ kind: 'event missing without a signed removal record', detail: `event ${id} of ${key} is gone` });
  }

  return { ok: problems.length === 0, digests: valid.length, eventsVerified, removals, unsealed, problems };
};

/** The one-line summary and the details `npm run verify` prints. */
export const formatReport = (tenant: string, report: VerifyReport): string[] => {
  const removals = Object.entries(report.removals)
    .map(([reason, n]) => `${reason} ${n}`)
    .join(', ');
  const summary = `${report.ok ? 'OK' : 'FAILED'}: tenant ${tenant}: ${report.digests} digests, ${report.eventsVerified} events verified, ${Object.values(
    report.removals,
  ).reduce(
    (a, b) => a + b,
    0,
  )} removals accounted for${removals ? ` (${removals})` : ''}, ${report.unsealed} not sealed yet, ${report.problems.length} problems`;
  return [summary, ...report.problems.map((p) => `  ${p.kind}: ${p.detail}`)];
};
