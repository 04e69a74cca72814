/**
 * A small JSON Schema (2020-12 subset) validator for the dialect suites: type, enum, const,
 * required, properties, additionalProperties, items, pattern, minLength, minimum, oneOf, anyOf,
 * format date-time (RFC 3339), and the boolean schemas `true` / `false`. Unknown keywords (description, title, …) are ignored. Returns the
 * list of violations, each with the JSON pointer of the offending value.
 */
type Schema = Readonly<Record<string, unknown>>;

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

function typeOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

const typeMatches = (actual: string, wanted: string): boolean => actual === wanted || (wanted === 'number' && actual === 'integer');

export function validate(schema: Schema | boolean, value: unknown, at = ''): string[] {
  if (schema === true) return [];
  if (schema === false) return [`${at || '/'}: not allowed`];
  const errors: string[] = [];
  const fail = (msg: string) => errors.push(`${at || '/'}: ${msg}`);
  const actual = typeOf(value);
  if (schema.type !== undefined) {
    const wanted = Array.isArray(schema.type) ? (schema.type as string[]) : [schema.type as string];
    if (!wanted.some((w) => typeMatches(actual, w))) return [`${at || '/'}: expected ${wanted.join('|')}, got ${actual}`];
  }
  if ('const' in schema && JSON.stringify(schema.const) !== JSON.stringify(value)) fail(`expected ${JSON.stringify(schema.const)}`);
  if (Array.isArray(schema.enum) && !schema.enum.some((e) => JSON.stringify(e) === JSON.stringify(value))) {
    fail(`${JSON.stringify(value)} is not one of ${JSON.stringify(schema.enum)}`);
  }
  if (typeof value === 'string') {
    if (typeof schema.minLength === 'number' && [...value].length < schema.minLength) fail(`shorter than ${schema.minLength}`);
    if (typeof schema.pattern === 'string' && !new RegExp(schema.pattern, 'u').test(value)) fail(`does not match ${schema.pattern}`);
    if (schema.format === 'date-time' && (!RFC3339.test(value) || Number.isNaN(Date.parse(value)))) fail('not an RFC 3339 date-time');
  }
  if (typeof value === 'number' && typeof schema.minimum === 'number' && value < schema.minimum) fail(`less than ${schema.minimum}`);
  if (actual === 'object') errors.push(...validateObject(schema, value as Record<string, unknown>, at));
  if (actual === 'array' && schema.items !== undefined) {
    (value as unknown[]).forEach((item, i) => errors.push(...validate(schema.items as Schema, item, `${at}/${i}`)));
  }
  if (Array.isArray(schema.anyOf) && !schema.anyOf.some((s) => validate(s as Schema, value, at).length === 0)) fail('matches none of anyOf');
  if (Array.isArray(schema.oneOf)) {
    const matches = schema.oneOf.filter((s) => validate(s as Schema, value, at).length === 0).length;
    if (matches !== 1) fail(`matches ${matches} of oneOf (exactly 1 required)`);
  }
  return errors;
}

function validateObject(schema: Schema, obj: Record<string, unknown>, at: string): string[] {
  const errors: string[] = [];
  const props = (schema.properties ?? {}) as Record<string, Schema | boolean>;
  for (const name of (schema.required ?? []) as string[]) if (!Object.hasOwn(obj, name)) errors.push(`${at}/${name}: required`);
  for (const [name, v] of Object.entries(obj)) {
    if (Object.hasOwn(props, name)) errors.push(...validate(props[name]!, v, `${at}/${name}`));
    else if (schema.additionalProperties === false) errors.push(`${at}/${name}: not allowed`);
    else if (typeof schema.additionalProperties === 'object') errors.push(...validate(schema.additionalProperties as Schema, v, `${at}/${name}`));
  }
  return errors;
}
