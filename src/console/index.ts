/**
 * The web console, assembled: sign-in and sessions (auth.ts), the data pages read and change
 * (data.ts), the live traffic (traffic.ts), the page routes (routes.ts, rendering pages/), mounted at
 * `/console/` (mount.ts). Created only when `--console` is on; then its one cost on the token path is
 * the traffic observer's few map increments per request.
 */
import type { ClientService } from '../credentials/clients.ts';
import type { Feed } from '../feed/types.ts';
import type { ErrorEncoder, Handler, Route } from '../http/router.ts';
import type { Store } from '../storage/types.ts';
import type { Keyring } from '../tokens/keyring.ts';
import { randomBase62 } from '../tokens/random.ts';
import type { Logger } from '../util/log.ts';
import { actorOf, ConsoleAuth, type Lockouts } from './auth.ts';
import { ConsoleData } from './data.ts';
import { CONSOLE_PREFIX, consoleMount } from './mount.ts';
import { pageContext, pageRoutes } from './routes.ts';
import { SandboxPanelActions, type SandboxPanel } from './sandbox.ts';
import { sandboxRoutes } from './sandbox-routes.ts';
import { DeploymentTraffic, TrafficRecorder } from './traffic.ts';
import { ConsoleUsers, LINK_TTL_MAX } from './users.ts';

export { TrafficRecorder } from './traffic.ts';
export { ConsoleUsers, ConsoleUserError, ConsoleUserNotFoundError, LINK_TTL, LINK_TTL_MAX } from './users.ts';
export type { SandboxPanel, SandboxPanelControls } from './sandbox.ts';

export interface ConsoleDeps {
  readonly store: Pick<Store, 'consoleUsers' | 'consoleSessions' | 'consoleLinks' | 'audit'>;
  readonly clients: ClientService;
  readonly keyring: Pick<Keyring, 'describe' | 'rotate'>;
  readonly lockouts: Lockouts;
  /** A key derived from the KEK for the console (the same on every node). */
  readonly key: Buffer;
  readonly recorder: TrafficRecorder;
  /** The feed traffic is shared on (Redis, or a cluster's relay); undefined: this process alone. */
  readonly feed: Feed | undefined;
  readonly settings: { readonly issuer: string; readonly environment: string; readonly maxTokenTtl: number; readonly consoleSessionTtl: number; readonly consoleIdleTtl: number };
  readonly dialects: readonly string[];
  /** Grant types a client may be given (the grant registry). */
  readonly grants: readonly string[];
  readonly log: Logger;
  readonly now?: () => number;
}

export interface Console {
  readonly route: Route;
  readonly prefix: string;
  readonly handler: Handler;
  /** Answers the server gives on its own under the prefix (shed, too large), as console pages. */
  readonly encodeError: ErrorEncoder;
  readonly traffic: DeploymentTraffic;
  /** Sandbox mode: the sandbox gives the console its controls, and the Sandbox page appears. */
  attachSandbox(panel: SandboxPanel): void;
  /**
   * A one-time sign-in link for the admin `name`, created (with a password nobody is shown) when
   * missing, valid for the longest a link may live: a sandbox's first sign-in, with no CLI to ask.
   */
  adminLink(name: string, actor: string): Promise<{ url: string; expiresAt: number }>;
  close(): void;
}

export function createConsole(deps: ConsoleDeps): Console {
  const now = deps.now ?? Date.now;
  const auth = new ConsoleAuth({ store: deps.store, lockouts: deps.lockouts, key: deps.key, settings: deps.settings, now });
  const traffic = new DeploymentTraffic(deps.recorder, `node_${randomBase62(12)}`, deps.feed, now);
  const data = new ConsoleData({
    clients: deps.clients,
    keyring: deps.keyring,
    store: deps.store,
    dialects: deps.dialects,
    grants: deps.grants,
    environment: deps.settings.environment,
    maxTokenTtl: deps.settings.maxTokenTtl,
    jwksUri: `${deps.settings.issuer}/oauth2/jwks`,
    traffic: async () => traffic.view(),
    now,
  });
  let sandbox: SandboxPanelActions | undefined;
  const mount = consoleMount({
    auth,
    routes: [...pageRoutes(data), ...sandboxRoutes(() => sandbox, deps.dialects, pageContext)],
    sandbox: () => sandbox !== undefined,
    issuer: deps.settings.issuer,
    sessionTtl: deps.settings.consoleSessionTtl,
    log: deps.log,
    now,
    onRefused: async (user, what) => {
      await deps.store.audit.append({ at: now(), actor: actorOf(user), action: 'console.refused', target: user, detail: { what } });
    },
  });
  return {
    ...mount,
    traffic,
    attachSandbox: (panel) => {
      sandbox = new SandboxPanelActions(panel, deps.store, now);
    },
    adminLink: async (name, actor) => {
      const users = new ConsoleUsers({ store: deps.store, now });
      if (!(await deps.store.consoleUsers.get(name))) await users.add(name, 'admin', undefined, actor);
      const link = await users.link(name, LINK_TTL_MAX, actor);
      return { url: `${deps.settings.issuer}${CONSOLE_PREFIX}/link?token=${link.token}`, expiresAt: link.expiresAt };
    },
    close: () => traffic.stop(),
  };
}
