/**
 * `keymint/sandbox`: Keymint as a local stand-in for the providers its dialects speak, for client
 * integration tests. A composition root like service.ts: it wires the service with an in-memory
 * store, the sandbox's clock, its faults (one pipeline interceptor), its request record (one
 * observer) and the control API under `/_sandbox/`, none of which `keymint serve` ever mounts.
 * Runs on Node 20 and later: nothing here loads `node:sqlite` unless `data` names a directory.
 */
import { createPrivateKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { ConfigError, loadConfig, type Config, type RawConfig } from './config/index.ts';
import { DIALECTS } from './dialects/index.ts';
import { ClientInputError, ClientNotFoundError } from './credentials/clients.ts';
import type { CreateClientInput } from './credentials/client-inputs.ts';
import { createKeymint, type Keymint } from './service.ts';
import { SandboxClock } from './sandbox/clock.ts';
import { CONTROL_PREFIX, controlHandler, type SandboxControls } from './sandbox/control.ts';
import { checkFault, Faults, type FaultSpec, type FaultState } from './sandbox/faults.ts';
import { checkOptions, SandboxInputError, type ClientDeclaration, type SandboxOptions, type SandboxSection } from './sandbox/options.ts';
import { attachConsole, type SandboxConsoleInfo } from './sandbox/panel.ts';
import { RequestRecord, type RecordedRequest } from './sandbox/record.ts';
import { createMemoryStore } from './storage/memory/index.ts';
import type { ClaimValue } from './storage/types.ts';
import { keyFits, SIGNING_ALGS, type KeyPair, type SigningAlg } from './tokens/keyring.ts';
import { createLogger } from './util/log.ts';
import { ERROR_STATUS } from './wire/errors.ts';

export type { ClientDeclaration, SandboxMount, SandboxOptions, SandboxSection, SecretSource } from './sandbox/options.ts';
export type { FaultSpec, FaultState, FaultEndpoint } from './sandbox/faults.ts';
export type { RecordedRequest } from './sandbox/record.ts';
export type { SandboxConsoleInfo } from './sandbox/panel.ts';
export type { ClaimValue } from './storage/types.ts';
export { SandboxInputError } from './sandbox/options.ts';

/** Static claims of a client: every access token it gets carries them (names and limits: docs/clients.md). */
export type Claims = Readonly<Record<string, ClaimValue>>;

/** A declared client as the sandbox created it. */
export interface SandboxClientInfo {
  readonly name: string;
  readonly id: string;
  /** Its secret (the declared one, or the one generated at start); null for a public client. */
  readonly secret: string | null;
}

/** A dialect the sandbox mounts, and where its token endpoint is. */
export interface SandboxMountInfo {
  readonly dialect: string;
  readonly tokenEndpoint: string;
}

export interface Sandbox {
  /** Base URL of the server (`http://127.0.0.1:<port>`). */
  readonly url: string;
  /** The issuer (`http://localhost:<port>` unless given): `iss` of every token and base of discovery. */
  readonly issuer: string;
  readonly port: number;
  readonly mounts: readonly SandboxMountInfo[];
  /** The declared clients, by name. */
  readonly clients: Readonly<Record<string, SandboxClientInfo>>;
  /** The sandbox's clock, ms since the epoch: give it to `createVerifier({ now })`. */
  readonly now: () => number;
  /** Adds a fault (see FaultSpec); returns it with its id. */
  fault(spec: FaultSpec): FaultState;
  faults(): FaultState[];
  removeFault(id: string): boolean;
  clearFaults(): void;
  /** Moves the clock forward by `ms` (back with a negative value): tokens issued before expire as they would. */
  advanceClock(ms: number): void;
  /** Requests the dialect endpoints answered, oldest first (never secrets or tokens). */
  requests(): RecordedRequest[];
  clearRequests(): void;
  /**
   * Replaces the static claims of a client (its declared name or its client id) for the tokens it
   * gets from now on; `{}` or null: none. A token kept for reuse is not handed out again once the
   * claims change. `reset()` puts back the claims the options declared. Resolves to the claims in force.
   */
  setClaims(client: string, claims: Claims | null): Promise<Claims>;
  /** Faults back to the file's, the clock to its starting offset, every declared client's claims to the declared ones, the request record empty. */
  reset(): Promise<void>;
  close(): Promise<void>;
  /** With `console: true`: the web console and the first sign-in link of its admin; else undefined. */
  readonly console: SandboxConsoleInfo | undefined;
  /** The service underneath, for what the sandbox does not wrap (admin tasks, the keyring). */
  readonly keymint: Keymint;
}

const DEFAULT_SEED = 'keymint';

/** How the options are read: where a client's `secret.file` is relative to (default the working directory). */
export interface StartOptions {
  readonly baseDir?: string;
  /**
   * A key pair already being generated for `alg` (`keymint sandbox` starts it before it loads the
   * service, so the two overlap): taken as the generated signing key when the options generate one
   * of that algorithm in memory; otherwise left unused.
   */
  readonly pairBeingGenerated?: { readonly alg: SigningAlg; readonly pair: Promise<KeyPair> };
}

export async function startSandbox(given: SandboxOptions = {}, how: StartOptions = {}): Promise<Sandbox> {
  const options = checkOptions(given);
  const section = options.sandbox ?? {};
  const clientsIn = Object.entries(options.clients ?? {});
  const signing = section.signingKey === undefined ? undefined : signingKeyOf(section.signingKey, section.alg);
  const config = sandboxConfig(section, clientsIn, signing?.alg);
  const secrets = new Map(clientsIn.map(([name, c]) => [name, secretOf(name, c, how.baseDir ?? process.cwd())]));
  const known = { dialects: config.dialects.map((d) => d.name), errors: Object.keys(ERROR_STATUS), maxTokenTtl: config.maxTokenTtl };
  const initialFaults = (section.faults ?? []).map((f, i) => checkFault(f, ['sandbox', 'faults', i], known));
  const seed = String(section.seed ?? DEFAULT_SEED);

  const clock = new SandboxClock(section.clock?.offsetMs ?? 0);
  const declared = new Map<string, SandboxClientInfo>();
  const nameOf = new Map<string, string>();
  const record = new RequestRecord((id) => nameOf.get(id));
  const sockets = new WeakMap<object, Socket>();
  const faults = new Faults({
    seed,
    clientIds: (nameOrId) => {
      const c = declared.get(nameOrId);
      return c ? [c.id] : [nameOrId];
    },
    socketOf: (call) => sockets.get(call.req.headers),
    onFired: (call, ids, dropped) => record.fired(call, ids, dropped),
  });
  const limitsOn = section.limits !== undefined && section.limits !== false;
  const keymint = await asInputError(createKeymint(config, {
    ...(section.data === undefined ? { store: createMemoryStore() } : {}),
    sandbox: true,
    log: createLogger(config.logLevel),
    now: clock.now,
    interceptors: [faults.interceptor],
    observers: [record.observe],
    keys: { next: false, ...(signing ? { signingKeys: new Map([[signing.alg, signing.key]]) } : {}), ...(await firstPairs(how, config, signing !== undefined)) },
    limits: limitsOn,
  }));
  try {
    // The request's connection, so a `drop` fault can cut it: the server's own listener comes after.
    keymint.server.prependListener('request', (req: IncomingMessage) => sockets.set(req.headers, req.socket));
    // A data directory keeps the clients of earlier runs: each declared one is found again (by its id, or
    // by the name it was declared under) and put back as declared, so a second run neither fails nor adds a copy.
    const earlier = section.data === undefined ? [] : await keymint.clients.list();
    for (const [name, c] of clientsIn) {
      const before = earlier.find((v) => (c.id === undefined ? v.managed_by === `${SANDBOX_MANAGED}${name}` : v.client_id === c.id));
      if (before !== undefined) await keymint.clients.delete(before.client_id, 'sandbox');
      const info = await createClient(keymint, name, c, secrets.get(name), before?.client_id);
      declared.set(name, info);
      nameOf.set(info.id, name);
    }
    const add = (spec: unknown, at: string): FaultState => {
      const id = faults.add(checkFault(spec, [at], known));
      return faults.list().find((f) => f.id === id)!;
    };
    const restoreFaults = () => {
      faults.clear();
      for (const f of initialFaults) faults.add(f);
    };
    restoreFaults();
    const idOf = (nameOrId: string) => declared.get(nameOrId)?.id ?? nameOrId;
    const setClaims = async (client: string, claims: unknown): Promise<Claims | undefined> => {
      if (claims !== null && (typeof claims !== 'object' || Array.isArray(claims))) throw new SandboxInputError(['claims'], 'must be an object of claim names and values (or null for none)');
      try {
        return (await keymint.clients.update(idOf(client), { claims: claims as Claims | null }, 'sandbox')).claims;
      } catch (err) {
        if (err instanceof ClientNotFoundError) return undefined;
        if (err instanceof ClientInputError) throw new SandboxInputError(['claims'], err.message);
        throw err;
      }
    };
    // What reset() puts back: each declared client's claims as the options gave them (an unchanged client is left as it is).
    const restoreClaims = async () => {
      for (const [name, c] of clientsIn) await setClaims(name, c.claims ?? null);
    };
    const port = await keymint.listen();
    const issuer = keymint.config.issuer;
    const host = config.host.includes(':') ? `[${config.host}]` : config.host;
    const mounts = config.dialects.map((m) => ({ dialect: m.name, tokenEndpoint: `${issuer}${m.path ?? DIALECTS.get(m.name)!.defaultPath}` }));
    const controls: SandboxControls = {
      overview: () => ({
        issuer,
        mounts,
        clients: [...declared.values()].map((c) => ({ name: c.name, client_id: c.id })),
        clock: controls.clock(),
        seed,
        limits: limitsOn,
        faults: faults.list(),
      }),
      fault: (spec) => add(spec, 'fault'),
      faults: () => faults.list(),
      removeFault: (id) => faults.remove(id),
      clearFaults: () => faults.clear(),
      advanceClock: (ms) => clock.advance(ms),
      setClockOffset: (ms) => {
        clock.offsetMs = ms;
      },
      clock: () => ({ offsetMs: clock.offsetMs, now: new Date(clock.now()).toISOString() }),
      requests: () => record.list(),
      clearRequests: () => record.clear(),
      claims: async (client) => {
        const view = await keymint.clients.show(idOf(client)).catch((err: unknown) => {
          if (err instanceof ClientNotFoundError) return undefined;
          throw err;
        });
        return view && { client_id: view.client_id, claims: view.claims };
      },
      setClaims: async (client, claims) => {
        const set = await setClaims(client, claims);
        return set && { client_id: idOf(client), claims: set };
      },
      reset: async () => {
        restoreFaults();
        clock.reset();
        await restoreClaims();
        record.clear();
      },
    };
    keymint.router.addPrefix(CONTROL_PREFIX, controlHandler(controls));
    const web = keymint.console && (await attachConsole(keymint.console, controls, issuer));
    return {
      url: `http://${host}:${port}`,
      issuer,
      port,
      mounts,
      clients: Object.fromEntries(declared),
      now: clock.now,
      fault: (spec) => add(spec, 'fault'),
      faults: controls.faults,
      removeFault: controls.removeFault,
      clearFaults: controls.clearFaults,
      advanceClock: (ms) => {
        if (!Number.isInteger(ms)) throw new SandboxInputError(['advanceClock'], 'ms must be a whole number');
        clock.advance(ms);
      },
      requests: controls.requests,
      clearRequests: controls.clearRequests,
      setClaims: async (client, claims) => {
        const set = await setClaims(client, claims);
        if (set === undefined) throw new SandboxInputError(['client'], `no client is named or has the id ${JSON.stringify(client)}`);
        return set;
      },
      reset: controls.reset,
      close: () => keymint.close(),
      console: web,
      keymint,
    };
  } catch (err) {
    await keymint.close();
    throw err;
  }
}

/** The pair `keymint sandbox` had generated, when it is the key this sandbox generates (in memory, of its algorithm, none given). */
async function firstPairs(how: StartOptions, config: Config, keyGiven: boolean): Promise<{ firstPairs?: ReadonlyMap<SigningAlg, KeyPair> }> {
  const early = how.pairBeingGenerated;
  if (early === undefined) return {};
  const pair = await early.pair;
  return keyGiven || config.dataDir !== ':memory:' || config.alg !== early.alg ? {} : { firstPairs: new Map([[early.alg, pair]]) };
}

/** The service's configuration for these options: limits off unless asked, nothing from `KEYMINT_*`. */
function sandboxConfig(o: SandboxSection, clients: ReadonlyArray<[string, ClientDeclaration]>, signingAlg: SigningAlg | undefined): Config {
  // A client's dialect is mounted for it unless the dialects are listed: an unknown one is that client's field.
  if (o.dialects === undefined) {
    for (const [key, c] of clients) {
      c.dialects?.forEach((d, i) => {
        if (!DIALECTS.has(d)) throw new SandboxInputError(['clients', key, 'dialects', i], `unknown dialect ${JSON.stringify(d)}; known: ${[...DIALECTS.keys()].join(', ')}`);
      });
    }
  }
  const named = [...new Set(clients.flatMap(([, c]) => c.dialects ?? []))];
  const mounts = o.dialects ?? (named.length > 0 ? named : ['oauth2']);
  const limits = o.limits;
  const on = limits !== undefined && limits !== false;
  const given = typeof limits === 'object' ? limits : {};
  const raw: RawConfig = {
    port: o.port ?? 0,
    host: o.host ?? '127.0.0.1',
    ...(o.issuer === undefined ? {} : { issuer: o.issuer }),
    dataDir: o.data ?? ':memory:',
    dialects: mounts.map((m) => (typeof m === 'string' ? m : m.path === undefined ? m.name : `${m.name}=${m.path}`)),
    alg: signingAlg ?? o.alg ?? 'RS256',
    ...(o.tokenTtl === undefined ? {} : { tokenTtl: o.tokenTtl }),
    ...(o.environment === undefined ? {} : { environment: o.environment }),
    logLevel: o.logLevel ?? 'silent',
    console: o.console === true,
    rateLimitClient: on ? (given.rateLimitClient ?? 6000) : 0,
    rateLimitIp: on ? (given.rateLimitIp ?? 12000) : 0,
    ...(given.lockoutThreshold === undefined ? {} : { lockoutThreshold: given.lockoutThreshold }),
    ...(given.lockoutBaseMs === undefined ? {} : { lockoutBaseMs: given.lockoutBaseMs }),
    // No load shedding: a busy test machine must not turn into 503s the test did not script.
    maxInFlight: 0,
    maxEventLoopDelayMs: 0,
    // One process: every change is seen at once.
    clientCacheMs: 0,
    workers: 1,
    signing: 'inline',
  };
  // The environment is not read: a sandbox is configured by its options alone (in memory, its KEK is random).
  try {
    return loadConfig(raw, {});
  } catch (err) {
    throw inputError(err);
  }
}

/** A ConfigError names a service option: said again in the options' own terms. */
function inputError(err: unknown): unknown {
  if (!(err instanceof ConfigError)) return err;
  const field = ({ dataDir: 'data', tokenTtl: 'tokenTtl', dialects: 'dialects', issuer: 'issuer', host: 'host', port: 'port', environment: 'environment' } as Record<string, string>)[err.key];
  return new SandboxInputError(field === undefined ? ['sandbox'] : ['sandbox', field], err.reason);
}

async function asInputError<T>(p: Promise<T>): Promise<T> {
  try {
    return await p;
  } catch (err) {
    throw inputError(err);
  }
}

/** A declared client's secret: written in the options, or read from the environment or a file. */
function secretOf(name: string, c: ClientDeclaration, baseDir: string): string | undefined {
  const source = c.secret;
  if (source === undefined) return undefined;
  const at = ['clients', name, 'secret'];
  if (source.value !== undefined) return source.value;
  if (source.env !== undefined) {
    const value = process.env[source.env];
    if (value === undefined || value === '') throw new SandboxInputError([...at, 'env'], `the environment variable ${source.env} is not set`);
    return value;
  }
  const path = resolve(baseDir, source.file!);
  try {
    return readFileSync(path, 'utf8').split('\n')[0]!.trim();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new SandboxInputError([...at, 'file'], `${path} cannot be read (${code === 'ENOENT' ? 'no such file' : (code ?? 'error')})`);
  }
}

/** `managedBy` of the clients the sandbox creates: `sbx:<name>` (a name is at most 58 characters, managedBy 64). */
const SANDBOX_MANAGED = 'sbx:';

/** Creates a declared client; `sameId` is the id an earlier run on the same data directory gave it. */
async function createClient(keymint: Keymint, name: string, c: ClientDeclaration, secret: string | undefined, sameId?: string): Promise<SandboxClientInfo> {
  const type = c.type ?? 'confidential';
  const id = c.id ?? sameId;
  // Fields the service reads when it knows them (chosen id and secret, claims, metadata, PKCE policy).
  const imported: Record<string, unknown> = {
    ...(id === undefined ? {} : { clientId: id }),
    managedBy: `${SANDBOX_MANAGED}${name}`,
    ...(secret === undefined ? {} : { clientSecret: secret }),
    ...(c.claims === undefined ? {} : { claims: c.claims }),
    ...(c.metadata === undefined ? {} : { metadata: c.metadata }),
    ...(c.pkceRequired === undefined ? {} : { pkceRequired: c.pkceRequired }),
    ...(c.requirePar === undefined ? {} : { requirePar: c.requirePar }),
    ...(c.requireSignedRequestObject === undefined ? {} : { requireSignedRequestObject: c.requireSignedRequestObject }),
    ...(c.refreshTokenRotation === undefined ? {} : { refreshTokenRotation: c.refreshTokenRotation }),
    ...(c.securityProfile === undefined ? {} : { securityProfile: c.securityProfile }),
    ...(c.idTokenAlg === undefined ? {} : { idTokenAlg: c.idTokenAlg }),
    ...(c.authorizationResponseAlg === undefined ? {} : { authorizationResponseAlg: c.authorizationResponseAlg }),
    ...(c.introspectionAlg === undefined ? {} : { introspectionAlg: c.introspectionAlg }),
  };
  const input: CreateClientInput = {
    ...imported,
    name: c.name ?? name,
    type,
    ...(c.mode ? { mode: c.mode } : {}),
    ...(c.scopes ? { scopes: c.scopes } : {}),
    ...(c.grants ? { grants: c.grants } : {}),
    ...(c.dialects ? { dialects: c.dialects } : {}),
    ...(c.audiences ? { audiences: c.audiences } : {}),
    ...(c.redirectUris ? { redirectUris: c.redirectUris } : {}),
    ...(c.postLogoutRedirectUris ? { postLogoutRedirectUris: c.postLogoutRedirectUris } : {}),
    ...(c.backchannelLogoutUri === undefined ? {} : { backchannelLogoutUri: c.backchannelLogoutUri }),
    ...(c.backchannelLogoutSessionRequired === undefined ? {} : { backchannelLogoutSessionRequired: c.backchannelLogoutSessionRequired }),
    ...(c.trusted === undefined ? {} : { trusted: c.trusted }),
    ...(c.tokenTtl === undefined ? {} : { ttl: c.tokenTtl }),
    ...(c.rateLimit === undefined ? {} : { rateLimit: c.rateLimit }),
    ...(c.authMethod === 'private_key_jwt' ? { authMethod: 'private_key_jwt' as const } : {}),
    ...(c.jwks === undefined ? {} : { jwks: c.jwks }),
    ...(c.jwksUri === undefined ? {} : { jwksUri: c.jwksUri }),
    ...(c.dpopBound === undefined ? {} : { dpopBound: c.dpopBound }),
    ...(c.exchangeAudiences ? { exchangeAudiences: c.exchangeAudiences } : {}),
    ...(c.exchangeScopes ? { exchangeScopes: c.exchangeScopes } : {}),
    ...(c.introspectionAudiences ? { introspectionAudiences: c.introspectionAudiences } : {}),
  };
  const created = await keymint.clients.create(input, 'sandbox').catch((err: unknown) => {
    const field = (err as { field?: unknown }).field;
    if (typeof field === 'string') throw new SandboxInputError(['clients', name, FIELD_NAMES[field] ?? field], (err as Error).message);
    throw err;
  });
  if (c.status === 'disabled') await keymint.clients.setStatus(created.client.client_id, 'disabled', 'sandbox');
  return { name, id: created.client.client_id, secret: secret ?? created.clientSecret };
}

/** The service's field names in the file's spelling. */
const FIELD_NAMES: Readonly<Record<string, string>> = {
  scope: 'scopes',
  grant: 'grants',
  dialect: 'dialects',
  audience: 'audiences',
  redirect_uri: 'redirectUris',
  post_logout_redirect_uri: 'postLogoutRedirectUris',
  backchannel_logout_uri: 'backchannelLogoutUri',
  backchannel_logout_session_required: 'backchannelLogoutSessionRequired',
  ttl: 'tokenTtl',
  rate_limit: 'rateLimit',
  client_id: 'id',
  client_secret: 'secret',
  exchange_audience: 'exchangeAudiences',
  exchange_scope: 'exchangeScopes',
  introspection_audiences: 'introspectionAudiences',
};

/** A PEM, a private JWK or a KeyObject, and the algorithm it signs with: `alg` if the key fits it (an RSA key and PS256), else the first that fits (RS256 for RSA). */
function signingKeyOf(given: NonNullable<SandboxSection['signingKey']>, wanted: SigningAlg | undefined): { key: KeyObject; alg: SigningAlg } {
  let key: KeyObject;
  try {
    if (typeof given === 'string') key = createPrivateKey(given);
    else if ('asymmetricKeyType' in given && typeof (given as KeyObject).export === 'function') key = given as KeyObject;
    else key = createPrivateKey({ key: given as never, format: 'jwk' });
  } catch {
    throw new SandboxInputError(['sandbox', 'signingKey'], 'is not a private key: give a PKCS#8 PEM or a private JWK (with d)');
  }
  const alg = [wanted, ...SIGNING_ALGS].find((a) => a !== undefined && keyFits(key, a));
  if (alg === undefined) throw new SandboxInputError(['sandbox', 'signingKey'], 'must be a private RSA (RS256 or PS256), P-256 (ES256) or Ed25519 (EdDSA) key');
  return { key, alg };
}
