/**
 * The sandbox's options: the contents of a sandbox file (`keymint sandbox --file`) as one object,
 * also what `startSandbox(options)` takes. Checked here, each error naming the field at fault
 * (`clients.orum-app.scopes[1]`, `sandbox.faults[0].status`).
 */
import type { KeyObject } from 'node:crypto';
import { MAX_CLOCK_OFFSET_MS } from './clock.ts';
import type { FaultSpec } from './faults.ts';

/** A client the sandbox creates at start, under the name it is declared with. */
export interface SandboxClient {
  /** The client id, in the provider's own shape (Orum's, Polar's, …); default generated. */
  readonly id?: string;
  /** The client secret; default generated (read it from `sandbox.clients.<name>.secret`). */
  readonly secret?: string;
  /** `confidential` (default) or `public` (no secret; authorization code with PKCE). */
  readonly type?: 'confidential' | 'public';
  readonly scopes?: readonly string[];
  /** Grant types; default `client_credentials` for a confidential client. */
  readonly grants?: readonly string[];
  /** Dialects the client may use; default every mounted one. */
  readonly dialects?: readonly string[];
  readonly audiences?: readonly string[];
  readonly redirectUris?: readonly string[];
  /** Skip the consent page (first-party client). */
  readonly trusted?: boolean;
  /** Access-token lifetime, seconds; default the sandbox's `tokenTtl`. */
  readonly ttl?: number;
  /** Static claims added to its access tokens. */
  readonly claims?: Readonly<Record<string, unknown>>;
}

/** A dialect to mount: its name, or its name and the token path to mount it at. */
export type SandboxMount = string | { readonly name: string; readonly path?: string };

/** The sandbox-only section: everything `keymint serve` and `keymint apply` refuse. */
export interface SandboxSection {
  /** Seed of every draw (fractions of requests faulted, jitter): the same seed, the same run. Default `keymint`. */
  readonly seed?: string | number;
  /** The clock's offset from the machine's time at start, ms (positive: the sandbox lives in the future). */
  readonly clock?: { readonly offsetMs?: number };
  /**
   * A fixed signing key, so tokens verify against the same JWKS run after run: a PKCS#8 PEM
   * (RSA for RS256, P-256 for ES256, Ed25519 for EdDSA), a private JWK, or a KeyObject. Its
   * algorithm signs the access tokens. Default: a key generated at start.
   */
  readonly signingKey?: string | Readonly<Record<string, unknown>> | KeyObject;
  /**
   * Rate limits and the lockout after failed secrets: off (default), on with the service's
   * defaults (`true`), or on with these values.
   */
  readonly limits?: boolean | { readonly rateLimitClient?: number; readonly rateLimitIp?: number; readonly lockoutThreshold?: number };
  /** Faults in force from the start (and again after `reset()`). */
  readonly faults?: readonly FaultSpec[];
}

export interface SandboxOptions {
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
  /** Access-token signing algorithm when no signing key is given: RS256 (default), ES256 or EdDSA. */
  readonly alg?: 'RS256' | 'ES256' | 'EdDSA';
  /** Environment spelled in generated client ids; default `sandbox`. */
  readonly environment?: string;
  /** Log level of the service: default `silent` (the request record says what happened). */
  readonly logLevel?: 'debug' | 'info' | 'warn' | 'error' | 'silent';
  /** Clients by name. */
  readonly clients?: Readonly<Record<string, SandboxClient>>;
  readonly sandbox?: SandboxSection;
}

export class SandboxInputError extends Error {
  readonly field: string;
  constructor(field: string, message: string) {
    super(`${field}: ${message}`);
    this.name = 'SandboxInputError';
    this.field = field;
  }
}

const TOP = ['port', 'host', 'issuer', 'dialects', 'data', 'tokenTtl', 'alg', 'environment', 'logLevel', 'clients', 'sandbox'];
const CLIENT = ['id', 'secret', 'type', 'scopes', 'grants', 'dialects', 'audiences', 'redirectUris', 'trusted', 'ttl', 'claims'];
const SECTION = ['seed', 'clock', 'signingKey', 'limits', 'faults'];

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function fields(v: unknown, at: string, known: readonly string[]): Record<string, unknown> {
  if (!isObject(v)) throw new SandboxInputError(at, 'must be an object');
  for (const key of Object.keys(v)) if (!known.includes(key)) throw new SandboxInputError(at === '' ? key : `${at}.${key}`, `unknown field; known: ${known.join(', ')}`);
  return v;
}


function wholeNumber(v: unknown, at: string, min: number, max: number): void {
  if (v !== undefined && (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max)) throw new SandboxInputError(at, `must be a whole number in ${min}..${max}`);
}

function text(v: unknown, at: string): void {
  if (v !== undefined && (typeof v !== 'string' || v === '')) throw new SandboxInputError(at, 'must be a non-empty string');
}

