import { runCleanup } from '../../../lambdas/core/cleanup';
import { checkEvent } from '../../../lambdas/core/envelope';
import { requestErasure } from '../../../lambdas/core/erasure';
import { AppError } from '../../../lambdas/core/errors';
import { ingest, type IngestResult } from '../../../lambdas/core/ingest';
import { userPartition, type EventItem } from '../../../lambdas/core/item-keys';
import { decodeMessage } from '../../../lambdas/core/message';
import { parseEventQuery, queryEvents } from '../../../lambdas/core/query';
import { MemoryTable, RecordingQueue, testKeyring } from '../../support/fakes';

/** Issue 17, items 1, 6 and 8 at the core: bounded JSON, canonical ids, erasure by exact userId, from < to. */
const NOW = Date.parse('2026-11-21T12:00:00Z');
const keyring = testKeyring();
const nested = (levels: number, leaf = '0') => `${'['.repeat(levels)}${leaf}${']'.repeat(levels)}`;

const ingestText = async (body: string, table?: MemoryTable, tenant = 'acme'): Promise<IngestResult> => {
  const queue = new RecordingQueue();
  const { sent } = queue;
  const out = await ingest(
    { tenant, body, contentType: 'application/json', source: {} },
    {
      queue,
      keyring,
      shardCount: 2,
      retentionDays: () => 30,
      now: () => NOW,
    },
  );
  if (table) for (const { item } of sent.flatMap((m) => decodeMessage(m.body))) await table.putIfAbsent(item);
  return out;
};
const codes = (out: IngestResult) => out.results.map((r) => ('error' in r ? r.error.code : 'ok'));
const statusOf = async (body: string): Promise<number> => {
  try {
    await ingestText(body);
    return 202;
  } catch (error) {
    if (error instanceof AppError) return error.status;
    throw error;
  }
};

describe('bounded JSON at ingest (issue 17 item 1)', () => {
  it('answers a 20,000-level nested details with a per-event error and keeps the other events of the batch', async () => {
    const deep = `{"type":"a.b","userId":"u","details":{"x":${nested(20_000)}}}`;
    const out = await ingestText(`{"events":[{"type":"a","userId":"u1"},${deep},{"type":"b","userId":"u2"}]}`);
    expect(codes(out)).toEqual(['ok', 'details_too_deep', 'ok']);
    expect(await statusOf(deep)).toBe(400);
  });

  it('answers nesting at the top level of the body with 400, never a 5xx', async () => {
    expect(await statusOf(nested(20_000))).toBe(400);
    expect(codes(await ingestText(`{"events":${nested(20_000)}}`))).toEqual(['invalid_event']);
    expect(codes(await ingestText(`{"events":[${nested(20_000)},{"type":"a","userId":"u"}]}`))).toEqual(['invalid_event', 'ok']);
    expect(await statusOf(`${'{"a":'.repeat(20_000)}1${'}'.repeat(20_000)}`)).toBe(400);
    expect(await statusOf(`{"type":"a","userId":"u","target":${nested(20_000)}}`)).toBe(400);
  });

  it('allows 32 levels inside details and refuses 33', async () => {
    const at = (levels: number) => `{"type":"a","userId":"u","details":{"x":${nested(levels - 1)}}}`;
    expect(await statusOf(at(32))).toBe(202);
    expect(await statusOf(at(33))).toBe(400);
  });

  it.each([
    ['1e400', 'number_invalid'],
    ['-1e999', 'number_invalid'],
    ['9007199254740993', 'number_invalid'],
    ['-9007199254740993', 'number_invalid'],
    ['9007199254740991', 'ok'],
    ['1.5e300', 'ok'],
    ['"9007199254740993"', 'ok'],
  ])('details value %s → %s', async (literal, code) => {
    expect(codes(await ingestText(`{"events":[{"type":"a","userId":"u","details":{"n":${literal}}}]}`))).toEqual([code]);
  });

  it.each([
    ['details value', { details: { k: '\ud800' } }, 'string_invalid'],
    ['details key', { details: { 'a\udfff': 1 } }, 'string_invalid'],
    ['nested details value', { details: { k: [{ j: 'x\udc00y' }] } }, 'string_invalid'],
    ['userId', { userId: '\ud800' }, 'userId_invalid'],
    ['target.id', { target: { type: 'doc', id: 'a\ud800' } }, 'target_invalid'],
    ['idempotencyKey', { idempotencyKey: '\udfff', occurredAt: '2026-11-21T11:00:00Z' }, 'idempotencyKey_invalid'],
    ['type', { type: 'a\ud800' }, 'type_invalid'],
  ])('refuses a lone surrogate in the %s', (_, fields, code) => {
    const check = checkEvent({ type: 'a', userId: 'u', ...fields }, NOW);
    expect(check.ok ? 'ok' : check.error.code).toBe(code);
    if (!check.ok && code !== 'string_invalid' && code !== 'type_invalid') expect(check.error.message).toMatch(/not valid Unicode/);
  });
});

