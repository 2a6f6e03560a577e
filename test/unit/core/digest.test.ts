import { constants, generateKeyPairSync, privateEncrypt, verify } from 'node:crypto';
import { runCleanup } from '../../../lambdas/core/cleanup';
import { canonicalJson, HOUR_MS, leafHash, type SignedDigest } from '../../../lambdas/core/digest';
import { sealDigests } from '../../../lambdas/core/digest-seal';
import { formatReport, verifyDigests } from '../../../lambdas/core/digest-verify';
import { requestErasure } from '../../../lambdas/core/erasure';
import { ingest } from '../../../lambdas/core/ingest';
import type { EventItem } from '../../../lambdas/core/item-keys';
import { softDelete } from '../../../lambdas/core/lifecycle';
import { writeBatch } from '../../../lambdas/core/writer';
import { MemoryBucket, MemoryTable, RecordingQueue, testKeyring } from '../../support/fakes';

const DAY = 86_400_000;
const T0 = Date.parse('2026-11-21T10:00:00Z');
const keyring = testKeyring();
const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
/** DER DigestInfo prefix of SHA-256: a PKCS #1 v1.5 signature of a precomputed hash, as KMS makes it for MessageType DIGEST. */
const SHA256_PREFIX = Buffer.from('3031300d060960864801650304020105000420', 'hex');
const signer = {
  keyId: 'test-key',
  sign: async (hash: Buffer) =>
    privateEncrypt({ key: privateKey, padding: constants.RSA_PKCS1_PADDING }, Buffer.concat([SHA256_PREFIX, hash])),
};
const verifySignature = (bytes: Buffer, signature: Buffer) => verify('sha256', bytes, publicKey, signature);

/** Ingests and writes through the real cores at `at`, stored at `storedAt`. */
const store = async (table: MemoryTable, events: object[], at: number, storedAt = at): Promise<string[]> => {
  const queue = new RecordingQueue();
  const out = await ingest(
    { tenant: 'acme', body: JSON.stringify({ events }), contentType: 'application/json', source: {} },
    { queue, keyring, shardCount: 2, retentionDays: () => 30, now: () => at },
  );
  await writeBatch(
    queue.sent.map((m, i) => ({ messageId: String(i), body: m.body, receiveCount: 1 })),
    { store: table, now: () => storedAt },
  );
  await table.registerTenant('acme');
  return out.results.map((r) => (r as { id: string }).id);
};

const seal = (table: MemoryTable, bucket: MemoryBucket, now: number) =>
  sealDigests({ store: table, signer, bucket, shardCount: 2, periodMs: HOUR_MS, now: () => now });

const check = (table: MemoryTable, bucket: MemoryBucket, now?: number) =>
  verifyDigests({
    ...(now !== undefined && { now }),
    tenant: 'acme',
    digests: [...bucket.objects.entries()]
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([key, body]) => ({ key, signed: JSON.parse(body) as SignedDigest })),
    items: table.all().filter((item) => item.pk.startsWith('acme#')),
    verifySignature,
  });

/** A day of activity: events every hour, a delete purged later, an erasure, retention expiry. */
const day = async () => {
  const table = new MemoryTable();
  const bucket = new MemoryBucket();
  const ids = await store(
    table,
    [
      { type: 'login', userId: 'ann' },
      { type: 'login', userId: 'bob' },
      { type: 'view', userId: 'eve' },
    ],
    T0,
  );
  await store(table, [{ type: 'view', userId: 'ann' }], T0 + HOUR_MS);
  // A backfill: occurred a week ago, stored now (the late log finds it).
  await store(table, [{ type: 'imported', userId: 'ann', occurredAt: new Date(T0 - 7 * DAY).toISOString() }], T0 + HOUR_MS + 60_000);
  expect(await seal(table, bucket, T0 + 3 * HOUR_MS)).toMatchObject({ digests: 2, events: 5 });
  await softDelete('acme', ids[1] as string, { store: table, keyring, deleteGraceDays: 0, now: () => T0 + 3 * HOUR_MS });
  await requestErasure(
    'acme',
    { body: '{"userId":"eve"}', contentType: 'application/json' },
    { store: table, keyring, maxOpenErasures: 5, now: () => T0 + 3 * HOUR_MS },
  );
  await runCleanup({ store: table, shardCount: 2, deleteGraceDays: 0, retentionDays: () => 30, now: () => T0 + 4 * HOUR_MS });
  await store(table, [{ type: 'logout', userId: 'ann' }], T0 + 4 * HOUR_MS);
  expect(await seal(table, bucket, T0 + 6 * HOUR_MS)).toMatchObject({ digests: 1, events: 1, removals: 2 });
  return { table, bucket };
};

