/**
 * A client's settings as configuration as code converges them: every field with its default filled
 * in, read alike from a file's declaration and from a stored record, so the two compare field by field.
 * Lists compare as sets (order carries no meaning in any of them); claims, metadata and keys compare
 * as JSON with sorted keys.
 */
import type { ClientDeclaration } from '../../config/file.ts';
import type { ClientRecord } from '../../storage/types.ts';
import { CLIENT_FIELDS, fieldsOn, type ClientField, type ClientFieldName, type FieldValue } from '../client-fields.ts';

/** What `managedBy` holds on a client apply created: `apply:<key>`. */
export const MANAGED_PREFIX = 'apply:';

/** The key of a client apply created and manages, else undefined (made by the CLI, an API, registration). */
export const managedKey = (c: ClientRecord): string | undefined => (c.managedBy?.startsWith(MANAGED_PREFIX) ? c.managedBy.slice(MANAGED_PREFIX.length) : undefined);

/** The file's key of a field apply compares: not one set at creation only (id, mode, type, secret), which the plan treats apart. */
type SpecKey<N extends ClientFieldName> = (typeof CLIENT_FIELDS)[N] extends { readonly createOnly: true } ? never : (typeof CLIENT_FIELDS)[N]['apply'] extends { readonly key: infer K extends string } ? K : never;

/** The settings apply compares, by the file's names (client-fields.ts declares each). */
export type ClientSpec = { readonly [N in ClientFieldName as SpecKey<N>]: FieldValue<N> };

/** The fields apply compares, in the order a plan prints them and export writes them. */
export const SPEC_FIELDS = [
  'name', 'grants', 'scopes', 'audiences', 'redirectUris', 'postLogoutRedirectUris', 'backchannelLogoutUri', 'backchannelLogoutSessionRequired', 'dialects', 'trusted', 'tokenTtl', 'rateLimit', 'pkceRequired', 'requirePar', 'requireSignedRequestObject', 'refreshTokenRotation', 'securityProfile', 'idTokenAlg', 'authorizationResponseAlg', 'introspectionAlg',
  'claims', 'metadata', 'authMethod', 'jwks', 'jwksUri', 'tlsSubjectDn', 'tlsSanDns', 'tlsSanUri', 'tlsSanIp', 'tlsSanEmail', 'dpopBound', 'certBound', 'exchangeAudiences', 'exchangeScopes', 'introspectionAudiences',
] as const satisfies ReadonlyArray<keyof ClientSpec>;

export type SpecField = (typeof SPEC_FIELDS)[number];

/** A field the table gives apply but missing above fails to compile here, naming it. */
const everyField: Exclude<keyof ClientSpec, SpecField> extends never ? true : Exclude<keyof ClientSpec, SpecField> = true;
void everyField;

/** Each compared field's table entry, by its key in the file. */
const SOURCES = new Map(fieldsOn('apply').filter(([name]) => !(CLIENT_FIELDS[name] as ClientField).createOnly).map(([name, a]) => [a.key, { name, field: CLIENT_FIELDS[name] as ClientField }]));
const source = (field: SpecField) => SOURCES.get(field)!;

const LISTS: ReadonlySet<SpecField> = new Set(SPEC_FIELDS.filter((f) => source(f).field.kind === 'list'));

/** The declared settings, defaults filled in (the same defaults `clients create` applies). */
export function declaredSpec(key: string, d: ClientDeclaration): ClientSpec {
  const declared = d as Readonly<Record<string, unknown>>;
  return Object.fromEntries(SPEC_FIELDS.map((f) => [f, declared[f] ?? (f === 'name' ? key : source(f).field.default)])) as unknown as ClientSpec;
}

/** A stored client's settings in the same terms. */
export function storedSpec(c: ClientRecord): ClientSpec {
  const record = c as unknown as Readonly<Record<string, unknown>>;
  return Object.fromEntries(SPEC_FIELDS.map((f) => {
    const { name, field } = source(f);
    return [f, record[field.record ?? name] ?? field.default];
  })) as unknown as ClientSpec;
}

/**
 * Settings of a spec (all, or those a plan changes) by their names in ClientService's input
 * (`tokenTtl` → `ttl`); with `defaults: false`, those at their default are left out, as `clients
 * create` leaves them (a new client asks for private_key_jwt, never for client_secret_basic).
 */
export function specInput(spec: Partial<ClientSpec>, { defaults }: { readonly defaults: boolean }): Record<string, unknown> {
  const entries = Object.entries(spec).map(([f, v]) => [source(f as SpecField), v] as const);
  return Object.fromEntries(entries.filter(([{ field }, v]) => defaults || canonical(v) !== canonical(field.default)).map(([{ name }, v]) => [name, v]));
}

/** A spec's settings by their names in a stored client (`tokenTtl` → `accessTokenTtl`), as the client rules read them. */
export function specRecord(spec: ClientSpec): Record<string, unknown> {
  return Object.fromEntries(SPEC_FIELDS.map((f) => [source(f).field.record ?? source(f).name, spec[f]]));
}

/** JSON with object keys sorted, so equal values have one spelling. */
export function canonical(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    typeof v === 'object' && v !== null && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : v,
  ) ?? 'undefined';
}

export function sameField(field: SpecField, a: ClientSpec, b: ClientSpec): boolean {
  if (LISTS.has(field)) {
    const x = new Set(a[field] as readonly string[]);
    const y = new Set(b[field] as readonly string[]);
    return x.size === y.size && [...x].every((v) => y.has(v));
  }
  return canonical(a[field]) === canonical(b[field]);
}

/** A value as a plan prints it: lists in brackets, null as `default`, maps and keys as compact JSON. */
export function shown(field: SpecField, value: unknown): string {
  if (value === undefined) return '-';
  if (value === null) return 'default';
  if (Array.isArray(value)) return `[${value.join(', ')}]`;
  if (field === 'jwks') return `${(value as { keys?: unknown[] }).keys?.length ?? 0} key(s)`;
  if (typeof value === 'object') return canonical(value);
  return String(value);
}
