/**
 * Versioned schema for the PostgreSQL store. Append only: a released migration never changes.
 * `migrate` applies pending ones in order, each in its own transaction, under a transaction-scoped
 * advisory lock, so several nodes starting at once (or `keymint migrate` beside a running fleet)
 * apply each migration exactly once.
 */
import type { Migration } from '../sql/migration.ts';
import type { Db } from './db.ts';

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'initial',
    sql: `
      CREATE TABLE clients (
        id text PRIMARY KEY,
        doc jsonb NOT NULL,
        updated_at bigint NOT NULL
      );
      CREATE TABLE keys (
        kid text PRIMARY KEY,
        doc jsonb NOT NULL
      );
      CREATE TABLE keyring (
        id int PRIMARY KEY CHECK (id = 1),
        version bigint NOT NULL
      );
      INSERT INTO keyring (id, version) VALUES (1, 0);
      CREATE TABLE tokens (
        digest text PRIMARY KEY,
        kind text NOT NULL,
        client_id text NOT NULL,
        subject text NOT NULL,
        scope text NOT NULL,
        audience jsonb NOT NULL,
        issued_at bigint NOT NULL,
        expires_at bigint NOT NULL,
        revoked_at bigint,
        family_id text,
        jti text NOT NULL
      );
      CREATE INDEX tokens_family ON tokens (family_id) WHERE family_id IS NOT NULL;
      CREATE INDEX tokens_expires ON tokens (expires_at);
      CREATE TABLE audit (
        seq bigserial PRIMARY KEY,
        at bigint NOT NULL,
        actor text NOT NULL,
        action text NOT NULL,
        target text NOT NULL,
        detail jsonb NOT NULL
      );
    `,
  },
  {
    version: 2,
    name: 'user-grants',
    // Sessions, authorization codes, token metadata, and the feed of revoked JWT ids (filled by a
    // trigger, so every path that revokes a `jti:` record feeds it).
    sql: `
      ALTER TABLE tokens ADD COLUMN meta jsonb;
      CREATE INDEX tokens_client ON tokens (client_id);
      CREATE TABLE sessions (
        id text PRIMARY KEY,
        digest text NOT NULL UNIQUE,
        subject text NOT NULL,
        subject_type text NOT NULL,
        organizations jsonb NOT NULL,
        created_at bigint NOT NULL,
        expires_at bigint NOT NULL,
        ended_at bigint
      );
      CREATE TABLE codes (
        digest text PRIMARY KEY,
        client_id text NOT NULL,
        redirect_uri text,
        scope text NOT NULL,
        code_challenge text,
        code_challenge_method text,
        nonce text,
        subject text NOT NULL,
        subject_type text NOT NULL,
        auth_time bigint NOT NULL,
        issued_at bigint NOT NULL,
        expires_at bigint NOT NULL,
        consumed_at bigint,
        family_id text NOT NULL
      );
      CREATE INDEX codes_expires ON codes (expires_at);
      CREATE TABLE revocation_feed (
        seq bigserial PRIMARY KEY,
        jti text NOT NULL,
        expires_at bigint NOT NULL
      );
      CREATE FUNCTION feed_revoked_jti() RETURNS trigger LANGUAGE plpgsql AS $fn$
      BEGIN
        IF NEW.digest LIKE 'jti:%' AND NEW.revoked_at IS NOT NULL AND (TG_OP = 'INSERT' OR OLD.revoked_at IS NULL) THEN
          INSERT INTO revocation_feed (jti, expires_at) VALUES (substr(NEW.digest, 5), NEW.expires_at);
        END IF;
        RETURN NULL;
      END
      $fn$;
      CREATE TRIGGER tokens_jti_revoked AFTER INSERT OR UPDATE OF revoked_at ON tokens
        FOR EACH ROW EXECUTE FUNCTION feed_revoked_jti();
    `,
  },
  {
    version: 3,
    name: 'family-revocations',
    // A revoked family's mark, checked by every write into the family (RACE-03).
    sql: `
      CREATE TABLE revoked_families (
        family_id text PRIMARY KEY,
        revoked_at bigint NOT NULL,
        expires_at bigint NOT NULL
      );
      CREATE INDEX revoked_families_expires ON revoked_families (expires_at);
    `,
  },
  {
    version: 4,
    name: 'replays',
    // One-time jtis of DPoP proofs and client assertions, kept until they could no longer pass.
    sql: `
      CREATE TABLE replays (
        key text PRIMARY KEY,
        expires_at bigint NOT NULL
      );
      CREATE INDEX replays_expires ON replays (expires_at);
    `,
  },
  {
    version: 5,
    name: 'code-resource',
    // The resource an authorization request named (RFC 8707): the token request may not name another.
    sql: `
      ALTER TABLE codes ADD COLUMN resource text;
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
        digest text PRIMARY KEY,
        successor text NOT NULL,
        sealed text NOT NULL,
        expires_at bigint NOT NULL
      );
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
        name text PRIMARY KEY,
        role text NOT NULL,
        password_hash text NOT NULL,
        created_at bigint NOT NULL,
        updated_at bigint NOT NULL
      );
      CREATE TABLE console_sessions (
        digest text PRIMARY KEY,
        user_name text NOT NULL,
        created_at bigint NOT NULL,
        expires_at bigint NOT NULL,
        seen_at bigint NOT NULL,
        ended_at bigint
      );
      CREATE INDEX console_sessions_user ON console_sessions (user_name);
      CREATE INDEX console_sessions_expires ON console_sessions (expires_at);
      CREATE TABLE console_links (
        digest text PRIMARY KEY,
        user_name text NOT NULL,
        created_at bigint NOT NULL,
        expires_at bigint NOT NULL,
        used_at bigint
      );
      CREATE INDEX console_links_user ON console_links (user_name);
      CREATE INDEX console_links_expires ON console_links (expires_at);
      CREATE INDEX audit_target ON audit (target, seq);
      CREATE INDEX audit_actor ON audit (actor, seq);
      CREATE INDEX audit_action ON audit (action, seq);
    `,
  },
  {
    version: 9,
    name: 'consents',
    // Remembered consent, one row per (client, subject type, subject); a client's rows are found by
    // the key's prefix when it is disabled or deleted.
    sql: `
      CREATE TABLE consents (
        client_id text NOT NULL,
        subject_type text NOT NULL,
        subject text NOT NULL,
        scope text NOT NULL,
        granted_at bigint NOT NULL,
        PRIMARY KEY (client_id, subject_type, subject)
      );
    `,
  },
  {
    version: 10,
    name: 'subject grants',
    // A subject's connected apps (its consents, and whether it holds a live refresh token for each),
    // and the tokens and codes a withdrawal of one app ends, are found by subject. Only tokens of a
    // user or an organization are in tokens_subject: client-credentials tokens (no subject type, most
    // of the table) add no entry to it; every query by subject names the subject type, which implies
    // the index's condition.
    sql: `
      CREATE INDEX consents_subject ON consents (subject_type, subject);
      CREATE INDEX tokens_subject ON tokens (subject, client_id) WHERE (meta->>'subjectType') IS NOT NULL;
      CREATE INDEX codes_subject ON codes (subject, client_id);
    `,
  },
  {
    version: 11,
    name: 'device-codes',
    // Device authorization requests (RFC 8628): the device code and the user code by digest; purged
    // by expiry like codes.
    sql: `
      CREATE TABLE device_codes (
        digest text PRIMARY KEY,
        user_code text NOT NULL UNIQUE,
        client_id text NOT NULL,
        scope text NOT NULL,
        issued_at bigint NOT NULL,
        expires_at bigint NOT NULL,
        poll_interval integer NOT NULL,
        polled_at bigint,
        status text NOT NULL,
        subject text,
        subject_type text,
        auth_time bigint,
        decided_at bigint,
        family_id text NOT NULL
      );
      CREATE INDEX device_codes_expires ON device_codes (expires_at);
    `,
  },
  {
    version: 12,
    name: 'pushed authorization requests',
    // RFC 9126: a client's pushed authorization request, by the digest of its request_uri, used once;
    // purged through expires_at like codes.
    sql: `
      CREATE TABLE pushed_requests (
        digest text PRIMARY KEY,
        client_id text NOT NULL,
        params jsonb NOT NULL,
        issued_at bigint NOT NULL,
        arrive_by bigint NOT NULL,
        expires_at bigint NOT NULL,
        consumed_at bigint
      );
      CREATE INDEX pushed_requests_expires ON pushed_requests (expires_at);
    `,
  },
  {
    version: 13,
    name: 'code-dpop-jkt',
    // RFC 9449 §10: the DPoP key a code is bound to (dpop_jkt); its token request must prove that key.
    sql: `
      ALTER TABLE codes ADD COLUMN dpop_jkt text;
    `,
  },
  {
    version: 14,
    name: 'code-session-id',
    // OIDC `sid`: the session a code was issued in, carried by its ID tokens (RP-Initiated Logout).
    sql: `
      ALTER TABLE codes ADD COLUMN session_id text;
    `,
  },
  {
    version: 15,
    name: 'session-clients',
    // OIDC Back-Channel Logout: the clients that got an ID token in a session (told when it ends); the
    // session an approved device request was approved in (its ID tokens' sid).
    sql: `
      ALTER TABLE sessions ADD COLUMN client_ids text[] NOT NULL DEFAULT '{}';
      ALTER TABLE device_codes ADD COLUMN session_id text;
    `,
  },
];

