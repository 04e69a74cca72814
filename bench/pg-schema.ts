/**
 * The scale section's PostgreSQL schema: one per run (signing keys in it are sealed under that run's
 * KEK, so a schema cannot be reused by a later run), dropped at the end like the temp dirs.
 */
import pg from 'pg';

let schemas = 0;
export const runSchema = (): string => `keymint_bench_${process.pid}_${Date.now().toString(36)}_${schemas++}`;

/** DROP SCHEMA … CASCADE; resolves to an error message instead of throwing. */
export async function dropSchema(url: string, schema: string): Promise<string | undefined> {
  if (!/^keymint_bench_[a-z0-9_]+$/.test(schema)) return `refusing to drop schema ${schema}`;
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000, statement_timeout: 10_000 });
  try {
    await client.connect();
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    return undefined;
  } catch (err) {
    return (err as Error).message;
  } finally {
    await client.end().catch(() => {});
  }
}
