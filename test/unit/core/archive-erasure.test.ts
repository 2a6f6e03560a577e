import fc from 'fast-check';
import {
  ArchiveQueryFailedError,
  type ArchiveFiles,
  type AthenaQueries,
  type ErasureProgress,
  eraseFromArchive,
  parseErasureDetail,
  type QueryStatus,
} from '../../../lambdas/core/archive-erasure';
import {
  type ArchiveFile,
  archiveFile,
  listingSql,
  MAX_DATES_PER_REWRITE,
  planRewrites,
  rewriteSql,
  UnsafeArchiveValueError,
} from '../../../lambdas/core/archive-sql';

const table = { database: 'activity_tracker_test', table: 'events', bucket: 'archive-bucket' };
const completedAt = '2026-12-02T01:00:00.000Z';
const target = { tenant: 'acme', userId: 'u-42', requestedAt: '2026-12-01T22:00:00.000Z' };
const file = (date: string, name: string, tenant = 'acme'): ArchiveFile =>
  archiveFile(`s3://archive-bucket/events/tenant=${tenant}/date=${date}/${name}`, table, tenant);
/** The statement with every string literal replaced by `?`: what the values cannot change. */
const skeleton = (sql: string) => sql.replace(/'(?:[^']|'')*'/g, '?');

