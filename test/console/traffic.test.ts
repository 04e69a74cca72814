/**
 * Traffic summed over the deployment: two nodes on one PostgreSQL store and one Redis feed, each
 * publishing its counters every 2 s; either node's console shows both nodes' tokens. Also the
 * traffic ring alone: seconds, top clients, quantiles, bounded client counts.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DeploymentTraffic, MAX_CLIENTS_PER_SECOND, PUBLISH_EVERY_MS, quantile, TrafficRecorder } from '../../src/console/traffic.ts';
import { localFeed } from '../../src/feed/types.ts';
import type { Outcome } from '../../src/http/pipeline.ts';
import { randomBytes } from 'node:crypto';
import { loadConfig } from '../../src/config/index.ts';
import { createKeymint, type Keymint } from '../../src/service.ts';
import { createLogger } from '../../src/util/log.ts';
import { basic, type TestServer } from '../support/harness.ts';
import { DATABASE_URL, DB_WAIT_MS, dropRedisPrefix, dropSchema, needService, REDIS_URL, uniqueName } from '../support/services.ts';
import { signedIn } from './support.ts';

const outcome = (over: Partial<Outcome>): Outcome => ({
  dialect: 'oauth2', endpoint: 'token', req: {} as Outcome['req'], clientId: 'c1', grant: 'client_credentials', now: 0, status: 200, result: 'ok', error: undefined, ms: 2, ...over,
});

test('the ring: tokens by dialect and client per second, refusals, 429s, 503s, latency quantiles; the window ends at the last complete second', () => {
  let now = 1_000_000_000;
  const r = new TrafficRecorder(() => now);
  const d = new DeploymentTraffic(r, 'n1', undefined, () => now);
  for (let i = 0; i < 98; i++) r.observe(outcome({ ms: 1.5 }));
  r.observe(outcome({ ms: 40, dialect: 'orum', clientId: 'c2' }));
  r.observe(outcome({ ms: 400, dialect: 'orum', clientId: 'c2' }));
  r.observe(outcome({ status: 429, result: 'rate_limited', ms: 0.1 }));
  r.observe(outcome({ status: 401, result: 'invalid_client', ms: 0.3, endpoint: 'introspect' }));
  r.shed();
  assert.equal(d.view().totals.tokens, 0, 'the current second is not shown yet');
  now += 1000;
  const v = d.view();
  assert.equal(v.seconds.length, 120);
  const last = v.seconds.at(-1)!;
  assert.deepEqual(last.tokens, { oauth2: 98, orum: 2 });
  assert.equal(last.total, 100);
  assert.equal(last.s429, 1);
  assert.equal(last.s503, 1);
  assert.deepEqual(v.refusals, { rate_limited: 1, invalid_client: 1, temporarily_unavailable: 1 });
  assert.deepEqual(v.topClients, [{ client_id: 'c1', tokens: 98 }, { client_id: 'c2', tokens: 2 }]);
  // 101 token-endpoint latencies: 99 of ≤ 2 ms (one 0.1 ms refusal), one of 40, one of 400.
  assert.ok(last.p50! > 1 && last.p50! <= 2, String(last.p50));
  assert.ok(last.p99! > 30 && last.p99! <= 50, String(last.p99));
  assert.equal(quantile([0, 0, 0], 0.5), null);
  now += 120_000;
  assert.equal(d.view().totals.tokens, 0, 'older than the window: gone');
});

test('the ring counts at most MAX_CLIENTS_PER_SECOND clients a second; the rest as (other), never shown as a client', () => {
  let now = 2_000_000_000;
  const r = new TrafficRecorder(() => now);
  for (let i = 0; i < MAX_CLIENTS_PER_SECOND + 100; i++) r.observe(outcome({ clientId: `c${i}` }));
  now += 1000;
  const [s] = r.seconds(0, Math.floor(now / 1000));
  assert.equal(Object.keys(s!.clients).length, MAX_CLIENTS_PER_SECOND + 1);
  assert.equal(s!.clients['(other)'], 100);
  const v = new DeploymentTraffic(r, 'n', undefined, () => now).view();
  assert.equal(v.topClients.length, 20);
  assert.ok(!v.topClients.some((c) => c.client_id === '(other)'));
});

test('a node sums what other nodes publish, ignores malformed reports and forgets silent nodes', async () => {
  let now = 3_000_000_000;
  const feed = localFeed();
  const a = new TrafficRecorder(() => now);
  const b = new TrafficRecorder(() => now);
  const da = new DeploymentTraffic(a, 'a', feed, () => now);
  const db = new DeploymentTraffic(b, 'b', feed, () => now);
  {
    for (let i = 0; i < 3; i++) a.observe(outcome({}));
    for (let i = 0; i < 4; i++) b.observe(outcome({ clientId: 'c9', dialect: 'orum' }));
    now += 1000;
    await da.publish();
    await db.publish();
    await feed.publish({ type: 'traffic', node: 'evil', seconds: [{ t: Math.floor(now / 1000) - 1, tokens: { oauth2: -5 } } as never] });
    const v = da.view();
    assert.equal(v.nodes, 2);
    assert.equal(v.totals.tokens, 7);
    assert.deepEqual(v.topClients, [{ client_id: 'c9', tokens: 4 }, { client_id: 'c1', tokens: 3 }]);
    assert.equal(db.view().totals.tokens, 7);
    now += 16_000;
    assert.equal(da.view().nodes, 1, 'b has not reported for 16 s');
  }
  da.stop();
  db.stop();
});

test('two nodes on PostgreSQL + Redis: each console shows the deployment’s tokens, summed', async (t) => {
  if (!(await needService(t, 'PostgreSQL')) || !(await needService(t, 'Redis'))) return;
  const schema = uniqueName('kmtraffic');
  const prefix = `${uniqueName('kmtraffic')}:`;
  t.after(async () => {
    await dropSchema(schema);
    await dropRedisPrefix(prefix);
  });
  // Two nodes as a deployment runs them: one store, one feed, one KEK.
  const kek = randomBytes(32).toString('base64');
  const raw = { port: '0', logLevel: 'silent', maxEventLoopDelayMs: '0', console: 'true', databaseUrl: DATABASE_URL, databaseSchema: schema, redisUrl: REDIS_URL, redisPrefix: prefix, dbAcquireTimeoutMs: String(DB_WAIT_MS), dbQueryTimeoutMs: String(DB_WAIT_MS) } as const;
  const nodes: Keymint[] = [];
  t.after(async () => {
    for (const n of nodes) await n.close();
  });
  const start = async () => {
    const k = await createKeymint(loadConfig(raw, { KEYMINT_KEK: kek }), { log: createLogger('silent') });
    nodes.push(k);
    return { keymint: k, url: `http://127.0.0.1:${await k.listen()}` } as unknown as TestServer;
  };
  const one = await start();
  const two = await start();
  const { client, clientSecret } = await one.keymint.clients.create({ name: 'Spread' }, 'test');
  const c = { id: client.client_id, secret: clientSecret! };
  const token = async (node: TestServer) => {
    const res = await fetch(`${node.url}/oauth2/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(c.id, c.secret) }, body: 'grant_type=client_credentials' });
    assert.equal(res.status, 200);
  };
  for (let i = 0; i < 3; i++) await token(one);
  for (let i = 0; i < 5; i++) await token(two);
  const ann = await signedIn(one, 'ann', 'viewer');
  // Reports go out every 2 s and cover complete seconds: within two intervals and a second, both are
  // in. The wait is for that, with a hang guard far past it (a loaded machine delays timers and Redis).
  let view: { nodes: number; totals: { tokens: number }; topClients: Array<{ client_id: string; tokens: number }> } | undefined;
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 500));
    view = (await (await ann.get('/console/api/traffic')).json()) as typeof view;
    if (view!.nodes === 2 && view!.totals.tokens === 8) break;
  }
  assert.equal(view!.nodes, 2);
  assert.equal(view!.totals.tokens, 8);
  assert.deepEqual(view!.topClients, [{ client_id: c.id, tokens: 8 }]);
  assert.ok(PUBLISH_EVERY_MS <= 2000);
});
