/**
 * Deterministic per-token cost of the token endpoint, for A/B comparisons on a busy machine where
 * time is noise: `node bench/instructions.ts [options]`.
 *
 * - `--mode callgrind` (default): runs `keymint serve --workers 1` (or the minimal endpoint) under
 *   `valgrind --tool=callgrind` twice, answering FROM and then TO client_credentials requests
 *   (oauth2, client_secret_basic), and prints the instructions per token of the difference, so that
 *   start-up and the first requests' compilation cancel out.
 * - `--mode alloc`: runs the server with `--trace-gc-nvp`, sends WARMUP requests, then TOKENS more,
 *   and prints the bytes V8 allocated per token over those (the sum of the `allocated=` figure of
 *   every collection in between, so it counts only what a collection saw: run enough tokens for
 *   many scavenges) with the scavenge and mark-compact counts.
 *
 * Limits, load shedding and rate limits are off (KEYMINT_MAX_EVENT_LOOP_DELAY_MS=0,
 * KEYMINT_MAX_IN_FLIGHT=0, KEYMINT_RATE_LIMIT_CLIENT=0, KEYMINT_RATE_LIMIT_IP=0): a server under
 * valgrind runs 50× slower and would otherwise shed its own load.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { Agent, request as httpRequest } from 'node:http';
import { basename, join } from 'node:path';
import { parseArgs } from 'node:util';
import { cleanup, freePort, NODE, ROOT, runPinned, sleep, spawnPinned, stop, tempDir, type Proc } from './procs.ts';
import { MINIMAL, OAUTH2 } from './recipes.ts';

const { values } = parseArgs({
  options: {
    mode: { type: 'string', default: 'callgrind' },
    target: { type: 'string', default: 'keymint' },
    alg: { type: 'string', default: 'EdDSA' },
    from: { type: 'string', default: '100' },
    to: { type: 'string', default: '700' },
    warmup: { type: 'string', default: '3000' },
    tokens: { type: 'string', default: '20000' },
    concurrency: { type: 'string', default: '16' },
    keymint: { type: 'string', default: join(ROOT, 'bin/keymint.js') },
    'node-flag': { type: 'string', multiple: true, default: [] },
    usr2: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});
if (values.help) {
  process.stdout.write(
    'node bench/instructions.ts [--mode callgrind|alloc] [--target keymint|minimal] [--alg EdDSA] [--from 100 --to 700]\n' +
      '  [--warmup 3000 --tokens 20000] [--concurrency 16] [--keymint path/bin/keymint.js] [--node-flag=--flag …]\n',
  );
  process.exit(0);
}
const concurrency = Number(values.concurrency);
const ENV = { KEYMINT_MAX_EVENT_LOOP_DELAY_MS: '0', KEYMINT_MAX_IN_FLIGHT: '0', KEYMINT_RATE_LIMIT_CLIENT: '0', KEYMINT_RATE_LIMIT_IP: '0' };

const dataDir = tempDir('instructions');
const creds =
  values.target === 'minimal'
    ? { clientId: 'minimal', clientSecret: 'minimal' }
    : (JSON.parse(await runPinned(-1, NODE, [values.keymint, 'clients', 'create', '--data', dataDir, '--name', 'bench', '--json'], 60_000)) as { client_id: string; client_secret: string });
const credentials = 'client_id' in creds ? { clientId: creds.client_id, clientSecret: creds.client_secret } : creds;

/** Starts the server under `wrap` (a command prefix), resolving once it answers. */
async function start(wrap: readonly string[], nodeFlags: readonly string[]): Promise<{ proc: Proc; base: string }> {
  const port = await freePort();
  const args =
    values.target === 'minimal'
      ? [join(ROOT, 'bench/minimal-server.ts'), values.alg, String(port)]
      : [values.keymint, 'serve', '--workers', '1', '--data', dataDir, '--port', String(port), '--alg', values.alg, '--log-level', 'warn'];
  const [cmd, ...rest] = [...wrap, NODE, ...nodeFlags, ...values['node-flag'], ...args];
  // Pinned to one core as the bench pins servers: `--signing auto` then signs inline, as it does there.
  const proc = spawnPinned(0, cmd!, rest, { env: ENV });
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 1200; i++) {
    if (proc.child.exitCode !== null) throw new Error(`server exited: ${proc.stderr().slice(-2000)}`);
    if (await send(base, 1, 1).then(() => true, () => false)) return { proc, base };
    await sleep(250);
  }
  throw new Error('server did not answer within 5 minutes');
}

