/**
 * Versioned schema for the SQLite store. Append only: a released migration never changes.
 * Applied in order inside one `BEGIN IMMEDIATE` transaction each; `schema_migrations` records them.
 */
export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'initial',
    sql: `
      CREATE TABLE clients (
        id TEXT PRIMARY KEY,
        doc TEXT NOT NULL,
        updated_at INTEGER NOT NULL
      ) STRICT;
      CREATE TABLE keys (
        kid TEXT PRIMARY KEY,
        doc TEXT NOT NULL
      ) STRICT;
      CREATE TABLE keyring_version (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        version INTEGER NOT NULL
      ) STRICT;
      INSERT INTO keyring_version (id, version) VALUES (1, 0);
      CREATE TABLE tokens (
        digest TEXT PRIMARY KEY,
        kind TEXT NOT NULL,
        client_id TEXT NOT NULL,
        subject TEXT NOT NULL,
        scope TEXT NOT NULL,
        audience TEXT NOT NULL,
        issued_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL,
        revoked_at INTEGER,
        family_id TEXT,
        jti TEXT NOT NULL
      ) STRICT;
      CREATE INDEX tokens_family ON tokens (family_id) WHERE family_id IS NOT NULL;
      CREATE INDEX tokens_expires ON tokens (expires_at);
      CREATE TABLE audit (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        at INTEGER NOT NULL,
        actor TEXT NOT NULL,
        action TEXT NOT NULL,
        target TEXT NOT NULL,
        detail TEXT NOT NULL
      ) STRICT;
    `,
  },
];