describe('the archive eraser SQL', () => {
  it('keeps any userId inside its string literal (quotes doubled): the statement around it never changes', () => {
    const reference = skeleton(listingSql(table, target));
    const referenceRewrite = skeleton(rewriteSql(table, target, [file('2026-11-30', 'a.parquet')], 's3://work/staging/acme/e/0/'));
    fc.assert(
      fc.property(
        fc.string({ minLength: 1, maxLength: 256, unit: 'grapheme' }).filter((s) => !s.includes('\u0000') && s.length <= 256),
        (userId) => {
          const t = { ...target, userId };
          expect(skeleton(listingSql(table, t))).toBe(reference);
          expect(skeleton(rewriteSql(table, t, [file('2026-11-30', 'a.parquet')], 's3://work/staging/acme/e/0/'))).toBe(referenceRewrite);
        },
      ),
    );
    expect(listingSql(table, { ...target, userId: "x' OR '1'='1" })).toContain("userid = 'x'' OR ''1''=''1' AND");
  });

  it('lists the files holding the user rows received up to the cutoff (requestedAt), audit records excepted, in the tenant partitions up to that day', () => {
    expect(listingSql(table, target)).toBe(
      'SELECT DISTINCT "$path", date FROM "activity_tracker_test"."events" WHERE tenant = \'acme\' AND date <= \'2026-12-01\' ' +
        "AND userid = 'u-42' AND receivedat <= '2026-12-01T22:00:00.000Z' AND NOT starts_with(type, 'activity-tracker.')",
    );
  });

  it('rewrites exactly the listed files of the listed dates, keeping every other row (rows without userid too) as Parquet by date', () => {
    const sql = rewriteSql(
      table,
      target,
      [file('2026-11-30', 'a.parquet'), file('2026-12-01', 'b'), file('2026-11-30', 'c')],
      's3://work/staging/acme/e1/0/',
    );
    expect(sql).toContain("AND date IN ('2026-11-30', '2026-12-01')");
    expect(sql).toContain(
      "AND \"$path\" IN ('s3://archive-bucket/events/tenant=acme/date=2026-11-30/a.parquet', 's3://archive-bucket/events/tenant=acme/date=2026-12-01/b', 's3://archive-bucket/events/tenant=acme/date=2026-11-30/c')",
    );
    expect(sql).toContain(
      "AND NOT COALESCE(userid = 'u-42' AND receivedat <= '2026-12-01T22:00:00.000Z' AND NOT starts_with(type, 'activity-tracker.'), false))",
    );
    expect(sql).toMatch(/^UNLOAD \(SELECT id, type, userid, occurredat, receivedat, target, details, source, date FROM /);
    expect(sql).toMatch(
      /TO 's3:\/\/work\/staging\/acme\/e1\/0\/' WITH \(format = 'PARQUET', compression = 'SNAPPY', partitioned_by = ARRAY\['date'\]\)$/,
    );
  });

  it.each([
    ['another tenant', 's3://archive-bucket/events/tenant=globex/date=2026-11-30/a'],
    ['another bucket', 's3://other-bucket/events/tenant=acme/date=2026-11-30/a'],
    ['outside events/', 's3://archive-bucket/errors/tenant=acme/date=2026-11-30/a'],
    ['a deeper path', 's3://archive-bucket/events/tenant=acme/date=2026-11-30/x/a'],
    ['a quote in the name', "s3://archive-bucket/events/tenant=acme/date=2026-11-30/a'b"],
    ['a traversal', 's3://archive-bucket/events/tenant=acme/date=2026-11-30/..'],
    ['a bad date', 's3://archive-bucket/events/tenant=acme/date=2026-1-30/a'],
    ['not a string', 42],
  ])('refuses a file path with %s', (_what, path) => {
    expect(() => archiveFile(path, table, 'acme')).toThrow(UnsafeArchiveValueError);
  });

  it.each([
    ['a NUL in the userId', { ...target, userId: 'a\u0000b' }],
    ['an empty userId', { ...target, userId: '' }],
    ['a userId too long', { ...target, userId: 'u'.repeat(257) }],
    ['a tenant with a quote', { ...target, tenant: "acme'" }],
    ['requestedAt not a UTC time', { ...target, requestedAt: "2026-12-02' OR '1'='1" }],
  ])('refuses %s', (_what, t) => {
    expect(() => listingSql(table, t)).toThrow(UnsafeArchiveValueError);
  });

  it('refuses a database name that is not an identifier, and a staging destination that is not an S3 folder', () => {
    expect(() => listingSql({ ...table, database: 'db"; DROP' }, target)).toThrow(UnsafeArchiveValueError);
    expect(() => rewriteSql(table, target, [file('2026-11-30', 'a')], "s3://work/x' --/")).toThrow(UnsafeArchiveValueError);
  });

  it('plans rewrites of at most 100 dates and a bounded statement size', () => {
    const many = Array.from({ length: 250 }, (_, i) =>
      file(new Date(Date.UTC(2026, 0, 1) + i * 86_400_000).toISOString().slice(0, 10), `f${i}`),
    );
    const chunks = planRewrites(many);
    expect(chunks.map((c) => new Set(c.map((f) => f.date)).size)).toEqual([MAX_DATES_PER_REWRITE, MAX_DATES_PER_REWRITE, 50]);
    const big = Array.from({ length: 3000 }, (_, i) => file('2026-11-30', `${'x'.repeat(100)}-${i}`));
    const bigChunks = planRewrites(big);
    expect(bigChunks.length).toBeGreaterThan(1);
    for (const c of bigChunks) expect(Buffer.byteLength(rewriteSql(table, target, c, 's3://work/s/0/'))).toBeLessThan(262_144);
    expect(bigChunks.flat()).toHaveLength(3000);
  });
});

describe('parseErasureDetail', () => {
  it('takes the erasure.completed detail and refuses what SQL cannot carry', () => {
    const detail = { tenant: 'acme', erasureId: 'er_1', userId: "o'brien", erased: 3, requestedAt: target.requestedAt, completedAt };
    expect(parseErasureDetail(detail)).toEqual({
      tenant: 'acme',
      erasureId: 'er_1',
      userId: "o'brien",
      requestedAt: target.requestedAt,
      completedAt,
    });
    expect(() => parseErasureDetail({ ...detail, requestedAt: undefined })).toThrow(UnsafeArchiveValueError);
    expect(() => parseErasureDetail({ ...detail, erasureId: '../x' })).toThrow(UnsafeArchiveValueError);
    expect(() => parseErasureDetail({ ...detail, tenant: 'a b' })).toThrow(UnsafeArchiveValueError);
    expect(() => parseErasureDetail(null)).toThrow(UnsafeArchiveValueError);
  });
});

/** Athena over an in-memory archive: the listing and UNLOAD run against `rows` of each file. */
class FakeAthena implements AthenaQueries {
  readonly started: { sql: string; token: string; id: string }[] = [];
  /** Polls before a query succeeds. */
  runningPolls = 0;
  failNext = false;
  private readonly results = new Map<string, { status: QueryStatus; polls: number; rows: string[][] }>();
  constructor(
    private readonly s3: FakeFiles,
    private readonly userOf: (key: string) => string[],
  ) {}

  async start(sql: string, token: string) {
    const existing = this.started.find((s) => s.token === token);
    if (existing) return existing.id;
    const id = `q${this.started.length + 1}`;
    this.started.push({ sql, token, id });
    if (this.failNext) {
      this.failNext = false;
      this.results.set(id, { status: { state: 'failed', reason: 'FAILED: boom' }, polls: 0, rows: [] });
      return id;
    }
    let rows: string[][] = [];
    if (sql.startsWith('SELECT DISTINCT')) {
      rows = [...this.s3.archive.keys()]
        .filter((k) => k.startsWith('events/tenant=acme/') && this.userOf(k).includes('u-42'))
        .map((k) => [`s3://archive-bucket/${k}`, /date=([^/]+)/.exec(k)![1]!]);
    } else {
      // UNLOAD: one staged file per date with the other users' rows of the listed files.
      const dest = /TO 's3:\/\/work\/([^']+)'/.exec(sql)![1]!;
      if (this.s3.work.size > 0 && [...this.s3.work.keys()].some((k) => k.startsWith(dest)))
        throw new Error('UNLOAD destination not empty');
      const paths = [...sql.matchAll(/'s3:\/\/archive-bucket\/([^']+)'/g)].map((m) => m[1]!);
      const byDate = new Map<string, string[]>();
      for (const key of paths) {
        const kept = this.userOf(key).filter((u) => u !== 'u-42');
        const date = /date=([^/]+)/.exec(key)![1]!;
        byDate.set(date, [...(byDate.get(date) ?? []), ...kept]);
      }
      for (const [date, users] of byDate) if (users.length > 0) this.s3.work.set(`${dest}date=${date}/${id}_0`, users.join(','));
    }
    this.results.set(id, { status: { state: 'succeeded' }, polls: this.runningPolls, rows });
    return id;
  }
  finishAll() {
    for (const r of this.results.values()) r.polls = 0;
  }
  async status(id: string): Promise<QueryStatus> {
    const r = this.results.get(id)!;
    if (r.polls > 0) {
      r.polls -= 1;
      return { state: 'running' };
    }
    return r.status;
  }
  async rows(id: string) {
    return this.results.get(id)!.rows;
  }
}