/**
 * `n` token requests over `lanes` keep-alive connections; rejects on any non-200. Each call opens its
 * own connections: one left idle between calls (while callgrind_control attaches, 5 s and more under
 * valgrind) may be closed by the server's keep-alive timeout just as it is reused (ECONNRESET).
 */
let resets = 0;

async function send(base: string, n: number, lanes: number): Promise<void> {
  const agent = new Agent({ keepAlive: true, maxSockets: 256 });
  const recipe = values.target === 'minimal' ? MINIMAL : OAUTH2;
  const req = recipe.request(base, credentials);
  const url = new URL(req.url);
  let next = 0;
  const once = () =>
    new Promise<void>((resolve, reject) => {
      const r = httpRequest({ agent, host: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers: { ...req.headers, 'content-length': String(Buffer.byteLength(req.body)) } }, (res) => {
        res.resume();
        res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`status ${res.statusCode}`))));
      });
      r.on('error', reject);
      r.end(req.body);
    });
  // A request that waits longer than the server's request timeout (10 s: the first, cold ones under
  // valgrind on a busy core) has its connection reset: it is sent again, and counted.
  const one = async () => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await once();
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ECONNRESET' || attempt === 3) throw err;
        resets++;
      }
    }
  };
  const lane = async () => {
    while (next++ < n) await one();
  };
  try {
    await Promise.all(Array.from({ length: Math.min(lanes, n) }, lane));
  } finally {
    agent.destroy();
  }
}

/** Total instructions of one callgrind run answering `n` tokens (the ready probe's one included). */
async function callgrind(n: number): Promise<number> {
  // BENCH_CALLGRIND_DIR keeps the outputs there, for callgrind_annotate (native frames only: V8's
  // compiled JavaScript has no symbols; --cpu-prof attributes that).
  const out = join(process.env.BENCH_CALLGRIND_DIR ?? dataDir, `callgrind.${values.target}.${values.alg}.${n}.out`);
  const { proc, base } = await start(['valgrind', '--tool=callgrind', `--callgrind-out-file=${out}`], []);
  await send(base, n - 1, concurrency);
  await stop(proc, 120_000);
  const totals = /^(?:totals|summary): (\d+)/m.exec(readFileSync(out, 'utf8'));
  if (!totals) throw new Error(`no totals in ${out}: ${proc.stderr().slice(-1000)}`);
  return Number(totals[1]);
}

/** Sum of `allocated=` and counts of scavenges / mark-compacts in a --trace-gc-nvp text. */
function gcFigures(text: string): { allocated: number; scavenges: number; majors: number; pauseMs: number; maxPauseMs: number } {
  let allocated = 0;
  let scavenges = 0;
  let majors = 0;
  let pauseMs = 0;
  let maxPauseMs = 0;
  for (const line of text.split('\n')) {
    const kind = /\bgc=(\w+)/.exec(line)?.[1];
    if (!kind) continue;
    allocated += Number(/\ballocated=(\d+)/.exec(line)?.[1] ?? 0);
    const pause = Number(/\bpause=([\d.]+)/.exec(line)?.[1] ?? 0);
    pauseMs += pause;
    maxPauseMs = Math.max(maxPauseMs, pause);
    if (kind === 's') scavenges++;
    else majors++;
  }
  return { allocated, scavenges, majors, pauseMs, maxPauseMs };
}

