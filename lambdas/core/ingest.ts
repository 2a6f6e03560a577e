import { randomInt } from 'node:crypto';
import { LIMITS } from '../../contract';
import { checkEvent, parseEventsBody, type EventError, type StoredEvent } from './envelope';
import { BadRequestError, PayloadTooLargeError, ServiceUnavailableError } from './errors';
import { idempotencyDigest, internalIdOfDigest, payloadDigest, pooledRandomBytes, randomInternalId } from './ids';
import type { Keyring } from './keyring';
import { tenantPartition, typePartition, userPartition, type EventItem } from './item-keys';
import { encodePublicIds, type ItemRef } from './public-id';
import {
  attributeBytes,
  encodeEntry,
  MESSAGE_BUDGET_BYTES,
  messageBody,
  packEntries,
  type MessageEntry,
  type QueueMessage,
} from './message';

/** The port through which ingest enqueues: returns the ids of the messages it could NOT enqueue. */
export interface EventQueue {
  send(messages: readonly QueueMessage[]): Promise<ReadonlySet<string>>;
}

export interface IngestRequest {
  readonly tenant: string;
  readonly body: string | null | undefined;
  readonly contentType: string | undefined;
  readonly isBase64Encoded?: boolean;
  readonly source: { readonly ip?: string; readonly userAgent?: string };
  /** Correlation id of the API request, carried with every message to the writer's logs. */
  readonly correlationId?: string;
}

export interface IngestDeps {
  readonly queue: EventQueue;
  readonly keyring: Keyring;
  readonly shardCount: number;
  /** Days an event of this tenant is kept after receipt. */
  readonly retentionDays: (tenant: string) => number;
  /** Events one request may carry (abuse limit); default and maximum: the contract's 500. */
  readonly maxEventsPerRequest?: number;
  /** Charges the request's events to the tenant's rate limit (throws RateLimitedError over it). */
  readonly admitEvents?: (count: number) => Promise<void>;
  readonly now?: () => number;
  readonly random?: (n: number) => Uint8Array;
  readonly randomShard?: (shardCount: number) => number;
}

export type EventResult = { id: string } | { error: EventError };

export interface IngestResult {
  /** True when the body was a single event rather than {"events":[...]}. */
  readonly single: boolean;
  readonly results: EventResult[];
  readonly accepted: number;
  readonly rejected: number;
}

/**
 * Validates every event, fixes its ids, enqueues the valid ones and answers per event, in request
 * order. An event is reported with an id only once SQS has acknowledged it; if nothing could be
 * enqueued the whole request fails with 503 so the client retries.
 */
