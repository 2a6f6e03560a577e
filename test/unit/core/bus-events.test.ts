import { makeEvents } from '../../../bench/workload';
import { toBusEvents, UnpublishableChangeError, type TableChange } from '../../../lambdas/core/bus-events';
import { runCleanup } from '../../../lambdas/core/cleanup';
import { openUserId, sealUserId } from '../../../lambdas/core/erasure-user';
import { requestErasure } from '../../../lambdas/core/erasure';
import { ingest } from '../../../lambdas/core/ingest';
import { ERASURE_WORK_PARTITION, type ErasureWorkItem, type EventItem } from '../../../lambdas/core/item-keys';
import { restore, softDelete } from '../../../lambdas/core/lifecycle';
import { decodeMessage } from '../../../lambdas/core/message';
import { packItem } from '../../../lambdas/core/payload';
import { getEvent } from '../../../lambdas/core/query';
import { lambdaStreamImage, MemoryTable, RecordingQueue, SECRET_V2, testKeyring } from '../../support/fakes';

const NOW = Date.parse('2026-11-21T12:00:00Z');
const keyring = testKeyring();
const change = (eventName: TableChange['eventName'], oldImage?: object, newImage?: object, at = NOW): TableChange => ({
  eventName,
  ...(oldImage && { oldImage: { ...oldImage } as Record<string, unknown> }),
  ...(newImage && { newImage: { ...newImage } as Record<string, unknown> }),
  approximateCreationMs: at,
});

const seed = async (table: MemoryTable, tenant: string, event: object): Promise<{ id: string; item: EventItem }> => {
  const queue = new RecordingQueue();
  const out = await ingest(
    { tenant, body: JSON.stringify(event), contentType: 'application/json', source: { ip: '203.0.113.9', userAgent: 'test' } },
    { queue, keyring, shardCount: 4, retentionDays: () => 365, now: () => NOW },
  );
  const [item] = queue.sent.flatMap((m) => decodeMessage(m.body).map((d) => d.item)) as [EventItem];
  await table.putBatch([item]);
  return { id: (out.results[0] as { id: string }).id, item };
};

/** Every string anywhere in a value. */
const strings = (value: unknown): string[] =>
  typeof value === 'string' ? [value] : typeof value === 'object' && value !== null ? Object.values(value).flatMap(strings) : [];

