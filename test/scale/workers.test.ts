/**
 * `keymint serve --workers 2` on SQLite without Redis, through the real CLI: both workers serve one
 * port; rate limits, lockouts and /metrics are shared through the primary; a worker killed under load
 * is replaced while every request on the surviving worker succeeds; SIGTERM drains requests in flight.
 */
import assert from 'node:assert/strict';
import { Agent, request } from 'node:http';
import { connect } from 'node:net';
import { existsSync, rmSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { basic, tempDir } from '../support/harness.ts';
import { cli, serve, stop, type ServeProcess } from '../support/process.ts';
import { childrenOf, ownerOf, refusesConnections } from '../support/sockets.ts';

const onLinux = existsSync('/proc/net/tcp');
const data = tempDir('keymint-workers-');
let server: ServeProcess;
let auth: string;
let port: number;

async function client(...extra: string[]): Promise<{ client_id: string; client_secret: string }> {
  const r = await cli(['clients', 'create', '--data', data, '--name', 'w', '--json', ...extra]);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout);
}

before(async () => {
  // Without delay-based shedding (serve's default here): what is tested is failures from the crash.
  // A lockout of ten minutes: the default first one (1 s) could end while a loaded machine still sends
  // the requests that must find it in force.
  server = await serve(['--data', data, '--workers', '2', '--log-level', 'info', '--rate-limit-client', '0', '--lockout-threshold', '3', '--lockout-base-ms', '600000']);
  port = Number(new URL(server.url).port);
  const c = await client();
  auth = basic(c.client_id, c.client_secret);
});
after(async () => {
  await stop(server);
  rmSync(data, { recursive: true, force: true });
});

interface Answer {
  readonly status: number | 'error';
  /** Local port of the connection that carried it. */
  readonly via: number;
  readonly body: string;
}

/** One token request; `agent` decides the connection (one keep-alive socket per lane, or a new one each time). */
function post(agent: Agent | false, authorization = auth, path = '/oauth2/token'): Promise<Answer> {
  return new Promise((resolve) => {
    let via = 0;
    const req = request({ host: '127.0.0.1', port, path, method: 'POST', agent, headers: { authorization, 'content-type': 'application/x-www-form-urlencoded' } }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, via, body }));
      res.on('error', () => resolve({ status: 'error', via, body }));
    });
    req.on('socket', (s) => {
      const note = () => (via = s.localPort ?? 0);
      if (s.localPort) note();
      else s.once('connect', note);
    });
    req.on('error', () => resolve({ status: 'error', via, body: '' }));
    // A request nothing answers is an error, not a hang of the whole test (it ran 20 min once under load).
    req.setTimeout(20_000, () => req.destroy(new Error('no answer in 20 s')));
    req.end('grant_type=client_credentials');
  });
}

const freshConnection = () => post(false);

/**
 * Polls /metrics (summed over the workers) until `n` requests are in flight (the scrape's own is not
 * counted); false after a hang guard.
 */
async function inFlight(n: number): Promise<boolean> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (new RegExp(`^keymint_http_in_flight ${n}$`, 'm').test(await (await fetch(`${server.url}/metrics`)).text())) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return false;
}

/** Which of `workers` answers a token request on a new connection (kept open until it is looked up). */
async function servedBy(workers: readonly number[]): Promise<number | undefined> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  try {
    const a = await post(agent);
    assert.equal(a.status, 200, a.body);
    return ownerOf(workers, port, a.via);
  } finally {
    agent.destroy();
  }
}

test('both workers answer on the one port', async () => {
  const workers = childrenOf(server.child.pid!);
  assert.equal(workers.length, 2, 'two worker processes');
  if (!onLinux) return;
  const seen = new Set<number>();
  for (let i = 0; i < 12 && seen.size < 2; i++) {
    const owner = await servedBy(workers);
    if (owner !== undefined) seen.add(owner);
  }
  assert.equal(seen.size, 2, 'connections were spread over both workers');
});

test('/metrics sums the workers', async () => {
  const count = async () => {
    const text = await (await fetch(`${server.url}/metrics`)).text();
    assert.match(text, /^keymint_workers 2$/m);
    return Number(/^keymint_token_requests_total\{dialect="oauth2",grant="client_credentials",result="ok"\} (\d+)$/m.exec(text)?.[1] ?? 0);
  };
  const before = await count();
  for (let i = 0; i < 6; i++) assert.equal((await freshConnection()).status, 200);
  assert.equal((await count()) - before, 6);
});

test('a client rate limit holds across workers (the primary holds the bucket)', async () => {
  const c = await client('--rate-limit', '5');
  const started = Date.now();
  const statuses = [];
  for (let i = 0; i < 10; i++) statuses.push((await post(false, basic(c.client_id, c.client_secret))).status);
  // The bucket refills at 5 a minute: one more 200 for every 12 s the ten requests took (none, unless
  // a loaded machine stretched them; then [200 ×5, 429 ×5] would fail for the refill, not the sharing).
  const refilled = Math.floor(((Date.now() - started) * 5) / 60_000);
  assert.deepEqual(statuses.slice(0, 5), [200, 200, 200, 200, 200]);
  assert.ok(statuses.every((s) => s === 200 || s === 429), JSON.stringify(statuses));
  assert.ok(statuses.filter((s) => s === 200).length <= 5 + refilled, JSON.stringify(statuses));
  assert.ok(statuses.includes(429), JSON.stringify(statuses));
});

