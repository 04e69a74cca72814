/**
 * What the sandbox received, for a test's assertions: one entry per request a dialect endpoint
 * answered, with who asked for what and how it ended. Never a secret, a token, a header or a body:
 * only the path, the dialect, the endpoint, the client id presented (and its declared name), the
 * grant, the status and the outcome. Bounded: the oldest entries go first. Cleared, it holds only
 * requests that began after.
 */
import type { EndpointCall, Outcome } from '../http/pipeline.ts';
import type { RecordedRequest } from '../wire/sandbox.ts';

export type { RecordedRequest } from '../wire/sandbox.ts';

export const MAX_RECORDED = 10_000;

export class RequestRecord {
  readonly #nameOf: (clientId: string) => string | undefined;
  readonly #fired = new WeakMap<object, { faults: readonly string[]; dropped: boolean }>();
  #entries: RecordedRequest[] = [];
  /** When the record was last cleared (performance.now()). */
  #clearedAt = -Infinity;

  constructor(nameOf: (clientId: string) => string | undefined) {
    this.#nameOf = nameOf;
  }

  /** Called by the faults interceptor: which faults fired on this request. */
  fired(call: EndpointCall, faults: readonly string[], dropped: boolean): void {
    this.#fired.set(call.req, { faults, dropped });
  }

  /** The pipeline observer. */
  readonly observe = (o: Outcome): void => {
    // A request that began before the last clear (one a latency fault held across reset()) belongs
    // to what came before it: recorded, it would turn up in the next test's record.
    if (performance.now() - o.ms < this.#clearedAt) return;
    const fired = this.#fired.get(o.req);
    this.#entries.push({
      at: new Date(o.now).toISOString(),
      method: o.req.method,
      path: o.req.path,
      dialect: o.dialect,
      endpoint: o.endpoint,
      clientId: o.clientId ?? null,
      client: (o.clientId === undefined ? undefined : this.#nameOf(o.clientId)) ?? null,
      grant: o.grant ?? null,
      status: fired?.dropped ? 0 : o.status,
      outcome: fired?.dropped ? 'dropped' : o.result,
      faults: fired?.faults ?? [],
    });
    if (this.#entries.length > MAX_RECORDED) this.#entries = this.#entries.slice(-MAX_RECORDED);
  };

  list(): RecordedRequest[] {
    return [...this.#entries];
  }

  clear(): void {
    this.#entries = [];
    this.#clearedAt = performance.now();
  }
}
