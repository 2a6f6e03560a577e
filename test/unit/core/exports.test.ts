import { gunzipSync } from 'node:zlib';
import { EXPORT_LIMITS } from '../../../contract';
import { csvCell, csvRow, encodeRows, ndjsonRow } from '../../../lambdas/core/export-encoding';
import {
  erasedSince,
  exportObjectKey,
  parseExportRequest,
  requestExport,
  runExport,
  withdrawErasedExports,
  type ExportFiles,
  type ExportJobItem,
  type ExportProgress,
  type ExportStore,
  type ExportWorkMessage,
} from '../../../lambdas/core/exports';
import { randomInternalId } from '../../../lambdas/core/ids';
import { ingest } from '../../../lambdas/core/ingest';
import type { ErasureMarkerItem } from '../../../lambdas/core/item-keys';
import { decodeMessage } from '../../../lambdas/core/message';
import type { PublicEvent } from '../../../lambdas/core/query';
import { MemoryTable, RecordingQueue, testKeyring } from '../../support/fakes';

const keyring = testKeyring();
const NOW = Date.parse('2026-11-21T12:00:00Z');
const SHARDS = 2;

const event = (over: Partial<PublicEvent> = {}): PublicEvent => ({
  id: 'id1',
  type: 'login',
  userId: 'u1',
  occurredAt: '2026-11-21T10:00:00Z',
  receivedAt: '2026-11-21T10:00:01Z',
  source: { ip: '10.0.0.1', userAgent: 'curl' },
  ...over,
});

describe('export encoding', () => {
  it.each(['=1+1', '+1', '-1', '@SUM(A1)', '\tx', '\rx'])('escapes a cell starting a formula: %j', (value) => {
    expect(csvCell(value).replace(/^"|"$/g, '').startsWith("'")).toBe(true);
  });

  it('quotes commas, quotes and line breaks (RFC 4180) and keeps unicode as is', () => {
    expect(csvCell('a,b')).toBe('"a,b"');
    expect(csvCell('say "hi"')).toBe('"say ""hi"""');
    expect(csvCell('two\nlines')).toBe('"two\nlines"');
    expect(csvCell('Zoë 日本 🙂')).toBe('Zoë 日本 🙂');
    expect(csvCell('=a,b')).toBe(`"'=a,b"`);
  });

  it('writes the fixed columns with details as JSON, and one NDJSON line per event', () => {
    const e = event({ target: { type: 'doc', id: '-d1' }, details: { note: 'a\nb', n: 1 } });
    expect(csvRow(e)).toBe(
      `id1,login,u1,2026-11-21T10:00:00Z,2026-11-21T10:00:01Z,doc,'-d1,10.0.0.1,curl,"{""note"":""a\\nb"",""n"":1}"\r\n`,
    );
    expect(ndjsonRow(e).split('\n')).toHaveLength(2);
    expect(JSON.parse(ndjsonRow(e))).toEqual(e);
    expect(encodeRows('csv', [e], true).startsWith('id,type,userId,')).toBe(true);
    expect(encodeRows('csv', [e], false).startsWith('id1,')).toBe(true);
  });
});

describe('export requests', () => {
  it('names the field that is wrong', () => {
    const parse = (body: unknown) => () => parseExportRequest(JSON.stringify(body), 'application/json');
    expect(parse({ format: 'pdf' })).toThrow(/format/);
    expect(parse({ format: 'csv', userId: 7 })).toThrow(/userId/);
    expect(parse({ format: 'csv', from: '2026-11-02T00:00:00Z', to: '2026-11-01T00:00:00Z' })).toThrow(/from/);
    expect(parse({ format: 'csv', type: 'Bad Type' })).toThrow(/type/);
    expect(parse({ format: 'csv', extra: 1 })).toThrow(/extra/);
    expect(() => parseExportRequest('{', 'application/json')).toThrow(/JSON/);
    expect(() => parseExportRequest('{}', 'text/plain')).toThrow(/JSON/);
  });
});