class FakeFiles implements ArchiveFiles {
  readonly archive = new Map<string, string>();
  readonly work = new Map<string, string>();
  readonly markers = new Map<string, string>();
  failDeleteArchiveOnce = false;
  workUri = (prefix: string) => `s3://work/${prefix}`;
  async listWork(prefix: string) {
    return [...this.work.keys()].filter((k) => k.startsWith(prefix));
  }
  async deleteWork(prefix: string) {
    for (const k of await this.listWork(prefix)) this.work.delete(k);
  }
  async promote(workKey: string, archiveKey: string) {
    const body = this.work.get(workKey);
    if (body === undefined) throw new Error(`NoSuchKey ${workKey}`);
    this.archive.set(archiveKey, body);
  }
  async deleteArchive(keys: readonly string[]) {
    if (this.failDeleteArchiveOnce) {
      this.failDeleteArchiveOnce = false;
      throw new Error('S3 throttled');
    }
    for (const k of keys) this.archive.delete(k);
  }
  async loadMarker(key: string) {
    const m = this.markers.get(key);
    return m === undefined ? undefined : (JSON.parse(m) as ErasureProgress);
  }
  async saveMarker(key: string, progress: ErasureProgress) {
    this.markers.set(key, JSON.stringify(progress));
  }
  async deleteMarker(key: string) {
    this.markers.delete(key);
  }
}

