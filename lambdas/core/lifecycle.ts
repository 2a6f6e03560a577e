import { isAuditRecord } from './audit-records';
import type { StoredEvent } from './envelope';
import { erasureFilter, type ErasureStore } from './erasure';
import { ForbiddenError, NotFoundError } from './errors';
import type { Keyring } from './keyring';
import { purgePartition, tenantPartition, type EventItem, type ItemKey } from './item-keys';
import { decodePublicId } from './public-id';
import { isVisible, toPublicEvent, type PublicEvent } from './query';

/** The storage port of delete and restore. */
export interface LifecycleStore extends Pick<ErasureStore, 'listMarkers'> {
  get(pk: string, sk: string): Promise<EventItem | undefined>;
  /** Sets deletedAt and the purge partition if the item exists and is not deleted; false otherwise. */
  markDeleted(key: ItemKey, deletedAtMs: number, purgePartition: string): Promise<boolean>;
  /** Clears deletedAt if it is at or after the cutoff (the grace period is not over); false otherwise. */
  unmarkDeleted(key: ItemKey, cutoffMs: number): Promise<boolean>;
}

export interface LifecycleDeps {
  readonly store: LifecycleStore;
  readonly keyring: Keyring;
  readonly deleteGraceDays: number;
  readonly now?: () => number;
}

/** The item a public id names, if this tenant may see it at all (not expired, not being erased). */
const resolve = async (tenant: string, publicId: string, deps: LifecycleDeps, nowMs: number) => {
  const ref = decodePublicId(deps.keyring, tenant, publicId);
  if (!ref) throw new NotFoundError('event not found');
  const key = { pk: tenantPartition(tenant, ref.shard), sk: ref.internalId };
  const [item, markers] = await Promise.all([deps.store.get(key.pk, key.sk), deps.store.listMarkers(tenant)]);
  if (!item || item.x * 1000 <= nowMs || erasureFilter(markers, nowMs)(item)) throw new NotFoundError('event not found');
  if (isAuditRecord(JSON.parse(item.e) as StoredEvent)) {
    throw new ForbiddenError('audit records cannot be deleted or restored', 'audit_record_immutable');
  }
  return { key, item, shard: ref.shard };
};

/**
 * DELETE /v1/events/{id}: a soft delete, hidden from every read at once, restorable during the
 * grace period, purged by the cleanup after it. Deleting a deleted event again is harmless (204).
 * Returns when it was deleted (ms): the first delete's time, also for a repeated one.
 */
export const softDelete = async (tenant: string, publicId: string, deps: LifecycleDeps): Promise<{ deletedAt: number }> => {
  const now = deps.now?.() ?? Date.now();
  const { key, item, shard } = await resolve(tenant, publicId, deps, now);
  if (item.d !== undefined) return { deletedAt: item.d };
  if (await deps.store.markDeleted(key, now, purgePartition(shard))) return { deletedAt: now };
  // Lost a race: deleted meanwhile (fine) or purged/erased meanwhile (then it is gone).
  const current = await deps.store.get(key.pk, key.sk);
  if (!current) throw new NotFoundError('event not found');
  return { deletedAt: current.d ?? now };
};

/** POST /v1/events/{id}/restore: 200 with the event within the grace period, 404 after. */
export const restore = async (tenant: string, publicId: string, deps: LifecycleDeps): Promise<PublicEvent> => {
  const now = deps.now?.() ?? Date.now();
  const { key, item } = await resolve(tenant, publicId, deps, now);
  if (item.d !== undefined) {
    const cutoff = now - deps.deleteGraceDays * 86_400_000;
    if (item.d < cutoff || !(await deps.store.unmarkDeleted(key, cutoff))) throw new NotFoundError('event not found');
  }
  const restored: EventItem = { ...item };
  delete restored.d;
  delete restored.p;
  if (!isVisible(restored, now)) throw new NotFoundError('event not found');
  return toPublicEvent(deps.keyring, tenant, restored);
};
