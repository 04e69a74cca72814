/**
 * Test harness: a real Keymint on 127.0.0.1 with a fresh data directory (SQLite by default), and
 * helpers to create clients and call it. Every suite uses this instead of its own copy.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, type RawConfig } from '../../src/config/index.ts';
import type { CreateClientInput } from '../../src/credentials/client-inputs.ts';
import { createKeymint, type Keymint, type OpenOptions } from '../../src/service.ts';
import { createLogger } from '../../src/util/log.ts';
import { DB_WAIT_MS } from './services.ts';

export interface TestServer {
  readonly keymint: Keymint;
  readonly url: string;
  readonly dataDir: string;
  /** Creates a client through the service layer; resolves to its id and one-time secret. */
  client(input?: Partial<CreateClientInput>): Promise<{ id: string; secret: string }>;
  /** POSTs a form body (object → urlencoded) with optional headers. */
  postForm(path: string, form: Record<string, string>, headers?: Record<string, string>): Promise<Response>;
  /** client_credentials with Basic; resolves to the parsed token response. */
  token(id: string, secret: string, form?: Record<string, string>): Promise<Record<string, unknown>>;
  close(): Promise<void>;
}

export const tempDir = (prefix = 'keymint-test-'): string => mkdtempSync(join(tmpdir(), prefix));

/** A TCP port on 127.0.0.1 free a moment ago: for a server whose URL must be known before it starts. */
export async function freePort(): Promise<number> {
  const s = createNetServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

/**
 * Runs `start` with a port free a moment ago, and again with another (at most `attempts` times in
 * all) when the port was taken meanwhile: `start` rejects with an EADDRINUSE error, or `isBusy` says
 * its error means the same (a child `keymint serve` exiting with code 3, say).
 */
export async function onFreePort<T>(start: (port: number) => Promise<T>, isBusy: (err: unknown) => boolean = () => false, attempts = 3): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await start(await freePort());
    } catch (err) {
      const busy = (err as NodeJS.ErrnoException).code === 'EADDRINUSE' || isBusy(err);
      if (!busy || attempt >= attempts) throw err;
    }
  }
}

export const basic = (id: string, secret: string): string =>
  `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;

/**
 * Starts a server on a free port. `flags` are config values as the CLI would pass them
 * (e.g. `{ alg: 'EdDSA', dialects: ['oauth2', 'orum'] }`); `dataDir` reuses a directory (restarts).
 */
export async function startServer(flags: RawConfig = {}, options: OpenOptions & { dataDir?: string } = {}): Promise<TestServer> {
  const dataDir = options.dataDir ?? tempDir();
  // In-process servers share the test runner's event loop (and its synchronous RSA key generation):
  // delay-based shedding would fire on the runner's stalls, not the server's load. Tests of shedding set it.
  // On PostgreSQL, waits for a connection and a statement are long (DB_WAIT_MS), as in cluster.ts.
  const config = loadConfig({ port: '0', dataDir, logLevel: 'silent', maxEventLoopDelayMs: '0', dbAcquireTimeoutMs: String(DB_WAIT_MS), dbQueryTimeoutMs: String(DB_WAIT_MS), ...flags }, {});
  const keymint = await createKeymint(config, { log: createLogger('silent'), ...options });
  const port = await keymint.listen().catch(async (err: unknown) => {
    await keymint.close();
    throw err;
  });
  // The issuer defaults to http://localhost:<configured port>; with port 0 tests pass an issuer
  // explicitly when they compare it, so the bound URL is what we call.
  const url = `${config.tlsCert === undefined ? 'http' : 'https'}://127.0.0.1:${port}`;
  const postForm = (path: string, form: Record<string, string>, headers: Record<string, string> = {}) =>
    fetch(url + path, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      body: new URLSearchParams(form).toString(),
    });
  return {
    keymint,
    url,
    dataDir,
    async client(input = {}) {
      const { client, clientSecret } = await keymint.clients.create({ name: 'test', ...input }, 'test');
      return { id: client.client_id, secret: clientSecret ?? '' };
    },
    postForm,
    async token(id, secret, form = {}) {
      const res = await postForm('/oauth2/token', { grant_type: 'client_credentials', ...form }, { authorization: basic(id, secret) });
      const body = (await res.json()) as Record<string, unknown>;
      if (res.status !== 200) throw new Error(`token request failed: ${res.status} ${JSON.stringify(body)}`);
      return body;
    },
    async close() {
      await keymint.close();
      if (!options.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** RFC 7591 registration as a registrar holding an initial access token (a server with `registration: 'token'`). */
export async function registrarOf(s: TestServer): Promise<(body: unknown) => Promise<{ status: number; body: Record<string, any> }>> {
  const registrar = await s.client({ scopes: ['keymint:register'] });
  const initial = String((await s.token(registrar.id, registrar.secret, { scope: 'keymint:register' })).access_token);
  return async (body) => {
    const res = await fetch(`${s.url}/oauth2/register`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${initial}` }, body: JSON.stringify(body) });
    return { status: res.status, body: (await res.json()) as Record<string, any> };
  };
}
