/**
 * The sandbox's faults and request record as its control API (`/_sandbox/`) and the console's
 * sandbox panel both show them, and the controls the panel drives: one shape for the two layers
 * beside each other (sandbox/ implements them, console/ uses them).
 */
import type { OAuthErrorCode } from './errors.ts';

/** Endpoints a fault may target (those that run through the pipeline). */
export const FAULT_ENDPOINTS = ['token', 'introspect', 'revoke', 'revocations'] as const;
export type FaultEndpoint = (typeof FAULT_ENDPOINTS)[number];

/**
 * One scripted fault. Match fields left out match everything; `times` and `fraction` left out fire
 * on every matching request until the fault is removed. At least one action is required; several
 * combine (the latency first, then the drop or the error).
 */
export interface FaultSpec {
  /** Only requests to this dialect's endpoints. */
  readonly dialect?: string;
  /** Only requests presenting this client: its declared name or its client id. */
  readonly client?: string;
  /** Only this endpoint: token (default: every endpoint), introspect, revoke or revocations. */
  readonly endpoint?: FaultEndpoint;
  /** Fire for the next N matching requests, then stop. */
  readonly times?: number;
  /** Fire for this fraction (0..1] of matching requests, drawn from the seed. */
  readonly fraction?: number;
  /** Answer with this status (400, 401, 403, 404, 429, 500, 503), in the dialect's catalogue shape. */
  readonly status?: number;
  /** Answer with this canonical error (e.g. `invalid_grant`), in the dialect's catalogue shape; its status unless `status` says otherwise. */
  readonly error?: OAuthErrorCode;
  /** Seconds the 429 or 503 asks the client to wait (Retry-After and the dialect's own header); default 1. */
  readonly retryAfter?: number;
  /** Added latency, ms. */
  readonly latencyMs?: number;
  /** Up to this much more latency, ms, drawn from the seed. */
  readonly jitterMs?: number;
  /** Close the connection without an answer. */
  readonly drop?: boolean;
  /** Issue access tokens this many seconds long instead of the client's lifetime. */
  readonly tokenTtl?: number;
}

/** A fault as the sandbox holds it: its id and how many more times it fires (null: unlimited). */
export interface FaultState extends FaultSpec {
  readonly id: string;
  readonly remaining: number | null;
  /** Matching requests it fired on so far. */
  readonly fired: number;
}

/** One request of the sandbox's record: who asked for what and how it ended (never a secret, token, header or body). */
export interface RecordedRequest {
  /** When it arrived, on the sandbox's clock (ISO 8601). */
  readonly at: string;
  readonly method: string;
  readonly path: string;
  readonly dialect: string;
  /** `token`, `introspect`, `revoke` or `revocations`. */
  readonly endpoint: string;
  /** The client id the request presented, authenticated or not. */
  readonly clientId: string | null;
  /** The declared name of that client, when it is one of the sandbox's. */
  readonly client: string | null;
  readonly grant: string | null;
  readonly status: number;
  /** `ok`, the canonical error code, or `dropped`. */
  readonly outcome: string;
  /** Ids of the faults that fired on it. */
  readonly faults: readonly string[];
}

/** The sandbox's controls the console's panel drives (the sandbox's `SandboxControls` has these and more). */
export interface SandboxPanelControls {
  fault(spec: unknown): FaultState;
  faults(): FaultState[];
  removeFault(id: string): boolean;
  clearFaults(): void;
  advanceClock(ms: number): void;
  setClockOffset(ms: number): void;
  clock(): { offsetMs: number; now: string };
  requests(): RecordedRequest[];
  clearRequests(): void;
  reset(): Promise<void>;
}

/** The sandbox as the console is given it. */
export interface SandboxPanel {
  readonly controls: SandboxPanelControls;
  /** The statuses and endpoints a fault may name (the sandbox's own lists, offered by the form). */
  readonly faultStatuses: readonly number[];
  readonly faultEndpoints: readonly string[];
  /** Largest clock offset either way, ms. */
  readonly maxClockOffsetMs: number;
}
