import { openUserId } from './erasure-user';
import { encodePublicId } from './public-id';
import type { Keyring } from './keyring';
import { ERASURE_WORK_PARTITION, parseTenantPartition, type ErasureWorkItem, type EventItem } from './item-keys';
import { unpackItem } from './payload';
import { toPublicEvent, type PublicEvent } from './query';

/**
 * What the bus carries (README "Downstream consumers"): one EventBridge event per change of the
 * events table, mapped from its change stream. Never an internal id, a table key or a hash: the
 * event as GET /v1/events/{id} returns it (public id included), public erasure ids, times in RFC 3339.
 */
export const BUS_SOURCE = 'activity-tracker';

export interface RecordedDetail {
  tenant: string;
  event: PublicEvent;
}
export interface LifecycleDetail {
  tenant: string;
  id: string;
  at: string;
}
export interface ErasureCompletedDetail {
  tenant: string;
  erasureId: string;
  userId: string;
  erased: number;
  /** The erasure's cutoff: it covers the user's events received up to this time. */
  requestedAt: string;
  completedAt: string;
}

export type BusEvent =
  | { detailType: 'activity.recorded'; detail: RecordedDetail; time: string }
  | { detailType: 'activity.deleted' | 'activity.restored'; detail: LifecycleDetail; time: string }
  | { detailType: 'erasure.completed'; detail: ErasureCompletedDetail; time: string };

/**
 * A DynamoDB stream record (NEW_AND_OLD_IMAGES), its images already unmarshalled — as the table
 * stores them: a large event item holds `z` (deflated) instead of `e` (core/payload.ts).
 */
export interface TableChange {
  readonly eventName: 'INSERT' | 'MODIFY' | 'REMOVE';
  readonly newImage?: Readonly<Record<string, unknown>>;
  readonly oldImage?: Readonly<Record<string, unknown>>;
  /** ApproximateCreationDateTime, epoch ms. */
  readonly approximateCreationMs: number;
}

/** A change that should have been published but cannot be (a work item without its sealed userId). */
export class UnpublishableChangeError extends Error {
  override name = 'UnpublishableChangeError';
}

const iso = (ms: number): string => new Date(ms).toISOString();

/**
 * The bus events one table change means — usually none or one:
 * - an event item inserted → `activity.recorded`, unless an erasure hid it when it was stored (`hidden`);
 * - an event item whose `deletedAt` appears → `activity.deleted` (at = deletedAt), disappears →
 *   `activity.restored` (at = the change's time);
 * - an erasure work item that turns into a sweep (the cleanup completed it) → `erasure.completed`.
 * Everything else (rate counters, receipts, markers, the tenant registry, purges, expiries and the
 * erasure's own deletes — `erasure.completed` covers those) publishes nothing.
 */
export const toBusEvents = (
  stored: TableChange,
  keyring: Keyring,
  /** Whether an erasure hid this inserted event when it was stored (`atMs`): then it means no bus event (core/publish.ts). */
  hidden: (tenant: string, item: EventItem, atMs: number) => boolean = () => false,
): BusEvent[] => {
  // The stream carries items as stored: a large event is deflated in `z` instead of `e` (core/payload.ts).
  const change: TableChange = {
    ...stored,
    ...(stored.newImage && { newImage: unpackItem(stored.newImage) }),
    ...(stored.oldImage && { oldImage: unpackItem(stored.oldImage) }),
  };
  const image = change.newImage ?? change.oldImage;
  const pk = image?.pk;
  if (typeof pk !== 'string') return [];
  const time = iso(change.approximateCreationMs);

  const partition = parseTenantPartition(pk);
  if (partition) {
    const { tenant, shard } = partition;
    const after = change.newImage as EventItem | undefined;
    const before = change.oldImage as EventItem | undefined;
    if (change.eventName === 'INSERT' && after && after.d === undefined) {
      if (hidden(tenant, after, change.approximateCreationMs)) return [];
      return [{ detailType: 'activity.recorded', detail: { tenant, event: toPublicEvent(keyring, tenant, after) }, time }];
    }
    if (change.eventName === 'MODIFY' && after && before) {
      const id = () => encodePublicId(keyring, tenant, { shard, internalId: after.sk });
      if (before.d === undefined && after.d !== undefined) {
        return [{ detailType: 'activity.deleted', detail: { tenant, id: id(), at: iso(after.d) }, time }];
      }
      if (before.d !== undefined && after.d === undefined) {
        return [{ detailType: 'activity.restored', detail: { tenant, id: id(), at: time }, time }];
      }
    }
    return [];
  }

  if (pk === ERASURE_WORK_PARTITION && change.eventName === 'MODIFY') {
    const after = change.newImage as ErasureWorkItem | undefined;
    const before = change.oldImage as ErasureWorkItem | undefined;
    if (!after || before?.su !== undefined || after.su === undefined || after.c === undefined) return [];
    const userId = after.us === undefined ? undefined : openUserId(keyring, after.tn, after.rs, after.us);
    if (userId === undefined)
      throw new UnpublishableChangeError('an erasure completed whose work item holds no sealed userId this keyring opens');
    return [
      {
        detailType: 'erasure.completed',
        detail: {
          tenant: after.tn,
          erasureId: encodePublicId(keyring, after.tn, { shard: 0, internalId: after.rs }, 'erasure'),
          userId,
          erased: after.n ?? 0,
          requestedAt: iso(after.ra),
          completedAt: iso(after.c),
        },
        time,
      },
    ];
  }
  return [];
};
