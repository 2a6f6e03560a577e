import { randomBytes } from 'node:crypto';
import { LIMITS } from '../../contract';
import { isAuditRecord } from './audit-records';
import type { StoredEvent } from './envelope';
import { BadRequestError, NotFoundError, TooManyRequestsError, UnsupportedMediaTypeError } from './errors';
import { randomInternalId } from './ids';
import type { Keyring } from './keyring';
import {
  ERASURE_WORK_PARTITION,
  markerPartition,
  receiptPartition,
  userIdDigest,
  userPartition,
  type ErasureMarkerItem,
  type ErasureReceiptItem,
  type ErasureWorkItem,
  type EventItem,
} from './item-keys';
import { sealUserId } from './erasure-user';
import { canonicalId, isWellFormedText } from './json-bounds';
import { decodePublicId, encodePublicId } from './public-id';

/**
 * GDPR erasure. A request stores a receipt, a marker and a work item. The erasure covers the events
 * of that user received up to its `requestedAt` (the cutoff): the marker hides them at once — also
 * those still in the queue at request time, which carry an earlier receivedAt — and the scheduled
 * cleanup deletes them all and completes the receipt. Events received after the request are new
 * data, not the data the request was about: they are kept and visible. The marker stays for the
 * sweep period after completion, so an event received before the cutoff that was still in flight
 * (queue, DLQ redrive) is hidden and swept too.
 *
 * Audit records (core/audit-records.ts) are never erased: their userId is an actor, and the record
 * that an erasure happened must outlive it.
 *
 * The receipt holds no personal data: not even the userId (the marker keeps only a hash of it; the
 * work item a hash and the userId sealed under the service keys for the bus's `erasure.completed`,
 * erasure-user.ts; both go away after the sweep period). The userId is canonical (well-formed, NFC) like
 * at ingest, and only events whose stored userId has exactly its digest are hidden and deleted —
 * not every event that happens to share the user partition.
 */
export interface ErasureStore {
  listMarkers(tenant: string): Promise<ErasureMarkerItem[]>;
  getReceipt(tenant: string, receiptId: string): Promise<ErasureReceiptItem | undefined>;
  /** Stores receipt and work item, then the marker. */
  createErasure(receipt: ErasureReceiptItem, work: ErasureWorkItem, marker: ErasureMarkerItem): Promise<void>;
}

export interface ErasureDeps {
  readonly store: ErasureStore;
  readonly keyring: Keyring;
  /** Most pending erasure requests one tenant may have open. */
  readonly maxOpenErasures: number;
  readonly now?: () => number;
}

export interface ErasureReceipt {
  id: string;
  status: 'pending' | 'completed';
  erased: number;
  requestedAt: string;
  completedAt: string | null;
}

/**
 * Days a completed erasure keeps hiding, sweeping and withholding from the bus late arrivals: longer
 * than a message lives in the queue and the DLQ (14 days from its first enqueue), even redriven once;
 * a second redrive starts its time anew (docs/operating.md, "Redriving the dead-letter queue").
 */
export const ERASURE_SWEEP_DAYS = 15;

export const isPendingMarker = (marker: ErasureMarkerItem): boolean => marker.c === undefined;

const isLiveMarker = (marker: ErasureMarkerItem, nowMs: number): boolean => marker.x === undefined || marker.x * 1000 > nowMs;

/**
 * Which events the tenant's erasure markers hide: by user key and the exact userId's digest, those
 * received up to the request's time; never an audit record.
 */
export const erasureFilter = (
  markers: readonly ErasureMarkerItem[],
  nowMs: number,
): ((item: EventItem, event?: StoredEvent) => boolean) => {
  const byUser = new Map(markers.filter((m) => isLiveMarker(m, nowMs)).map((m) => [m.sk, m]));
  if (byUser.size === 0) return () => false;
  return (item, event) => {
    const marker = byUser.get(item.u);
    if (!marker) return false;
    const stored = event ?? (JSON.parse(item.e) as StoredEvent);
    return isErasedUser(stored, marker.uh) && coveredBy(stored, marker.ra);
  };
};

/** Whether an erasure requested at `requestedAtMs` covers this event: received by then, and not an audit record. */
export const coveredBy = (event: Pick<StoredEvent, 'type' | 'receivedAt'>, requestedAtMs: number): boolean =>
  !isAuditRecord(event) && !(Date.parse(event.receivedAt) > requestedAtMs);

