/**
 * EventBridge schedule expressions: parsing and next fire time (UTC), for the local timers.
 * Pure: the clock is an argument.
 */

export type ScheduleExpression =
  | { readonly kind: 'rate'; readonly intervalMs: number }
  | { readonly kind: 'cron'; readonly fields: CronFields }
  | { readonly kind: 'unsupported'; readonly reason: string };

export interface CronFields {
  readonly minutes: ReadonlySet<number>;
  readonly hours: ReadonlySet<number>;
  /** undefined when the field is `?` or `*` (any day). */
  readonly daysOfMonth?: ReadonlySet<number>;
  readonly months: ReadonlySet<number>;
  /** 1 = Sunday … 7 = Saturday, as EventBridge numbers them; undefined = any. */
  readonly daysOfWeek?: ReadonlySet<number>;
  /** undefined = any year. */
  readonly years?: ReadonlySet<number>;
}

const UNIT_MS: Record<string, number> = {
  minute: 60_000,
  minutes: 60_000,
  hour: 3_600_000,
  hours: 3_600_000,
  day: 86_400_000,
  days: 86_400_000,
};

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const DAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

class CronFieldError extends Error {}

const parseField = (text: string, min: number, max: number, names?: string[]): Set<number> | undefined => {
  if (text === '*' || text === '?') return undefined;
  if (/[LW#]/i.test(text.replace(/[A-Z]{3}/gi, (m) => (names?.includes(m.toUpperCase()) ? '0' : m)))) {
    throw new CronFieldError(`"${text}" uses L, W or #, which local timers do not compute`);
  }
  const value = (s: string): number => {
    const upper = s.toUpperCase();
    const named = names?.indexOf(upper) ?? -1;
    const n = named >= 0 ? named + min : /^\d+$/.test(s) ? Number(s) : NaN;
    if (!Number.isInteger(n) || n < min || n > max) throw new CronFieldError(`"${s}" is out of range ${min}-${max}`);
    return n;
  };
  const out = new Set<number>();
  for (const part of text.split(',')) {
    const [range, stepText] = part.split('/');
    const step = stepText === undefined ? 1 : Number(stepText);
    if (!range || !Number.isInteger(step) || step < 1) throw new CronFieldError(`"${part}" is not a valid range/step`);
    let from: number;
    let to: number;
    if (range === '*') {
      from = min;
      to = max;
    } else if (range.includes('-')) {
      const [a, b] = range.split('-');
      from = value(a ?? '');
      to = value(b ?? '');
      if (to < from) throw new CronFieldError(`"${range}" wraps around, which is not supported`);
    } else {
      from = value(range);
      to = stepText === undefined ? from : max;
    }
    for (let n = from; n <= to; n += step) out.add(n);
  }
  return out;
};

/** Parses `rate(...)` or `cron(...)`; anything it cannot time is reported as unsupported, not guessed. */
export const parseScheduleExpression = (expression: string): ScheduleExpression => {
  const expr = expression.trim();
  const rate = /^rate\(\s*(\d+)\s+([a-z]+)\s*\)$/i.exec(expr);
  if (rate) {
    const n = Number(rate[1]);
    const unit = UNIT_MS[rate[2]!.toLowerCase()];
    if (!unit || n < 1) return { kind: 'unsupported', reason: `invalid rate expression ${expr}` };
    return { kind: 'rate', intervalMs: n * unit };
  }
  const cron = /^cron\((.*)\)$/i.exec(expr);
  if (cron) {
    const parts = cron[1]!.trim().split(/\s+/);
    if (parts.length !== 6) return { kind: 'unsupported', reason: `cron needs 6 fields, got ${parts.length}: ${expr}` };
    const [mi, h, dom, mo, dow, y] = parts as [string, string, string, string, string, string];
    if (dom !== '?' && dow !== '?') return { kind: 'unsupported', reason: `cron needs ? in day-of-month or day-of-week: ${expr}` };
    try {
      const daysOfMonth = parseField(dom, 1, 31);
      const daysOfWeek = parseField(dow, 1, 7, DAYS);
      const years = parseField(y, 1970, 2199);
      return {
        kind: 'cron',
        fields: {
          minutes: parseField(mi, 0, 59) ?? range(0, 59),
          hours: parseField(h, 0, 23) ?? range(0, 23),
          ...(daysOfMonth ? { daysOfMonth } : {}),
          months: parseField(mo, 1, 12, MONTHS) ?? range(1, 12),
          ...(daysOfWeek ? { daysOfWeek } : {}),
          ...(years ? { years } : {}),
        },
      };
    } catch (e) {
      if (e instanceof CronFieldError) return { kind: 'unsupported', reason: `${e.message} in ${expr}` };
      throw e;
    }
  }
  return { kind: 'unsupported', reason: `unknown schedule expression ${expr}` };
};

const range = (a: number, b: number) => new Set(Array.from({ length: b - a + 1 }, (_, i) => a + i));

/**
 * Next time strictly after `after` at which the schedule fires, or undefined if never.
 * Rates fire every interval counted from `origin` (the time the timer was set up),
 * as an EventBridge rate rule counts from its creation.
 */
export const nextFireTime = (schedule: ScheduleExpression, after: Date, origin: Date = after): Date | undefined => {
  if (schedule.kind === 'unsupported') return undefined;
  if (schedule.kind === 'rate') {
    const elapsed = after.getTime() - origin.getTime();
    const periods = Math.max(0, Math.floor(elapsed / schedule.intervalMs)) + 1;
    return new Date(origin.getTime() + periods * schedule.intervalMs);
  }
  const f = schedule.fields;
  const t = new Date(after.getTime());
  t.setUTCSeconds(0, 0);
  t.setUTCMinutes(t.getUTCMinutes() + 1);
  const maxYear = Math.max(after.getUTCFullYear() + 8, ...(f.years ? [...f.years] : []));
  while (t.getUTCFullYear() <= maxYear) {
    if (f.years && !f.years.has(t.getUTCFullYear())) {
      t.setUTCFullYear(t.getUTCFullYear() + 1, 0, 1);
      t.setUTCHours(0, 0, 0, 0);
      continue;
    }
    if (!f.months.has(t.getUTCMonth() + 1)) {
      t.setUTCMonth(t.getUTCMonth() + 1, 1);
      t.setUTCHours(0, 0, 0, 0);
      continue;
    }
    const domOk = !f.daysOfMonth || f.daysOfMonth.has(t.getUTCDate());
    const dowOk = !f.daysOfWeek || f.daysOfWeek.has(t.getUTCDay() + 1);
    if (!domOk || !dowOk) {
      t.setUTCDate(t.getUTCDate() + 1);
      t.setUTCHours(0, 0, 0, 0);
      continue;
    }
    if (!f.hours.has(t.getUTCHours())) {
      t.setUTCHours(t.getUTCHours() + 1, 0, 0, 0);
      continue;
    }
    if (!f.minutes.has(t.getUTCMinutes())) {
      t.setUTCMinutes(t.getUTCMinutes() + 1, 0, 0);
      continue;
    }
    return t;
  }
  return undefined;
};

/** The event EventBridge passes to a scheduled rule's target. */
export const scheduledEvent = (opts: { id: string; time: Date; region: string; accountId: string; ruleArn: string }) => ({
  version: '0',
  id: opts.id,
  'detail-type': 'Scheduled Event',
  source: 'aws.events',
  account: opts.accountId,
  time: opts.time.toISOString().replace(/\.\d{3}Z$/, 'Z'),
  region: opts.region,
  resources: [opts.ruleArn],
  detail: {},
});