const setup = () => {
  const files = new FakeFiles();
  // A file's body: the userids of its rows, comma-separated.
  files.archive.set('events/tenant=acme/date=2026-11-30/fh-1', 'u-42,u-1,u-2');
  files.archive.set('events/tenant=acme/date=2026-11-30/fh-2', 'u-3');
  files.archive.set('events/tenant=acme/date=2026-12-01/fh-3', 'u-42,u-42');
  files.archive.set('events/tenant=acme/date=2026-12-02/fh-4', 'u-4,u-42');
  files.archive.set('events/tenant=globex/date=2026-11-30/fh-5', 'u-42');
  const athena = new FakeAthena(files, (key) => (files.archive.get(key) ?? '').split(',').filter(Boolean));
  const request = { ...target, completedAt, erasureId: 'er_1' };
  let time = 600_000;
  const deps = {
    now: () => Date.parse(completedAt) + 20 * 60_000,
    athena,
    files,
    table,
    remainingMs: () => time,
    sleep: async () => {
      time -= 10_000;
    },
  };
  const users = () => Object.fromEntries([...files.archive.entries()].filter(([k]) => k.includes('tenant=acme')).map(([k, v]) => [k, v]));
  return { files, athena, request, deps, users, setTime: (ms: number) => (time = ms) };
};

