/** Running the real CLI as child processes, the way a user does. */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const BIN = fileURLToPath(new URL('../../bin/keymint.js', import.meta.url));

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `keymint <args>` to completion. */
export function cli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { env: { ...process.env, ...env }, encoding: 'utf8' }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

export interface ServeProcess {
  readonly child: ChildProcess;
  readonly url: string;
  /** Everything the server wrote to stderr so far (its JSON log). */
  logs(): string;
}

/** Long enough for a cluster's workers to start on a loaded 2-core machine. */
const SERVE_TIMEOUT_MS = 60_000;

/** Starts `keymint serve <args>` and resolves once it logs its URL. */
export function serve(args: string[], env: NodeJS.ProcessEnv = {}): Promise<ServeProcess> {
  const child = spawn(process.execPath, [BIN, 'serve', '--port', '0', ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  return new Promise((resolve, reject) => {
    // A server that never says where it listens fails the test with what it logged, instead of
    // holding the whole suite until CI gives up (seen once on a fresh clone: 16 minutes, no output).
    const timer = setTimeout(() => {
      const alive = child.exitCode === null && child.signalCode === null;
      child.kill('SIGKILL');
      reject(new Error(`serve (pid ${child.pid}, ${alive ? 'still running' : 'gone'}) printed no URL within ${SERVE_TIMEOUT_MS} ms; its stderr so far (${log.length} chars): ${log || '(nothing)'}`));
    }, SERVE_TIMEOUT_MS);
    child.stderr!.on('data', (d: Buffer) => {
      log += d.toString();
      const m = /"url":"(http:[^"]+)"/.exec(log);
      if (m) {
        clearTimeout(timer);
        resolve({ child, url: m[1]!, logs: () => log });
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`serve exited with ${code}: ${log}`));
    });
  });
}

/** Sends `signal` and waits for the process to be gone. */
export function stop(p: ServeProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (p.child.exitCode !== null || p.child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    p.child.once('exit', () => resolve());
    p.child.kill(signal);
  });
}
