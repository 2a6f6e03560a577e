import type { PublicEvent } from './query';

/**
 * How an export file encodes events. NDJSON: one event per line, exactly as GET /v1/events/{id}
 * returns it. CSV (RFC 4180, UTF-8, CRLF): a fixed column set for the envelope and `details` as
 * JSON in the last column, so the columns never depend on what the events hold.
 */
export type ExportFormat = 'ndjson' | 'csv';

export const CSV_COLUMNS = [
  'id',
  'type',
  'userId',
  'occurredAt',
  'receivedAt',
  'targetType',
  'targetId',
  'sourceIp',
  'sourceUserAgent',
  'details',
] as const;

/**
 * Spreadsheets run a cell that starts with `=`, `+`, `-` or `@` (and tab or CR, which some strip
 * before looking) as a formula (CSV injection, OWASP): such a cell gets a leading `'`, which they
 * show as text. Every other cell is kept as is.
 */
const FORMULA_START = /^[=+\-@\t\r]/;

export const csvCell = (value: string | undefined): string => {
  if (value === undefined || value === '') return '';
  const safe = FORMULA_START.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
};

const csvLine = (cells: readonly (string | undefined)[]): string => `${cells.map(csvCell).join(',')}\r\n`;

export const csvHeader = (): string => csvLine(CSV_COLUMNS);

export const csvRow = (event: PublicEvent): string =>
  csvLine([
    event.id,
    event.type,
    event.userId,
    event.occurredAt,
    event.receivedAt,
    event.target?.type,
    event.target?.id,
    event.source?.ip,
    event.source?.userAgent,
    event.details === undefined ? undefined : JSON.stringify(event.details),
  ]);

/** JSON.stringify never writes a raw line break (they are escaped), so one event is one line. */
export const ndjsonRow = (event: PublicEvent): string => `${JSON.stringify(event)}\n`;

/** The text of one page of events; the CSV header only at the very start of the file. */
export const encodeRows = (format: ExportFormat, events: readonly PublicEvent[], withHeader: boolean): string => {
  const row = format === 'csv' ? csvRow : ndjsonRow;
  let text = format === 'csv' && withHeader ? csvHeader() : '';
  for (const event of events) text += row(event);
  return text;
};