function texts(v: unknown, at: string): void {
  if (v === undefined) return;
  if (!Array.isArray(v)) throw new SandboxInputError(at, 'must be a list of strings');
  v.forEach((s, i) => text(s, `${at}[${i}]`));
}

/**
 * The shape of the options, checked: unknown fields, wrong types and out-of-range numbers are
 * refused with the field's path. What only the service can judge (a scope's grammar, a grant's
 * name, a client id's length) it checks when the sandbox creates the client, naming it the same way.
 */
export function checkOptions(raw: unknown): SandboxOptions {
  const o = fields(raw ?? {}, '', TOP);
  wholeNumber(o.port, 'port', 0, 65535);
  text(o.host, 'host');
  text(o.issuer, 'issuer');
  text(o.data, 'data');
  wholeNumber(o.tokenTtl, 'tokenTtl', 1, 86_400);
  if (o.alg !== undefined && !['RS256', 'ES256', 'EdDSA'].includes(o.alg as string)) throw new SandboxInputError('alg', 'must be RS256, ES256 or EdDSA');
  text(o.environment, 'environment');
  if (o.logLevel !== undefined && !['debug', 'info', 'warn', 'error', 'silent'].includes(o.logLevel as string)) throw new SandboxInputError('logLevel', 'must be debug, info, warn, error or silent');
  if (o.dialects !== undefined) {
    if (!Array.isArray(o.dialects)) throw new SandboxInputError('dialects', 'must be a list of dialect names or {name, path}');
    o.dialects.forEach((d: unknown, i) => {
      if (typeof d === 'string') return text(d, `dialects[${i}]`);
      const m = fields(d, `dialects[${i}]`, ['name', 'path']);
      text(m.name, `dialects[${i}].name`);
      if (m.name === undefined) throw new SandboxInputError(`dialects[${i}].name`, 'is required');
      text(m.path, `dialects[${i}].path`);
    });
  }
  if (o.clients !== undefined) {
    const clients = fields(o.clients, 'clients', Object.keys(isObject(o.clients) ? o.clients : {}));
    for (const [name, c] of Object.entries(clients)) {
      const at = `clients.${name}`;
      if (!/^[A-Za-z0-9._-]{1,64}$/.test(name)) throw new SandboxInputError(at, 'a client name is 1–64 letters, digits, dot, underscore or hyphen');
      const client = fields(c ?? {}, at, CLIENT);
      text(client.id, `${at}.id`);
      text(client.secret, `${at}.secret`);
      if (client.type !== undefined && client.type !== 'confidential' && client.type !== 'public') throw new SandboxInputError(`${at}.type`, 'must be confidential or public');
      if (client.type === 'public' && client.secret !== undefined) throw new SandboxInputError(`${at}.secret`, 'a public client has no secret');
      for (const key of ['scopes', 'grants', 'dialects', 'audiences', 'redirectUris']) texts(client[key], `${at}.${key}`);
      if (client.trusted !== undefined && typeof client.trusted !== 'boolean') throw new SandboxInputError(`${at}.trusted`, 'must be true or false');
      wholeNumber(client.ttl, `${at}.ttl`, 1, 86_400);
      if (client.claims !== undefined && !isObject(client.claims)) throw new SandboxInputError(`${at}.claims`, 'must be an object of claim names to values');
    }
  }
  if (o.sandbox !== undefined) {
    const s = fields(o.sandbox, 'sandbox', SECTION);
    if (s.seed !== undefined && typeof s.seed !== 'string' && !(typeof s.seed === 'number' && Number.isFinite(s.seed))) throw new SandboxInputError('sandbox.seed', 'must be a string or a number');
    if (s.clock !== undefined) {
      const clock = fields(s.clock, 'sandbox.clock', ['offsetMs']);
      wholeNumber(clock.offsetMs, 'sandbox.clock.offsetMs', -MAX_CLOCK_OFFSET_MS, MAX_CLOCK_OFFSET_MS);
    }
    if (s.signingKey !== undefined && typeof s.signingKey !== 'string' && !isObject(s.signingKey)) throw new SandboxInputError('sandbox.signingKey', 'must be a PKCS#8 PEM, a private JWK or a KeyObject');
    if (s.limits !== undefined && typeof s.limits !== 'boolean') {
      const limits = fields(s.limits, 'sandbox.limits', ['rateLimitClient', 'rateLimitIp', 'lockoutThreshold']);
      wholeNumber(limits.rateLimitClient, 'sandbox.limits.rateLimitClient', 0, 100_000_000);
      wholeNumber(limits.rateLimitIp, 'sandbox.limits.rateLimitIp', 0, 100_000_000);
      wholeNumber(limits.lockoutThreshold, 'sandbox.limits.lockoutThreshold', 1, 1000);
    }
    if (s.faults !== undefined && !Array.isArray(s.faults)) throw new SandboxInputError('sandbox.faults', 'must be a list of faults');
  }
  return o as SandboxOptions;
}
