/**
 * Growth of stored state (GROW-01, GROW-02): expired rows are purged on a schedule, in bounded
 * batches, one node at a time, and under sustained opaque-token issuance the tokens table stays flat.
 * Issuance runs against an injected clock that advances one second per round, and each round ends
 * with a purge pass, so the number of rows each round leaves is exact: the tokens issued in the last
 * TTL + grace seconds.
 */
import assert from 'node:assert/strict';
import { DatabaseSync } from 'node:sqlite';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import type { RawConfig } from '../../src/config/index.ts';
import { jtiDigest, type PurgeBatch } from '../../src/storage/types.ts';
import { cluster, eventually } from '../support/cluster.ts';
import { startServer, type TestServer } from '../support/harness.ts';
import { DATABASE_URL, dropSchema, needService, uniqueName } from '../support/services.ts';

const ROUNDS = 12;
const PER_ROUND = 10;
const TTL_S = 2;
const GRACE_S = 1;

interface Backend {
  readonly name: string;
  /** Flags selecting the backend, or undefined when it is not available (the test skipped). */
  flags(t: TestContext): Promise<RawConfig | undefined>;
  /** Rows in `table` of the server's store. */
  count(server: TestServer, table: string, flags: RawConfig): Promise<number>;
}

const sqlite: Backend = {
  name: 'SQLite',
  flags: async () => ({}),
  async count(server, table) {
    const db = new DatabaseSync(join(server.dataDir, 'keymint.db'), { readOnly: true });
    try {
      return Number((db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n);
    } finally {
      db.close();
    }
  },
};

const postgres: Backend = {
  name: 'PostgreSQL',
  async flags(t) {
    if (!(await needService(t, 'PostgreSQL'))) return undefined;
    const schema = uniqueName('kmg');
    t.after(() => dropSchema(schema));
    return { databaseUrl: DATABASE_URL, databaseSchema: schema };
  },
  async count(_server, table, flags) {
    const pg = (await import('pg')).default;
    const client = new pg.Client({ connectionString: DATABASE_URL });
    await client.connect();
    try {
      const { rows } = await client.query(`SELECT count(*)::int AS n FROM "${String(flags.databaseSchema)}".${table}`);
      return (rows[0] as { n: number }).n;
    } finally {
      await client.end();
    }
  },
};

const metric = async (server: TestServer, series: string): Promise<number> => {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? 0 : Number(line.slice(series.length + 1));
};

for (const backend of [sqlite, postgres]) {
  test(`GROW-02 GROW-01 under sustained opaque issuance (Fuuffy) the tokens table stays flat: ${backend.name}`, async (t) => {
    const flags = await backend.flags(t);
    if (!flags) return;
    let clock = Math.floor(Date.now() / 1000) * 1000;
    const server = await startServer(
      { ...flags, dialects: ['oauth2', 'fuuffy'], tokenTtl: String(TTL_S), purgeGrace: String(GRACE_S), purgeIntervalMs: '0', purgeBatchSize: '7' },
      { now: () => clock },
    );
    t.after(() => server.close());
    const { id, secret } = await server.client();
    const counts: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      clock += 1000;
      const answers = await Promise.all(Array.from({ length: PER_ROUND }, () => server.postForm('/v1/auth/token', { client_id: id, client_secret: secret })));
      for (const res of answers) assert.equal(res.status, 200, await res.text());
      const report = await server.keymint.purger.run();
      assert.equal(report.ran, true);
      assert.equal(report.behind, false);
      counts.push(await backend.count(server, 'tokens', flags));
    }
    // A token issued at second s (the clock stays on whole seconds) expires at s + TTL and is purged
    // once it has been expired more than GRACE seconds: each round leaves the last TTL + GRACE + 1 rounds.
    const window = (TTL_S + GRACE_S + 1) * PER_ROUND;
    assert.deepEqual(counts.slice(TTL_S + GRACE_S), Array(ROUNDS - TTL_S - GRACE_S).fill(window), `rows after each round: ${counts.join(' ')}`);
    assert.equal(await metric(server, 'keymint_purged_rows_total{table="tokens"}'), ROUNDS * PER_ROUND - window);
    assert.equal(await metric(server, 'keymint_purge_runs_total{result="done"}'), ROUNDS);
    assert.equal(await metric(server, 'keymint_purge_duration_seconds_count'), ROUNDS);
    assert.equal(await metric(server, 'keymint_purge_last_run_timestamp_seconds'), Math.floor(clock / 1000));
  });

  test(`GROW-01 the schedule purges by itself, in bounded batches, and what a pass leaves the next one takes: ${backend.name}`, async (t) => {
    const flags = await backend.flags(t);
    if (!flags) return;
    const server = await startServer({ ...flags, purgeIntervalMs: '100', purgeBatchSize: '4', purgeMaxBatches: '2', purgeGrace: '0' });
    t.after(() => server.close());
    const { tokens, sessions } = server.keymint.store;
    const past = Date.now() - 60_000;
    const record = (digest: string) => ({ digest, kind: 'access_token' as const, clientId: 'c', subject: 'c', scope: '', audience: [], issuedAt: past - 1000, expiresAt: past, revokedAt: null, familyId: null, jti: digest });
    for (let i = 0; i < 20; i++) await tokens.insert(record(`p:${i}`));
    await tokens.insert({ ...record(jtiDigest('revoked')), revokedAt: past - 500 });
    await tokens.insert({ ...record('p:live'), expiresAt: Date.now() + 3_600_000 });
    await sessions.insert({ id: 'ses_x', digest: 'p:s', subject: 'u', subjectType: 'user', organizations: [], createdAt: past - 1000, expiresAt: past, endedAt: null });
    const { consoleSessions, consoleLinks } = server.keymint.store;
    await consoleSessions.insert({ digest: 'p:cs', user: 'ann', createdAt: past - 1000, expiresAt: past, seenAt: past - 1000, endedAt: null });
    await consoleLinks.insert({ digest: 'p:cl', user: 'ann', createdAt: past - 1000, expiresAt: past, usedAt: null });
    assert.ok(
      await eventually(async () => (await backend.count(server, 'tokens', flags)) === 1, 20_000),
      `the expired tokens are purged (${await backend.count(server, 'tokens', flags)} rows left)`,
    );
    assert.ok(await eventually(async () => (await metric(server, 'keymint_purge_runs_total{result="done"}')) >= 1, 20_000), 'hang guard: a pass that finds nothing left');
    // 21 expired tokens at 4 per batch and 2 batches per pass: at least three passes, the first ones behind.
    assert.ok((await metric(server, 'keymint_purge_runs_total{result="behind"}')) >= 2);
    assert.equal(await metric(server, 'keymint_purged_rows_total{table="tokens"}'), 21);
    assert.equal(await metric(server, 'keymint_purged_rows_total{table="sessions"}'), 1);
    assert.equal(await metric(server, 'keymint_purged_rows_total{table="revocation_feed"}'), 1);
    assert.equal(await metric(server, 'keymint_purged_rows_total{table="console_sessions"}'), 1);
    assert.equal(await metric(server, 'keymint_purged_rows_total{table="console_links"}'), 1);
    assert.equal(await backend.count(server, 'sessions', flags), 0);
    assert.equal(await backend.count(server, 'console_sessions', flags), 0);
    assert.equal(await backend.count(server, 'console_links', flags), 0);
    assert.equal(await backend.count(server, 'revocation_feed', flags), 0);
    assert.ok(await tokens.find(['p:live']));
  });

  test(`GROW-01 token issuance keeps going during a purge pass of a large backlog: requests complete between batches, all succeed: ${backend.name}`, async (t) => {
    const flags = await backend.flags(t);
    if (!flags) return;
    const server = await startServer({ ...flags, dialects: ['oauth2', 'fuuffy'], purgeIntervalMs: '0', purgeBatchSize: '1000', purgeMaxBatches: '2', purgeGrace: '0' });
    t.after(() => server.close());
    const { tokens, purge } = server.keymint.store;
    const past = Date.now() - 60_000;
    const BACKLOG = 1500;
    for (let from = 0; from < BACKLOG; from += 50) {
      await Promise.all(
        Array.from({ length: 50 }, (_, j) => `p:${from + j}`).map((digest) =>
          tokens.insert({ digest, kind: 'access_token', clientId: 'c', subject: 'c', scope: '', audience: [], issuedAt: past - 1000, expiresAt: past, revokedAt: null, familyId: null, jti: digest }),
        ),
      );
    }
    const { id, secret } = await server.client();
    // One log of what happens, in order: each purge batch of the tokens table as it ends, each token as it is issued.
    const log: Array<{ batch: number } | 'issued'> = [];
    /**
     * On PostgreSQL a batch is a statement on the pass's own connection: a token request completes
     * in the gap between two only if it happens to be answered while the next one runs, which on a
     * loaded machine it often was not. So the pass waits there until one is issued (a pass that held
     * the table or every connection would keep it from ever completing: the hang guard fails it). On
     * SQLite a batch runs on the event loop, and a wait here would yield where the pass itself might
     * not: its many small batches leave the requests room enough.
     */
    const issuedSince = async (at: number) => {
      const deadline = Date.now() + 30_000;
      while (!log.slice(at).includes('issued')) {
        if (Date.now() > deadline) throw new Error(`hang guard: no token issued while the pass waited between batches: ${JSON.stringify(log)}`);
        await new Promise((r) => setTimeout(r, 5));
      }
    };
    const exclusive = purge.exclusive.bind(purge);
    Object.assign(purge, {
      exclusive: <T>(pass: (batch: PurgeBatch) => Promise<T>) =>
        exclusive((batch) =>
          pass(async (table, before, limit) => {
            const n = await batch(table, before, limit);
            if (table === 'tokens') {
              log.push({ batch: n });
              if (backend.name === 'PostgreSQL') await issuedSince(log.length);
            }
            return n;
          }),
        ),
    });
    let purging = true;
    const statuses: number[] = [];
    const issuer = async () => {
      while (purging) {
        const res = await server.postForm('/v1/auth/token', { client_id: id, client_secret: secret });
        statuses.push(res.status);
        if (res.status === 200) log.push('issued');
        await res.arrayBuffer();
      }
    };
    const issuers = Array.from({ length: 4 }, issuer);
    const report = await server.keymint.purger.run().finally(() => (purging = false));
    await Promise.all(issuers);

    assert.equal(report.rows.tokens, BACKLOG);
    assert.equal(report.behind, false);
    const batches = log.filter((e) => e !== 'issued').map((e) => e.batch);
    assert.equal(batches.reduce((a, b) => a + b, 0), BACKLOG);
    // SQLite deletes synchronously under the write lock: its batches stay small whatever purgeBatchSize asks.
    if (purge.maxBatch !== undefined) assert.ok(batches.every((n) => n <= purge.maxBatch!), `batches: ${batches.join(' ')}`);
    assert.ok(statuses.length > 0);
    assert.deepEqual(statuses.filter((s) => s !== 200), [], 'every token request during the pass succeeded');
    const first = log.findIndex((e) => e !== 'issued');
    const last = log.findLastIndex((e) => e !== 'issued');
    assert.ok(log.slice(first, last).includes('issued'), `a token was issued between two batches of the pass: ${JSON.stringify(log)}`);
  });
}

test('GROW-01 on PostgreSQL one node purges at a time: a node that finds the purge held skips its pass', async (t) => {
  if (!(await needService(t, 'PostgreSQL'))) return;
  const c = cluster({ redisUrl: undefined, purgeIntervalMs: '0' });
  t.after(() => c.close());
  const [a, b] = [await c.start(), await c.start()];
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  let entered!: () => void;
  const inside = new Promise<void>((resolve) => (entered = resolve));
  const pass = a.keymint.store.purge.exclusive(async () => {
    entered();
    await held;
    return 'a';
  });
  await inside;
  const skipped = await b.keymint.purger.run();
  assert.equal(skipped.ran, false);
  const text = await (await fetch(`${b.url}/metrics`)).text();
  assert.match(text, /^keymint_purge_runs_total\{result="skipped"\} 1$/m);
  release();
  assert.equal(await pass, 'a');
  assert.equal((await b.keymint.purger.run()).ran, true, 'free once the other node finished');
});