describe('digests', () => {
  it('hashes a leaf with its salt: the same content with another salt has another hash, and the salt is per event', () => {
    const item: EventItem = { pk: 'acme#0', sk: 'A'.repeat(24), u: 'u', t: 't', e: '{"type":"a"}', x: 1, s: 'AAAAAAAAAAAAAAAAAAAAAA' };
    expect(leafHash(item)).not.toBe(leafHash({ ...item, s: 'BBBBBBBBBBBBBBBBBBBBBB' }));
    expect(leafHash(item)).toBe(leafHash({ ...item, d: 5, p: 'D#0' }));
    expect(leafHash(item)).not.toBe(leafHash({ ...item, e: '{"type":"b"}' }));
    expect(canonicalJson({ b: 1, a: [2, { d: 3, c: undefined }] })).toBe('{"a":[2,{"d":3}],"b":1}');
  });

  it('verifies a day of activity with a delete, a purge, an erasure and, later, retention expiry', async () => {
    const { table, bucket } = await day();
    const report = check(table, bucket);
    expect(report.problems).toEqual([]);
    expect(report).toMatchObject({ ok: true, digests: 3, eventsVerified: 4, removals: { purge: 1, erasure: 1 } });
    // The erased event's leaf is still in the bucket; its salt is gone with it.
    const bodies = [...bucket.objects.values()].join('');
    expect(bodies).not.toContain('"eve"');
    // Retention: everything expires; the cleanup deletes it and the committed expiry accounts for it.
    await runCleanup({ store: table, shardCount: 2, deleteGraceDays: 0, retentionDays: () => 30, now: () => T0 + 31 * DAY });
    await seal(table, bucket, T0 + 31 * DAY + 2 * HOUR_MS);
    const later = check(table, bucket);
    expect(later.problems).toEqual([]);
    expect(later.removals).toMatchObject({ retention: 4, purge: 1, erasure: 1 });
  });

  it('puts a late event into the digest of the period it was stored in', async () => {
    const { bucket } = await day();
    const second = JSON.parse([...bucket.objects.values()][1] as string) as SignedDigest;
    expect(second.digest).toMatchObject({ from: new Date(T0 + HOUR_MS).toISOString(), to: new Date(T0 + 2 * HOUR_MS).toISOString() });
    expect(second.digest.events).toHaveLength(2);
  });

  it('names an edited event', async () => {
    const { table, bucket } = await day();
    const victim = table.all().find((i) => i.pk.startsWith('acme#')) as EventItem;
    table.items.set(table.key(victim), { ...victim, e: victim.e.replace('"login"', '"logout"') });
    const report = check(table, bucket);
    expect(report.ok).toBe(false);
    expect(report.problems.map((p) => p.kind)).toEqual(['event edited']);
    expect(formatReport('acme', report)[0]).toMatch(/^FAILED: tenant acme: .* 1 problems$/);
  });

  it('names an event inserted outside any digest', async () => {
    const { table, bucket } = await day();
    const copy = table.all().find((i) => i.pk.startsWith('acme#')) as EventItem;
    table.items.set(table.key({ ...copy, sk: `${copy.sk.slice(0, 20)}ZZZZ` }), { ...copy, sk: `${copy.sk.slice(0, 20)}ZZZZ` });
    expect(check(table, bucket).problems.map((p) => p.kind)).toEqual(['event inserted outside any digest']);
  });

  it('names an event missing without a signed removal record', async () => {
    const { table, bucket } = await day();
    const victim = table.all().find((i) => i.pk.startsWith('acme#')) as EventItem;
    table.items.delete(table.key(victim));
    expect(check(table, bucket).problems.map((p) => p.kind)).toEqual(['event missing without a signed removal record']);
  });

  it('accounts for an event DynamoDB TTL deleted once its signed expiry passed, before any cleanup run', async () => {
    const { table, bucket } = await day();
    const victim = table.all().find((i) => i.pk.startsWith('acme#')) as EventItem;
    table.items.delete(table.key(victim));
    // Before its expiry the same deletion is tampering; after it, retention (TTL needs no cleanup run).
    expect(check(table, bucket, victim.x * 1000 - 1).problems.map((p) => p.kind)).toEqual([
      'event missing without a signed removal record',
    ]);
    const report = check(table, bucket, victim.x * 1000);
    expect(report.problems).toEqual([]);
    expect(report.removals).toMatchObject({ retention: 1 });
  });

  it('names a digest removed from the chain, and a digest whose signature does not verify', async () => {
    const { table, bucket } = await day();
    const keys = [...bucket.objects.keys()].sort();
    const second = bucket.objects.get(keys[1] as string) as string;
    bucket.objects.delete(keys[1] as string);
    const kinds = check(table, bucket).problems.map((p) => p.kind);
    expect(kinds).toContain('digest missing or out of chain');
    bucket.objects.set(keys[1] as string, second.replace('"sequence":2', '"sequence":7'));
    expect(check(table, bucket).problems.map((p) => p.kind)).toContain('bad signature');
  });
});
