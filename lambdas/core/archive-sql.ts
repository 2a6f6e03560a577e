import { LIMITS, TENANT_PATTERN } from '../../contract';

/**
 * The archive eraser's Athena SQL (docs/consumers.md, "Erasure and the archive"). Every value that
 * reaches a statement is validated here and written as a string literal with its quotes doubled
 * (the only escape a Trino string literal has; backslashes mean nothing in it). The userId is text
 * a client chose: any character may be in it, so it is never trusted beyond that escape.
 */

/** A value the eraser refuses to put into SQL (the message goes to the eraser's dead-letter queue). */
export class UnsafeArchiveValueError extends Error {
  override readonly name = 'UnsafeArchiveValueError';
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;
const RFC3339_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/;
/** An identifier of the Glue catalog (database, table): lowercase letters, digits, underscores. */
const IDENTIFIER = /^[a-z0-9_]{1,255}$/;
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
/** A file name Firehose or UNLOAD writes (and the `rw-` copies of the latter). */
const FILE_NAME = /^[A-Za-z0-9][A-Za-z0-9._=+-]{0,254}$/;

/** A Trino string literal: quotes doubled; NUL (which Athena's parser refuses) and unpaired surrogates are refused. */
export const sqlString = (value: string, what: string): string => {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: NUL is exactly what is refused.
  if (/\u0000/.test(value) || !value.isWellFormed()) throw new UnsafeArchiveValueError(`${what} holds a character SQL cannot carry`);
  return `'${value.replaceAll("'", "''")}'`;
};

const identifier = (value: string, what: string): string => {
  if (!IDENTIFIER.test(value)) throw new UnsafeArchiveValueError(`${what} is not a catalog identifier`);
  return `"${value}"`;
};

export const checkTenant = (tenant: unknown): string => {
  if (typeof tenant !== 'string' || !TENANT_PATTERN.test(tenant)) throw new UnsafeArchiveValueError('tenant is not a tenant id');
  return tenant;
};

export const checkUserId = (userId: unknown): string => {
  if (typeof userId !== 'string' || userId.length < 1 || userId.length > LIMITS.maxUserIdLength)
    throw new UnsafeArchiveValueError(`userId must be a string of 1-${LIMITS.maxUserIdLength} characters`);
  sqlString(userId, 'userId');
  return userId;
};

export const checkInstant = (value: unknown, what: string): string => {
  if (typeof value !== 'string' || !RFC3339_UTC.test(value) || Number.isNaN(Date.parse(value)))
    throw new UnsafeArchiveValueError(`${what} is not an RFC 3339 UTC time`);
  return value;
};

export interface ArchiveTable {
  readonly database: string;
  readonly table: string;
  /** The archive bucket: every file path must be in it, under events/. */
  readonly bucket: string;
}

/** An archive file as "$path" names it, checked to be one of the tenant's files in the archive. */
export interface ArchiveFile {
  readonly path: string;
  readonly key: string;
  readonly date: string;
}

/** Parses a "$path" from Athena's answer; anything but `s3://<bucket>/events/tenant=<tenant>/date=<day>/<file>` is refused. */
export const archiveFile = (path: unknown, table: ArchiveTable, tenant: string): ArchiveFile => {
  if (!BUCKET.test(table.bucket)) throw new UnsafeArchiveValueError('the archive bucket name is not a bucket name');
  const prefix = `s3://${table.bucket}/`;
  if (typeof path !== 'string' || !path.startsWith(prefix)) throw new UnsafeArchiveValueError('a file path is outside the archive bucket');
  const key = path.slice(prefix.length);
  const parts = key.split('/');
  const [root, tenantPart, datePart, name, ...rest] = parts;
  const date = datePart?.startsWith('date=') ? datePart.slice(5) : '';
  if (
    rest.length > 0 ||
    root !== 'events' ||
    tenantPart !== `tenant=${tenant}` ||
    !DATE.test(date) ||
    name === undefined ||
    !FILE_NAME.test(name)
  ) {
    throw new UnsafeArchiveValueError('a file path is not an archive file of this tenant');
  }
  return { path, key, date };
};

export interface ErasureTarget {
  readonly tenant: string;
  readonly userId: string;
  /** The erasure's cutoff: the user's rows received up to it are erased, as in the table (docs/data-model.md). */
  readonly requestedAt: string;
}

/** Audit records (type prefix `activity-tracker.`) are never erased, in the table or here. */
const AUDIT_PREFIX = 'activity-tracker.';

/**
 * The user's rows: `userid = u AND receivedat <= requestedAt` (receivedat is an RFC 3339 UTC
 * string, ordered as text), audit records excepted.
 */
const userRows = ({ userId, requestedAt }: ErasureTarget) =>
  `userid = ${sqlString(checkUserId(userId), 'userId')} AND receivedat <= ${sqlString(checkInstant(requestedAt, 'requestedAt'), 'requestedAt')} ` +
  `AND NOT starts_with(type, ${sqlString(AUDIT_PREFIX, 'prefix')})`;

const from = (table: ArchiveTable) => `${identifier(table.database, 'database')}.${identifier(table.table, 'table')}`;

/** The files holding the user's rows, and their partitions' dates. */
export const listingSql = (table: ArchiveTable, target: ErasureTarget): string =>
  `SELECT DISTINCT "$path", date FROM ${from(table)} WHERE tenant = ${sqlString(checkTenant(target.tenant), 'tenant')} ` +
  `AND date <= ${sqlString(target.requestedAt.slice(0, 10), 'date')} AND ${userRows(target)}`;

/** The table's columns in order, then the partition UNLOAD writes by (partition columns come last). */
const UNLOAD_COLUMNS = ['id', 'type', 'userid', 'occurredat', 'receivedat', 'target', 'details', 'source', 'date'] as const;

/** UNLOAD writes at most 100 partitions, and a statement is at most 262,144 bytes. */
export const MAX_DATES_PER_REWRITE = 100;
export const MAX_SQL_BYTES = 200_000;

/**
 * Every row of these files but the user's, to `destination` as Parquet (Snappy), one folder per
 * date. `NOT (…)` is NULL for a row without userid: COALESCE keeps such rows.
 */
export const rewriteSql = (table: ArchiveTable, target: ErasureTarget, files: readonly ArchiveFile[], destination: string): string => {
  if (files.length === 0) throw new UnsafeArchiveValueError('a rewrite needs files');
  if (!/^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]\/[A-Za-z0-9_=/-]+\/$/.test(destination))
    throw new UnsafeArchiveValueError('the staging destination is not an S3 folder');
  const dates = [...new Set(files.map((f) => f.date))].sort();
  const checked = files.map((f) => archiveFile(f.path, table, target.tenant));
  return (
    `UNLOAD (SELECT ${UNLOAD_COLUMNS.join(', ')} FROM ${from(table)} ` +
    `WHERE tenant = ${sqlString(checkTenant(target.tenant), 'tenant')} ` +
    `AND date IN (${dates.map((d) => sqlString(d, 'date')).join(', ')}) ` +
    `AND "$path" IN (${checked.map((f) => sqlString(f.path, 'path')).join(', ')}) ` +
    `AND NOT COALESCE(${userRows(target)}, false)) ` +
    `TO ${sqlString(destination, 'destination')} WITH (format = 'PARQUET', compression = 'SNAPPY', partitioned_by = ARRAY['date'])`
  );
};

/**
 * The files in rewrites of at most MAX_DATES_PER_REWRITE dates and a statement of at most
 * MAX_SQL_BYTES (in the listing's order, grouped by date).
 */
export const planRewrites = (files: readonly ArchiveFile[]): ArchiveFile[][] => {
  const byDate = [...files].sort((a, b) => a.date.localeCompare(b.date) || a.key.localeCompare(b.key));
  const chunks: ArchiveFile[][] = [];
  let current: ArchiveFile[] = [];
  let bytes = 0;
  let dates = new Set<string>();
  for (const f of byDate) {
    const cost = Buffer.byteLength(f.path) + 16;
    const newDate = !dates.has(f.date);
    if (current.length > 0 && (bytes + cost > MAX_SQL_BYTES - 4096 || (newDate && dates.size >= MAX_DATES_PER_REWRITE))) {
      chunks.push(current);
      current = [];
      bytes = 0;
      dates = new Set();
    }
    current.push(f);
    bytes += cost;
    dates.add(f.date);
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
};
