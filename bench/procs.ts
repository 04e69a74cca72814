/**
 * Child processes of the benchmark, each pinned to one core with `taskset`, and the temp dirs they
 * use. Everything started here is tracked and cleaned up on exit, on Ctrl-C and on failure.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The Node 24 that runs this script (npm scripts put node_modules/.bin/node first). */
export const NODE = process.execPath;
export const ROOT = fileURLToPath(new URL('..', import.meta.url));

const children = new Set<ChildProcess>();
const tempDirs = new Set<string>();
const TAIL = 64 * 1024;

export const hasTaskset = spawnSync('taskset', ['--version'], { stdio: 'ignore' }).status === 0;

export interface Proc {
  readonly child: ChildProcess;
  readonly pid: number;
  /** Last 64 KiB of stdout / stderr. */
  stdout(): string;
  stderr(): string;
  /** Resolves with the exit code (or the signal) once the process has ended. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export interface SpawnOptions {
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
  /** Copy the child's stderr to ours as it comes (progress of a child tool). */
  readonly passStderr?: boolean;
}

/** Starts `cmd args…` pinned to `core` (unpinned when `core` < 0 or taskset is missing). */
export function spawnPinned(core: number, cmd: string, args: readonly string[], opts: SpawnOptions = {}): Proc {
  const [file, argv] = hasTaskset && core >= 0 ? ['taskset', ['-c', String(core), cmd, ...args]] : [cmd, [...args]];
  const child = spawn(file, argv, { cwd: opts.cwd ?? ROOT, env: { ...process.env, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let out = '';
  let err = '';
  child.stdout?.setEncoding('utf8').on('data', (d: string) => (out = (out + d).slice(-TAIL)));
  child.stderr?.setEncoding('utf8').on('data', (d: string) => {
    err = (err + d).slice(-TAIL);
    if (opts.passStderr) process.stderr.write(d);
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('error', (e) => {
      err += `\n${e.message}`;
      children.delete(child);
      resolve({ code: -1, signal: null });
    });
    child.once('close', (code, signal) => {
      children.delete(child);
      resolve({ code, signal });
    });
  });
  return { child, pid: child.pid ?? -1, stdout: () => out, stderr: () => err, exited };
}

/** Runs a pinned command to its end, killing it after `timeoutMs`; throws on a non-zero exit. */
export async function runPinned(core: number, cmd: string, args: readonly string[], timeoutMs: number, opts: SpawnOptions = {}): Promise<string> {
  const proc = spawnPinned(core, cmd, args, opts);
  const timer = setTimeout(() => void stop(proc), timeoutMs);
  const { code, signal } = await proc.exited;
  clearTimeout(timer);
  if (code !== 0) {
    throw new Error(`${[cmd, ...args].join(' ').slice(0, 200)} failed (${signal ?? `exit ${code}`}):\n${proc.stderr().slice(-2000) || proc.stdout().slice(-2000)}`);
  }
  return proc.stdout();
}

/** SIGTERM, then SIGKILL after `graceMs`. Only ever this process's own children, by pid. */
export async function stop(proc: Proc, graceMs = 3000): Promise<void> {
  if (proc.child.exitCode !== null || proc.child.signalCode !== null) return;
  proc.child.kill('SIGTERM');
  const timer = setTimeout(() => proc.child.kill('SIGKILL'), graceMs);
  await proc.exited;
  clearTimeout(timer);
}

export function tempDir(label: string): string {
  const dir = mkdtempSync(join(tmpdir(), `keymint-bench-${label}-`));
  tempDirs.add(dir);
  return dir;
}

export function removeTempDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  tempDirs.delete(dir);
}

/** A port that was free a moment ago on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

/** Kills every child still running and removes every temp dir. Safe to call more than once. */
export async function cleanup(): Promise<void> {
  const running = [...children];
  for (const c of running) if (c.exitCode === null && c.signalCode === null) c.kill('SIGTERM');
  const deadline = Date.now() + 3000;
  while ([...children].some((c) => c.exitCode === null && c.signalCode === null) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
  }
  cleanupSync();
}

/** Last resort on process exit: SIGKILL and synchronous removal. */
export function cleanupSync(): void {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const d of tempDirs) rmSync(d, { recursive: true, force: true });
  tempDirs.clear();
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
