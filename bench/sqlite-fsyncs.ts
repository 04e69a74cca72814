/**
 * Which threads of a SQLite node fsync its commits, and how many fsyncs it makes per 1,000 writes
 * (not part of `bench/run.ts`). `node bench/sqlite-fsyncs.ts [WRITES] [CONNECTIONS] [BIN]` creates a
 * data directory and a client (the CLI, untraced), starts `keymint serve` (BIN, default this checkout's
 * bin/keymint.js; one process, SQLite) under `strace -f -ttt -e trace=fsync,fdatasync`, then
 *
 * - issues WRITES opaque tokens (the fuuffy dialect: each a stored token, group-committed), with
 *   CONNECTIONS requests in flight, then
 * - revokes each of them at /oauth2/revoke (one UPDATE committed per request), likewise,
 *
 * and prints per phase the fsync/fdatasync calls the server made, by thread (the main thread runs
 * the event loop; others are libuv's threadpool, the upkeep worker, V8's), per 1,000 writes, and the
 * time the event-loop thread spent inside them (total and longest call, from strace -T).
 * Deterministic counts, not times: run it on any machine, with BIN from another checkout to compare.
 */
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, NODE, removeTempDir, ROOT, sleep, tempDir } from './procs.ts';

const [writesArg = '1000', connectionsArg = '16', bin = join(ROOT, 'bin/keymint.js')] = process.argv.slice(2);
const writes = Math.max(1, Number(writesArg));
const connections = Math.max(1, Number(connectionsArg));
const dir = tempDir('sqlite-fsyncs');
const trace = join(dir, 'strace.txt');
const data = join(dir, 'data');

const created = spawnSync(NODE, [bin, 'clients', 'create', '--data', data, '--name', 'bench', '--json'], { encoding: 'utf8' });
const client = JSON.parse(created.stdout) as { client_id: string; client_secret: string };
const port = await freePort();
const strace = spawn('strace', ['-f', '-ttt', '-T', '-qq', '-e', 'trace=fsync,fdatasync', '-o', trace, NODE, bin, 'serve', '--data', data, '--port', String(port), '--log-level', 'warn', '--workers', '1', '--dialect', 'oauth2', '--dialect', 'fuuffy'], {
  stdio: ['ignore', 'inherit', 'inherit'],
});
const base = `http://127.0.0.1:${port}`;
for (let i = 0; ; i++) {
  if (i > 300) throw new Error('the server did not start');
  try {
    if ((await fetch(`${base}/healthz`)).ok) break;
  } catch {
    // not listening yet
  }
  await sleep(100);
}
const serverPid = Number(readFileSync(`/proc/${strace.pid}/task/${strace.pid}/children`, 'utf8').trim().split(/\s+/)[0]);

/** Runs `count` requests, `connections` at a time; resolves each answer's JSON body. */
async function run(count: number, request: (i: number) => Promise<Response>): Promise<{ bodies: unknown[]; failed: number }> {
  const bodies: unknown[] = new Array(count);
  let next = 0;
  let failed = 0;
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (next < count) {
        const i = next++;
        const res = await request(i);
        const text = await res.text();
        if (!res.ok) failed++;
        bodies[i] = text ? JSON.parse(text) : null;
      }
    }),
  );
  return { bodies, failed };
}

const form = { 'content-type': 'application/x-www-form-urlencoded' };
const basic = `Basic ${Buffer.from(`${client.client_id}:${client.client_secret}`).toString('base64')}`;
const phases: Array<{ name: string; from: number; to: number; failed: number }> = [];
await sleep(500);
let from = Date.now() / 1000;
const issued = await run(writes, () => fetch(`${base}/v1/auth/token`, { method: 'POST', headers: form, body: new URLSearchParams({ client_id: client.client_id, client_secret: client.client_secret }).toString() }));
phases.push({ name: 'issue', from, to: Date.now() / 1000, failed: issued.failed });
const tokens = issued.bodies.map((b) => (b as { data?: { access_token?: string } } | null)?.data?.access_token ?? '');
await sleep(500);
from = Date.now() / 1000;
const revoked = await run(writes, (i) => fetch(`${base}/oauth2/revoke`, { method: 'POST', headers: { ...form, authorization: basic }, body: `token=${tokens[i]}` }));
phases.push({ name: 'revoke', from, to: Date.now() / 1000, failed: revoked.failed });
await sleep(500);

// Thread names while it still runs: the main thread is `node` (or MainThread); libuv's are `libuv-worker`.
const comm = (tid: number): string => {
  try {
    return readFileSync(`/proc/${serverPid}/task/${tid}/comm`, 'utf8').trim();
  } catch {
    return 'gone';
  }
};
// A call another thread's output interrupted is split: `… fsync(3 <unfinished ...>`, later `… <... fsync resumed>) = 0 <0.0012>`.
const calls: Array<{ tid: number; at: number; call: string; seconds: number }> = [];
const unfinished = new Map<number, (typeof calls)[number]>();
for (const l of readFileSync(trace, 'utf8').split('\n')) {
  const [tid = '', at = '', call = ''] = l.split(/ +/);
  const seconds = Number(/<([\d.]+)>$/.exec(l)?.[1] ?? NaN);
  if (/^f(data)?sync\(/.test(call)) {
    const c = { tid: Number(tid), at: Number(at), call: call.slice(0, call.indexOf('(')), seconds };
    calls.push(c);
    if (l.endsWith('<unfinished ...>')) unfinished.set(c.tid, c);
  } else if (/<\.\.\. f(data)?sync resumed>/.test(l)) {
    const c = unfinished.get(Number(tid));
    if (c) c.seconds = seconds;
    unfinished.delete(Number(tid));
  }
}
const names = new Map([...new Set(calls.map((c) => c.tid))].map((tid) => [tid, tid === serverPid ? 'event loop' : comm(tid)]));
process.kill(serverPid, 'SIGTERM');
await new Promise((resolve) => strace.once('exit', resolve));

const report = phases.map((p) => {
  const inPhase = calls.filter((c) => c.at >= p.from && c.at <= p.to + 0.25);
  const byThread: Record<string, number> = {};
  for (const c of inPhase) {
    const key = `${names.get(c.tid)} ${c.call}`;
    byThread[key] = (byThread[key] ?? 0) + 1;
  }
  const onLoop = inPhase.filter((c) => c.tid === serverPid);
  const ms = (x: number) => Math.round(x * 10_000) / 10;
  return {
    phase: p.name,
    writes,
    failed: p.failed,
    fsyncs: inPhase.length,
    onEventLoop: onLoop.length,
    perThousandWrites: (inPhase.length * 1000) / writes,
    byThread,
    // Time the event loop spent inside those calls (strace -T; under strace, so inflated alike before and after).
    eventLoopBlockedMs: { total: ms(onLoop.reduce((a, c) => a + c.seconds, 0)), max: ms(Math.max(0, ...onLoop.map((c) => c.seconds))) },
  };
});
console.log(JSON.stringify({ bin, connections, report }, null, 2));
removeTempDir(dir);
