/**
 * The console's URLs, in one place: pages link with these and the route layer matches them. Client
 * ids are path segments, so they are percent-encoded here.
 */
export const CONSOLE_PREFIX = '/console';

const client = (id: string, action?: string): string =>
  `${CONSOLE_PREFIX}/clients/${encodeURIComponent(id)}${action === undefined ? '' : `/${action}`}`;

export const paths = {
  home: `${CONSOLE_PREFIX}/`,
  signIn: `${CONSOLE_PREFIX}/sign-in`,
  signOut: `${CONSOLE_PREFIX}/sign-out`,
  clients: `${CONSOLE_PREFIX}/clients`,
  newClient: `${CONSOLE_PREFIX}/clients/new`,
  client: (id: string) => client(id),
  editClient: (id: string) => client(id, 'edit'),
  rotateSecret: (id: string) => client(id, 'rotate'),
  disableClient: (id: string) => client(id, 'disable'),
  enableClient: (id: string) => client(id, 'enable'),
  deleteClient: (id: string) => client(id, 'delete'),
  keys: `${CONSOLE_PREFIX}/keys`,
  rotateKeys: `${CONSOLE_PREFIX}/keys/rotate`,
  audit: `${CONSOLE_PREFIX}/audit`,
  traffic: `${CONSOLE_PREFIX}/traffic`,
  trafficJson: `${CONSOLE_PREFIX}/api/traffic`,
  sandbox: `${CONSOLE_PREFIX}/sandbox`,
  sandboxFaults: `${CONSOLE_PREFIX}/sandbox/faults`,
  sandboxFaultRemove: (id: string) => `${CONSOLE_PREFIX}/sandbox/faults/${encodeURIComponent(id)}/remove`,
  sandboxFaultsClear: `${CONSOLE_PREFIX}/sandbox/faults/clear`,
  sandboxClockAdvance: `${CONSOLE_PREFIX}/sandbox/clock/advance`,
  sandboxClockReset: `${CONSOLE_PREFIX}/sandbox/clock/reset`,
  sandboxRequestsClear: `${CONSOLE_PREFIX}/sandbox/requests/clear`,
  sandboxReset: `${CONSOLE_PREFIX}/sandbox/reset`,
  assets: `${CONSOLE_PREFIX}/assets/`,
} as const;
