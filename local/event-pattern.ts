/**
 * EventBridge event patterns (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-patterns.html):
 * every field of the pattern must match; a leaf is a list of alternatives, each an exact value or
 * one of `prefix`, `suffix`, `anything-but`, `exists`, `numeric`, `equals-ignore-case`. An array
 * in the event matches when any of its elements does. Unknown operators throw, rather than match
 * differently from the cloud.
 */
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

const NUMERIC: Record<string, (a: number, b: number) => boolean> = {
  '=': (a, b) => a === b,
  '<': (a, b) => a < b,
  '<=': (a, b) => a <= b,
  '>': (a, b) => a > b,
  '>=': (a, b) => a >= b,
};

const matchesOne = (alternative: unknown, value: unknown, present: boolean): boolean => {
  if (!isObject(alternative)) return present && value === alternative;
  const [op, arg] = Object.entries(alternative)[0] ?? [];
  switch (op) {
    case 'exists':
      return arg === present;
    case 'prefix':
      return present && typeof value === 'string' && typeof arg === 'string' && value.startsWith(arg);
    case 'suffix':
      return present && typeof value === 'string' && typeof arg === 'string' && value.endsWith(arg);
    case 'equals-ignore-case':
      return present && typeof value === 'string' && typeof arg === 'string' && value.toLowerCase() === arg.toLowerCase();
    case 'anything-but': {
      if (!present) return false;
      if (Array.isArray(arg)) return !arg.includes(value);
      if (isObject(arg)) return !matchesOne(arg, value, present);
      return value !== arg;
    }
    case 'numeric': {
      if (!present || typeof value !== 'number' || !Array.isArray(arg)) return false;
      for (let i = 0; i + 1 < arg.length; i += 2) {
        const compare = NUMERIC[String(arg[i])];
        if (!compare) throw new Error(`event pattern: unknown numeric operator ${String(arg[i])}`);
        if (!compare(value, Number(arg[i + 1]))) return false;
      }
      return true;
    }
    default:
      throw new Error(`event pattern: operator ${String(op)} is not supported locally`);
  }
};

const matchesLeaf = (alternatives: unknown[], value: unknown, present: boolean): boolean => {
  const values = Array.isArray(value) ? value : [value];
  return alternatives.some((alt) =>
    values.length === 0 ? matchesOne(alt, undefined, false) : values.some((v) => matchesOne(alt, v, present)),
  );
};

export const matchesPattern = (pattern: Record<string, unknown>, event: Record<string, unknown>): boolean =>
  Object.entries(pattern).every(([key, rule]) => {
    const present = key in event && event[key] !== undefined;
    const value = event[key];
    if (Array.isArray(rule)) return matchesLeaf(rule, value, present);
    if (isObject(rule)) return present && isObject(value) && matchesPattern(rule, value);
    throw new Error(`event pattern: field ${key} must be a list or an object`);
  });
