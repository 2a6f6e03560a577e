import type { EventItem } from './keys';

/**
 * The queue message between ingest and writer: the finished item, so the writer only stores it.
 * `i` marks events with an idempotency key (a retry may already be stored: write conditionally).
 */
export interface QueueMessage {
  readonly id: string;
  readonly body: string;
  /** The API request's correlation id, sent as a message attribute (not part of the body). */
  readonly correlationId?: string;
}

export interface DecodedMessage {
  readonly item: EventItem;
  readonly idempotent: boolean;
}

/** SQS message attribute carrying the correlation id (lambdas/shared/telemetry.ts reads it back). */
export const CORRELATION_ATTRIBUTE = 'correlationId';

const VERSION = 1;

/**
 * SQS accepts only some characters in a body (not U+FFFE, U+FFFF, most controls; emulators also
 * refuse characters outside the BMP), while an event may hold any JSON string. Escaping everything
 * outside printable ASCII as JSON \uXXXX keeps every valid event sendable; JSON.parse restores it.
 */
const NON_ASCII = /[^\x20-\x7e]/g;
const escapeNonAscii = (json: string): string => json.replace(NON_ASCII, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);

export const encodeMessage = (item: EventItem, idempotent: boolean): string =>
  escapeNonAscii(JSON.stringify({ v: VERSION, i: idempotent ? 1 : 0, pk: item.pk, sk: item.sk, u: item.u, t: item.t, x: item.x, e: item.e }));

/** Decodes and checks a message body; throws a descriptive Error for anything malformed. */
export const decodeMessage = (body: string): DecodedMessage => {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    throw new Error('message body is not JSON');
  }
  if (typeof parsed !== 'object' || parsed === null) throw new Error('message body is not an object');
  const m = parsed as Record<string, unknown>;
  if (m.v !== VERSION) throw new Error(`unsupported message version ${String(m.v)}`);
  for (const key of ['pk', 'sk', 'u', 't', 'e'] as const) {
    if (typeof m[key] !== 'string' || (m[key] as string).length === 0) throw new Error(`message field '${key}' is missing`);
  }
  if (typeof m.x !== 'number' || !Number.isFinite(m.x)) throw new Error("message field 'x' is missing");
  return {
    item: { pk: m.pk as string, sk: m.sk as string, u: m.u as string, t: m.t as string, e: m.e as string, x: m.x },
    idempotent: m.i === 1,
  };
};
