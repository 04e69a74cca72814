/**
 * A client's settings as configuration as code converges them: every field with its default filled
 * in, read alike from a file's declaration and from a stored record, so the two compare field by field.
 * Lists compare as sets (order carries no meaning in any of them); claims, metadata and keys compare
 * as JSON with sorted keys.
 */
import type { ClientDeclaration } from '../../config/file.ts';
import type { ClaimValue, ClientRecord } from '../../storage/types.ts';

/** What `managedBy` holds on a client apply created: `apply:<key>`. */
export const MANAGED_PREFIX = 'apply:';

/** The key of a client apply created and manages, else undefined (made by the CLI, an API, registration). */
export const managedKey = (c: ClientRecord): string | undefined => (c.managedBy?.startsWith(MANAGED_PREFIX) ? c.managedBy.slice(MANAGED_PREFIX.length) : undefined);

export interface ClientSpec {
  readonly name: string;
  readonly grants: readonly string[];
  readonly scopes: readonly string[];
  readonly audiences: readonly string[];
  readonly redirectUris: readonly string[];
  readonly dialects: readonly string[];
  readonly trusted: boolean;
  readonly tokenTtl: number | null;
  readonly rateLimit: number | null;
  readonly pkceRequired: boolean;
  readonly claims: Readonly<Record<string, ClaimValue>>;
  readonly metadata: Readonly<Record<string, string>>;
  readonly authMethod: 'client_secret_basic' | 'private_key_jwt';
  readonly jwks: unknown;
  readonly jwksUri: string | undefined;
  readonly dpopBound: boolean;
  readonly exchangeAudiences: readonly string[];
  readonly exchangeScopes: readonly string[];
}

/** The fields apply compares, in the order a plan prints them. */
export const SPEC_FIELDS = [
  'name', 'grants', 'scopes', 'audiences', 'redirectUris', 'dialects', 'trusted', 'tokenTtl', 'rateLimit', 'pkceRequired',
  'claims', 'metadata', 'authMethod', 'jwks', 'jwksUri', 'dpopBound', 'exchangeAudiences', 'exchangeScopes',
] as const satisfies ReadonlyArray<keyof ClientSpec>;

export type SpecField = (typeof SPEC_FIELDS)[number];

const LISTS: ReadonlySet<SpecField> = new Set(['grants', 'scopes', 'audiences', 'redirectUris', 'dialects', 'exchangeAudiences', 'exchangeScopes']);

/** The declared settings, defaults filled in (the same defaults `clients create` applies). */
export function declaredSpec(key: string, d: ClientDeclaration): ClientSpec {
  return {
    name: d.name ?? key,
    grants: d.grants ?? ['client_credentials'],
    scopes: d.scopes ?? [],
    audiences: d.audiences ?? [],
    redirectUris: d.redirectUris ?? [],
    dialects: d.dialects ?? [],
    trusted: d.trusted ?? false,
    tokenTtl: d.tokenTtl ?? null,
    rateLimit: d.rateLimit ?? null,
    pkceRequired: d.pkceRequired ?? true,
    claims: d.claims ?? {},
    metadata: d.metadata ?? {},
    authMethod: d.authMethod ?? 'client_secret_basic',
    jwks: d.jwks,
    jwksUri: d.jwksUri,
    dpopBound: d.dpopBound ?? false,
    exchangeAudiences: d.exchangeAudiences ?? [],
    exchangeScopes: d.exchangeScopes ?? [],
  };
}

/** A stored client's settings in the same terms. */
export function storedSpec(c: ClientRecord): ClientSpec {
  return {
    name: c.name,
    grants: c.grants,
    scopes: c.scopes,
    audiences: c.audiences,
    redirectUris: c.redirectUris,
    dialects: c.dialects,
    trusted: c.trusted,
    tokenTtl: c.accessTokenTtl,
    rateLimit: c.rateLimit ?? null,
    pkceRequired: c.pkceRequired !== false,
    claims: c.claims ?? {},
    metadata: c.metadata ?? {},
    authMethod: c.authMethod ?? 'client_secret_basic',
    jwks: c.jwks,
    jwksUri: c.jwksUri,
    dpopBound: c.dpopBound === true,
    exchangeAudiences: c.exchangeAudiences ?? [],
    exchangeScopes: c.exchangeScopes ?? [],
  };
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
