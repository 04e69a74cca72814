/** Value parsers for the options table: each takes the raw value and the option's key (for errors). */
import { isIP } from 'node:net';

export class ConfigError extends Error {
  readonly key: string;
  /** What is wrong, without the name of the option. */
  readonly reason: string;
  /** `label` is how the operator gave the option (`--port`, `KEYMINT_PORT`); by default its key. */
  constructor(key: string, reason: string, label = `config ${key}`) {
    super(`${label}: ${reason}`);
    this.name = 'ConfigError';
    this.key = key;
    this.reason = reason;
  }
}

/** A value as given: a flag or environment string, a repeatable list, a boolean flag, or a number from code. */
export type RawValue = string | number | boolean | readonly string[];

export type Parser<T> = (raw: RawValue, key: string) => T;

export const text = (raw: RawValue, key: string): string => {
  if (typeof raw === 'string') return raw;
  if (typeof raw === 'number') return String(raw);
  throw new ConfigError(key, 'expected a single value');
};

export const int =
  (min: number, max: number): Parser<number> =>
  (raw, key) => {
    const value = typeof raw === 'number' ? String(raw) : text(raw, key);
    if (!/^-?\d+$/.test(value)) throw new ConfigError(key, `expected a whole number, got ${JSON.stringify(value)}`);
    const n = Number(value);
    if (n < min || n > max) throw new ConfigError(key, `must be between ${min} and ${max}, got ${value}`);
    return n;
  };

export const bool: Parser<boolean> = (raw, key) => {
  if (typeof raw === 'boolean') return raw;
  const value = text(raw, key);
  if (['true', '1', 'yes'].includes(value)) return true;
  if (['false', '0', 'no', ''].includes(value)) return false;
  throw new ConfigError(key, 'expected true or false');
};

export const oneOf =
  <T extends string>(values: readonly T[]): Parser<T> =>
  (raw, key) => {
    const value = text(raw, key);
    if (!(values as readonly string[]).includes(value)) throw new ConfigError(key, `must be one of ${values.join(', ')}`);
    return value as T;
  };

export const matching =
  (pattern: RegExp, what: string): Parser<string> =>
  (raw, key) => {
    const value = text(raw, key);
    if (!pattern.test(value)) throw new ConfigError(key, `must be ${what}`);
    return value;
  };

/** A repeatable option: a list from flags, or a comma-separated environment value. */
export const list = (raw: RawValue, key: string): string[] => {
  if (Array.isArray(raw)) return [...(raw as readonly string[])];
  return text(raw, key).split(',').map((s) => s.trim()).filter(Boolean);
};

export function absoluteUrl(raw: RawValue, key: string): string {
  const value = text(raw, key);
  try {
    const url = new URL(value);
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new Error('scheme');
  } catch {
    throw new ConfigError(key, 'must be an absolute http(s) URL');
  }
  return value;
}

export function absoluteUri(raw: RawValue, key: string): string {
  const value = text(raw, key);
  try {
    new URL(value);
  } catch {
    throw new ConfigError(key, 'must be an absolute URI');
  }
  return value;
}

export function isAddressOrCidr(value: string): boolean {
  const [addr, bits, extra] = value.split('/');
  if (extra !== undefined || addr === undefined || isIP(addr) === 0) return false;
  if (bits === undefined) return true;
  return /^\d{1,3}$/.test(bits) && Number(bits) <= (isIP(addr) === 4 ? 32 : 128);
}
