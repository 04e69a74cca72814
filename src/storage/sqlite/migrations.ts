/**
 * Versioned schema for the SQLite store. Append only: a released migration never changes.
 * `migrate` applies the pending ones in order inside one `BEGIN IMMEDIATE` transaction, so several
 * processes opening the file at once apply each exactly once; `schema_migrations` records them.
 */
import type { Migration } from '../sql/migration.ts';
import type { Db } from './db.ts';

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
  {
    version: 2,
    name: 'user-grants',
    // Sessions, authorization codes, token metadata, and the feed of revoked JWT ids (filled by
    // triggers, so every path that revokes a `jti:` record feeds it, whoever wrote it).
    sql: `
      ALTER TABLE tokens ADD COLUMN meta TEXT;
      CREATE INDEX tokens_client ON tokens (client_id);
      CREATE TABLE sessions (
        id TEXT PRIMARY KEY,
        digest TEXT NOT NULL UNIQUE,
        subject TEXT NOT NULL,
        subject_type TEXT NOT NULL,
        organizations TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL,
        ended_at INTEGER
      ) STRICT;
      CREATE TABLE codes (
        digest TEXT PRIMARY KEY,
        client_id TEXT NOT NULL,
        redirect_uri TEXT,
        scope TEXT NOT NULL,
        code_challenge TEXT,
        code_challenge_method TEXT,
        nonce TEXT,
        subject TEXT NOT NULL,
        subject_type TEXT NOT NULL,
        auth_time INTEGER NOT NULL,
        issued_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL,
        consumed_at INTEGER,
        family_id TEXT NOT NULL
      ) STRICT;
      CREATE INDEX codes_expires ON codes (expires_at);
      CREATE TABLE revocation_feed (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        jti TEXT NOT NULL,
        expires_at INTEGER NOT NULL
      ) STRICT;
      CREATE TRIGGER tokens_jti_revoked_update AFTER UPDATE OF revoked_at ON tokens
        WHEN NEW.digest LIKE 'jti:%' AND OLD.revoked_at IS NULL AND NEW.revoked_at IS NOT NULL
        BEGIN INSERT INTO revocation_feed (jti, expires_at) VALUES (substr(NEW.digest, 5), NEW.expires_at); END;
      CREATE TRIGGER tokens_jti_revoked_insert AFTER INSERT ON tokens
        WHEN NEW.digest LIKE 'jti:%' AND NEW.revoked_at IS NOT NULL
        BEGIN INSERT INTO revocation_feed (jti, expires_at) VALUES (substr(NEW.digest, 5), NEW.expires_at); END;
    `,
  },
  {
    version: 3,
    name: 'family-revocations',
    // A revoked family's mark, checked by every write into the family (RACE-03).
    sql: `
      CREATE TABLE revoked_families (
        family_id TEXT PRIMARY KEY,
        revoked_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL
      ) STRICT;
      CREATE INDEX revoked_families_expires ON revoked_families (expires_at);
    `,
  },
  {
    version: 4,
    name: 'replays',
    // One-time jtis of DPoP proofs and client assertions, kept until they could no longer pass.
    sql: `
      CREATE TABLE replays (
        key TEXT PRIMARY KEY,
        expires_at INTEGER NOT NULL
      ) STRICT, WITHOUT ROWID;
      CREATE INDEX replays_expires ON replays (expires_at);
    `,
  },
  {
    version: 5,
    name: 'code-resource',
    // The resource an authorization request named (RFC 8707): the token request may not name another.
    sql: `
      ALTER TABLE codes ADD COLUMN resource TEXT;
    `,
  },
  {
    version: 6,
    name: 'purge-indexes',
    // Purging finds expired rows through an index on expires_at in every table it purges (GROW-01).
    sql: `
      CREATE INDEX sessions_expires ON sessions (expires_at);
      CREATE INDEX revocation_feed_expires ON revocation_feed (expires_at);
    `,
  },
  {
    version: 7,
    name: 'refresh-successors',
    // The sealed successor of a rotated refresh token, for the refresh grace window (RACE-04).
    sql: `
      CREATE TABLE refresh_successors (
        digest TEXT PRIMARY KEY,
        successor TEXT NOT NULL,
        sealed TEXT NOT NULL,
        expires_at INTEGER NOT NULL
      ) STRICT;
      CREATE INDEX refresh_successors_expires ON refresh_successors (expires_at);
    `,
  },
  {
    version: 8,
    name: 'console',
    // Console users (scrypt hashes), their sessions and one-time sign-in links, each by digest;
    // indexes for the console's audit filters (keyset paging on seq).
    sql: `
      CREATE TABLE console_users (
        name TEXT PRIMARY KEY,
        role TEXT NOT NULL,
        password_hash TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      ) STRICT;
      CREATE TABLE console_sessions (
        digest TEXT PRIMARY KEY,
        user_name TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL,
        seen_at INTEGER NOT NULL,
        ended_at INTEGER
      ) STRICT;
      CREATE INDEX console_sessions_user ON console_sessions (user_name);
      CREATE INDEX console_sessions_expires ON console_sessions (expires_at);
      CREATE TABLE console_links (
        digest TEXT PRIMARY KEY,
        user_name TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL,
        used_at INTEGER
      ) STRICT;
      CREATE INDEX console_links_user ON console_links (user_name);
      CREATE INDEX console_links_expires ON console_links (expires_at);
      CREATE INDEX audit_target ON audit (target, seq);
      CREATE INDEX audit_actor ON audit (actor, seq);
      CREATE INDEX audit_action ON audit (action, seq);
    `,
  },
  {
    version: 9,
    name: 'replay-log',
    // One-time keys as an append-only log (replays.ts): no index on the random key, whose page
    // writes cost more than the claim. Live claims of the old table are carried over; a process of
    // an older version still on the file fails its claims (no table of that shape) rather than
    // miss those of this one.
    sql: `
      CREATE TABLE replay_log (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        key TEXT NOT NULL,
        expires_at INTEGER NOT NULL
      ) STRICT;
      INSERT INTO replay_log (key, expires_at) SELECT key, expires_at FROM replays ORDER BY expires_at;
      DROP TABLE replays;
      ALTER TABLE replay_log RENAME TO replays;
      CREATE INDEX replays_expires ON replays (expires_at);
    `,
  },
  {
    version: 10,
    name: 'consents',
    // Remembered consent, one row per (client, subject type, subject); a client's rows are found by
    // the key's prefix when it is disabled or deleted.
    sql: `
      CREATE TABLE consents (
        client_id TEXT NOT NULL,
        subject_type TEXT NOT NULL,
        subject TEXT NOT NULL,
        scope TEXT NOT NULL,
        granted_at INTEGER NOT NULL,
        PRIMARY KEY (client_id, subject_type, subject)
      ) STRICT, WITHOUT ROWID;
    `,
  },
  {
    version: 11,
    name: 'subject grants',
    // A subject's connected apps (its consents, and whether it holds a live refresh token for each),
    // and the tokens and codes a withdrawal of one app ends, are found by subject. Only tokens of a
    // user or an organization are in tokens_subject: client-credentials tokens (no subject type, most
    // of the table) add no entry to it; every query by subject names the subject type, which implies
    // the index's condition.
    sql: `
      CREATE INDEX consents_subject ON consents (subject_type, subject);
      CREATE INDEX tokens_subject ON tokens (subject, client_id) WHERE json_extract(meta, '$.subjectType') IS NOT NULL;
      CREATE INDEX codes_subject ON codes (subject, client_id);
    `,
  },
  {
    version: 12,
    name: 'device-codes',
    // Device authorization requests (RFC 8628): the device code and the user code by digest; purged
    // by expiry like codes.
    sql: `
      CREATE TABLE device_codes (
        digest TEXT PRIMARY KEY,
        user_code TEXT NOT NULL UNIQUE,
        client_id TEXT NOT NULL,
        scope TEXT NOT NULL,
        issued_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL,
        poll_interval INTEGER NOT NULL,
        polled_at INTEGER,
        status TEXT NOT NULL,
        subject TEXT,
        subject_type TEXT,
        auth_time INTEGER,
        decided_at INTEGER,
        family_id TEXT NOT NULL
      ) STRICT;
      CREATE INDEX device_codes_expires ON device_codes (expires_at);
    `,
  },
  {
    version: 13,
    name: 'pushed authorization requests',
    // RFC 9126: a client's pushed authorization request, by the digest of its request_uri, used once;
    // purged through expires_at like codes.
    sql: `
      CREATE TABLE pushed_requests (
        digest TEXT PRIMARY KEY,
        client_id TEXT NOT NULL,
        params TEXT NOT NULL,
        issued_at INTEGER NOT NULL,
        arrive_by INTEGER NOT NULL,
        expires_at INTEGER NOT NULL,
        consumed_at INTEGER
      ) STRICT, WITHOUT ROWID;
      CREATE INDEX pushed_requests_expires ON pushed_requests (expires_at);
    `,
  },
  {
    version: 14,
    name: 'code-dpop-jkt',
    // RFC 9449 §10: the DPoP key a code is bound to (dpop_jkt); its token request must prove that key.
    sql: `
      ALTER TABLE codes ADD COLUMN dpop_jkt TEXT;
    `,
  },
  {
    version: 15,
    name: 'code-session-id',
    // OIDC `sid`: the session a code was issued in, carried by its ID tokens (RP-Initiated Logout).
    sql: `
      ALTER TABLE codes ADD COLUMN session_id TEXT;
    `,
  },
  {
    version: 16,
    name: 'session-clients',
    // OIDC Back-Channel Logout: the clients that got an ID token in a session (a JSON array, told when
    // it ends); the session an approved device request was approved in (its ID tokens' sid).
    sql: `
      ALTER TABLE sessions ADD COLUMN client_ids TEXT NOT NULL DEFAULT '[]';
      ALTER TABLE device_codes ADD COLUMN session_id TEXT;
    `,
  },
];

/**
 * Applies pending migrations; safe to run from several processes at once. Returns the versions
 * applied. Committed unflushed and synchronously (`db.blocking`), so a store opens synchronously: a power loss right after can forget a
 * migration together with its record, and the next start applies it again; any later durable write's
 * fsync flushes it first (the WAL is one sequential log), so nothing written under a schema outlives it.
 */
export function migrate(db: Db): number[] {
  return db.blocking(() => {
    db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL) STRICT');
    const done = new Set(db.prepare<{ version: number }>('SELECT version FROM schema_migrations').all().map((r) => r.version));
    const record = db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)');
    const applied: number[] = [];
    for (const m of MIGRATIONS) {
      if (done.has(m.version)) continue;
      db.exec(m.sql);
      record.run(m.version, m.name, Date.now());
      applied.push(m.version);
    }
    return applied;
  });
}
