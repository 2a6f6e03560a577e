import { createHash, randomUUID } from 'node:crypto';
import {
  type ArchiveFile,
  type ArchiveTable,
  type ErasureTarget,
  UnsafeArchiveValueError,
  archiveFile,
  checkInstant,
  checkTenant,
  checkUserId,
  listingSql,
  planRewrites,
  rewriteSql,
} from './archive-sql';

/**
 * Erasure reaches the archive (docs/consumers.md, "Erasure and the archive"). Parquet files cannot
 * be edited, so the eraser rewrites the files that hold the user's rows:
 * 1. list — Athena finds the files (`"$path"`) holding the user's rows received up to the
 *    erasure's cutoff (requestedAt, as in the table; audit records are never erased);
 * 2. stage — per rewrite (≤ 100 dates), Athena UNLOADs every other row of exactly those files to a
 *    staging folder of the work bucket, as Parquet (Snappy), one folder per date;
 * 3. swap — each staged file is copied into its partition as `rw-<name>`, then exactly the listed
 *    files are deleted. Files written after the listing (Firehose keeps writing today's partition)
 *    are never touched.
 * Progress is a marker in the work bucket, saved after every step: a run that stops (time, error)
 * resumes there — an Athena query started is waited for, not started again (its client request
 * token is derived from the run, the step and the attempt), each UNLOAD writes to a folder of its
 * own (saved before it starts), copies overwrite and deletes repeat harmlessly. Erasures run one at a time (a FIFO queue with one message group):
 * two rewrites of the same file would bring back the rows of the first.
 */

/** What the eraser takes from an `erasure.completed` event (its detail). */
export interface ArchiveErasureRequest extends ErasureTarget {
  readonly erasureId: string;
  /** When the table's erasure completed: the eraser starts SETTLE_MS after it. */
  readonly completedAt: string;
}

export type QueryStatus =
  | { readonly state: 'running' }
  | { readonly state: 'succeeded' }
  | { readonly state: 'failed'; readonly reason: string };

/** Athena, as the eraser uses it (lambdas/adapters/athena-queries.ts). */
export interface AthenaQueries {
  /** Starts a statement in the eraser's workgroup; the same token returns the same query. */
  start(sql: string, clientRequestToken: string): Promise<string>;
  status(queryId: string): Promise<QueryStatus>;
  /** A SELECT's rows after the header, every page. */
  rows(queryId: string): Promise<string[][]>;
}

/** S3, as the eraser uses it (lambdas/adapters/s3-archive-files.ts). */
export interface ArchiveFiles {
  /** The S3 URI of a work-bucket folder (UNLOAD's destination). */
  workUri(prefix: string): string;
  listWork(prefix: string): Promise<string[]>;
  deleteWork(prefix: string): Promise<void>;
  /** Copies a work-bucket object to an archive key (overwriting). */
  promote(workKey: string, archiveKey: string): Promise<void>;
  deleteArchive(keys: readonly string[]): Promise<void>;
  loadMarker(key: string): Promise<ErasureProgress | undefined>;
  saveMarker(key: string, progress: ErasureProgress): Promise<void>;
  deleteMarker(key: string): Promise<void>;
}

interface Rewrite {
  readonly files: ArchiveFile[];
  /** UNLOAD's folder: one per run, rewrite and attempt, so it is empty when its query starts. */
  prefix?: string;
  queryId?: string;
  /** Work-bucket keys UNLOAD wrote, once its query succeeded. */
  staged?: string[];
  done?: boolean;
}

/** The marker: where an erasure of the archive stands. */
export interface ErasureProgress {
  /** This erasure run's id: request tokens derive from it, so a redelivered message never gets an old run's query back. */
  readonly run: string;
  attempt: number;
  listQueryId?: string;
  rewrites?: Rewrite[];
}

/**
 * Firehose buffers up to 15 minutes: rows received just before the erasure completed may reach
 * the archive up to then. The eraser starts once that time has passed since completedAt.
 */
export const SETTLE_MS = 16 * 60_000;

export interface ArchiveErasureDeps {
  readonly now: () => number;
  readonly athena: AthenaQueries;
  readonly files: ArchiveFiles;
  readonly table: ArchiveTable;
  readonly remainingMs: () => number;
  readonly sleep: (ms: number) => Promise<void>;
  /** Stop starting steps below this much time left. @default 60 s */
  readonly marginMs?: number;
  /** @default 2 s */
  readonly pollMs?: number;
}

export type ArchiveErasureOutcome =
  | { readonly outcome: 'completed'; readonly files: number; readonly rewrites: number }
  | { readonly outcome: 'continue' }
  /** Too early (SETTLE_MS): run again in this many seconds. */
  | { readonly outcome: 'later'; readonly seconds: number };

/** An Athena query of the erasure failed; the next run starts it again (a new attempt). */
export class ArchiveQueryFailedError extends Error {
  override readonly name = 'ArchiveQueryFailedError';
}

/** Validates an `erasure.completed` detail for the archive; anything else is refused (dead-letter queue). */
export const parseErasureDetail = (detail: unknown): ArchiveErasureRequest => {
  if (typeof detail !== 'object' || detail === null) throw new UnsafeArchiveValueError('detail is not an object');
  const d = detail as Record<string, unknown>;
  if (typeof d.erasureId !== 'string' || !/^[A-Za-z0-9_-]{1,128}$/.test(d.erasureId))
    throw new UnsafeArchiveValueError('erasureId is not a public id');
  return {
    tenant: checkTenant(d.tenant),
    erasureId: d.erasureId,
    userId: checkUserId(d.userId),
    requestedAt: checkInstant(d.requestedAt, 'requestedAt'),
    completedAt: checkInstant(d.completedAt, 'completedAt'),
  };
};