export const ingest = async (req: IngestRequest, deps: IngestDeps): Promise<IngestResult> => {
  const now = deps.now?.() ?? Date.now();
  const { events, batch, unsafeIntegers } = parseEventsBody(req.body, req.contentType, req.isBase64Encoded, deps.maxEventsPerRequest);
  await deps.admitEvents?.(events.length);
  const receivedAt = new Date(now).toISOString();
  const source = sourceOf(req.source);
  const expiresAt = Math.floor(now / 1000) + deps.retentionDays(req.tenant) * 86_400;

  const results: EventResult[] = new Array(events.length);
  /** The events to enqueue, in request order, with the request positions each one answers. */
  const entries: { entry: MessageEntry; positions: number[] }[] = [];
  /** One entry serves every copy of an idempotent event in the request. */
  const entryOfKey = new Map<string, { positions: number[] }>();

  /** The events that get an id: named all at once after the loop (encodePublicIds). */
  const named: { index: number; ref: ItemRef }[] = [];

  events.forEach((raw, index) => {
    const check = checkEvent(raw, now, { unsafeIntegers });
    if (!check.ok) {
      results[index] = { error: check.error };
      return;
    }
    const { event, occurredAtMs } = check;
    const timeMs = occurredAtMs ?? now;
    let internalId: string;
    let shard: number;
    if (event.idempotencyKey !== undefined) {
      const digest = idempotencyDigest(req.tenant, event.idempotencyKey, timeMs);
      internalId = internalIdOfDigest(timeMs, digest);
      shard = digest.readUInt32BE(28) % deps.shardCount;
    } else {
      internalId = randomInternalId(timeMs, deps.random ?? pooledRandomBytes);
      shard = (deps.randomShard ?? randomInt)(deps.shardCount);
    }
    const stored: StoredEvent = {
      type: event.type,
      userId: event.userId,
      occurredAt: event.occurredAt ?? receivedAt,
      ...(event.target && { target: { type: event.target.type, id: event.target.id } }),
      ...(event.details && { details: event.details }),
      receivedAt,
      source,
    };
    const e = JSON.stringify(stored);
    if (Buffer.byteLength(e, 'utf8') > LIMITS.maxEventBytes) {
      results[index] = { error: { code: 'event_too_large', message: `an event must serialize to at most ${LIMITS.maxEventBytes} bytes` } };
      return;
    }
    const item: EventItem = {
      pk: tenantPartition(req.tenant, shard),
      sk: internalId,
      u: userPartition(req.tenant, event.userId),
      t: typePartition(req.tenant, shard, event.type),
      e,
      x: expiresAt,
      // A replay of the key with other content is detected by the writer (and the first kept).
      ...(event.idempotencyKey !== undefined && { h: payloadDigest(event) }),
    };
    named.push({ index, ref: { shard, internalId } });
    // The same idempotency key twice in one request is one event: enqueue it once.
    const key = `${item.pk}/${item.sk}`;
    const existing = entryOfKey.get(key);
    if (existing !== undefined) {
      existing.positions.push(index);
      return;
    }
    const pending = { entry: { item, idempotent: event.idempotencyKey !== undefined }, positions: [index] };
    entryOfKey.set(key, pending);
    entries.push(pending);
  });

  encodePublicIds(
    deps.keyring,
    req.tenant,
    named.map((n) => n.ref),
  ).forEach((id, i) => {
    results[(named[i] as { index: number }).index] = { id };
  });

  // Pack the request's events into as few messages as fit one SQS billing chunk each.
  const encoded = entries.map((pending) => encodeEntry(pending.entry));
  const budget = MESSAGE_BUDGET_BYTES - attributeBytes(req.correlationId);
  const messages: QueueMessage[] = [];
  /** Request positions per message id. */
  const positions = new Map<string, number[]>();
  for (const group of packEntries(encoded, budget)) {
    const id = String(messages.length);
    positions.set(
      id,
      group.flatMap((i) => (entries[i] as { positions: number[] }).positions),
    );
    messages.push({
      id,
      body: messageBody(group.map((i) => encoded[i] as string)),
      groupId: req.tenant,
      ...(req.correlationId !== undefined && { correlationId: req.correlationId }),
    });
  }

  if (messages.length > 0) {
    const failed = await deps.queue.send(messages);
    if (failed.size === messages.length) {
      throw new ServiceUnavailableError('enqueue_failed', 'the events could not be queued; retry the request');
    }
    for (const messageId of failed) {
      for (const index of positions.get(messageId) ?? []) {
        results[index] = { error: { code: 'enqueue_failed', message: 'the event could not be queued; retry it' } };
      }
    }
  }

  const accepted = results.filter((result) => 'id' in result).length;
  if (!batch) {
    const only = results[0];
    if (only && 'error' in only) {
      if (only.error.code === 'event_too_large') throw new PayloadTooLargeError(only.error.code, only.error.message);
      throw new BadRequestError(only.error.code, only.error.message);
    }
  }
  return { single: !batch, results, accepted, rejected: results.length - accepted };
};

const sourceOf = (source: IngestRequest['source']): StoredEvent['source'] => ({
  ...(source.ip && { ip: source.ip }),
  ...(source.userAgent && { userAgent: source.userAgent.slice(0, LIMITS.maxUserAgentLength) }),
});
