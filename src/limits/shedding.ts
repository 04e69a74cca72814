/**
 * Load shedding: when too many requests are in flight, or the event loop runs late, a new request
 * is answered 503 + Retry-After at once, before its body is read, so the work already admitted
 * finishes at full speed (goodput stays near capacity instead of collapsing under a queue).
 * Health and metrics paths are never shed, nor counted in flight: an orchestrator must see a busy
 * node as alive, and its probes and scrapes must not take a slot from the work they watch.
 */
export interface SheddingSettings {
  /** Requests in flight at which new ones are shed; 0 = no limit. */
  readonly maxInFlight: number;
  /** Event-loop delay at which new requests are shed, ms; 0 = not measured. */
  readonly maxEventLoopDelayMs: number;
  /** Paths that are never shed and never counted in flight. */
  readonly exempt: ReadonlySet<string>;
}

export type ShedCause = 'inflight' | 'event_loop';

const SAMPLE_MS = 20;

export class LoadShedder {
  readonly #settings: SheddingSettings;
  #inFlight = 0;
  #delayMs = 0;
  #timer: NodeJS.Timeout | undefined;

  constructor(settings: SheddingSettings) {
    this.#settings = settings;
    if (settings.maxEventLoopDelayMs > 0) {
      let expected = performance.now() + SAMPLE_MS;
      this.#timer = setInterval(() => {
        const now = performance.now();
        this.#delayMs = Math.max(0, now - expected);
        expected = now + SAMPLE_MS;
      }, SAMPLE_MS);
      this.#timer.unref();
    }
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  get eventLoopDelayMs(): number {
    return this.#delayMs;
  }

  /** A path that is neither shed nor counted (health, metrics). */
  exempts(path: string): boolean {
    return this.#settings.exempt.has(path);
  }

  /** Why a request to a path that is not exempt must be shed, or undefined to admit it (`start`, then `done` when it ends). */
  check(): ShedCause | undefined {
    const { maxInFlight, maxEventLoopDelayMs } = this.#settings;
    if (maxInFlight > 0 && this.#inFlight >= maxInFlight) return 'inflight';
    if (maxEventLoopDelayMs > 0 && this.#delayMs >= maxEventLoopDelayMs) return 'event_loop';
    return undefined;
  }

  start(): void {
    this.#inFlight++;
  }

  done(): void {
    this.#inFlight--;
  }

  stop(): void {
    clearInterval(this.#timer);
  }
}
