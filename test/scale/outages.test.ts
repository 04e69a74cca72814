/**
 * Dependency outages under load, simulated with a TCP proxy in front of the machine's PostgreSQL
 * and Redis (the real servers keep running for the other suites).
 */
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { cluster, eventually, type Node } from '../support/cluster.ts';
import { DATABASE_URL, REDIS_URL, needService } from '../support/services.ts';
import { startTcpProxy } from '../support/tcp-proxy.ts';

const viaProxy = (url: string, port: number): string => {
  const u = new URL(url);
  u.hostname = '127.0.0.1';
  u.port = String(port);
  return u.toString();
};

/**
 * Runs `workers` sequential request loops until `stop()` is called, or the test ends (a failed
 * assertion must not leave them running once the cluster is closed); collects statuses.
 */
function load(t: TestContext, workers: number, request: () => Promise<number>) {
  const statuses: number[] = [];
  let running = true;
  t.after(() => {
    running = false;
  });
  const loops = Array.from({ length: workers }, async () => {
    while (running) {
      statuses.push(await request());
      // A request that fails without I/O (a closed pool) must not starve timers and hooks.
      await new Promise((resolve) => setImmediate(resolve));
    }
  });
  return {
    statuses,
    stop: async () => {
      running = false;
      await Promise.all(loops);
    },
  };
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('D-02 PostgreSQL cut under load: fast 503 + Retry-After (never 500 or a hang), recovers by itself, no acknowledged write lost', async (t) => {
  if (!(await needService(t, 'PostgreSQL'))) return;
  const u = new URL(DATABASE_URL);
  const proxy = await startTcpProxy(u.hostname, Number(u.port || 5432));
  t.after(() => proxy.close());
  // No client cache: every token request reads PostgreSQL, so the outage is visible on the hot path.
  // The cluster's long PostgreSQL waits: the cut refuses connections and drops those open, so a
  // request fails at once, without a timeout (a 500 ms one also bounded the node's start, which a
  // loaded machine overran).
  const c = cluster({ redisUrl: undefined, clientCacheMs: '0', rateLimitIp: '0', rateLimitClient: '0' });
  t.after(() => c.close());
  const node: Node = await c.start({ databaseUrl: viaProxy(DATABASE_URL, proxy.port) });
  const { client, clientSecret } = await node.keymint.clients.create({ name: 'outage' }, 'test');
  const retryAfter: Array<string | null> = [];
  let slowest503 = 0;
  const tokens = load(t, 3, async () => {
    const sent = performance.now();
    const res = await node.token(client.client_id, clientSecret!);
    if (res.status === 503) {
      retryAfter.push(res.headers.get('retry-after'));
      slowest503 = Math.max(slowest503, performance.now() - sent);
    }
    await res.arrayBuffer();
    return res.status;
  });
  const created: string[] = [];
  const writes = load(t, 1, async () => {
    try {
      const r = await node.keymint.clients.create({ name: 'during' }, 'test');
      created.push(r.client.client_id);
      return 200;
    } catch {
      return 503;
    }
  });
  await pause(300);
  proxy.cut();
  await pause(1500);
  proxy.resume();
  const recovered = await eventually(async () => (await node.token(client.client_id, clientSecret!)).status === 200, 10_000);
  await pause(300);
  await tokens.stop();
  await writes.stop();

  t.diagnostic(`slowest 503 during the outage: ${Math.round(slowest503)} ms`);
  assert.ok(recovered, 'serves again after PostgreSQL returns');
  assert.ok(tokens.statuses.includes(200));
  assert.ok(tokens.statuses.includes(503), 'the outage was seen');
  assert.deepEqual([...new Set(tokens.statuses)].sort(), [200, 503]);
  assert.ok(retryAfter.every((v) => v === '1'));
  const stored = new Set((await node.keymint.store.clients.list()).map((x) => x.id));
  for (const id of created) assert.ok(stored.has(id), 'every acknowledged client creation is durable');
  const metrics = await (await fetch(`${node.url}/metrics`)).text();
  assert.match(metrics, /keymint_unavailable_total\{cause="dependency"\} [1-9]/);
  assert.match(metrics, /keymint_db_up 1/);
});

for (const mode of ['hang', 'cut'] as const) {
  test(`D-02 Redis ${mode === 'hang' ? 'hung' : 'stopped'} under load: issuance continues within the local fallback limit, and the metric says so`, async (t) => {
    if (!(await needService(t, 'PostgreSQL')) || !(await needService(t, 'Redis'))) return;
    const u = new URL(REDIS_URL);
    const proxy = await startTcpProxy(u.hostname, Number(u.port || 6379));
    t.after(() => proxy.close());
    // 40/min shared; two nodes → 20/min each while Redis is away.
    const c = cluster({ rateLimitClient: '40', nodeCount: '2', redisTimeoutMs: '100', rateLimitIp: '0' });
    t.after(() => c.close());
    const node = await c.start({ redisUrl: viaProxy(REDIS_URL, proxy.port) });
    const { client, clientSecret } = await node.keymint.clients.create({ name: 'fallback' }, 'test');
    assert.equal((await node.token(client.client_id, clientSecret!)).status, 200);

    proxy[mode]();
    const statuses: number[] = [];
    const started = Date.now();
    let slowest = 0;
    for (let i = 0; i < 30; i++) {
      const sent = performance.now();
      statuses.push((await node.token(client.client_id, clientSecret!)).status);
      slowest = Math.max(slowest, performance.now() - sent);
    }
    const elapsed = Date.now() - started;
    t.diagnostic(`slowest request with Redis ${mode === 'hang' ? 'hung' : 'stopped'}: ${Math.round(slowest)} ms (command timeout 100 ms)`);
    // Every request was answered (none waited on the hung Redis beyond its command timeout): the
    // local share (20 now, refilling at 20/min) passes, the rest is refused: never unlimited, no 5xx.
    const refilled = Math.ceil((elapsed * 20) / 60_000);
    assert.deepEqual(statuses.slice(0, 20), Array(20).fill(200));
    assert.ok(statuses.every((s) => s === 200 || s === 429));
    assert.ok(statuses.filter((s) => s === 200).length <= 20 + refilled);
    assert.ok(statuses.includes(429));
    const metrics = await (await fetch(`${node.url}/metrics`)).text();
    assert.match(metrics, /keymint_limiter_fallback 1/);

    proxy.resume();
    assert.ok(
      await eventually(async () => {
        await node.token(client.client_id, clientSecret!);
        return (await (await fetch(`${node.url}/metrics`)).text()).includes('keymint_limiter_fallback 0');
      }, 10_000),
      'back on Redis after it returns',
    );
  });
}
