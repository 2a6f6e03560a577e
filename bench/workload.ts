/** The benchmark workload: realistic-looking client events that serialize to ~1 KB each. */

const WORDS = ['invoice', 'project', 'report', 'settings', 'member', 'billing', 'export', 'dashboard', 'token', 'webhook', 'plan', 'seat'];
const TYPES = [
  'user.login',
  'page.viewed',
  'resource.updated',
  'customer.billed',
  'account.changed',
  'file.exported',
  'member.invited',
  'api.called',
];

/** Deterministic pseudo-random numbers, so every run sends the same bytes. */
export const rng = (seed: number) => {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 2 ** 32;
  };
};

const hex = (r: () => number, n: number) => Array.from({ length: n }, () => Math.floor(r() * 16).toString(16)).join('');

export interface WorkloadOptions {
  readonly seed?: number;
  /** Serialized size each event aims at. @default 1024 */
  readonly eventBytes?: number;
  readonly users?: number;
  readonly types?: readonly string[];
  /**
   * occurredAt of event i: startMs + i * stepMs. @default the last event now, 1 ms apart: the
   * official client stamps an event when it is tracked, so its events arrive on time. (An event
   * stored over 10 minutes after its occurredAt also writes a late-log entry: core/digest.ts.)
   */
  readonly startMs?: number;
  readonly stepMs?: number;
  /** Overrides the userId of every event. */
  readonly userId?: string;
  /**
   * Give every event an idempotency key (a random-looking UUID, as the official client does:
   * client/client.ts `track`), so the workload takes the client's path. @default false
   */
  readonly idempotencyKeys?: boolean;
}

const uuid = (r: () => number) => `${hex(r, 8)}-${hex(r, 4)}-4${hex(r, 3)}-a${hex(r, 3)}-${hex(r, 12)}`;

/** n client events of ~eventBytes serialized JSON each. */
export const makeEvents = (n: number, opts: WorkloadOptions = {}): Record<string, unknown>[] => {
  const r = rng(opts.seed ?? 42);
  const target = opts.eventBytes ?? 1024;
  const users = opts.users ?? 1000;
  const types = opts.types ?? TYPES;
  const step = opts.stepMs ?? 1;
  const start = opts.startMs ?? Date.now() - (n - 1) * step;
  const events: Record<string, unknown>[] = [];
  for (let i = 0; i < n; i++) {
    const word = WORDS[Math.floor(r() * WORDS.length)]!;
    const event: Record<string, unknown> = {
      type: types[Math.floor(r() * types.length)]!,
      userId: opts.userId ?? `user-${Math.floor(r() * users)}@example.com`,
      occurredAt: new Date(start + i * step).toISOString(),
      ...(opts.idempotencyKeys && { idempotencyKey: uuid(r) }),
      target: { type: word, id: `${word}-${hex(r, 12)}` },
      details: {
        requestId: hex(r, 32),
        path: `/api/v2/${word}s/${hex(r, 8)}/${WORDS[Math.floor(r() * WORDS.length)]}`,
        status: 200 + Math.floor(r() * 5),
        durationMs: Math.floor(r() * 900),
        plan: r() < 0.5 ? 'team' : 'enterprise',
        note: '',
      },
    };
    const details = event.details as Record<string, unknown>;
    // Pad with a mix of words and identifiers (compressible like real payloads, not a run of one byte).
    let note = '';
    while (JSON.stringify(event).length + note.length < target)
      note += r() < 0.6 ? `${WORDS[Math.floor(r() * WORDS.length)]} ` : `${hex(r, 8)} `;
    details.note = note.slice(0, Math.max(0, target - JSON.stringify(event).length));
    events.push(event);
  }
  return events;
};

/** Splits a list into chunks of n. */
export const chunks = <T>(list: readonly T[], n: number): T[][] => {
  const out: T[][] = [];
  for (let i = 0; i < list.length; i += n) out.push(list.slice(i, i + n));
  return out;
};

export const percentile = (values: readonly number[], p: number): number => {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
};

export const median = (values: readonly number[]): number => percentile(values, 50);
