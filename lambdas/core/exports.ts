import { randomBytes } from 'node:crypto';
import { gzip } from 'node:zlib';
import { promisify } from 'node:util';
import { EXPORT_LIMITS } from '../../contract';
import { encodeRows, type ExportFormat } from './export-encoding';
import { BadRequestError, NotFoundError, TooManyRequestsError, UnsupportedMediaTypeError } from './errors';
import { randomInternalId } from './ids';
import { userIdDigest, userPartition, type ErasureMarkerItem } from './item-keys';
import type { Keyring } from './keyring';
import { decodePublicId, encodePublicId } from './public-id';
import { parseEventQuery, queryEvents, type EventReadStore } from './query';

const gzipAsync = promisify(gzip);

/**
 * Export jobs (POST /v1/exports, GET /v1/exports/{id}). A request stores a job item and enqueues
 * it; the export worker pages through the right timeline (user or tenant, the same path and
 * visibility rules as GET /v1/events) and uploads gzip NDJSON or CSV to S3 as a multipart upload.
 *
 * Constant memory and resumable: each page of events becomes one gzip member (a gzip file may be
 * a concatenation of members, RFC 1952 §2.2, and every gunzip reads it whole), members gather into
 * a part of at least EXPORT_PART_BYTES, and after each uploaded part the job item records the part,
 * the cursor after its last event and the counts. A worker that crashes or runs out of time loses
 * at most the part it was filling: the next one starts a fresh member at the saved cursor.
 *
 *   <tenant>#J / <job id>   s status, why (failed: erased | error), f format, q filters (JSON; the userId only while pending),
 *                           uk/uh user key and userId digest (user exports), ra/ca requested/completed (ms),
 *                           n events, b bytes, up upload id, np parts uploaded, pt [{n,e}] parts,
 *                           cu cursor after the last uploaded part, fin all parts uploaded, x TTL
 */
export interface ExportJobItem {
  pk: string;
  sk: string;
  s: 'pending' | 'completed' | 'failed';
  why?: 'erased' | 'error';
  f: ExportFormat;
  q: string;
  uk?: string;
  uh?: string;
  ra: number;
  ca?: number;
  n: number;
  b: number;
  up?: string;
  np: number;
  pt?: { n: number; e: string }[];
  cu?: string;
  fin?: boolean;
  x: number;
}

export const exportPartition = (tenant: string): string => `${tenant}#J`;

/** Where the file of a job lives in the export bucket. */
export const exportObjectKey = (tenant: string, job: Pick<ExportJobItem, 'sk' | 'f'>): string => `${tenant}/${job.sk}.${job.f}.gz`;

export interface ExportProgress {
  readonly up: string;
  readonly pt: { n: number; e: string }[];
  readonly cu?: string;
  readonly fin: boolean;
  readonly n: number;
  readonly b: number;
}

/** The storage port of export jobs. */
export interface ExportStore {
  putJob(job: ExportJobItem): Promise<void>;
  getJob(tenant: string, jobId: string): Promise<ExportJobItem | undefined>;
  /** How many of the tenant's jobs are pending and not expired (`x` after `nowSeconds`), counting up to `atMost`. */
  countPending(tenant: string, nowSeconds: number, atMost: number): Promise<number>;
  /** Records uploaded parts, only if no other worker moved the job on since (`np` still `expectedParts`); false otherwise. */
  saveProgress(tenant: string, jobId: string, expectedParts: number, progress: ExportProgress): Promise<boolean>;
  /**
   * Moves a job out of `from` (pending, or completed for a late erasure), setting its filters to `q`
   * (the worker's userId no longer needed); false when it was no longer there.
   */
  finish(
    tenant: string,
    jobId: string,
    from: ExportJobItem['s'],
    to: { s: 'completed' | 'failed'; why?: ExportJobItem['why']; ca: number; q: string },
  ): Promise<boolean>;
  /** The tenant's jobs (of the last expiry period: the partition's TTL keeps it short). */
  listJobs(tenant: string): Promise<ExportJobItem[]>;
  listMarkers(tenant: string): Promise<ErasureMarkerItem[]>;
}

/** The export bucket (multipart upload, short-lived download URLs). */
export interface ExportFiles {
  startUpload(key: string, format: ExportFormat): Promise<string>;
  uploadPart(key: string, uploadId: string, partNumber: number, body: Buffer): Promise<string>;
  /** Tolerates an upload that was completed already (a worker that crashed right after completing it). */
  completeUpload(key: string, uploadId: string, parts: readonly { n: number; e: string }[]): Promise<void>;
  /** Aborts the upload (if any) and deletes the object (if any). */
  remove(key: string, uploadId: string | undefined): Promise<void>;
  downloadUrl(key: string, fileName: string, expiresInSeconds: number): Promise<string>;
}