describe('eraseFromArchive', () => {
  it("replaces exactly the files holding the user's rows by rewritten ones, and leaves every other file and tenant alone", async () => {
    const { files, athena, request, deps, users } = setup();
    await expect(eraseFromArchive(request, deps)).resolves.toEqual({ outcome: 'completed', files: 3, rewrites: 1 });
    expect(users()).toEqual({
      'events/tenant=acme/date=2026-11-30/fh-2': 'u-3',
      'events/tenant=acme/date=2026-11-30/rw-q2_0': 'u-1,u-2',
      'events/tenant=acme/date=2026-12-02/rw-q2_0': 'u-4',
    });
    expect(files.archive.get('events/tenant=globex/date=2026-11-30/fh-5')).toBe('u-42');
    expect(athena.started).toHaveLength(2);
    expect(files.work.size).toBe(0);
    expect(files.markers.size).toBe(0);
  });

  it('never touches a file written after the listing (Firehose writing today)', async () => {
    const { files, athena, request, deps } = setup();
    const start = athena.start.bind(athena);
    athena.start = async (sql, token) => {
      const id = await start(sql, token);
      if (sql.startsWith('SELECT')) files.archive.set('events/tenant=acme/date=2026-12-02/fh-late', 'u-5');
      return id;
    };
    await eraseFromArchive(request, deps);
    expect(files.archive.get('events/tenant=acme/date=2026-12-02/fh-late')).toBe('u-5');
    expect(athena.started[1]!.sql).not.toContain('fh-late');
  });

  it('completes without a rewrite when the archive holds nothing of the user (a redelivered message)', async () => {
    const { athena, request, deps } = setup();
    await eraseFromArchive(request, deps);
    await expect(eraseFromArchive(request, deps)).resolves.toEqual({ outcome: 'completed', files: 0, rewrites: 0 });
    expect(athena.started.filter((s) => s.sql.startsWith('UNLOAD'))).toHaveLength(1);
  });

  it('stops when time runs low while a query runs, and the next run waits for that query instead of starting another', async () => {
    const { files, athena, request, deps, users, setTime } = setup();
    athena.runningPolls = 100;
    setTime(100_000);
    await expect(eraseFromArchive(request, deps)).resolves.toEqual({ outcome: 'continue' });
    expect(athena.started).toHaveLength(1);
    expect(files.markers.size).toBe(1);
    athena.runningPolls = 0;
    athena.finishAll();
    setTime(600_000);
    // The listing query is still running: the next run polls it.
    await expect(eraseFromArchive(request, deps)).resolves.toEqual({ outcome: 'completed', files: 3, rewrites: 1 });
    expect(athena.started.filter((s) => s.sql.startsWith('SELECT'))).toHaveLength(1);
    expect(Object.values(users()).join(',')).not.toContain('u-42');
  });

  it('resumes after a failure between copying the rewritten files in and deleting the old ones, with no duplicate', async () => {
    const { files, athena, request, deps, users } = setup();
    files.failDeleteArchiveOnce = true;
    await expect(eraseFromArchive(request, deps)).rejects.toThrow('S3 throttled');
    // Both copies exist for a moment; the marker says the rewrite is staged, not done.
    expect(JSON.parse([...files.markers.values()][0]!).rewrites[0].staged).toHaveLength(2);
    await expect(eraseFromArchive(request, deps)).resolves.toMatchObject({ outcome: 'completed' });
    expect(athena.started).toHaveLength(2);
    expect(Object.keys(users()).sort()).toEqual([
      'events/tenant=acme/date=2026-11-30/fh-2',
      'events/tenant=acme/date=2026-11-30/rw-q2_0',
      'events/tenant=acme/date=2026-12-02/rw-q2_0',
    ]);
  });

  it('starts a failed query again under a new request token on the next run', async () => {
    const { athena, request, deps, users } = setup();
    athena.failNext = true;
    await expect(eraseFromArchive(request, deps)).rejects.toThrow(ArchiveQueryFailedError);
    await expect(eraseFromArchive(request, deps)).resolves.toMatchObject({ outcome: 'completed' });
    expect(athena.started.filter((s) => s.sql.startsWith('SELECT'))).toHaveLength(2);
    expect(new Set(athena.started.map((s) => s.token)).size).toBe(athena.started.length);
    expect(Object.values(users()).join(',')).not.toContain('u-42');
  });

  it('waits for Firehose to flush what was received before the erasure completed (16 minutes)', async () => {
    const { athena, request, deps } = setup();
    const early = { ...deps, now: () => Date.parse(completedAt) + 60_000 };
    await expect(eraseFromArchive(request, early)).resolves.toEqual({ outcome: 'later', seconds: 15 * 60 });
    expect(athena.started).toHaveLength(0);
  });

  it("gives each UNLOAD attempt a folder of its own: a failed attempt's files are never swapped in", async () => {
    const { files, athena, request, deps, users } = setup();
    const start = athena.start.bind(athena);
    let unloads = 0;
    athena.start = async (sql, token) => {
      if (sql.startsWith('UNLOAD') && ++unloads === 1) {
        // The first attempt writes part of its output, then fails.
        athena.failNext = true;
        const dest = /TO 's3:\/\/work\/([^']+)'/.exec(sql)![1]!;
        files.work.set(`${dest}date=2026-11-30/partial_0`, 'u-42,partial');
      }
      return start(sql, token);
    };
    await expect(eraseFromArchive(request, deps)).rejects.toThrow(ArchiveQueryFailedError);
    await expect(eraseFromArchive(request, deps)).resolves.toMatchObject({ outcome: 'completed' });
    expect(Object.values(users()).join(',')).not.toMatch(/partial|u-42/);
    expect(files.work.size).toBe(0);
  });

  it('starts the same UNLOAD into the same folder when a run stopped between starting it and saving its id', async () => {
    const { files, athena, request, deps, users } = setup();
    const save = files.saveMarker.bind(files);
    let failed = false;
    files.saveMarker = async (key, progress) => {
      if (!failed && progress.rewrites?.[0]?.queryId !== undefined) {
        failed = true;
        throw new Error('S3 unavailable');
      }
      return save(key, progress);
    };
    await expect(eraseFromArchive(request, deps)).rejects.toThrow('S3 unavailable');
    await expect(eraseFromArchive(request, deps)).resolves.toMatchObject({ outcome: 'completed' });
    expect(athena.started.filter((s) => s.sql.startsWith('UNLOAD'))).toHaveLength(1);
    expect(Object.keys(users())).toHaveLength(3);
  });
});
