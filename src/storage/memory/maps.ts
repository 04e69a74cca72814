/** What the tokens and codes repositories do alike over their maps keyed by digest. */

/** The row of the first candidate digest present, in candidate order (current pepper first). */
export function firstOf<R>(rows: ReadonlyMap<string, R>, digests: readonly string[]): R | undefined {
  for (const d of digests) {
    const row = rows.get(d);
    if (row) return row;
  }
  return undefined;
}

/** Deletes the rows that expired before `before`; returns how many. */
export function deleteExpired(rows: Map<string, { readonly expiresAt: number }>, before: number): number {
  let n = 0;
  for (const [key, row] of rows) {
    if (row.expiresAt < before) {
      rows.delete(key);
      n++;
    }
  }
  return n;
}