export interface ExportWorkMessage {
  readonly tenant: string;
  readonly job: string;
}

export interface ExportRequestDeps {
  readonly store: ExportStore;
  readonly keyring: Keyring;
  readonly enqueue: (message: ExportWorkMessage) => Promise<void>;
  readonly expiryDays: number;
  readonly now?: () => number;
  /** Export requests one tenant may have pending at once. @default EXPORT_LIMITS.maxPending */
  readonly maxPending?: number;
}

export interface ExportStatus {
  id: string;
  status: ExportJobItem['s'];
  reason?: 'erased' | 'error';
  format: ExportFormat;
  events: number;
  bytes: number;
  requestedAt: string;
  completedAt: string | null;
  url: string | null;
  expiresAt: string | null;
}

interface ExportFilters {
  userId?: string;
  type?: string;
  from?: string;
  to?: string;
}

const BODY_FIELDS: ReadonlySet<string> = new Set(['userId', 'from', 'to', 'type', 'format']);

/** The body of POST /v1/exports; every problem is a 400 naming the field. */
export const parseExportRequest = (
  body: string | null | undefined,
  contentType: string | undefined,
): { format: ExportFormat; filters: ExportFilters } => {
  if (!contentType || !/^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i.test(contentType)) throw new UnsupportedMediaTypeError();
  let parsed: unknown;
  try {
    parsed = JSON.parse(body ?? '');
  } catch {
    throw new BadRequestError('invalid_json', 'the body is not valid JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new BadRequestError('invalid_body', 'the body must be {"format":"ndjson"|"csv","userId"?,"from"?,"to"?,"type"?}');
  }
  const record = parsed as Record<string, unknown>;
  const unknown = Object.keys(record).find((key) => !BODY_FIELDS.has(key));
  if (unknown !== undefined) throw new BadRequestError('unknown_field', `unknown field '${unknown.slice(0, 64)}'`);
  const format = record.format;
  if (format === undefined) throw new BadRequestError('invalid_body', "'format' is required: 'ndjson' or 'csv'");
  if (!(EXPORT_LIMITS.formats as readonly unknown[]).includes(format)) {
    throw new BadRequestError('invalid_body', "'format' must be 'ndjson' or 'csv'");
  }
  const params: Record<string, string[]> = {};
  for (const name of ['userId', 'from', 'to', 'type'] as const) {
    const value = record[name];
    if (value === undefined) continue;
    if (typeof value !== 'string') throw new BadRequestError('invalid_parameter', `'${name}' must be a string`);
    params[name] = [value];
  }
  // The same rules (and messages) as the query string of GET /v1/events.
  const query = parseEventQuery(params);
  const filters: ExportFilters = {
    ...(query.userId !== undefined && { userId: query.userId }),
    ...(query.type !== undefined && { type: query.type }),
    ...(query.from !== undefined && { from: query.from }),
    ...(query.to !== undefined && { to: query.to }),
  };
  return { format: format as ExportFormat, filters };
};

/** POST /v1/exports: stores the job, then enqueues it (a job that could not be enqueued is never acknowledged). */
export const requestExport = async (
  tenant: string,
  request: { body: string | null | undefined; contentType: string | undefined },
  deps: ExportRequestDeps,
): Promise<{ id: string; status: 'pending'; requestedAt: string; format: ExportFormat; scope: 'user' | 'tenant' }> => {
  const { format, filters } = parseExportRequest(request.body, request.contentType);
  const now = deps.now?.() ?? Date.now();
  // Checked before the job is stored (requests arriving together may pass it by a few): it bounds
  // the work one tenant can queue, not a security property.
  const maxPending = deps.maxPending ?? EXPORT_LIMITS.maxPending;
  if ((await deps.store.countPending(tenant, Math.floor(now / 1000), maxPending)) >= maxPending) {
    throw new TooManyRequestsError(
      'too_many_exports',
      `at most ${maxPending} export requests may be pending at once (EXPORT_LIMITS.maxPending); retry when one has completed`,
    );
  }
  const sk = randomInternalId(now, randomBytes);
  const job: ExportJobItem = {
    pk: exportPartition(tenant),
    sk,
    s: 'pending',
    f: format,
    q: JSON.stringify(filters),
    ...(filters.userId !== undefined && { uk: userPartition(tenant, filters.userId), uh: userIdDigest(filters.userId) as string }),
    ra: now,
    n: 0,
    b: 0,
    np: 0,
    // The job record outlives its file by a day.
    x: Math.floor(now / 1000) + (deps.expiryDays + 1) * 86_400,
  };
  await deps.store.putJob(job);
  await deps.enqueue({ tenant, job: sk });
  return {
    id: encodePublicId(deps.keyring, tenant, { shard: 0, internalId: sk }, 'export'),
    status: 'pending',
    requestedAt: new Date(now).toISOString(),
    format,
    scope: filters.userId === undefined ? 'tenant' : 'user',
  };
};

/**
 * Whether an erasure requested after the export makes its file unlawful to hand out: one of the
 * exported user's (any user's, for a tenant export). Erasures requested earlier are not: the
 * export's reads already hide what they erase.
 */
export const erasedSince = (job: Pick<ExportJobItem, 'ra' | 'uk' | 'uh'>, markers: readonly ErasureMarkerItem[]): boolean =>
  markers.some((m) => m.ra >= job.ra && (job.uk === undefined || (m.sk === job.uk && m.uh === job.uh)));

/** A job's filters once it left pending: the userId goes (the job keeps its digest `uh` only). */
const settledFilters = (job: Pick<ExportJobItem, 'q'>): string => {
  const { userId: _userId, ...rest } = JSON.parse(job.q) as ExportFilters;
  return JSON.stringify(rest);
};

/** Deletes a completed job's file and fails the job as erased; false when the job had left `completed` meanwhile. */
const withdraw = async (
  tenant: string,
  job: ExportJobItem,
  deps: Pick<ExportStatusDeps, 'store' | 'files'>,
  nowMs: number,
): Promise<boolean> => {
  await deps.files.remove(exportObjectKey(tenant, job), undefined);
  return deps.store.finish(tenant, job.sk, 'completed', { s: 'failed', why: 'erased', ca: job.ca ?? nowMs, q: settledFilters(job) });
};

/**
 * Withdraws the tenant's completed exports an erasure requested since makes unlawful to hand out
 * (`erasedSince`): deletes the file and fails the job (`erased`). Called when an erasure is
 * requested, so a file never outlives the marker that GET /v1/exports/{id} would check; pending jobs
 * check the markers themselves before each part and before completing. Returns how many it withdrew.
 */
export const withdrawErasedExports = async (tenant: string, deps: Pick<ExportStatusDeps, 'store' | 'files' | 'now'>): Promise<number> => {
  const markers = await deps.store.listMarkers(tenant);
  let withdrawn = 0;
  for (const job of await deps.store.listJobs(tenant)) {
    if (job.s === 'completed' && erasedSince(job, markers) && (await withdraw(tenant, job, deps, deps.now?.() ?? Date.now()))) withdrawn++;
  }
  return withdrawn;
};

export interface ExportStatusDeps {
  readonly store: ExportStore;
  readonly files: Pick<ExportFiles, 'downloadUrl' | 'remove'>;
  readonly keyring: Keyring;
  readonly expiryDays: number;
  readonly urlSeconds: number;
  readonly now?: () => number;
}

/** GET /v1/exports/{id}: the job, visible only to its tenant; a completed one with a fresh download URL. */
export const getExport = async (tenant: string, publicId: string, deps: ExportStatusDeps): Promise<ExportStatus> => {
  const ref = decodePublicId(deps.keyring, tenant, publicId, 'export');
  let job = ref && (await deps.store.getJob(tenant, ref.internalId));
  if (!job) throw new NotFoundError('export not found');
  const now = deps.now?.() ?? Date.now();
  const fileExpiresAt = (job.ca ?? now) + deps.expiryDays * 86_400_000;
  if (job.s === 'completed' && erasedSince(job, await deps.store.listMarkers(tenant))) {
    // A completed file of a user erased since: delete it rather than hand it out.
    await withdraw(tenant, job, deps, now);
    job = { ...job, s: 'failed', why: 'erased' };
  }
  let url: string | null = null;
  let expiresAt: string | null = null;
  if (job.s === 'completed' && fileExpiresAt > now) {
    const seconds = Math.max(1, Math.min(deps.urlSeconds, Math.floor((fileExpiresAt - now) / 1000)));
    url = await deps.files.downloadUrl(exportObjectKey(tenant, job), `export-${publicId.slice(0, 12)}.${job.f}.gz`, seconds);
    expiresAt = new Date(now + seconds * 1000).toISOString();
  }
  return {
    id: publicId,
    status: job.s,
    ...(job.why !== undefined && { reason: job.why }),
    format: job.f,
    events: job.n,
    bytes: job.b,
    requestedAt: new Date(job.ra).toISOString(),
    completedAt: job.ca === undefined ? null : new Date(job.ca).toISOString(),
    url,
    expiresAt,
  };
};

export interface ExportRunDeps {
  readonly store: ExportStore;
  readonly events: EventReadStore;
  readonly files: ExportFiles;
  readonly keyring: Keyring;
  readonly shardCount: number;
  /** Gzip bytes gathered before a part is uploaded (≥ 5 MiB in S3, except the last part). */
  readonly partBytes: number;
  /** Milliseconds left in this invocation; the worker stops (to be continued) below `stopBeforeMs`. */
  readonly remainingMs: () => number;
  readonly stopBeforeMs?: number;
  readonly pageSize?: number;
  readonly now?: () => number;
}

export type ExportRunOutcome = 'completed' | 'continue' | 'erased' | 'skipped';

/**
 * One run of the export worker on one job: from the saved progress to completion, or until the
 * time left runs low ('continue': enqueue the job again). Idempotent: a job no longer pending is
 * skipped, and a worker that lost a race on the progress (another one saved first) stops.
 */
export const runExport = async (message: ExportWorkMessage, deps: ExportRunDeps): Promise<ExportRunOutcome> => {
  const { tenant } = message;
  const now = deps.now ?? Date.now;
  const job = await deps.store.getJob(tenant, message.job);
  if (job?.s !== 'pending') return 'skipped';
  const key = exportObjectKey(tenant, job);
  const failErased = async (uploadId: string | undefined): Promise<ExportRunOutcome> => {
    await deps.files.remove(key, uploadId);
    await deps.store.finish(tenant, job.sk, 'pending', { s: 'failed', why: 'erased', ca: now(), q: settledFilters(job) });
    return 'erased';
  };
  if (erasedSince(job, await deps.store.listMarkers(tenant))) return failErased(job.up);

  let state: ExportProgress = {
    up: job.up ?? (await deps.files.startUpload(key, job.f)),
    pt: job.pt ?? [],
    ...(job.cu !== undefined && { cu: job.cu }),
    fin: job.fin === true,
    n: job.n,
    b: job.b,
  };
  if (job.up === undefined && !(await deps.store.saveProgress(tenant, job.sk, 0, state))) return 'skipped';

  const filters = JSON.parse(job.q) as ExportFilters;
  const stopBeforeMs = deps.stopBeforeMs ?? 30_000;
  while (!state.fin) {
    const members: Buffer[] = [];
    let size = 0;
    let events = 0;
    let cursor = state.cu;
    let done = false;
    while (size < deps.partBytes) {
      if (deps.remainingMs() < stopBeforeMs) return 'continue';
      const page = await queryEvents(
        tenant,
        { ...filters, details: [], order: 'asc', limit: deps.pageSize ?? 1000, ...(cursor !== undefined && { cursor }) },
        { store: deps.events, keyring: deps.keyring, shardCount: deps.shardCount, now },
      );
      const text = encodeRows(job.f, page.events, state.pt.length === 0 && members.length === 0);
      if (text.length > 0) {
        const member = await gzipAsync(text);
        members.push(member);
        size += member.length;
      }
      events += page.events.length;
      if (page.nextCursor === null) {
        done = true;
        break;
      }
      cursor = page.nextCursor;
    }
    // An empty export is still a valid (empty) gzip file.
    if (members.length === 0) members.push(await gzipAsync(''));
    if (erasedSince(job, await deps.store.listMarkers(tenant))) return failErased(state.up);
    const body = Buffer.concat(members);
    const partNumber = state.pt.length + 1;
    const etag = await deps.files.uploadPart(key, state.up, partNumber, body);
    const next: ExportProgress = {
      up: state.up,
      pt: [...state.pt, { n: partNumber, e: etag }],
      ...(!done && cursor !== undefined && { cu: cursor }),
      fin: done,
      n: state.n + events,
      b: state.b + body.length,
    };
    if (!(await deps.store.saveProgress(tenant, job.sk, state.pt.length, next))) return 'skipped';
    state = next;
  }
  if (erasedSince(job, await deps.store.listMarkers(tenant))) return failErased(state.up);
  await deps.files.completeUpload(key, state.up, state.pt);
  await deps.store.finish(tenant, job.sk, 'pending', { s: 'completed', ca: now(), q: settledFilters(job) });
  return 'completed';
};
