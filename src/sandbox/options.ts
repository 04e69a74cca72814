/**
 * The sandbox's options: the configuration file's format (`clients`, as `keymint apply` reads them)
 * plus its `sandbox` section, as one object. `keymint sandbox --file` reads it from YAML or JSON;
 * `startSandbox(options)` takes it as is. Both are checked by the one shipped JSON Schema
 * (schema/keymint.config.schema.json), then by the rules a schema cannot say, each error naming the
 * field at fault (`clients.orum-app.scopes[1]`, `sandbox.faults[0].status`).
 */
import type { KeyObject } from 'node:crypto';
import type { ClientDeclaration } from '../config/file.ts';
import type { SigningAlg } from '../config/types.ts';
import { configSchemaChecker } from '../config/schema-check.ts';
import { SandboxInputError } from './errors.ts';
import type { FaultSpec } from './faults.ts';

export { SandboxInputError } from './errors.ts';

export type { ClientDeclaration, SecretSource } from '../config/file.ts';

/** A dialect to mount: its name, or its name and the token path to mount it at. */
export type SandboxMount = string | { readonly name: string; readonly path?: string };

/** The sandbox-only section: everything `keymint serve` and `keymint apply` refuse. */
export interface SandboxSection {
  /** Port to bind; 0 (default): any free port, advertised in the issuer. */
  readonly port?: number;
  /** Address to bind; default 127.0.0.1. */
  readonly host?: string;
  /** Issuer URL; default `http://localhost:<bound port>`. */
  readonly issuer?: string;
  /** Dialects to mount; default those the clients name, else `oauth2`. */
  readonly dialects?: readonly SandboxMount[];
  /** Data directory (SQLite; Node 24); default an in-memory store. */
  readonly data?: string;
  /** Default access-token lifetime, seconds; default 3600. */
  readonly tokenTtl?: number;
  /** Access-token signing algorithm: RS256 (default), PS256, ES256 or EdDSA; with a signing key, the key's (PS256 for an RSA key only if asked here). */
  readonly alg?: SigningAlg;
  /** Environment spelled in generated client ids; default `prod`. */
  readonly environment?: string;
  /** Log level of the service: default `silent` (the request record says what happened). */
  readonly logLevel?: 'debug' | 'info' | 'warn' | 'error' | 'silent';
  /** Seed of every draw (fractions of requests faulted, jitter): the same seed, the same run. Default `keymint`. */
  readonly seed?: string | number;
  /** The clock's offset from the machine's time at start, ms (positive: the sandbox lives in the future). */
  readonly clock?: { readonly offsetMs?: number };
  /**
   * A fixed signing key, so tokens verify against the same JWKS run after run: a PKCS#8 PEM
   * (RSA for RS256, or PS256 with `alg: 'PS256'`; P-256 for ES256, Ed25519 for EdDSA), a private JWK, or a KeyObject. Its
   * algorithm signs the access tokens. Default: a key generated at start.
   */
  readonly signingKey?: string | Readonly<Record<string, unknown>> | KeyObject;
  /**
   * Rate limits and the lockout after failed secrets: off (default), on with the service's
   * defaults (`true`), or on with these values.
   */
  readonly limits?: boolean | { readonly rateLimitClient?: number; readonly rateLimitIp?: number; readonly lockoutThreshold?: number; readonly lockoutBaseMs?: number };
  /** Faults in force from the start (and again after `reset()`). */
  readonly faults?: readonly FaultSpec[];
  /**
   * Serve the web console at `/console/` with its Sandbox page (faults, clock, request record). The
   * sandbox creates the console admin `admin` and a one-time sign-in link for it (`Sandbox.console`).
   */
  readonly console?: boolean;
}

export interface SandboxOptions {
  /** The format's version: 1 (may be left out in code). */
  readonly version?: 1;
  /** Clients by key, as in the configuration file (`secret: { value }` holds a literal secret here). */
  readonly clients?: Readonly<Record<string, ClientDeclaration>>;
  readonly sandbox?: SandboxSection;
}


/** The options checked against the shipped schema (a KeyObject signing key is taken as it is). */
export function checkOptions(raw: unknown): SandboxOptions {
  const given = raw ?? {};
  if (typeof given !== 'object' || Array.isArray(given)) throw new SandboxInputError([], 'the options are an object: { clients, sandbox }');
  const options = { version: 1, ...(given as object) } as SandboxOptions & Record<string, unknown>;
  const key = options.sandbox?.signingKey;
  const isKeyObject = typeof key === 'object' && key !== null && typeof (key as KeyObject).export === 'function' && 'asymmetricKeyType' in key;
  const checked = isKeyObject ? { ...options, sandbox: { ...options.sandbox, signingKey: {} } } : options;
  // The shipped schema, compiled once: the sandbox file was checked against it already (config/file.ts).
  const problem = configSchemaChecker()(checked);
  if (problem) throw new SandboxInputError(problem.path, problem.message);
  for (const [name, client] of Object.entries(options.clients ?? {})) {
    const secret = client.secret;
    if (secret === undefined) continue;
    const sources = (['env', 'file', 'value'] as const).filter((k) => secret[k] !== undefined);
    if (sources.length !== 1) throw new SandboxInputError(['clients', name, 'secret'], `names ${sources.length === 0 ? 'no source' : `both ${sources.join(' and ')}`}; give exactly one of env, file, value`);
    if (client.type === 'public') throw new SandboxInputError(['clients', name, 'secret'], 'a public client has no secret');
  }
  return options;
}