const token = (request: ArchiveErasureRequest, progress: ErasureProgress, step: string) =>
  createHash('sha256').update(`${request.tenant}\n${request.erasureId}\n${progress.run}\n${step}\n${progress.attempt}`).digest('hex');

const markerKey = (r: ArchiveErasureRequest) => `erasures/${r.tenant}/${r.erasureId}.json`;
const runPrefix = (r: ArchiveErasureRequest, p: ErasureProgress) => `staging/${r.tenant}/${r.erasureId}/${p.run}/`;

/** Where a staged file goes: its partition (from its `date=` folder), named `rw-<name>`. */
const archiveKeyOf = (stagedKey: string, tenant: string, rewrite: Rewrite): string => {
  const match = /\/date=(\d{4}-\d{2}-\d{2})\/([^/]+)$/.exec(stagedKey);
  if (!match || !rewrite.files.some((f) => f.date === match[1]))
    throw new UnsafeArchiveValueError(`staged file ${stagedKey} is not in a partition of its rewrite`);
  return `events/tenant=${tenant}/date=${match[1]}/rw-${match[2]}`;
};

/**
 * Runs the erasure of one user from the archive until it is done or the time left runs low
 * (`continue`: the marker holds the progress; the message is delivered again).
 */
export const eraseFromArchive = async (request: ArchiveErasureRequest, deps: ArchiveErasureDeps): Promise<ArchiveErasureOutcome> => {
  const { athena, files, table } = deps;
  const wait = Date.parse(request.completedAt) + SETTLE_MS - deps.now();
  if (wait > 0) return { outcome: 'later', seconds: Math.ceil(wait / 1000) };
  const margin = deps.marginMs ?? 60_000;
  const key = markerKey(request);
  const loaded = await files.loadMarker(key);
  const progress: ErasureProgress = loaded ?? { run: randomUUID(), attempt: 0 };
  const save = () => files.saveMarker(key, progress);
  if (loaded === undefined) await save();

  /** Waits for a query while time allows: true when it succeeded, false when time ran low. */
  const finished = async (queryId: string): Promise<boolean> => {
    for (;;) {
      const status = await athena.status(queryId);
      if (status.state === 'succeeded') return true;
      if (status.state === 'failed') {
        progress.attempt += 1;
        return Promise.reject(new ArchiveQueryFailedError(`Athena query ${queryId} failed: ${status.reason}`));
      }
      if (deps.remainingMs() < margin) return false;
      await deps.sleep(deps.pollMs ?? 2000);
    }
  };

  try {
    if (progress.rewrites === undefined) {
      if (progress.listQueryId === undefined) {
        progress.listQueryId = await athena.start(listingSql(table, request), token(request, progress, 'list'));
        await save();
      }
      if (!(await finished(progress.listQueryId))) {
        await save();
        return { outcome: 'continue' };
      }
      const listed = (await athena.rows(progress.listQueryId)).map(([path]) => archiveFile(path, table, request.tenant));
      const unique = [...new Map(listed.map((f) => [f.key, f])).values()];
      progress.rewrites = planRewrites(unique).map((chunk) => ({ files: chunk }));
      await save();
    }

    const rewrites = progress.rewrites;
    for (const [i, rewrite] of rewrites.entries()) {
      if (rewrite.done) continue;
      if (deps.remainingMs() < margin) {
        await save();
        return { outcome: 'continue' };
      }
      if (rewrite.staged === undefined) {
        if (rewrite.queryId === undefined) {
          // UNLOAD writes only to an empty folder, and never into another attempt's: a folder of its own,
          // saved before the query starts (a run that stops in between starts the same query: same token, same folder).
          rewrite.prefix ??= `${runPrefix(request, progress)}${i}-${progress.attempt}/`;
          await save();
          rewrite.queryId = await athena.start(
            rewriteSql(table, request, rewrite.files, files.workUri(rewrite.prefix)),
            token(request, progress, `rewrite-${i}`),
          );
          await save();
        }
        if (!(await finished(rewrite.queryId))) {
          await save();
          return { outcome: 'continue' };
        }
        rewrite.staged = (await files.listWork(rewrite.prefix!)).filter((k) => /\/date=\d{4}-\d{2}-\d{2}\/[^/]+$/.test(k));
        await save();
      }
      for (const staged of rewrite.staged) await files.promote(staged, archiveKeyOf(staged, request.tenant, rewrite));
      await files.deleteArchive(rewrite.files.map((f) => f.key));
      rewrite.done = true;
      await save();
    }
    // Staged copies and failed attempts' folders (the work bucket's lifecycle is the backstop).
    await files.deleteWork(runPrefix(request, progress));
    await files.deleteMarker(key);
    return { outcome: 'completed', files: rewrites.reduce((n, r) => n + r.files.length, 0), rewrites: rewrites.length };
  } catch (error) {
    if (error instanceof ArchiveQueryFailedError) {
      // The failed query's step starts again under a new token.
      delete progress.listQueryId;
      for (const r of progress.rewrites ?? [])
        if (!r.done && r.staged === undefined) {
          delete r.queryId;
          delete r.prefix;
        }
      await save();
    }
    throw error;
  }
};