/** Whether a stored event belongs to the user with this userIdDigest (an ill-formed stored userId has none). */
export const isErasedUser = (event: Pick<StoredEvent, 'userId'>, digest: string | undefined): boolean =>
  digest !== undefined && typeof event.userId === 'string' && userIdDigest(event.userId) === digest;

const parseErasureBody = (body: string | null | undefined, contentType: string | undefined): string => {
  if (!contentType || !/^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i.test(contentType)) {
    throw new UnsupportedMediaTypeError();
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(body ?? '');
  } catch {
    throw new BadRequestError('invalid_json', 'the body is not valid JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw new BadRequestError('invalid_body', 'the body must be {"userId":"..."}');
  const keys = Object.keys(parsed);
  const unknown = keys.find((key) => key !== 'userId');
  if (unknown !== undefined)
    throw new BadRequestError('unknown_field', `unknown field '${unknown.slice(0, 64)}'; the body is {"userId":"..."}`);
  const { userId: raw } = parsed as { userId?: unknown };
  if (raw === undefined) throw new BadRequestError('userId_required', "'userId' is required");
  if (typeof raw === 'string' && !isWellFormedText(raw)) {
    throw new BadRequestError('userId_invalid', "'userId' is not valid Unicode text (it holds an unpaired UTF-16 surrogate)");
  }
  // The same canonical form ingest stores (NFC): an NFD spelling erases the same user.
  const userId = typeof raw === 'string' ? canonicalId(raw) : undefined;
  if (userId === undefined || userId.length < 1 || userId.length > LIMITS.maxUserIdLength) {
    throw new BadRequestError('userId_invalid', `'userId' must be a string of 1-${LIMITS.maxUserIdLength} characters`);
  }
  return userId;
};

const toReceipt = (keyring: Keyring, tenant: string, item: ErasureReceiptItem): ErasureReceipt => ({
  id: encodePublicId(keyring, tenant, { shard: 0, internalId: item.sk }, 'erasure'),
  status: item.s,
  erased: item.n,
  requestedAt: new Date(item.ra).toISOString(),
  completedAt: item.ca === undefined ? null : new Date(item.ca).toISOString(),
});

/**
 * POST /v1/erasures. A second request for a user whose erasure is still pending returns the
 * pending receipt rather than opening another one.
 */
export const requestErasure = async (
  tenant: string,
  request: { body: string | null | undefined; contentType: string | undefined },
  deps: ErasureDeps,
): Promise<ErasureReceipt> => {
  const userId = parseErasureBody(request.body, request.contentType);
  const now = deps.now?.() ?? Date.now();
  const userKey = userPartition(tenant, userId);
  const digest = userIdDigest(userId) as string;
  const pending = (await deps.store.listMarkers(tenant)).filter((m) => isPendingMarker(m) && isLiveMarker(m, now));
  const existing = pending.find((m) => m.sk === userKey && m.uh === digest);
  if (existing) {
    const receipt = await deps.store.getReceipt(tenant, existing.r);
    if (receipt) return toReceipt(deps.keyring, tenant, receipt);
  }
  if (pending.length >= deps.maxOpenErasures) {
    throw new TooManyRequestsError(
      'too_many_erasures',
      `at most ${deps.maxOpenErasures} erasure requests may be pending at once; retry after the next cleanup`,
    );
  }
  const receiptId = randomInternalId(now, randomBytes);
  const receipt: ErasureReceiptItem = { pk: receiptPartition(tenant), sk: receiptId, s: 'pending', n: 0, ra: now };
  const publicId = toReceipt(deps.keyring, tenant, receipt).id;
  await deps.store.createErasure(
    receipt,
    {
      pk: ERASURE_WORK_PARTITION,
      sk: `${receiptId}#${tenant}`,
      tn: tenant,
      rs: receiptId,
      pid: publicId,
      uk: userKey,
      uh: digest,
      us: sealUserId(deps.keyring, tenant, receiptId, userId),
      ra: now,
    },
    { pk: markerPartition(tenant), sk: userKey, r: receiptId, uh: digest, ra: now },
  );
  return toReceipt(deps.keyring, tenant, receipt);
};

/** GET /v1/erasures/{id}: the receipt, visible only to its tenant. */
export const getErasure = async (
  tenant: string,
  publicId: string,
  deps: Pick<ErasureDeps, 'store' | 'keyring'>,
): Promise<ErasureReceipt> => {
  const ref = decodePublicId(deps.keyring, tenant, publicId, 'erasure');
  const receipt = ref && (await deps.store.getReceipt(tenant, ref.internalId));
  if (!receipt) throw new NotFoundError('erasure request not found');
  return toReceipt(deps.keyring, tenant, receipt);
};