/**
 * Steady state in one run: valgrind starts without instrumentation, WARMUP tokens let V8 compile the
 * hot path (the FROM/TO difference still counts much of that compilation), then instrumentation is
 * switched on for TOKENS tokens and the counts are dumped. Threads are kept apart, so the event
 * loop's share (thread 1) is reported beside the total.
 */
async function steady(): Promise<void> {
  const dir = process.env.BENCH_CALLGRIND_DIR ?? dataDir;
  const out = join(dir, `callgrind.steady.${values.target}.${values.alg}.out`);
  const { proc, base } = await start(['valgrind', '--tool=callgrind', '--instr-atstart=no', '--separate-threads=yes', `--callgrind-out-file=${out}`], []);
  await send(base, Number(values.warmup), concurrency);
  const control = (arg: string) => runPinned(-1, 'callgrind_control', [arg, String(proc.pid)], 120_000);
  await control('--instr=on');
  const tokens = Number(values.tokens);
  await send(base, tokens, concurrency);
  await control('--dump');
  await stop(proc, 120_000);
  // The dump is <out>.1-<thread>; what ran after it (the shutdown) went to <out>-<thread>.
  let total = 0;
  let loop = 0;
  for (const f of readdirSync(dir).filter((name) => name.startsWith(`${basename(out)}.`) && name.includes('.1-'))) {
    const text = readFileSync(join(dir, f), 'utf8');
    const n = Number(/^(?:totals|summary): (\d+)/m.exec(text)?.[1] ?? 0);
    total += n;
    if (/-01$/.test(f)) loop += n;
  }
  process.stdout.write(
    `${values.target} ${values.alg}: steady state over ${tokens} tokens after ${values.warmup}: ${Math.round(total / tokens)} instructions per token, ${Math.round(loop / tokens)} on the main thread` +
      `${resets > 0 ? ` (${resets} requests sent again after a reset)` : ''}\n`,
  );
}

try {
  if (values.mode === 'steady') await steady();
  else if (values.mode === 'callgrind') {
    const from = Number(values.from);
    const to = Number(values.to);
    const a = await callgrind(from);
    const b = await callgrind(to);
    process.stdout.write(`${values.target} ${values.alg}: ${from} tokens ${a} instructions, ${to} tokens ${b}; per token ${Math.round((b - a) / (to - from))}\n`);
  } else if (values.mode === 'alloc') {
    const { proc, base } = await start([], ['--trace-gc-nvp']);
    await send(base, Number(values.warmup), concurrency);
    await sleep(200);
    let trace = '';
    const collect = (d: string) => (trace += d);
    proc.child.stdout?.on('data', collect);
    const tokens = Number(values.tokens);
    // --usr2: a signal at the start and at the end of the window, for a probe loaded with --node-flag=--import=….
    if (values.usr2) process.kill(proc.pid, 'SIGUSR2');
    await sleep(100);
    await send(base, tokens, concurrency);
    if (values.usr2) process.kill(proc.pid, 'SIGUSR2');
    await sleep(1000);
    // bench/alloc-sites.ts writes its profile on that second signal: wait for it before stopping.
    const sites = process.env.BENCH_ALLOC_SITES_FILE;
    for (let i = 0; values.usr2 && sites !== undefined && !existsSync(sites) && i < 600; i++) await sleep(100);
    proc.child.stdout?.off('data', collect);
    const g = gcFigures(trace);
    if (process.env.BENCH_GC_TRACE_FILE) writeFileSync(process.env.BENCH_GC_TRACE_FILE, trace);
    await stop(proc);
    process.stdout.write(
      `${values.target} ${values.alg}: ${tokens} tokens, ${Math.round(g.allocated / tokens)} bytes allocated per token; ` +
        `${g.scavenges} scavenges, ${g.majors} mark-compacts, GC pause total ${g.pauseMs.toFixed(1)} ms, max ${g.maxPauseMs.toFixed(1)} ms\n`,
    );
  } else throw new Error(`--mode must be callgrind or alloc, not ${values.mode}`);
} finally {
  await cleanup();
}
