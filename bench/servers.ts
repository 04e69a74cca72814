/**
 * The servers under test, each a separate process pinned to the server core: `keymint serve` (the
 * real CLI) and the oidc-provider reference. A Keymint that refuses its flags (a dialect or a store
 * flag this build does not have) is reported as refused, with its own message, so sections can skip.
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { TokenRequest } from './load.ts';
import { freePort, NODE, ROOT, runPinned, sleep, spawnPinned, stop, tempDir, type Proc } from './procs.ts';
import type { Credentials } from './recipes.ts';

export interface Server {
  readonly base: string;
  readonly proc: Proc;
  /** Where bench/server-probe.ts (loaded into every server) writes its figures on SIGUSR2. */
  readonly probeFile: string;
  stop(): Promise<void>;
}

/** What bench/server-probe.ts reports for one round. */
export interface ProbeStats {
  readonly seconds: number;
  readonly eventLoopDelay: { readonly p50: number; readonly p99: number; readonly p999: number; readonly max: number };
  readonly gc: { readonly minor: number; readonly major: number; readonly totalMs: number; readonly maxMs: number; readonly over1ms: number };
  /**
   * The server's own time per request, ms: node:http's 'request' event to the answer handed to the
   * socket; `overlapped` counts requests that began while another was still in progress.
   */
  readonly requests?: { readonly count: number; readonly p50: number; readonly p99: number; readonly p999: number; readonly max: number; readonly overlapped: number; readonly maxInProgress: number };
  readonly heapUsedMB: number;
}

const PROBE = join(ROOT, 'bench/server-probe.ts');
let probeDir: string | undefined;

/** Node arguments and environment that load the probe into a server process. */
async function probed(): Promise<{ args: string[]; env: Record<string, string>; file: string }> {
  probeDir ??= tempDir('probe');
  const file = join(probeDir, `${await freePort()}-${Math.random().toString(36).slice(2)}.json`);
  return { args: ['--import', PROBE], env: { BENCH_PROBE_FILE: file }, file };
}

/**
 * The server's probe figures since the last call (the first call only starts the count), or
 * undefined when the probe did not answer within a second (a server without /proc signals, say).
 */
export async function readProbe(server: Server): Promise<ProbeStats | undefined> {
  rmSync(server.probeFile, { force: true });
  try {
    process.kill(server.proc.pid, 'SIGUSR2');
  } catch {
    return undefined;
  }
  for (let i = 0; i < 100; i++) {
    await sleep(10);
    if (!existsSync(server.probeFile)) continue;
    try {
      return JSON.parse(readFileSync(server.probeFile, 'utf8')) as ProbeStats;
    } catch {
      // being written
    }
  }
  return undefined;
}

export type Started = { readonly ok: true; readonly server: Server } | { readonly ok: false; readonly reason: string };

/**
 * Environment of every keymint child. Unknown `KEYMINT_*` variables are ignored by builds that lack
 * the option, so these apply wherever they exist: per-client and per-address rate limits off (one
 * client at thousands of tokens/s from 127.0.0.1 is the point here, not abuse). The caller's own
 * environment wins over these defaults; a section's `env` (its PostgreSQL schema) wins over both.
 */
const KEYMINT_ENV = { KEYMINT_RATE_LIMIT_CLIENT: '0', KEYMINT_RATE_LIMIT_IP: '0' };
const keymintEnv = (o: Pick<KeymintOptions, 'env'>): NodeJS.ProcessEnv => ({ ...KEYMINT_ENV, ...process.env, ...o.env });

export interface KeymintOptions {
  /** Path of the keymint CLI (bin/keymint.js of the checkout under test). */
  readonly bin: string;
  readonly core: number;
  readonly dataDir: string;
  readonly alg: string;
  readonly dialects: readonly string[];
  /** Store selection and other flags (e.g. `--database-url …`), also given to `clients create`. */
  readonly storeFlags: readonly string[];
  /** BENCH_SERVER_FLAGS. */
  readonly extraFlags: readonly string[];
  readonly env?: Readonly<Record<string, string>>;
}

export async function startKeymint(o: KeymintOptions): Promise<Started> {
  const port = await freePort();
  const args = [o.bin, 'serve', '--data', o.dataDir, '--port', String(port), '--alg', o.alg, '--log-level', 'warn'];
  for (const d of o.dialects) args.push('--dialect', d);
  args.push(...o.storeFlags, ...o.extraFlags);
  const probe = await probed();
  return waitReady(spawnPinned(o.core, NODE, [...probe.args, ...args], { env: { ...keymintEnv(o), ...probe.env } }), `http://127.0.0.1:${port}`, '/healthz', probe.file);
}

