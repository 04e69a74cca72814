/** What the repositories do alike over their maps: lookup by candidate digest, purge of expired rows. */

/** The row of the first candidate digest present, in candidate order (current pepper first). */
export function firstOf<R>(rows: ReadonlyMap<string, R>, digests: readonly string[]): R | undefined {
  for (const d of digests) {
    const row = rows.get(d);
    if (row) return row;
  }
  return undefined;
}

/** Deletes at most `limit` rows whose expiry (`expiresOf`) is before `before`; returns how many. */
export function deleteExpired<K, R>(rows: Map<K, R>, before: number, limit: number, expiresOf: (row: R) => number): number {
  let n = 0;
  for (const [key, row] of rows) {
    if (n >= limit) break;
    if (expiresOf(row) < before) {
      rows.delete(key);
      n++;
    }
  }
  return n;
}

/** The expiry of a record that has one. */
export const expiresAt = (row: { readonly expiresAt: number }): number => row.expiresAt;
