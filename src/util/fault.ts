/**
 * Crash-injection points for the crash-safety test (issue 4, step 7). When the environment variable
 * `KEYMINT_FAULT` names a point, reaching it kills the process with SIGKILL, as `kill -9` would:
 * no finally blocks, no flush. Unset (always, outside that test) it costs one comparison.
 */
const FAULT = process.env.KEYMINT_FAULT;

export function faultPoint(name: string): void {
  if (FAULT !== undefined && FAULT === name) process.kill(process.pid, 'SIGKILL');
}