describe('pending export requests per tenant', () => {
  const request = (store: ExportStore, now = NOW) =>
    requestExport(
      'acme',
      { body: JSON.stringify({ format: 'ndjson' }), contentType: 'application/json' },
      { store, keyring, enqueue: async () => undefined, expiryDays: 7, now: () => now },
    );

  it(`refuses the request beyond EXPORT_LIMITS.maxPending (${EXPORT_LIMITS.maxPending}) pending with 429 too_many_exports, naming the limit`, async () => {
    const store = new MemoryExports();
    for (let i = 0; i < EXPORT_LIMITS.maxPending; i += 1) await request(store);
    await expect(request(store)).rejects.toMatchObject({
      status: 429,
      code: 'too_many_exports',
      message: expect.stringContaining(`at most ${EXPORT_LIMITS.maxPending} export requests may be pending`),
    });
    expect(store.jobs.size).toBe(EXPORT_LIMITS.maxPending);
  });

  it('counts only pending jobs: a completed or failed one, or one past its expiry, frees a place', async () => {
    const store = new MemoryExports();
    for (let i = 0; i < EXPORT_LIMITS.maxPending; i += 1) await request(store);
    const [first, second] = [...store.jobs.values()];
    await store.finish('acme', first!.sk, 'pending', { s: 'completed', ca: NOW, q: first!.q });
    await expect(request(store)).resolves.toMatchObject({ status: 'pending' });
    await expect(request(store)).rejects.toMatchObject({ code: 'too_many_exports' });
    await store.finish('acme', second!.sk, 'pending', { s: 'failed', why: 'error', ca: NOW, q: second!.q });
    await expect(request(store)).resolves.toMatchObject({ status: 'pending' });
    // Nine days on, every job is past its TTL (expiry days + 1) and no longer counts.
    await expect(request(store, NOW + 9 * 86_400_000)).resolves.toMatchObject({ status: 'pending' });
  });
});

class MemoryExports implements ExportStore {
  readonly jobs = new Map<string, ExportJobItem>();
  markers: ErasureMarkerItem[] = [];
  async putJob(job: ExportJobItem) {
    this.jobs.set(job.sk, { ...job });
  }
  async countPending(_tenant: string, nowSeconds: number) {
    return [...this.jobs.values()].filter((j) => j.s === 'pending' && j.x > nowSeconds).length;
  }
  async getJob(_tenant: string, id: string) {
    const job = this.jobs.get(id);
    return job && structuredClone(job);
  }
  async saveProgress(_tenant: string, id: string, expected: number, p: ExportProgress) {
    const job = this.jobs.get(id)!;
    if (job.s !== 'pending' || job.np !== expected || (job.up !== undefined && job.up !== p.up)) return false;
    const { cu: _old, ...rest } = job;
    this.jobs.set(id, {
      ...rest,
      up: p.up,
      pt: p.pt,
      np: p.pt.length,
      fin: p.fin,
      n: p.n,
      b: p.b,
      ...(p.cu !== undefined && { cu: p.cu }),
    });
    return true;
  }
  async finish(
    _tenant: string,
    id: string,
    from: ExportJobItem['s'],
    to: { s: 'completed' | 'failed'; why?: 'erased' | 'error'; ca: number; q: string },
  ) {
    const job = this.jobs.get(id)!;
    if (job.s !== from) return false;
    this.jobs.set(id, { ...job, ...to });
    return true;
  }
  async listMarkers() {
    return this.markers;
  }
  async listJobs() {
    return [...this.jobs.values()].map((j) => structuredClone(j));
  }
}

class MemoryFiles implements ExportFiles {
  readonly uploads = new Map<string, Map<number, Buffer>>();
  readonly objects = new Map<string, Buffer>();
  partSizes: number[] = [];
  async startUpload() {
    const id = `up${this.uploads.size + 1}`;
    this.uploads.set(id, new Map());
    return id;
  }
  async uploadPart(_key: string, uploadId: string, n: number, body: Buffer) {
    this.uploads.get(uploadId)!.set(n, body);
    this.partSizes.push(body.length);
    return `etag${n}`;
  }
  async completeUpload(key: string, uploadId: string, parts: readonly { n: number }[]) {
    const upload = this.uploads.get(uploadId)!;
    this.objects.set(key, Buffer.concat(parts.map((p) => upload.get(p.n)!)));
  }
  async remove(key: string, uploadId: string | undefined) {
    if (uploadId) this.uploads.delete(uploadId);
    this.objects.delete(key);
  }
  async downloadUrl(key: string) {
    return `memory://${key}`;
  }
}

