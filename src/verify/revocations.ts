/**
 * Revoked JWTs, by `jti`. A verifier consults a `RevocationSource` after the signature and claims
 * checks; `pollRevocations` is the built-in one, reading the deployment's revocation feed:
 *
 *   GET <url>?after=<cursor>  →  {"revocations":[{"jti":"…","exp":<unix seconds>}], "cursor":"…"}
 *
 * (no `after` on the first call), authenticated with the resource server's client credentials
 * (`clientId`/`clientSecret` → HTTP Basic, as Keymint's `/oauth2/revocations` requires) or any
 * `headers` given. Each jti is kept until its `exp`, after which the token is refused
 * as expired anyway. Bound: a revocation is seen within `intervalMs` plus one request, while the feed
 * answers; if it does not, the known set stays and `onError` is told (this fails open for revocations
 * made during the outage — watch `lastSuccessAt` to see that state). A Redis subscriber or any other
 * feed plugs in as an object with `isRevoked(jti)`.
 */

import { basicAuth } from './introspection.ts';

export interface RevocationSource {
  /** True when the token with this `jti` must be refused. Called on every verification: keep it cheap. */
  isRevoked(jti: string): boolean | Promise<boolean>;
}

export interface PollRevocationsOptions {
  readonly url: string;
  /** Time between polls, ms (default 5 000). */
  readonly intervalMs?: number;
  /**
   * Client credentials sent as HTTP Basic (`client_secret_basic`, each half form-urlencoded first):
   * Keymint's feed accepts those of a client registered with the scope `keymint:revocations`. Give
   * both or neither.
   */
  readonly clientId?: string;
  readonly clientSecret?: string;
  /** Extra request headers (e.g. another `authorization`); a header here wins over `clientId`/`clientSecret`. */
  readonly headers?: Readonly<Record<string, string>>;
  readonly fetch?: typeof fetch;
  readonly now?: () => number;
  /** Per request, ms (default 5 000). */
  readonly timeoutMs?: number;
  /** Polls on a timer from the start (default true); false: only `poll()` calls fetch. */
  readonly start?: boolean;
  readonly onError?: (error: unknown) => void;
}

export interface RevocationPoller extends RevocationSource {
  /** One poll now (follows further pages while they are non-empty, up to 10). */
  poll(): Promise<void>;
  /** Resolves after the first poll, successful or not. */
  readonly ready: Promise<void>;
  /** Stops the timer. */
  stop(): void;
  /** Number of revoked, unexpired jtis held. */
  readonly size: number;
  /** Time of the last successful poll (ms), undefined before one. */
  readonly lastSuccessAt: number | undefined;
}

interface FeedPage {
  readonly revocations: ReadonlyArray<{ readonly jti: string; readonly exp: number }>;
  readonly cursor: string | undefined;
}

function parsePage(body: unknown): FeedPage {
  const b = body as { revocations?: unknown; cursor?: unknown } | null;
  if (typeof b !== 'object' || b === null || !Array.isArray(b.revocations)) throw new Error('revocation feed: no "revocations" array');
  const revocations = b.revocations.filter(
    (r): r is { jti: string; exp: number } => typeof r?.jti === 'string' && typeof r?.exp === 'number' && Number.isFinite(r.exp),
  );
  return { revocations, cursor: typeof b.cursor === 'string' ? b.cursor : undefined };
}

export function pollRevocations(options: PollRevocationsOptions): RevocationPoller {
  if ((options.clientId === undefined) !== (options.clientSecret === undefined)) {
    throw new TypeError('pollRevocations: clientId and clientSecret go together');
  }
  new URL(options.url); // throws early on a bad URL
  const headers: Record<string, string> = { accept: 'application/json' };
  if (options.clientId !== undefined) headers.authorization = basicAuth(options.clientId, options.clientSecret!);
  for (const [name, value] of Object.entries(options.headers ?? {})) headers[name.toLowerCase()] = value;
  const fetchFn = options.fetch ?? fetch;
  const now = options.now ?? Date.now;
  const interval = options.intervalMs ?? 5_000;
  const timeoutMs = options.timeoutMs ?? 5_000;
  const revoked = new Map<string, number>(); // jti → exp (ms)
  let cursor: string | undefined;
  let lastSuccessAt: number | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;
  let running: Promise<void> | undefined;

  async function fetchPage(): Promise<number> {
    const url = new URL(options.url);
    if (cursor !== undefined) url.searchParams.set('after', cursor);
    const res = await fetchFn(url, { headers, signal: AbortSignal.timeout(timeoutMs) });
    if (res.status !== 200) throw new Error(`revocation feed answered ${res.status}`);
    const page = parsePage(await res.json());
    for (const r of page.revocations) revoked.set(r.jti, r.exp * 1000);
    if (page.cursor !== undefined) cursor = page.cursor;
    return page.revocations.length;
  }

  async function pollOnce(): Promise<void> {
    try {
      for (let pages = 0; pages < 10 && (await fetchPage()) > 0; pages++);
      lastSuccessAt = now();
    } catch (error) {
      options.onError?.(error);
    }
    const t = now();
    for (const [jti, exp] of revoked) if (exp < t) revoked.delete(jti);
  }

  function poll(): Promise<void> {
    running ??= pollOnce().finally(() => {
      running = undefined;
    });
    return running;
  }

  function schedule(): void {
    if (stopped) return;
    timer = setTimeout(() => void poll().then(schedule), interval);
    timer.unref?.();
  }

  const ready = options.start === false ? Promise.resolve() : poll().then(schedule);
  return {
    isRevoked: (jti) => revoked.has(jti),
    poll,
    ready,
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
    },
    get size() {
      return revoked.size;
    },
    get lastSuccessAt() {
      return lastSuccessAt;
    },
  };
}