describe('bus events from table changes', () => {
  it('maps an inserted event to activity.recorded carrying exactly what GET /v1/events/{id} returns', async () => {
    const table = new MemoryTable();
    const { id, item } = await seed(table, 'acme', {
      type: 'customer.billed',
      userId: 'u-42',
      target: { type: 'invoice', id: 'inv-9' },
      details: { amount: 1200 },
    });
    const events = toBusEvents(change('INSERT', undefined, item), keyring);
    expect(events).toHaveLength(1);
    const [event] = events;
    expect(event?.detailType).toBe('activity.recorded');
    const viaApi = await getEvent('acme', id, { store: table, keyring, shardCount: 4, now: () => NOW });
    expect(event?.detail).toEqual({ tenant: 'acme', event: viaApi });
    expect(JSON.stringify(event?.detail)).toBe(JSON.stringify({ tenant: 'acme', event: viaApi }));
  });

  it('never carries an internal id, a table key or another attribute of the item', async () => {
    const table = new MemoryTable();
    const { item } = await seed(table, 'acme', { type: 'login', userId: 'u-1' });
    const text = JSON.stringify(toBusEvents(change('INSERT', undefined, item), keyring));
    for (const internal of [item.sk, item.pk, item.u, item.t, `"x"`, `"e"`, `"pk"`, `"sk"`]) expect(text).not.toContain(internal);
  });

  it('maps a soft delete and a restore to activity.deleted and activity.restored with the public id', async () => {
    const table = new MemoryTable();
    const { id, item } = await seed(table, 'acme', { type: 'login', userId: 'u-1' });
    const lifecycle = { store: table, keyring, deleteGraceDays: 30, now: () => NOW + 1000 };
    await softDelete('acme', id, lifecycle);
    const deleted = (await table.get(item.pk, item.sk)) as EventItem;
    expect(toBusEvents(change('MODIFY', item, deleted, NOW + 1500), keyring)).toEqual([
      {
        detailType: 'activity.deleted',
        detail: { tenant: 'acme', id, at: new Date(NOW + 1000).toISOString() },
        time: new Date(NOW + 1500).toISOString(),
      },
    ]);
    await restore('acme', id, { ...lifecycle, now: () => NOW + 5000 });
    const restored = (await table.get(item.pk, item.sk)) as EventItem;
    expect(toBusEvents(change('MODIFY', deleted, restored, NOW + 5000), keyring)).toEqual([
      {
        detailType: 'activity.restored',
        detail: { tenant: 'acme', id, at: new Date(NOW + 5000).toISOString() },
        time: new Date(NOW + 5000).toISOString(),
      },
    ]);
  });

  it('publishes an event stored deflated (y instead of e) exactly like one stored plain, and as GET returns it', async () => {
    // The bench's 1 KB event, stored deflated against the envelope dictionary.
    const table = new MemoryTable();
    const { id, item } = await seed(table, 'acme', makeEvents(1, { startMs: NOW - 60_000 })[0] as object);
    const packed = packItem(item) as unknown as Record<string, unknown>;
    expect(packed.y).toBeInstanceOf(Uint8Array);
    expect(packed.e).toBeUndefined();
    // As the publisher gets it: the stream record's JSON carries the bytes as base64.
    const streamed = lambdaStreamImage(packed);
    expect(typeof streamed.y).toBe('string');
    const plain = toBusEvents(change('INSERT', undefined, item), keyring);
    const events = toBusEvents(change('INSERT', undefined, streamed), keyring);
    expect(events).toEqual(plain);
    expect(toBusEvents(change('INSERT', undefined, packed), keyring)).toEqual(plain);
    expect(events.map((e) => e.detailType)).toEqual(['activity.recorded']);
    const viaApi = await getEvent('acme', id, { store: table, keyring, shardCount: 4, now: () => NOW });
    expect(events[0]?.detail).toEqual({ tenant: 'acme', event: viaApi });
    expect(JSON.stringify(events[0]?.detail)).not.toContain('"y"');
    // Removals of a packed item publish nothing, as for a plain one.
    expect(toBusEvents(change('REMOVE', streamed, undefined), keyring)).toEqual([]);
  });

  it('maps a soft delete and a restore of an event stored deflated', async () => {
    const table = new MemoryTable();
    const { id, item } = await seed(table, 'acme', makeEvents(1, { startMs: NOW - 60_000 })[0] as object);
    const lifecycle = { store: table, keyring, deleteGraceDays: 30, now: () => NOW + 1000 };
    await softDelete('acme', id, lifecycle);
    const deleted = (await table.get(item.pk, item.sk)) as EventItem;
    await restore('acme', id, { ...lifecycle, now: () => NOW + 5000 });
    const restored = (await table.get(item.pk, item.sk)) as EventItem;
    const [p, pd, pr] = [item, deleted, restored].map((i) => lambdaStreamImage(packItem(i))) as [object, object, object];
    for (const i of [p, pd, pr]) expect(typeof (i as { y?: unknown }).y).toBe('string');
    expect(toBusEvents(change('MODIFY', p, pd, NOW + 1500), keyring)).toEqual([
      {
        detailType: 'activity.deleted',
        detail: { tenant: 'acme', id, at: new Date(NOW + 1000).toISOString() },
        time: new Date(NOW + 1500).toISOString(),
      },
    ]);
    expect(toBusEvents(change('MODIFY', pd, pr, NOW + 5000), keyring)).toEqual([
      {
        detailType: 'activity.restored',
        detail: { tenant: 'acme', id, at: new Date(NOW + 5000).toISOString() },
        time: new Date(NOW + 5000).toISOString(),
      },
    ]);
    expect(toBusEvents(change('MODIFY', p, p), keyring)).toEqual([]);
  });

  it('publishes nothing for removals, unchanged modifications and items that are not events', async () => {
    const table = new MemoryTable();
    const { item } = await seed(table, 'acme', { type: 'login', userId: 'u-1' });
    expect(toBusEvents(change('REMOVE', item, undefined), keyring)).toEqual([]);
    expect(toBusEvents(change('MODIFY', item, item), keyring)).toEqual([]);
    expect(toBusEvents(change('INSERT', undefined, { pk: '$rate#acme', sk: '1764000000', r: 1 }), keyring)).toEqual([]);
    expect(toBusEvents(change('INSERT', undefined, { pk: '$tenants', sk: 'acme' }), keyring)).toEqual([]);
    expect(toBusEvents(change('INSERT', undefined, { pk: 'acme#E', sk: 'R', s: 'pending', n: 0, ra: NOW }), keyring)).toEqual([]);
  });

  it('maps the completion of an erasure to erasure.completed with the public receipt id and the userId', async () => {
    const table = new MemoryTable();
    await seed(table, 'acme', { type: 'login', userId: 'u-erased' });
    await table.registerTenant('acme');
    const receipt = await requestErasure(
      'acme',
      { body: JSON.stringify({ userId: 'u-erased' }), contentType: 'application/json' },
      { store: table, keyring, maxOpenErasures: 5, now: () => NOW },
    );
    const [pending] = table.partition<ErasureWorkItem>(ERASURE_WORK_PARTITION);
    const before = { ...pending } as ErasureWorkItem;
    expect(JSON.stringify(before)).not.toContain('u-erased');
    await runCleanup({ store: table, shardCount: 4, deleteGraceDays: 30, retentionDays: () => 365, now: () => NOW + 60_000 });
    const [completed] = table.partition<ErasureWorkItem>(ERASURE_WORK_PARTITION);
    const events = toBusEvents(change('MODIFY', before, completed), keyring);
    expect(events).toEqual([
      {
        detailType: 'erasure.completed',
        detail: {
          tenant: 'acme',
          erasureId: receipt.id,
          userId: 'u-erased',
          erased: 1,
          requestedAt: new Date(NOW).toISOString(),
          completedAt: new Date(NOW + 60_000).toISOString(),
        },
        time: new Date(NOW).toISOString(),
      },
    ]);
    const hashes = [before.uh, before.uk, before.rs, before.sk, before.us as string];
    for (const s of strings(events)) expect(hashes).not.toContain(s);
    // The sweep's later progress is not a second completion.
    expect(toBusEvents(change('MODIFY', completed, { ...completed, n: 2 }), keyring)).toEqual([]);
  });

  it('refuses to publish an erasure completion without a userId it can open', () => {
    const work = { pk: ERASURE_WORK_PARTITION, sk: 'R#acme', tn: 'acme', rs: '0'.repeat(24), uk: 'acme#h', uh: 'h', n: 1 };
    const done = { ...work, c: NOW, su: NOW + 1 };
    expect(() => toBusEvents(change('MODIFY', work, done), keyring)).toThrow(UnpublishableChangeError);
  });
});

describe('sealed userId of an erasure', () => {
  it('opens only for the tenant and receipt it was sealed for, and across key rotation', () => {
    const sealed = sealUserId(keyring, 'acme', 'R1', 'ü-42');
    expect(sealed).not.toContain('42');
    expect(openUserId(keyring, 'acme', 'R1', sealed)).toBe('ü-42');
    expect(openUserId(testKeyring(SECRET_V2), 'acme', 'R1', sealed)).toBe('ü-42');
    expect(openUserId(keyring, 'globex', 'R1', sealed)).toBeUndefined();
    expect(openUserId(keyring, 'acme', 'R2', sealed)).toBeUndefined();
    expect(openUserId(keyring, 'acme', 'R1', `${sealed.slice(0, -2)}AA`)).toBeUndefined();
    expect(openUserId(keyring, 'acme', 'R1', 'garbage')).toBeUndefined();
  });
});
