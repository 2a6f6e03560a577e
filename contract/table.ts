/**
 * The events table's layout that the stack (lib/constructs/storage.ts) creates and the functions
 * (lambdas/core/item-keys.ts, lambdas/adapters/dynamo-store.ts) read and write.
 *
 *   pk = <tenant>#<shard>          tenant timeline (base table), spread over SHARD_COUNT shards
 *   sk = <internal id>             time-sortable; the sort key of every timeline
 *   u  = <tenant>#<hash(userId)>   user timeline (GSI byUser)
 *   t  = <tenant>#<shard>#<type>   type timeline (GSI byType), sharded like the tenant timeline
 *   e  = the event as JSON, x = expiry (epoch s, TTL), d = deletedAt (epoch ms),
 *   p  = purge partition `D#<shard>`, set only on soft-deleted items: the sparse GSI byPurge (p, d)
 *        lists what the cleanup may purge, oldest deletion first, across tenants
 *   h  = payload digest, only on idempotency-keyed events (a replay with other content is detected)
 *
 * Attribute names are one letter because every byte of every item is paid for on each write.
 */
export const ATTRIBUTES = {
  partitionKey: 'pk',
  sortKey: 'sk',
  userKey: 'u',
  typeKey: 't',
  purgeKey: 'p',
  event: 'e',
  expiresAt: 'x',
  deletedAt: 'd',
} as const;

export const GSI_BY_USER = 'byUser';
export const GSI_BY_TYPE = 'byType';
export const GSI_BY_PURGE = 'byPurge';

/** The global secondary indexes, in the order the table declares them. */
export const INDEXES = {
  // Keys only: a full copy of every event in each timeline index would be stored (and billed
  // every month of retention) twice more; a page read through them fetches its items from the
  // table with one BatchGetItem instead (lambdas/adapters/dynamo-store.ts).
  [GSI_BY_USER]: { partitionKey: ATTRIBUTES.userKey, sortKey: ATTRIBUTES.sortKey, projection: 'KEYS_ONLY' },
  [GSI_BY_TYPE]: { partitionKey: ATTRIBUTES.typeKey, sortKey: ATTRIBUTES.sortKey, projection: 'KEYS_ONLY' },
  // Sparse: only soft-deleted items carry `p`, so it costs a write per delete, not per event.
  [GSI_BY_PURGE]: { partitionKey: ATTRIBUTES.purgeKey, sortKey: ATTRIBUTES.deletedAt, projection: 'KEYS_ONLY' },
} as const;

/**
 * Per-tenant rate counters (lambdas/adapters/dynamo-rate-counter.ts) live in the same table:
 *
 *   pk = $rate#<tenant>, sk = <epoch second>, r = requests, v = events taken in that second,
 *   x = expiry (TTL, a minute later)
 *
 * `$` never starts a tenant id, so no event key can take these partitions; no index attribute is
 * set, so one update is exactly one write unit. The functions that only limit (ingest) may touch
 * no other partition (an IAM `dynamodb:LeadingKeys` condition, lib/constructs/functions.ts).
 */
export const RATE_PARTITION_PREFIX = '$rate#';
