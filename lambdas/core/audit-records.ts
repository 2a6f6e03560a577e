import { randomInt } from 'node:crypto';
import { LIMITS } from '../../contract';
import { isReservedType, RESERVED_TYPE_PREFIX, type EventTarget, type StoredEvent } from './envelope';
import { ServiceUnavailableError } from './errors';
import { idempotencyDigest, idempotentInternalId, payloadDigest, pooledRandomBytes, randomInternalId } from './ids';
import type { EventQueue } from './ingest';
import { tenantPartition, typePartition, userPartition, type EventItem } from './item-keys';
import { encodeEntry, messageBody, type MessageEntry } from './message';

/**
 * Admin actions as audit records in the tenant's own trail. A record is an ordinary event with a
 * reserved type (`activity-tracker.<action>`, which clients cannot send): `userId` is the actor
 * (the token's `sub`), `details.clientId` its client, `target` what was acted on (a public event
 * id, an erasure receipt id — never erased personal data). It goes through the same queue and
 * writer as ingested events, so it gets ids, is stored once, and reads like any event with
 * `events:read`. Records cannot be deleted or restored through the API, and erasure never
 * removes them: the record that an erasure happened outlives the erased data.
 */

/** The type prefix of every audit record (clients get `type_reserved`). */
export const AUDIT_TYPE_PREFIX = RESERVED_TYPE_PREFIX;
export const isAuditRecord = (event: Pick<StoredEvent, 'type'>): boolean => isReservedType(event.type);

/** The actions the service records; other issues add theirs (e.g. exports). */
export const AUDIT_ACTIONS = {
  eventDeleted: 'event.deleted',
  eventRestored: 'event.restored',
  erasureRequested: 'erasure.requested',
  erasureCompleted: 'erasure.completed',
  exportRequested: 'export.requested',
  /** A download URL of a completed export was handed out (GET /v1/exports/{id}). */
  exportDownloaded: 'export.downloaded',
} as const;

/** Who did it: the token's subject and client, or the service itself for scheduled work. */
export interface Actor {
  readonly subject?: string;
  readonly clientId?: string;
}

/** The actor of what the scheduler does (erasure completion). */
export const SERVICE_ACTOR: Actor = { subject: 'activity-tracker' };

export interface AuditAction {
  /** What was done, e.g. `event.deleted`: the record's type is `activity-tracker.<action>`. */
  readonly action: string;
  readonly actor: Actor;
  /** What was acted on: a public id (event, erasure receipt, export). Never personal data. */
  readonly target: EventTarget;
  /** More facts about the action (no personal data). `clientId` is added from the actor. */
  readonly details?: Record<string, unknown>;
  /** The request's ip and user agent, as events carry them. */
  readonly source?: StoredEvent['source'];
  /**
   * Makes the record idempotent: the same key and `at` yield one stored record (a retried action
   * is recorded once). Without a key, each call records anew.
   */
  readonly idempotencyKey?: string;
  /** When the action happened (ms). @default now */
  readonly at?: number;
}

export interface AuditDeps {
  readonly queue: EventQueue;
  readonly shardCount: number;
  /** Days an event of this tenant is kept: audit records are kept as long as events. */
  readonly retentionDays: (tenant: string) => number;
  readonly now?: () => number;
  readonly random?: (n: number) => Uint8Array;
  readonly randomShard?: (shardCount: number) => number;
}

/** Records one admin action of a tenant; throws 503 `enqueue_failed` if it could not be queued. */
export type AuditRecorder = (tenant: string, action: AuditAction) => Promise<void>;

const actorId = (actor: Actor): string => (actor.subject || actor.clientId || 'unknown').slice(0, LIMITS.maxUserIdLength);

/** The stored form of the record of an action (pure). */
export const auditEvent = (action: AuditAction, nowMs: number): StoredEvent => {
  const at = new Date(action.at ?? nowMs).toISOString();
  const details = { ...(action.actor.clientId && { clientId: action.actor.clientId }), ...action.details };
  return {
    type: `${AUDIT_TYPE_PREFIX}${action.action}`,
    userId: actorId(action.actor),
    occurredAt: at,
    target: { type: action.target.type, id: action.target.id },
    ...(Object.keys(details).length > 0 && { details }),
    receivedAt: new Date(nowMs).toISOString(),
    source: action.source ?? {},
  };
};

/** The queue entry of an action's record, keyed like an ingested event. */
export const auditEntry = (tenant: string, action: AuditAction, deps: Omit<AuditDeps, 'queue'>): MessageEntry => {
  const now = deps.now?.() ?? Date.now();
  const event = auditEvent(action, now);
  const timeMs = action.at ?? now;
  const key = action.idempotencyKey === undefined ? undefined : `${AUDIT_TYPE_PREFIX}${action.action}:${action.idempotencyKey}`;
  const internalId =
    key === undefined ? randomInternalId(timeMs, deps.random ?? pooledRandomBytes) : idempotentInternalId(tenant, key, timeMs, 'audit');
  const shard =
    key === undefined
      ? (deps.randomShard ?? randomInt)(deps.shardCount)
      : idempotencyDigest(tenant, key, timeMs, 'audit').readUInt32BE(28) % deps.shardCount;
  const item: EventItem = {
    pk: tenantPartition(tenant, shard),
    sk: internalId,
    u: userPartition(tenant, event.userId),
    t: typePartition(tenant, shard, event.type),
    e: JSON.stringify(event),
    // From the action's time: a keyed record sent again later is the same item, with the same expiry.
    x: Math.floor(timeMs / 1000) + deps.retentionDays(tenant) * 86_400,
    ...(key !== undefined && { h: payloadDigest(event) }),
  };
  return { item, idempotent: key !== undefined };
};

/** A recorder sending each record through the events queue to the writer. */
export const auditRecorder =
  (deps: AuditDeps): AuditRecorder =>
  async (tenant, action) => {
    const body = messageBody([encodeEntry(auditEntry(tenant, action, deps))]);
    const failed = await deps.queue.send([{ id: '0', body, groupId: tenant }]);
    if (failed.size > 0) throw new ServiceUnavailableError('enqueue_failed', 'the audit record could not be queued; retry the request');
  };
