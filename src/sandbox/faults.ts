/**
 * Scripted faults: what the sandbox does to the requests a dialect endpoint receives, as one
 * pipeline interceptor (http/pipeline.ts), so nothing in the request path asks whether it runs in a
 * sandbox. A fault matches by dialect, client and endpoint, fires for the next N matching requests
 * or for a fraction of them (drawn from the seed, so runs repeat), and then:
 * - answers an error of the dialect's catalogue, encoded by the dialect itself, so the status, body
 *   and headers (Retry-After, Orum's X-Retry-In, the X-RateLimit-* triple) are the provider's own;
 * - adds latency, fixed or jittered within a bound;
 * - drops the connection without an answer;
 * - or shortens the lifetime of the access token the request is issued.
 */
import type { Socket } from 'node:net';
import type { FieldPath } from '../config/schema-check.ts';
import { SandboxInputError } from './errors.ts';
import type { EndpointCall, Interceptor } from '../http/pipeline.ts';
import { ERROR_STATUS, OAuthError, type OAuthErrorCode } from '../wire/errors.ts';
import type { HttpResponse } from '../wire/http.ts';
import { FAULT_ENDPOINTS, type FaultEndpoint, type FaultSpec, type FaultState } from '../wire/sandbox.ts';
import { seeded, type Draw } from './random.ts';

export { FAULT_ENDPOINTS, type FaultEndpoint, type FaultSpec, type FaultState } from '../wire/sandbox.ts';

/** Statuses a fault may answer with, and the canonical error each one is. */
export const FAULT_STATUSES: Readonly<Record<number, OAuthErrorCode>> = {
  400: 'invalid_request',
  401: 'invalid_client',
  403: 'access_denied',
  404: 'not_found',
  429: 'rate_limited',
  500: 'server_error',
  503: 'temporarily_unavailable',
};

/** Longest latency a fault may add, fixed plus jitter, ms. */
export const MAX_LATENCY_MS = 60_000;

const SPEC_KEYS = new Set(['dialect', 'client', 'endpoint', 'times', 'fraction', 'status', 'error', 'retryAfter', 'latencyMs', 'jitterMs', 'drop', 'tokenTtl']);

/** Checks a fault from a file, the control API or code; `at` names it in errors (`sandbox.faults[2]`). */
export function checkFault(raw: unknown, at: FieldPath, known: { dialects: readonly string[]; errors: readonly string[]; maxTokenTtl: number }): FaultSpec {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new SandboxInputError(at, 'a fault is an object');
  const f = raw as Record<string, unknown>;
  for (const key of Object.keys(f)) if (!SPEC_KEYS.has(key)) throw new SandboxInputError([...at, key], `unknown field; known: ${[...SPEC_KEYS].join(', ')}`);
  const str = (key: string) => {
    if (f[key] !== undefined && (typeof f[key] !== 'string' || f[key] === '')) throw new SandboxInputError([...at, key], 'must be a non-empty string');
  };
  const whole = (key: string, min: number, max: number) => {
    const v = f[key];
    if (v !== undefined && (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max)) throw new SandboxInputError([...at, key], `must be a whole number in ${min}..${max}`);
  };
  str('dialect');
  str('client');
  if (typeof f.dialect === 'string' && !known.dialects.includes(f.dialect)) throw new SandboxInputError([...at, 'dialect'], `unknown dialect; known: ${known.dialects.join(', ')}`);
  if (f.endpoint !== undefined && !(FAULT_ENDPOINTS as readonly unknown[]).includes(f.endpoint)) throw new SandboxInputError([...at, 'endpoint'], `must be one of ${FAULT_ENDPOINTS.join(', ')}`);
  whole('times', 1, 1_000_000);
  if (f.fraction !== undefined && (typeof f.fraction !== 'number' || !(f.fraction > 0 && f.fraction <= 1))) throw new SandboxInputError([...at, 'fraction'], 'must be a number in (0, 1]');
  if (f.status !== undefined && (typeof f.status !== 'number' || FAULT_STATUSES[f.status] === undefined)) {
    throw new SandboxInputError([...at, 'status'], `must be one of ${Object.keys(FAULT_STATUSES).join(', ')}`);
  }
  if (f.error !== undefined && (typeof f.error !== 'string' || !known.errors.includes(f.error))) throw new SandboxInputError([...at, 'error'], `must be one of ${known.errors.join(', ')}`);
  whole('retryAfter', 1, 86_400);
  whole('latencyMs', 0, MAX_LATENCY_MS);
  whole('jitterMs', 0, MAX_LATENCY_MS);
  if (((f.latencyMs as number | undefined) ?? 0) + ((f.jitterMs as number | undefined) ?? 0) > MAX_LATENCY_MS) {
    throw new SandboxInputError([...at, 'jitterMs'], `latency plus jitter must stay within ${MAX_LATENCY_MS} ms`);
  }
  if (f.drop !== undefined && typeof f.drop !== 'boolean') throw new SandboxInputError([...at, 'drop'], 'must be true or false');
  whole('tokenTtl', 1, known.maxTokenTtl);
  const answers = f.status !== undefined || f.error !== undefined;
  if (f.retryAfter !== undefined && !answers) throw new SandboxInputError([...at, 'retryAfter'], 'applies to an error answer: give status or error');
  if (!answers && f.latencyMs === undefined && f.jitterMs === undefined && f.drop !== true && f.tokenTtl === undefined) {
    throw new SandboxInputError(at, 'a fault needs an action: status or error, latencyMs/jitterMs, drop, or tokenTtl');
  }
  if (f.drop === true && answers) throw new SandboxInputError([...at, 'drop'], 'a dropped connection has no answer: give drop or status/error, not both');
  return f as FaultSpec;
}

