/**
 * What local mode shows of the functions' telemetry: their Powertools JSON log lines printed
 * readably (`time level [fn] message key=value`, colour on a TTY), and the EMF metric lines they
 * print aggregated into the figures of the status page (local/status-page.ts).
 */

/** One parsed EMF document: metric name → values (a metric may carry several). */
export interface EmfMetrics {
  readonly namespace: string;
  readonly dimensions: Readonly<Record<string, string>>;
  readonly values: Readonly<Record<string, readonly number[]>>;
}

type Json = Record<string, unknown>;

const parseJson = (line: string): Json | undefined => {
  const text = line.trim();
  if (!text.startsWith('{')) return undefined;
  try {
    const value = JSON.parse(text) as unknown;
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Json) : undefined;
  } catch {
    return undefined;
  }
};

/** The metrics of an EMF line (`_aws.CloudWatchMetrics`), or undefined for any other line. */
export const parseEmf = (line: string): EmfMetrics | undefined => {
  const doc = parseJson(line);
  const aws = doc?._aws as
    | { CloudWatchMetrics?: { Namespace?: string; Dimensions?: string[][]; Metrics?: { Name?: string }[] }[] }
    | undefined;
  const directive = aws?.CloudWatchMetrics?.[0];
  if (!doc || !directive) return undefined;
  const dimensions: Record<string, string> = {};
  for (const name of directive.Dimensions?.flat() ?? []) if (typeof doc[name] === 'string') dimensions[name] = doc[name] as string;
  const values: Record<string, number[]> = {};
  for (const { Name } of directive.Metrics ?? []) {
    if (!Name) continue;
    const raw = doc[Name];
    const list = (Array.isArray(raw) ? raw : [raw]).filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
    if (list.length > 0) values[Name] = list;
  }
  return { namespace: directive.Namespace ?? '', dimensions, values };
};

/** Keys every Powertools log line carries; the pretty form leaves them out. */
const STANDARD_KEYS = new Set([
  'level',
  'message',
  'timestamp',
  'service',
  'cold_start',
  'function_name',
  'function_memory_size',
  'function_arn',
  'function_request_id',
  'xray_trace_id',
  'sampling_rate',
]);

const COLOURS = {
  reset: '\x1b[0m',
  dim: '\x1b[2m',
  red: '\x1b[31m',
  green: '\x1b[32m',
  yellow: '\x1b[33m',
  magenta: '\x1b[35m',
  cyan: '\x1b[36m',
  grey: '\x1b[90m',
};
const LEVEL_COLOUR: Record<string, string> = {
  TRACE: COLOURS.grey,
  DEBUG: COLOURS.grey,
  INFO: COLOURS.green,
  WARN: COLOURS.yellow,
  ERROR: COLOURS.red,
  CRITICAL: COLOURS.red,
};

