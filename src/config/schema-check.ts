/**
 * A JSON Schema (2020-12) checker for the subset of keywords Keymint's own schemas use, so the
 * configuration file is checked by the schema shipped for editors, not by a second description of it.
 * It answers the first problem found, as a path and a sentence an operator can act on. A keyword
 * outside the subset is an error when the schema is compiled, never silently ignored.
 *
 * Not checked: `format`, `if`/`then`, `oneOf` and the other combinators, remote `$ref`s.
 */
import { readFileSync } from 'node:fs';

/** A field's place in the document: keys and list indexes from the root. */
export type FieldPath = ReadonlyArray<string | number>;

export interface SchemaProblem {
  readonly path: FieldPath;
  /** Whether the problem is the key at `path` itself (an unknown or badly named field), not its value. */
  readonly atKey: boolean;
  readonly message: string;
}

type Schema = Record<string, unknown>;

/** The shipped schema of the configuration (and sandbox) file, at the same depth from src/ and dist/. */
export const CONFIG_SCHEMA_URL = new URL('../../schema/keymint.config.schema.json', import.meta.url);

let shipped: ReturnType<typeof schemaChecker> | undefined;

/** The checker of the shipped schema, read and compiled once per process, on first use. */
export function configSchemaChecker(): (value: unknown) => SchemaProblem | undefined {
  shipped ??= schemaChecker(JSON.parse(readFileSync(CONFIG_SCHEMA_URL, 'utf8')) as Schema);
  return shipped;
}

const ANNOTATIONS = new Set(['$schema', '$id', '$comment', '$defs', 'title', 'description', 'default', 'examples']);
const KEYWORDS = new Set([
  ...ANNOTATIONS,
  ...['$ref', 'type', 'enum', 'const', 'properties', 'required', 'additionalProperties', 'propertyNames', 'minProperties'],
  ...['items', 'uniqueItems', 'minItems', 'maxItems', 'pattern', 'minLength', 'maxLength', 'minimum', 'maximum'],
]);

const TYPE_NAMES: Record<string, string> = {
  string: 'a string',
  integer: 'a whole number',
  number: 'a number',
  boolean: 'true or false',
  array: 'a list',
  object: 'a mapping',
  null: 'null',
};

