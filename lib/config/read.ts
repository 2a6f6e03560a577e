import { ConfigError } from '../../contract';
import { CONFIG_KEYS, type ConfigKeyName } from '../config-keys';

/**
 * Readers of one context value for lib/config.ts and its parts: each applies the key's default and
 * bounds from CONFIG_KEYS and throws a ConfigError naming the key.
 */

/** Reads one context value; `undefined` when the key is not set. */
export type ContextReader = (key: string) => unknown;

/** A string setting; its default comes from CONFIG_KEYS ('' when it has none). */
export const str = (ctx: ContextReader, key: ConfigKeyName): string => {
  const value = ctx(key);
  if (value === undefined) return String(CONFIG_KEYS[key].default ?? '');
  if (typeof value !== 'string') throw new ConfigError(key, `expected a string, got ${show(value)}`);
  return value.trim();
};

/** A numeric setting, its default and bounds from CONFIG_KEYS. */
export const num = (ctx: ContextReader, key: ConfigKeyName): number => parseNumber(ctx, key, /^\d+(\.\d+)?$/, 'a number');

export const int = (ctx: ContextReader, key: ConfigKeyName): number => parseNumber(ctx, key, /^-?\d+$/, 'an integer');

const parseNumber = (ctx: ContextReader, key: ConfigKeyName, pattern: RegExp, what: string): number => {
  const { default: fallback, min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER } = CONFIG_KEYS[key];
  const raw = ctx(key);
  if (raw === undefined) {
    // Only settings with a numeric default are read unconditionally (optional ones are read when set).
    if (typeof fallback !== 'number') throw new Error(`CONFIG_KEYS.${key} has no numeric default`);
    return fallback;
  }
  let value: number;
  if (typeof raw === 'number') {
    value = raw;
  } else if (typeof raw === 'string' && pattern.test(raw)) {
    value = Number(raw);
  } else {
    throw new ConfigError(key, `expected ${what}, got ${show(raw)}`);
  }
  if (!Number.isFinite(value) || (what === 'an integer' && !Number.isInteger(value))) {
    throw new ConfigError(key, `expected ${what}, got ${show(raw)}`);
  }
  if (value < min || value > max) {
    const range =
      max === Number.MAX_SAFE_INTEGER
        ? `at least ${min}`
        : min === Number.MIN_SAFE_INTEGER
          ? `at most ${max}`
          : `between ${min} and ${max}`;
    throw new ConfigError(key, `expected ${what} ${range}, got ${value}`);
  }
  return value;
};

export const onOff = (key: 'busPublishing' | 'archive' | 'pointInTimeRecovery', value: string): boolean => {
  if (value !== 'on' && value !== 'off') throw new ConfigError(key, `expected "on" or "off", got ${show(value)}`);
  return value === 'on';
};

export const show = (value: unknown): string => JSON.stringify(value) ?? String(value);