const showValue = (value: unknown): string => {
  if (typeof value === 'string') return /^[^\s"=]+$/.test(value) ? value : JSON.stringify(value);
  return JSON.stringify(value) ?? String(value);
};

const timeOf = (timestamp: unknown, fallback: Date): string => {
  const d = typeof timestamp === 'string' || typeof timestamp === 'number' ? new Date(timestamp) : fallback;
  return (Number.isNaN(d.getTime()) ? fallback : d).toISOString().slice(11, 23);
};

/**
 * One function log line, readable: Powertools JSON → `time LEVEL [fn] message key=value ...`,
 * an EMF line → `time METRIC [fn] Name=value ...`, anything else → `[fn] line`.
 */
export const formatFunctionLine = (
  fn: string,
  line: string,
  { colour = false, now = new Date() }: { colour?: boolean; now?: Date } = {},
): string => {
  const c = (code: string, text: string) => (colour ? `${code}${text}${COLOURS.reset}` : text);
  // Logical ids end in an 8-character hash (FunctionsWriter52E2D93B): the name reads better without.
  const tag = c(COLOURS.cyan, `[${fn.replace(/(?<=[a-z])[0-9A-F]{8}$/, '')}]`);
  const emf = parseEmf(line);
  if (emf) {
    const doc = parseJson(line) ?? {};
    const extra = Object.entries(emf.dimensions)
      .filter(([k]) => k !== 'service')
      .map(([k, v]) => `${k}=${v}`);
    const metrics = Object.entries(emf.values).map(([k, v]) => `${k}=${v.length === 1 ? v[0] : `[${v.join(',')}]`}`);
    return `${c(COLOURS.dim, timeOf(doc._aws && (doc._aws as Json).Timestamp, now))} ${c(COLOURS.magenta, 'METRIC')} ${tag} ${[...metrics, ...extra].join(' ')}`;
  }
  const doc = parseJson(line);
  if (!doc || typeof doc.level !== 'string' || !('message' in doc)) return `${tag} ${line}`;
  const level = doc.level.toUpperCase();
  const fields = Object.entries(doc)
    .filter(([k, v]) => !STANDARD_KEYS.has(k) && v !== undefined)
    .map(([k, v]) => `${c(COLOURS.dim, `${k}=`)}${showValue(v)}`);
  return [
    c(COLOURS.dim, timeOf(doc.timestamp, now)),
    c(LEVEL_COLOUR[level] ?? '', level.padEnd(5)),
    tag,
    String(doc.message),
    ...fields,
  ].join(' ');
};

export interface RecentError {
  readonly time: string;
  readonly fn: string;
  readonly level: string;
  readonly message: string;
  readonly correlationId?: string;
}

interface Bucket {
  readonly start: number;
  accepted: number;
  written: number;
  rejected: number;
}

/**
 * Which of the app's EMF metrics the status page charts: the runtime knows no metric names of its
 * own. Every metric is summed into `totals` either way.
 */
export interface DashboardOptions {
  /** Page title. @default 'Local status' */
  readonly title?: string;
  /** Items entering the system (e.g. accepted requests or events). */
  readonly in?: string;
  /** Items the system finished (e.g. written to storage). */
  readonly out?: string;
  /** Items refused. */
  readonly rejected?: string;
  /** Items a batch consumer reported as failed. */
  readonly failures?: string;
  /** A latency metric (ms) whose p50/p99 the page shows. */
  readonly lag?: string;
  /** A metric counted per reason, with the reason in this dimension. */
  readonly byReason?: { readonly metric: string; readonly dimension: string };
}

export interface MetricsSnapshot {
  /** The dashboard's settings, so the page knows what to show. */
  readonly dashboard: DashboardOptions;
  readonly since: string;
  readonly now: string;
  /** Sum of every value of each metric of the service namespace, since start. */
  readonly totals: Record<string, number>;
  readonly rejectedByReason: Record<string, number>;
  /** End-to-end lag (received → written) over the most recent samples, in ms. */
  readonly lag: { readonly samples: number; readonly p50: number | null; readonly p99: number | null; readonly max: number | null };
  readonly series: {
    readonly bucketSeconds: number;
    readonly buckets: { readonly t: string; readonly accepted: number; readonly written: number; readonly rejected: number }[];
  };
  readonly errors: RecentError[];
}

const percentile = (sorted: readonly number[], p: number): number | null =>
  sorted.length === 0 ? null : (sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] as number);

/**
 * Aggregates the functions' output: EMF metrics (totals, a per-bucket series of events in and
 * out, lag samples) and the most recent WARN/ERROR lines and failed invocations.
 */
export class LocalMetrics {
  private readonly started = Date.now();
  private readonly totals: Record<string, number> = {};
  private readonly byReason: Record<string, number> = {};
  private readonly lagSamples: number[] = [];
  private readonly buckets: Bucket[] = [];
  private readonly errors: RecentError[] = [];

  constructor(
    private readonly opts: {
      readonly namespace?: string;
      readonly bucketSeconds?: number;
      readonly buckets?: number;
      readonly lagSamples?: number;
      readonly errors?: number;
      readonly now?: () => number;
      readonly dashboard?: DashboardOptions;
    } = {},
  ) {}

  private now() {
    return this.opts.now?.() ?? Date.now();
  }

