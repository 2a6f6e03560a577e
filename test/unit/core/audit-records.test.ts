import { AUDIT_ACTIONS, auditEntry, auditEvent, auditRecorder, isAuditRecord } from '../../../lambdas/core/audit-records';
import { checkEvent } from '../../../lambdas/core/envelope';
import type { EventQueue } from '../../../lambdas/core/ingest';
import { ingest } from '../../../lambdas/core/ingest';
import { restore, softDelete } from '../../../lambdas/core/lifecycle';
import { decodeMessage } from '../../../lambdas/core/message';
import { encodePublicId } from '../../../lambdas/core/public-id';
import { getEvent } from '../../../lambdas/core/query';
import { MemoryTable, RecordingQueue, testKeyring } from '../../support/fakes';

const NOW = Date.parse('2026-11-21T12:00:00Z');
const keyring = testKeyring();
const base = { shardCount: 2, retentionDays: () => 30, now: () => NOW };

describe('audit records', () => {
  it('builds the record of an action: reserved type, actor as userId, client id in details, the target', () => {
    const event = auditEvent(
      {
        action: AUDIT_ACTIONS.eventDeleted,
        actor: { subject: 'admin-7', clientId: 'app-1' },
        target: { type: 'event', id: 'PUBLIC' },
        details: { note: 'x' },
        source: { ip: '10.0.0.1' },
        at: NOW - 1000,
      },
      NOW,
    );
    expect(event).toEqual({
      type: 'activity-tracker.event.deleted',
      userId: 'admin-7',
      occurredAt: new Date(NOW - 1000).toISOString(),
      target: { type: 'event', id: 'PUBLIC' },
      details: { clientId: 'app-1', note: 'x' },
      receivedAt: new Date(NOW).toISOString(),
      source: { ip: '10.0.0.1' },
    });
    expect(isAuditRecord(event)).toBe(true);
  });

  it('names the client as actor when the token has no subject', () => {
    expect(auditEvent({ action: 'x.y', actor: { clientId: 'svc' }, target: { type: 'event', id: 'i' } }, NOW).userId).toBe('svc');
  });

  it('gives a keyed record the same item for the same key and time, and a fresh one without a key', () => {
    const action = { action: 'event.deleted', actor: { subject: 'a' }, target: { type: 'event', id: 'i' }, idempotencyKey: 'i', at: NOW };
    const first = auditEntry('acme', action, base);
    const again = auditEntry('acme', { ...action, actor: { subject: 'b' } }, { ...base, now: () => NOW + 5000 });
    expect(first.idempotent).toBe(true);
    expect([again.item.pk, again.item.sk]).toEqual([first.item.pk, first.item.sk]);
    expect(again.item.h).not.toBe(first.item.h);
    const plain = auditEntry('acme', { ...action, idempotencyKey: undefined }, base);
    expect(plain.idempotent).toBe(false);
    expect(plain.item.sk).not.toBe(auditEntry('acme', { ...action, idempotencyKey: undefined }, base).item.sk);
  });

  it("never shares an item with a client event, whatever key the client sends (a client cannot take an audit record's place)", async () => {
    const action = {
      action: 'event.deleted',
      actor: { subject: 'a' },
      target: { type: 'event', id: 'PUBLIC' },
      idempotencyKey: 'PUBLIC',
      at: NOW,
    };
    const audit = auditEntry('acme', action, base).item;
    // The client sends the audit record's own key material, at the same instant.
    const queue = new RecordingQueue();
    const body = JSON.stringify({
      type: 'x.y',
      userId: 'u',
      occurredAt: new Date(NOW).toISOString(),
      idempotencyKey: 'activity-tracker.event.deleted:PUBLIC',
    });
    await ingest({ tenant: 'acme', body, contentType: 'application/json', source: {} }, { ...base, queue, keyring });
    const [client] = decodeMessage(queue.sent[0]?.body ?? '');
    expect(client?.item.sk).toBeDefined();
    expect(client?.item.sk).not.toBe(audit.sk);
  });

  it('sends the record through the events queue and fails with enqueue_failed when the queue refuses it', async () => {
    const queue = new RecordingQueue();
    await auditRecorder({ ...base, queue })('acme', {
      action: 'event.restored',
      actor: { subject: 'a' },
      target: { type: 'event', id: 'i' },
    });
    const [entry] = decodeMessage(queue.sent[0]?.body ?? '');
    expect(entry?.item.pk).toMatch(/^acme#[01]$/);
    expect(JSON.parse(entry?.item.e ?? '{}')).toMatchObject({ type: 'activity-tracker.event.restored', userId: 'a' });
    const refusing: EventQueue = { send: async (messages) => new Set(messages.map((m) => m.id)) };
    await expect(
      auditRecorder({ ...base, queue: refusing })('acme', { action: 'a.b', actor: {}, target: { type: 'event', id: 'i' } }),
    ).rejects.toMatchObject({ status: 503, code: 'enqueue_failed' });
  });

  it('refuses client events with the reserved prefix (type_reserved), and only that prefix', () => {
    expect(checkEvent({ type: 'activity-tracker.event.deleted', userId: 'u' }, NOW)).toMatchObject({
      ok: false,
      error: { code: 'type_reserved' },
    });
    expect(checkEvent({ type: 'activity-tracker', userId: 'u' }, NOW)).toMatchObject({ ok: true });
    expect(checkEvent({ type: 'activity-trackers.x', userId: 'u' }, NOW)).toMatchObject({ ok: true });
  });

  it('answers a single reserved event with 400 type_reserved at ingest', async () => {
    await expect(
      ingest(
        { tenant: 'acme', body: JSON.stringify({ type: 'activity-tracker.x', userId: 'u' }), contentType: 'application/json', source: {} },
        { ...base, queue: new RecordingQueue(), keyring },
      ),
    ).rejects.toMatchObject({ status: 400, code: 'type_reserved' });
  });

  it('cannot be deleted or restored, and stays readable', async () => {
    const table = new MemoryTable();
    const { item } = auditEntry('acme', { action: 'event.deleted', actor: { subject: 'a' }, target: { type: 'event', id: 'i' } }, base);
    await table.putBatch([item]);
    const id = encodePublicId(keyring, 'acme', { shard: Number(item.pk.split('#')[1]), internalId: item.sk });
    const deps = { store: table, keyring, deleteGraceDays: 30, now: () => NOW };
    await expect(softDelete('acme', id, deps)).rejects.toMatchObject({ status: 403, code: 'audit_record_immutable' });
    await expect(restore('acme', id, deps)).rejects.toMatchObject({ status: 403, code: 'audit_record_immutable' });
    expect(await getEvent('acme', id, { store: table, keyring, shardCount: 2, now: () => NOW })).toMatchObject({
      type: 'activity-tracker.event.deleted',
    });
  });
});
