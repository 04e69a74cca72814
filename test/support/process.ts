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
  /** Resolves once the log holds `text` (a server busy on a loaded machine may write it late). */
  logged(text: string): Promise<void>;
}

/** A hang guard for `logged`, not a timing assertion. */
const LOGGED_TIMEOUT_MS = 30_000;

/** Long enough for a cluster's workers to start on a loaded 2-core machine. */
const SERVE_TIMEOUT_MS = 60_000;

/**
 * Starts `keymint serve <args>` and resolves once it logs its URL. Without delay-based shedding,
 * unless `args` set it, as every in-process test server (harness.ts, cluster.ts): on a loaded machine
 * (load average ~30 on the 2 cores) the event loop of a server doing nothing ran 200 ms late often
 * enough that 8 of 300 sequential token requests got 503 `shed_event_loop`, failing tests about
 * something else (cli.test.ts, provider-clients.test.ts). The shedding tests set the flag themselves.
 */
export function serve(args: string[], env: NodeJS.ProcessEnv = {}): Promise<ServeProcess> {
  const shedding = args.some((a) => a.startsWith('--max-event-loop-delay-ms')) || env.KEYMINT_MAX_EVENT_LOOP_DELAY_MS !== undefined ? [] : ['--max-event-loop-delay-ms', '0'];
  const child = spawn(process.execPath, [BIN, 'serve', '--port', '0', ...shedding, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  const logged = (text: string) =>
    new Promise<void>((resolve, reject) => {
      const seen = () => {
        if (!log.includes(text)) return;
        clearTimeout(timer);
        child.stderr!.off('data', seen);
        resolve();
      };
      const timer = setTimeout(() => {
        child.stderr!.off('data', seen);
        reject(new Error(`serve did not log ${JSON.stringify(text)} within ${LOGGED_TIMEOUT_MS} ms; its stderr: ${log}`));
      }, LOGGED_TIMEOUT_MS);
      // Registered after serve's own listener, so `log` already holds each chunk when this runs.
      child.stderr!.on('data', seen);
      seen();
    });
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
      const m = /"url":"(https?:[^"]+)"/.exec(log);
      if (m) {
        clearTimeout(timer);
        resolve({ child, url: m[1]!, logs: () => log, logged });
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
