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