/** `keymint clients create --json` on the same store (works while servers run). */
export async function createClient(o: Pick<KeymintOptions, 'bin' | 'dataDir' | 'storeFlags' | 'env'>, core: number): Promise<Credentials> {
  const args = [o.bin, 'clients', 'create', '--data', o.dataDir, '--name', 'bench', '--json', ...o.storeFlags];
  const out = await runPinned(core, NODE, args, 60_000, { env: keymintEnv(o) });
  const c = JSON.parse(out) as { client_id?: string; client_secret?: string };
  if (!c.client_id || !c.client_secret) throw new Error(`clients create printed no credentials: ${out.slice(0, 200)}`);
  return { clientId: c.client_id, clientSecret: c.client_secret };
}

/** Any `keymint <args>` on the same store (e.g. `clients create` with flags of its own); resolves stdout. */
export async function runKeymintCli(o: Pick<KeymintOptions, 'bin' | 'dataDir' | 'storeFlags' | 'env'>, core: number, args: readonly string[]): Promise<string> {
  return runPinned(core, NODE, [o.bin, ...args, '--data', o.dataDir, ...o.storeFlags], 60_000, { env: keymintEnv(o) });
}

export const OIDC_SECRET = 'bench-oidc-secret-0123456789abcdefghijklmnopqrstuvwxyz';

export async function startOidcProvider(core: number, alg: string): Promise<Started> {
  const port = await freePort();
  const probe = await probed();
  const proc = spawnPinned(core, NODE, [...probe.args, join(ROOT, 'bench/oidc-provider-server.ts'), alg, String(port)], { env: { BENCH_OIDC_SECRET: OIDC_SECRET, ...probe.env } });
  return waitReady(proc, `http://127.0.0.1:${port}`, '/jwks', probe.file);
}

/** The minimal node:http endpoint that only signs (bench/minimal-server.ts): the ceiling. */
export async function startMinimal(core: number, alg: string, mode: 'inline' | 'threadpool' = 'inline'): Promise<Started> {
  const port = await freePort();
  const probe = await probed();
  const proc = spawnPinned(core, NODE, [...probe.args, join(ROOT, 'bench/minimal-server.ts'), alg, String(port), mode], { env: probe.env });
  return waitReady(proc, `http://127.0.0.1:${port}`, '/', probe.file);
}

async function waitReady(proc: Proc, base: string, probe: string, probeFile: string): Promise<Started> {
  const deadline = Date.now() + 60_000;
  let exited = false;
  void proc.exited.then(() => (exited = true));
  while (Date.now() < deadline) {
    if (exited) {
      const lines = proc.stderr().split('\n').map((l) => l.trim()).filter(Boolean);
      const line = lines.find((l) => l.startsWith('keymint:')) ?? lines[0] ?? `exit ${proc.child.exitCode}`;
      return { ok: false, reason: line.split(/\. (?=[A-Z])/)[0] ?? line };
    }
    try {
      const res = await fetch(`${base}${probe}`, { signal: AbortSignal.timeout(2000) });
      await res.arrayBuffer();
      if (res.ok) return { ok: true, server: { base, proc, probeFile, stop: () => stop(proc) } };
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
  await stop(proc);
  throw new Error(`${base} did not become ready in 60 s:\n${proc.stderr().slice(-2000)}`);
}

/**
 * One real request before any load: it must answer 200 with a token (a JWT of `alg` when given).
 * Throws, loudly, otherwise: a benchmark of error answers measures nothing.
 */
export async function checkToken(label: string, req: TokenRequest, token: (body: unknown) => unknown, alg?: string): Promise<void> {
  const res = await fetch(req.url, { method: 'POST', headers: req.headers, body: req.body, signal: AbortSignal.timeout(10_000) });
  const text = await res.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  const value = token(body);
  if (res.status !== 200 || typeof value !== 'string' || value.length < 16) {
    throw new Error(`${label}: the check request got ${res.status} without a token: ${text.slice(0, 300)}`);
  }
  if (alg !== undefined) {
    let header: { alg?: unknown } = {};
    try {
      header = JSON.parse(Buffer.from(value.split('.')[0] ?? '', 'base64url').toString()) as typeof header;
    } catch {
      // not a JWT: reported below
    }
    if (header.alg !== alg) throw new Error(`${label}: expected a ${alg} JWT, got ${header.alg === undefined ? 'no JWT header' : `header alg ${String(header.alg)}`}`);
  }
}