const seed = async (table: MemoryTable, count: number) => {
  const queue = new RecordingQueue();
  for (let start = 0; start < count; start += 500) {
    const events = Array.from({ length: Math.min(500, count - start) }, (_, i) => ({
      type: 'page.viewed',
      userId: (start + i) % 3 === 0 ? 'alice' : 'bob',
      occurredAt: new Date(NOW - 3_600_000 + start + i).toISOString(),
      details: { n: start + i, pad: 'x'.repeat(200) },
    }));
    await ingest(
      { tenant: 'acme', body: JSON.stringify({ events }), contentType: 'application/json', source: {} },
      { queue, keyring, shardCount: SHARDS, retentionDays: () => 30, now: () => NOW },
    );
  }
  await table.putBatch(queue.sent.flatMap((m) => decodeMessage(m.body).map((d) => d.item)));
};

const setup = async (count: number, body: object) => {
  const table = new MemoryTable();
  await seed(table, count);
  const store = new MemoryExports();
  const files = new MemoryFiles();
  const sent: ExportWorkMessage[] = [];
  const accepted = await requestExport(
    'acme',
    { body: JSON.stringify(body), contentType: 'application/json' },
    { store, keyring, enqueue: async (m) => void sent.push(m), expiryDays: 7, now: () => NOW },
  );
  expect(accepted.status).toBe('pending');
  const deps = { store, events: table, files, keyring, shardCount: SHARDS, now: () => NOW, pageSize: 100, partBytes: 5 * 1024 };
  return { table, store, files, message: sent[0]!, deps };
};

const lines = (file: Buffer) => gunzipSync(file).toString('utf8').split('\n').filter(Boolean);

