/**
 * `keymint export`: the stored clients as a configuration file that `apply` reads back as no change.
 * Every client is written with its id (so each is matched to itself, whoever made it), its mode and
 * type, its grants and scopes, and every other setting that differs from the default. No secret and
 * no secret source is written: an entry without `secret` leaves the client's secrets alone.
 */
import type { ClientDeclaration, KeymintFile } from '../../config/file.ts';
import type { ClientRecord } from '../../storage/types.ts';
import { declaredSpec, managedKey, sameField, SPEC_FIELDS, storedSpec, type SpecField } from './spec.ts';

/** Longest key: `managedBy` holds `apply:` and the key within 64 characters. */
const KEY_LENGTH = 58;

export function exportFile(clients: readonly ClientRecord[]): KeymintFile {
  const ordered = [...clients].sort((a, b) => a.createdAt - b.createdAt || a.id.localeCompare(b.id));
  const taken = new Set<string>();
  // Keys apply gave its clients come first, so they keep them.
  const keys = new Map<string, string>();
  for (const c of ordered) {
    const key = managedKey(c);
    if (key !== undefined && !taken.has(key)) {
      taken.add(key);
      keys.set(c.id, key);
    }
  }
  for (const c of ordered) {
    if (keys.has(c.id)) continue;
    const base = slug(c.name);
    let key = base;
    for (let n = 2; taken.has(key); n++) key = `${base.slice(0, KEY_LENGTH - String(n).length - 1)}-${n}`;
    taken.add(key);
    keys.set(c.id, key);
  }
  const entries = ordered.map((c) => [keys.get(c.id)!, declarationOf(keys.get(c.id)!, c)] as const);
  return { version: 1, clients: Object.fromEntries(entries) };
}

function declarationOf(key: string, c: ClientRecord): ClientDeclaration {
  const have = storedSpec(c);
  const defaults = declaredSpec(key, {});
  const out: Record<string, unknown> = {};
  if (have.name !== key) out.name = have.name;
  out.id = c.id;
  out.mode = c.mode;
  out.type = c.type;
  if (c.status === 'disabled') out.status = 'disabled';
  for (const field of SPEC_FIELDS) {
    if (field === 'name') continue;
    if (field === 'grants' || field === 'scopes' || !sameField(field, have, defaults)) out[field] = exported(field, have[field]);
  }
  return out as ClientDeclaration;
}

const exported = (field: SpecField, value: unknown): unknown => (Array.isArray(value) ? [...value] : typeof value === 'object' && value !== null ? structuredClone(value) : value ?? (field === 'tokenTtl' || field === 'rateLimit' ? null : value));

/** A key from a client's name: lower-case, runs of other characters as '-', at most 58 characters. */
function slug(name: string): string {
  const s = name.toLowerCase().replace(/[^a-z0-9._-]+/g, '-').replace(/^[^a-z0-9]+/, '').slice(0, KEY_LENGTH).replace(/[-._]+$/, '');
  return s === '' ? 'client' : s;
}