interface Held {
  readonly id: string;
  readonly spec: FaultSpec;
  remaining: number | null;
  fired: number;
  readonly draw: Draw;
}

export interface FaultsOptions {
  /** The seed fractions and jitter are drawn from. */
  readonly seed: string;
  /** The ids a declared client name stands for (`client: orum-app`). */
  readonly clientIds: (nameOrId: string) => readonly string[];
  /** The connection a request arrived on, to drop it. */
  readonly socketOf: (call: EndpointCall) => Socket | undefined;
  /** Told which fault answered a request (the request record). */
  readonly onFired?: (call: EndpointCall, faults: readonly string[], dropped: boolean) => void;
  readonly sleep?: (ms: number) => Promise<void>;
}

/** The faults set since the start or the last reset (spent ones too: `remaining` 0), in the order added, and the interceptor that applies them. */
export class Faults {
  readonly #options: FaultsOptions;
  #held: Held[] = [];
  #next = 1;

  constructor(options: FaultsOptions) {
    this.#options = options;
  }

  /** Adds a checked fault; resolves to its id (`f1`, `f2`, … in the order added since the last reset). */
  add(spec: FaultSpec): string {
    const id = `f${this.#next++}`;
    this.#held.push({ id, spec, remaining: spec.times ?? null, fired: 0, draw: seeded(`${this.#options.seed}:${id}`) });
    return id;
  }

  remove(id: string): boolean {
    const before = this.#held.length;
    this.#held = this.#held.filter((h) => h.id !== id);
    return this.#held.length < before;
  }

  /** Removes every fault and restarts ids (and so the draws) from `f1`. */
  clear(): void {
    this.#held = [];
    this.#next = 1;
  }

  list(): FaultState[] {
    return this.#held.map((h) => ({ ...h.spec, id: h.id, remaining: h.remaining, fired: h.fired }));
  }

  readonly interceptor: Interceptor = {
    before: (call) => this.#apply(call),
  };

  async #apply(call: EndpointCall): Promise<HttpResponse | undefined> {
    let latency = 0;
    let drop = false;
    let answer: OAuthError | undefined;
    const fired: string[] = [];
    for (const h of this.#held) {
      if (h.remaining === 0 || !this.#matches(h.spec, call)) continue;
      if (h.spec.fraction !== undefined && h.draw() >= h.spec.fraction) continue;
      if (h.remaining !== null) h.remaining -= 1;
      h.fired += 1;
      fired.push(h.id);
      const s = h.spec;
      if (s.latencyMs !== undefined || s.jitterMs !== undefined) latency += (s.latencyMs ?? 0) + Math.floor(h.draw() * ((s.jitterMs ?? 0) + 1));
      if (s.tokenTtl !== undefined) call.tokenTtl = s.tokenTtl;
      if (s.drop === true) drop = true;
      else if (s.status !== undefined || s.error !== undefined) answer = faultError(s, call.now);
      // The first fault that ends the request ends the search: later ones keep their turn.
      if (drop || answer !== undefined) break;
    }
    if (fired.length === 0) return undefined;
    this.#options.onFired?.(call, fired, drop);
    if (latency > 0) await (this.#options.sleep ?? sleep)(Math.min(latency, MAX_LATENCY_MS));
    if (drop) {
      this.#options.socketOf(call)?.destroy();
      // The socket is gone: this answer is written nowhere.
      return { status: 499, headers: {}, body: '' };
    }
    if (answer !== undefined) throw answer;
    return undefined;
  }

  #matches(s: FaultSpec, call: EndpointCall): boolean {
    if (s.dialect !== undefined && s.dialect !== call.dialect) return false;
    if (s.endpoint !== undefined && s.endpoint !== call.endpoint) return false;
    if (s.client !== undefined && (call.clientId === undefined || !this.#options.clientIds(s.client).includes(call.clientId))) return false;
    return true;
  }
}

/** The error a fault answers with; the dialect encodes it into its catalogue row and headers. */
function faultError(s: FaultSpec, now: number): OAuthError {
  const code = s.error ?? FAULT_STATUSES[s.status!]!;
  const status = s.status;
  const effective = status ?? ERROR_STATUS[code];
  const waits = effective === 429 || effective === 503;
  const retryAfter = waits ? (s.retryAfter ?? 1) : undefined;
  return new OAuthError(code, DESCRIPTIONS[code] ?? 'The request failed.', {
    ...(status === undefined ? {} : { status }),
    ...(retryAfter === undefined ? {} : { retryAfter }),
    ...(code === 'rate_limited' ? { reason: 'rate_limited' as const, rateLimit: { limit: 1, remaining: 0, resetAt: Math.ceil(now / 1000) + (retryAfter ?? 1) } } : {}),
    ...(code === 'temporarily_unavailable' ? { reason: 'overloaded' as const } : {}),
    cause: new Error('sandbox fault'),
  });
}

/** The texts the service itself gives for these codes, so a faulted answer reads like a real one. */
const DESCRIPTIONS: Partial<Record<OAuthErrorCode, string>> = {
  invalid_request: 'The request is invalid.',
  invalid_client: 'Client authentication failed.',
  invalid_grant: 'The grant is invalid or expired.',
  access_denied: 'Access denied.',
  not_found: 'No such endpoint.',
  rate_limited: 'Too many requests.',
  server_error: 'An internal error occurred.',
  temporarily_unavailable: 'The service is temporarily unavailable.',
};

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