describe('export runs', () => {
  it('pages through the whole timeline into parts of gzip members, one file that gunzips whole', async () => {
    const { store, files, message, deps } = await setup(1200, { format: 'ndjson' });
    expect(await runExport(message, { ...deps, remainingMs: () => 60_000 })).toBe('completed');
    const file = [...files.objects.values()][0]!;
    const ns = lines(file).map((l) => JSON.parse(l).details.n);
    expect(ns).toEqual(Array.from({ length: 1200 }, (_, i) => i));
    expect(files.partSizes.length).toBeGreaterThan(2);
    expect(files.partSizes.slice(0, -1).every((size) => size >= 5 * 1024)).toBe(true);
    expect(store.jobs.get(message.job)).toMatchObject({ s: 'completed', n: 1200, b: file.length });
  });

  it('resumes from the saved progress after running out of time, with nothing lost or repeated', async () => {
    const { store, files, message, deps } = await setup(1500, { format: 'csv', userId: 'alice' });
    let budget = 0;
    let runs = 0;
    let outcome: string;
    do {
      runs += 1;
      // Each run may read a few pages before its time runs low: it stops mid-part, losing only that part.
      budget = 4;
      outcome = await runExport(message, { ...deps, stopBeforeMs: 1, remainingMs: () => (budget-- > 0 ? 60_000 : 0) });
    } while (outcome === 'continue' && runs < 200);
    expect(outcome).toBe('completed');
    expect(runs).toBeGreaterThan(1);
    const rows = gunzipSync([...files.objects.values()][0]!)
      .toString('utf8')
      .split('\r\n')
      .filter(Boolean);
    expect(rows[0]!.startsWith('id,type,userId')).toBe(true);
    expect(rows.filter((r) => r.startsWith('id,'))).toHaveLength(1);
    expect(rows).toHaveLength(1 + 500);
    expect(rows.slice(1).every((r) => r.includes(',alice,'))).toBe(true);
    expect(new Set(rows).size).toBe(rows.length);
    expect(store.jobs.get(message.job)!.n).toBe(500);
  });

  it('exports an empty selection as a valid empty file', async () => {
    const { files, message, deps } = await setup(10, { format: 'ndjson', userId: 'nobody' });
    expect(await runExport(message, { ...deps, remainingMs: () => 60_000 })).toBe('completed');
    expect(lines([...files.objects.values()][0]!)).toEqual([]);
  });

  it("fails as erased, deleting the upload, when the user's erasure is requested while the export is pending", async () => {
    const { store, files, message, deps } = await setup(1000, { format: 'ndjson', userId: 'alice' });
    let budget = 2;
    expect(await runExport(message, { ...deps, stopBeforeMs: 1, remainingMs: () => (budget-- > 0 ? 60_000 : 0) })).toBe('continue');
    const job = store.jobs.get(message.job)!;
    expect(job.np).toBeGreaterThan(0);
    store.markers = [{ pk: 'acme#X', sk: job.uk!, r: randomInternalId(NOW + 1000), uh: job.uh!, ra: NOW + 1000 }];
    expect(await runExport(message, { ...deps, remainingMs: () => 60_000 })).toBe('erased');
    expect(store.jobs.get(message.job)).toMatchObject({ s: 'failed', why: 'erased' });
    expect(files.uploads.size).toBe(0);
    expect(files.objects.size).toBe(0);
    // Another run of the same message does nothing.
    expect(await runExport(message, { ...deps, remainingMs: () => 60_000 })).toBe('skipped');
  });

  it("keeps the userId in the job only while it is pending: a finished job holds the user's digest alone", async () => {
    const { store, message, deps } = await setup(10, { format: 'ndjson', userId: 'alice', type: 'page.viewed' });
    expect(JSON.parse(store.jobs.get(message.job)!.q)).toMatchObject({ userId: 'alice' });
    expect(await runExport(message, { ...deps, remainingMs: () => 60_000 })).toBe('completed');
    const job = store.jobs.get(message.job)!;
    expect(JSON.parse(job.q)).toEqual({ type: 'page.viewed' });
    expect(job.uh).toBeDefined();
  });

  it("withdraws completed exports an erasure requested since makes unlawful, when it is requested: the user's and the tenant's", async () => {
    const user = await setup(20, { format: 'ndjson', userId: 'alice' });
    expect(await runExport(user.message, { ...user.deps, remainingMs: () => 60_000 })).toBe('completed');
    // A second, tenant-wide export in the same store, and one of another user.
    const more: ExportWorkMessage[] = [];
    for (const body of [{ format: 'csv' }, { format: 'csv', userId: 'bob' }]) {
      await requestExport(
        'acme',
        { body: JSON.stringify(body), contentType: 'application/json' },
        { store: user.store, keyring, enqueue: async (m) => void more.push(m), expiryDays: 7, now: () => NOW },
      );
    }
    for (const m of more) expect(await runExport(m, { ...user.deps, remainingMs: () => 60_000 })).toBe('completed');
    expect(user.files.objects.size).toBe(3);
    const deps = { store: user.store, files: user.files, now: () => NOW + 5000 };
    // No erasure yet: nothing to withdraw.
    expect(await withdrawErasedExports('acme', deps)).toBe(0);
    const alice = user.store.jobs.get(user.message.job)!;
    // A job finished before its filters were settled still names the user: the withdrawal settles them.
    alice.q = JSON.stringify({ userId: 'alice' });
    user.store.markers = [{ pk: 'acme#X', sk: alice.uk!, r: randomInternalId(NOW + 1000), uh: alice.uh!, ra: NOW + 1000 }];
    expect(await withdrawErasedExports('acme', deps)).toBe(2);
    const byJob = (m: ExportWorkMessage) => user.store.jobs.get(m.job)!;
    expect(byJob(user.message)).toMatchObject({ s: 'failed', why: 'erased', q: '{}' });
    expect(byJob(more[0]!)).toMatchObject({ s: 'failed', why: 'erased' });
    expect(byJob(more[1]!)).toMatchObject({ s: 'completed' });
    expect([...user.files.objects.keys()]).toEqual([exportObjectKey('acme', byJob(more[1]!))]);
    // Again: nothing left to withdraw.
    expect(await withdrawErasedExports('acme', deps)).toBe(0);
  });

  it("counts only erasures requested after the export, of its user (any user's for a tenant export)", () => {
    const job = { ra: NOW, uk: 'acme#u1', uh: 'h1' };
    const marker = (sk: string, uh: string, at: number) => ({ pk: 'acme#X', sk, uh, r: randomInternalId(at), ra: at });
    expect(erasedSince(job, [marker('acme#u1', 'h1', NOW - 1000)])).toBe(false);
    expect(erasedSince(job, [marker('acme#u2', 'h2', NOW + 1000)])).toBe(false);
    expect(erasedSince(job, [marker('acme#u1', 'h1', NOW + 1000)])).toBe(true);
    expect(erasedSince({ ra: NOW }, [marker('acme#u2', 'h2', NOW + 1000)])).toBe(true);
  });
});
