/**
 * The sandbox's clock: the machine's time plus an offset a test moves forward ("advance one hour").
 * It is the one `now` the service runs on (token endpoint, refresh, introspection, sessions, keys,
 * limits), so a token issued before an advance past its lifetime is expired wherever Keymint
 * decides. Give the same `now` to `keymint/verify` (`createVerifier({ now: sandbox.now })`) and the
 * resource server's view agrees.
 */
export class SandboxClock {
  readonly #initial: number;
  #offsetMs: number;

  constructor(offsetMs = 0) {
    this.#initial = offsetMs;
    this.#offsetMs = offsetMs;
  }

  readonly now = (): number => Date.now() + this.#offsetMs;

  /** Moves the clock forward (or back, with a negative value) by `ms`. */
  advance(ms: number): void {
    this.#offsetMs += ms;
  }

  get offsetMs(): number {
    return this.#offsetMs;
  }

  set offsetMs(ms: number) {
    this.#offsetMs = ms;
  }

  /** Back to the offset the sandbox started with. */
  reset(): void {
    this.#offsetMs = this.#initial;
  }
}

/** Largest offset the clock may be moved to, either way: ten years. */
export const MAX_CLOCK_OFFSET_MS = 10 * 365 * 86_400_000;
