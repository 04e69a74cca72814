/**
 * The sandbox in the web console (`console: true`): the console is given the same controls the
 * `/_sandbox/` API drives, with the lists its fault form offers, and the sandbox makes the console
 * admin `admin` and a one-time sign-in link for it, as `keymint console link` would on a server.
 * The console is seen through its shape only (it is a layer beside this one).
 */
import { MAX_CLOCK_OFFSET_MS } from './clock.ts';
import type { SandboxControls } from './control.ts';
import { FAULT_ENDPOINTS, FAULT_STATUSES } from './faults.ts';
import type { SandboxPanel } from '../wire/sandbox.ts';

/** What the sandbox needs of the console (service.ts's `Keymint.console`). */
export interface ConsoleForSandbox {
  attachSandbox(panel: SandboxPanel): void;
  adminLink(name: string, actor: string): Promise<{ url: string; expiresAt: number }>;
}

/** The console's address and its first sign-in, as `Sandbox.console` gives them. */
export interface SandboxConsoleInfo {
  /** `<issuer>/console/`. */
  readonly url: string;
  /** Signs in the console admin `admin` once (it then chooses a password), within `linkExpiresAt`. */
  readonly link: string;
  /** ISO 8601: an hour after start. */
  readonly linkExpiresAt: string;
  /** Another one-time link for `admin` (the first expired or was used on another browser). */
  newLink(): Promise<string>;
}

export const CONSOLE_ADMIN = 'admin';

export async function attachConsole(web: ConsoleForSandbox, controls: SandboxControls, issuer: string): Promise<SandboxConsoleInfo> {
  web.attachSandbox({ controls, faultStatuses: Object.keys(FAULT_STATUSES).map(Number), faultEndpoints: FAULT_ENDPOINTS, maxClockOffsetMs: MAX_CLOCK_OFFSET_MS });
  const first = await web.adminLink(CONSOLE_ADMIN, 'sandbox');
  return {
    url: `${issuer}/console/`,
    link: first.url,
    linkExpiresAt: new Date(first.expiresAt).toISOString(),
    newLink: async () => (await web.adminLink(CONSOLE_ADMIN, 'sandbox')).url,
  };
}