describe('canonical userId and target.id (issue 17 item 6)', () => {
  const nfc = 'Jos\u00e9';
  const nfd = 'Jose\u0301';

  it('stores NFC, so NFC and NFD spellings are one user: one partition, found by either spelling of the filter', async () => {
    const table = new MemoryTable();
    await ingestText(
      JSON.stringify({
        events: [
          { type: 'a', userId: nfc, target: { type: 'doc', id: nfd } },
          { type: 'a', userId: nfd },
        ],
      }),
      table,
    );
    const items = table.all();
    expect(items.map((i) => i.u)).toEqual([userPartition('acme', nfc), userPartition('acme', nfc)]);
    expect(items.map((i) => JSON.parse(i.e).userId)).toEqual([nfc, nfc]);
    const find = async (params: Record<string, string>) =>
      (
        await queryEvents('acme', parseEventQuery(Object.fromEntries(Object.entries(params).map(([k, v]) => [k, [v]]))), {
          store: table,
          keyring,
          shardCount: 2,
          now: () => NOW,
        })
      ).events;
    expect(await find({ userId: nfd })).toHaveLength(2);
    expect(await find({ userId: nfc })).toHaveLength(2);
    expect(await find({ targetId: nfc })).toHaveLength(1);
    expect(() => parseEventQuery({ userId: ['\ud800'] })).toThrow(/not valid Unicode/);
  });

  it('erases NFC and NFD spellings with one erasure request', async () => {
    const table = new MemoryTable();
    await ingestText(
      JSON.stringify({
        events: [
          { type: 'a', userId: nfc },
          { type: 'a', userId: nfd },
          { type: 'a', userId: 'other' },
        ],
      }),
      table,
    );
    await requestErasure('acme', { body: JSON.stringify({ userId: nfd }), contentType: 'application/json' }, erasureDeps(table));
    expect(await runCleanup(cleanupDeps(table))).toMatchObject({ erased: 2 });
    expect(table.all().map((i) => JSON.parse(i.e).userId)).toEqual(['other']);
  });

  it('refuses an erasure for an ill-formed userId', async () => {
    await expect(
      requestErasure(
        'acme',
        { body: JSON.stringify({ userId: '\ud800' }), contentType: 'application/json' },
        erasureDeps(new MemoryTable()),
      ),
    ).rejects.toMatchObject({ code: 'userId_invalid', message: expect.stringMatching(/not valid Unicode/) });
  });

  it('erasing "\\ufffd" neither hides nor deletes an event of "\\ud800" planted in the same user partition', async () => {
    const table = new MemoryTable();
    await ingestText(JSON.stringify({ events: [{ type: 'a', userId: '\ufffd' }] }), table);
    const [real] = table.all() as [EventItem];
    // Ingest refuses "\ud800" now; an item stored another way shares the partition (UTF-8 of a lone surrogate is U+FFFD's).
    expect(userPartition('acme', '\ud800')).toBe(real.u);
    const planted: EventItem = {
      ...real,
      sk: `${real.sk.slice(0, -1)}${real.sk.endsWith('Z') ? 'Y' : 'Z'}`,
      e: JSON.stringify({ ...JSON.parse(real.e), userId: '\ud800' }),
    };
    await table.putIfAbsent(planted);
    await requestErasure('acme', { body: JSON.stringify({ userId: '\ufffd' }), contentType: 'application/json' }, erasureDeps(table));
    const listed = await queryEvents('acme', parseEventQuery({}), { store: table, keyring, shardCount: 2, now: () => NOW });
    expect(listed.events.map((e) => e.userId)).toEqual(['\ud800']);
    expect(await runCleanup(cleanupDeps(table))).toMatchObject({ erased: 1 });
    expect(table.all().map((i) => i.sk)).toEqual([planted.sk]);
  });
});

describe('GET /v1/events from and to (issue 17 item 8)', () => {
  it.each([
    ['2026-11-21T10:00:00Z', '2026-11-21T09:00:00Z'],
    ['2026-11-21T10:00:00Z', '2026-11-21T10:00:00Z'],
    ['2026-11-21T10:00:00+01:00', '2026-11-21T09:00:00Z'],
  ])('refuses from=%s to=%s with 400 invalid_query naming both', (from, to) => {
    expect(() => parseEventQuery({ from: [from], to: [to] })).toThrow(
      expect.objectContaining({ status: 400, code: 'invalid_query', message: expect.stringMatching(/'from'.*'to'/) }),
    );
  });

  it('accepts from before to, and either alone', () => {
    expect(parseEventQuery({ from: ['2026-11-21T09:00:00Z'], to: ['2026-11-21T09:00:00.001Z'] }).from).toBe('2026-11-21T09:00:00Z');
    expect(parseEventQuery({ to: ['2000-01-01T00:00:00Z'] }).to).toBe('2000-01-01T00:00:00Z');
  });
});

const erasureDeps = (table: MemoryTable) => ({ store: table, keyring, maxOpenErasures: 10, now: () => NOW + 1000 });
const cleanupDeps = (table: MemoryTable) => ({
  store: table,
  shardCount: 2,
  deleteGraceDays: 30,
  retentionDays: () => 30,
  now: () => NOW + 2000,
});