test('a lockout begun on one worker holds on the other', async () => {
  const c = await client();
  for (let i = 0; i < 3; i++) assert.equal((await post(false, basic(c.client_id, 'ks_wrong'))).status, 401);
  // The right secret, on new connections that the primary hands to both workers in turn.
  for (let i = 0; i < 4; i++) {
    const a = await post(false, basic(c.client_id, c.client_secret));
    assert.equal(a.status, 429, a.body);
    assert.equal(JSON.parse(a.body).error, 'temporarily_unavailable');
  }
});

test('a worker killed under load is replaced; no request on the surviving worker fails', { skip: !onLinux && 'needs /proc' }, async () => {
  const workers = childrenOf(server.child.pid!);
  assert.equal(workers.length, 2);
  const lanes = Array.from({ length: 8 }, () => new Agent({ keepAlive: true, maxSockets: 1 }));
  const answers: Array<Answer & { owner: number | undefined; afterKill: boolean }> = [];
  let killed = 0;
  let running = true;
  const owners = new Map<number, number | undefined>();
  const answered = new Set<Agent>();
  const lane = async (agent: Agent) => {
    while (running) {
      const a = await post(agent);
      if (!owners.has(a.via)) owners.set(a.via, ownerOf(workers, port, a.via));
      answers.push({ ...a, owner: owners.get(a.via), afterKill: killed !== 0 });
      answered.add(agent);
      if (a.status === 'error') await new Promise((r) => setTimeout(r, 10));
    }
  };
  const loops = lanes.map(lane);
  // Not a fixed warm-up: every lane has had an answer, so each lane's connection has a known owner
  // (a request in flight on the victim at the kill fails, and its worker can no longer be looked up).
  const warm = Date.now() + 30_000;
  while (answered.size < lanes.length && Date.now() < warm) await new Promise((r) => setTimeout(r, 10));
  assert.equal(answered.size, lanes.length, 'hang guard: every lane had an answer before the kill');
  const victim = workers[0]!;
  killed = victim;
  process.kill(victim, 'SIGKILL');
  // Until the primary says a replacement listens, and a little beyond.
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline && !server.logs().includes('"msg":"worker replaced"')) await new Promise((r) => setTimeout(r, 50));
  await new Promise((r) => setTimeout(r, 500));
  running = false;
  await Promise.all(loops);
  for (const a of lanes) a.destroy();

  const survivor = workers[1]!;
  const onSurvivor = answers.filter((a) => a.owner === survivor);
  assert.ok(onSurvivor.filter((a) => a.afterKill).length > 0, 'the surviving worker kept serving after the kill');
  assert.deepEqual(onSurvivor.filter((a) => a.status !== 200).map((a) => a.status), [], 'every request on the surviving worker succeeded');
  for (const f of answers.filter((a) => a.status !== 200)) assert.equal(f.owner, victim, 'a failed request was on the killed worker');
  // New connections reach the replacement.
  const now = childrenOf(server.child.pid!);
  const replacement = now.find((p) => !workers.includes(p));
  assert.ok(replacement !== undefined, 'a replacement worker runs');
  let served = false;
  for (let i = 0; i < 10 && !served; i++) served = (await servedBy(now)) === replacement;
  assert.ok(served, 'the replacement worker serves');
  const metrics = await (await fetch(`${server.url}/metrics`)).text();
  assert.match(metrics, /^keymint_worker_restarts_total 1$/m);
  assert.match(metrics, /^keymint_workers 2$/m);
});

test('SIGTERM drains: a request in flight is answered, new connections are refused, the process exits 0', async () => {
  const sock = connect({ host: '127.0.0.1', port });
  await new Promise((r) => sock.once('connect', r));
  const body = 'grant_type=client_credentials';
  let reply = '';
  sock.setEncoding('utf8').on('data', (d: string) => (reply += d));
  const closed = new Promise((r) => sock.once('close', r));
  // Headers and half the body: the request is in flight when the signal comes. Not a fixed wait:
  // a worker that has not read the headers yet holds an idle connection, which draining closes.
  sock.write(`POST /oauth2/token HTTP/1.1\r\nhost: 127.0.0.1\r\nauthorization: ${auth}\r\ncontent-type: application/x-www-form-urlencoded\r\ncontent-length: ${body.length}\r\n\r\n${body.slice(0, 10)}`);
  assert.ok(await inFlight(1), 'hang guard: the worker never admitted the request');
  const exited = new Promise<number | null>((r) => server.child.once('exit', (code) => r(code)));
  server.child.kill('SIGTERM');
  // New connections are refused once both workers stopped accepting.
  assert.ok(await refusesConnections(port), 'new connections are refused while draining');
  sock.write(body.slice(10));
  await closed;
  assert.match(reply, /^HTTP\/1\.1 200 /);
  assert.match(reply, /\r\nconnection: close\r\n/i);
  assert.match(reply, /"access_token":"ey/);
  assert.equal(await exited, 0);
});