/** Compiles `root` once (refusing unknown keywords); the result checks a parsed document. */
export function schemaChecker(root: Schema): (value: unknown) => SchemaProblem | undefined {
  const patterns = new Map<string, RegExp>();
  const resolve = (schema: Schema): Schema => {
    const ref = schema.$ref;
    if (typeof ref !== 'string') return schema;
    const target = ref.startsWith('#/') ? ref.slice(2).split('/').reduce<unknown>((s, k) => (s as Schema | undefined)?.[k], root) : undefined;
    if (typeof target !== 'object' || target === null) throw new Error(`schema: unresolvable $ref ${ref}`);
    return target as Schema;
  };
  const compile = (schema: unknown, at: string): void => {
    if (typeof schema !== 'object' || schema === null) throw new Error(`schema: ${at} is not a schema object`);
    for (const [k, v] of Object.entries(schema)) {
      if (!KEYWORDS.has(k)) throw new Error(`schema: keyword ${k} at ${at} is not supported by schema-check.ts`);
      if (k === 'pattern') patterns.set(v as string, new RegExp(v as string, 'u'));
      if (k === 'properties' || k === '$defs') for (const [name, s] of Object.entries(v as Schema)) compile(s, `${at}/${k}/${name}`);
      if (k === 'items' || k === 'propertyNames' || (k === 'additionalProperties' && typeof v === 'object')) compile(v, `${at}/${k}`);
      if (k === '$ref') resolve(schema as Schema);
    }
  };
  compile(root, '#');

  const check = (schema: Schema, value: unknown, path: FieldPath): SchemaProblem | undefined => {
    const s = resolve(schema);
    const problem = (message: string, atKey = false): SchemaProblem => ({ path, atKey, message });
    if ('const' in s && value !== s.const) return problem(`must be ${JSON.stringify(s.const)}`);
    if (Array.isArray(s.enum) && !s.enum.includes(value)) return problem(`must be one of ${s.enum.map(String).join(', ')}`);
    if (s.type !== undefined) {
      const types = Array.isArray(s.type) ? (s.type as string[]) : [s.type as string];
      if (!types.some((t) => hasType(value, t))) return problem(`must be ${types.map((t) => TYPE_NAMES[t] ?? t).join(' or ')}`);
    }
    if (typeof value === 'string') {
      const length = [...value].length;
      const min = s.minLength as number | undefined;
      const max = s.maxLength as number | undefined;
      if ((min !== undefined && length < min) || (max !== undefined && length > max)) {
        return problem(min === 1 && max === undefined ? 'must not be empty' : `must be ${min ?? 0}–${max ?? '∞'} characters`);
      }
      if (typeof s.pattern === 'string' && !patterns.get(s.pattern)!.test(value)) return problem(`must be ${(s.title as string | undefined) ?? `a string matching ${s.pattern}`}`);
    }
    if (typeof value === 'number') {
      const min = s.minimum as number | undefined;
      const max = s.maximum as number | undefined;
      if ((min !== undefined && value < min) || (max !== undefined && value > max)) {
        return problem(max === undefined ? `must be at least ${min}` : `must be between ${min ?? '-∞'} and ${max}`);
      }
    }
    if (Array.isArray(value)) {
      if (typeof s.minItems === 'number' && value.length < s.minItems) return problem(`must list at least ${s.minItems}`);
      if (typeof s.maxItems === 'number' && value.length > s.maxItems) return problem(`must list at most ${s.maxItems}`);
      if (s.uniqueItems === true) {
        const seen = new Set<string>();
        for (const [i, item] of value.entries()) {
          const key = JSON.stringify(item);
          if (seen.has(key)) return { path: [...path, i], atKey: false, message: `lists ${typeof item === 'string' ? item : key} twice` };
          seen.add(key);
        }
      }
      if (s.items !== undefined) {
        for (const [i, item] of value.entries()) {
          const found = check(s.items as Schema, item, [...path, i]);
          if (found) return found;
        }
      }
    }
    if (isMapping(value)) return checkMapping(s, value, path);
    return undefined;
  };

  const checkMapping = (s: Schema, value: Record<string, unknown>, path: FieldPath): SchemaProblem | undefined => {
    const properties = (s.properties ?? {}) as Record<string, Schema>;
    for (const name of (s.required ?? []) as string[]) {
      if (!(name in value)) return { path: [...path, name], atKey: true, message: 'is required' };
    }
    if (typeof s.minProperties === 'number' && Object.keys(value).length < s.minProperties) return { path, atKey: false, message: `must name at least ${s.minProperties} field` };
    for (const [key, item] of Object.entries(value)) {
      const at = [...path, key];
      if (s.propertyNames !== undefined) {
        const found = check(s.propertyNames as Schema, key, at);
        if (found) return { path: at, atKey: true, message: `is not a valid key: ${found.message.replace(/^must be/, 'a key must be')}` };
      }
      const own = properties[key];
      if (own !== undefined) {
        const found = check(own, item, at);
        if (found) return found;
      } else if (s.additionalProperties === false) {
        const known = Object.keys(properties);
        const near = closest(key, known);
        return { path: at, atKey: true, message: `is not a known field; ${near ? `did you mean ${near}?` : `known: ${known.join(', ')}`}` };
      } else if (typeof s.additionalProperties === 'object') {
        const found = check(s.additionalProperties as Schema, item, at);
        if (found) return found;
      }
    }
    return undefined;
  };

  return (value) => check(root, value, []);
}

function hasType(value: unknown, type: string): boolean {
  switch (type) {
    case 'integer':
      return Number.isInteger(value);
    case 'number':
      return typeof value === 'number' && Number.isFinite(value);
    case 'array':
      return Array.isArray(value);
    case 'object':
      return isMapping(value);
    case 'null':
      return value === null;
    default:
      return typeof value === type;
  }
}

const isMapping = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** The known name within two edits of `name` (case-insensitive), if one is. */
export function closest(name: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  for (const k of known) {
    const d = distance(name.toLowerCase(), k.toLowerCase());
    if (d < bestDistance) [best, bestDistance] = [k, d];
  }
  return best;
}

function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = row;
  }
  return prev[b.length]!;
}