/** Arbitrary constant naming Keymint's migration lock (pg_advisory_xact_lock takes a bigint). */
const LOCK_ID = 0x6b65796d696e74n; // "keymint"

/** Applies pending migrations in `schema` (created if missing); resolves to the versions applied. */
export async function migrate(db: Db, schema: string): Promise<number[]> {
  const applied: number[] = [];
  const ident = quoteIdent(schema);
  for (;;) {
    const next = await db.tx(async (q) => {
      await q('SELECT pg_advisory_xact_lock($1)', [LOCK_ID.toString()]);
      await q(`CREATE SCHEMA IF NOT EXISTS ${ident}`);
      await q(`CREATE TABLE IF NOT EXISTS ${ident}.schema_migrations (version int PRIMARY KEY, name text NOT NULL, applied_at bigint NOT NULL)`);
      const rows = await q<{ version: number }>(`SELECT version FROM ${ident}.schema_migrations`);
      const done = new Set(rows.map((r) => r.version));
      const m = MIGRATIONS.find((x) => !done.has(x.version));
      if (!m) return undefined;
      await q(`SET LOCAL search_path TO ${ident}`);
      await q(m.sql);
      await q(`INSERT INTO ${ident}.schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)`, [m.version, m.name, Date.now()]);
      return m.version;
    });
    if (next === undefined) return applied;
    applied.push(next);
  }
}

/** A schema name as an SQL identifier; only plain names are accepted, so nothing needs escaping. */
export function quoteIdent(name: string): string {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(name)) throw new Error(`invalid PostgreSQL schema name ${JSON.stringify(name)}`);
  return `"${name}"`;
}