  private bucket(): Bucket {
    const size = (this.opts.bucketSeconds ?? 5) * 1000;
    const start = Math.floor(this.now() / size) * size;
    const last = this.buckets[this.buckets.length - 1];
    if (last && last.start === start) return last;
    const b = { start, accepted: 0, written: 0, rejected: 0 };
    this.buckets.push(b);
    const keep = this.opts.buckets ?? 60;
    while (this.buckets.length > keep) this.buckets.shift();
    return b;
  }

  /** Feeds one line a function printed. */
  line(fn: string, line: string): void {
    const emf = parseEmf(line);
    if (emf) {
      if (this.opts.namespace !== undefined && emf.namespace !== this.opts.namespace) return;
      const sum = (name: string | undefined) => (name === undefined ? 0 : (emf.values[name] ?? []).reduce((a, b) => a + b, 0));
      const { dashboard = {} } = this.opts;
      const reason = dashboard.byReason && emf.dimensions[dashboard.byReason.dimension];
      if (dashboard.byReason && reason !== undefined) {
        this.byReason[reason] = (this.byReason[reason] ?? 0) + sum(dashboard.byReason.metric);
        return;
      }
      for (const [name, values] of Object.entries(emf.values))
        this.totals[name] = (this.totals[name] ?? 0) + values.reduce((a, b) => a + b, 0);
      const lag = dashboard.lag === undefined ? [] : (emf.values[dashboard.lag] ?? []);
      this.lagSamples.push(...lag);
      const keep = this.opts.lagSamples ?? 2000;
      if (this.lagSamples.length > keep) this.lagSamples.splice(0, this.lagSamples.length - keep);
      const [accepted, written, rejected] = [sum(dashboard.in), sum(dashboard.out), sum(dashboard.rejected)];
      if (accepted || written || rejected) {
        const b = this.bucket();
        b.accepted += accepted;
        b.written += written;
        b.rejected += rejected;
      }
      return;
    }
    const doc = parseJson(line);
    const level = typeof doc?.level === 'string' ? doc.level.toUpperCase() : undefined;
    if (doc && (level === 'ERROR' || level === 'CRITICAL' || level === 'WARN')) {
      this.error({
        time: new Date(this.now()).toISOString(),
        fn,
        level,
        message: String(doc.message ?? ''),
        ...(typeof doc.correlation_id === 'string' && { correlationId: doc.correlation_id }),
      });
    }
  }

  /** Records a failed invocation (timeout, crash, thrown error) the logs may not show. */
  error(entry: RecentError): void {
    this.errors.push(entry);
    const keep = this.opts.errors ?? 20;
    if (this.errors.length > keep) this.errors.splice(0, this.errors.length - keep);
  }

  snapshot(): MetricsSnapshot {
    const sorted = [...this.lagSamples].sort((a, b) => a - b);
    const size = (this.opts.bucketSeconds ?? 5) * 1000;
    const count = this.opts.buckets ?? 60;
    // A continuous series ending now, empty buckets included, so the chart moves with time.
    const end = Math.floor(this.now() / size) * size;
    const byStart = new Map(this.buckets.map((b) => [b.start, b]));
    const buckets = Array.from({ length: count }, (_, i) => {
      const start = end - (count - 1 - i) * size;
      const b = byStart.get(start);
      return { t: new Date(start).toISOString(), accepted: b?.accepted ?? 0, written: b?.written ?? 0, rejected: b?.rejected ?? 0 };
    });
    return {
      dashboard: { title: 'Local status', ...this.opts.dashboard },
      since: new Date(this.started).toISOString(),
      now: new Date(this.now()).toISOString(),
      totals: { ...this.totals },
      rejectedByReason: { ...this.byReason },
      lag: {
        samples: sorted.length,
        p50: percentile(sorted, 50),
        p99: percentile(sorted, 99),
        max: sorted.length ? (sorted[sorted.length - 1] as number) : null,
      },
      series: { bucketSeconds: size / 1000, buckets },
      errors: [...this.errors].reverse(),
    };
  }
}
