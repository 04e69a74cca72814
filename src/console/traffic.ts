/**
 * Live traffic for the console's charts, kept in process: a ring of the last `WINDOW` seconds, each
 * holding tokens issued by dialect and by client, refusals by reason, 429s, 503s and a latency
 * histogram. Fed by a pipeline observer (a few map increments per request, and only on servers that
 * enable the console) and by the server's shed callback. Clients are counted in process, never as a
 * metric label; only authenticated ones (a request that got a token), and at most
 * `MAX_CLIENTS_PER_SECOND` of them per second (the rest as `(other)`), so no input grows it.
 *
 * With Redis, every node publishes the seconds it completed on the feed every `PUBLISH_EVERY_MS`,
 * and each node's console sums what it heard from the others with its own ring: the deployment's
 * figures, behind by at most that interval.
 */
import type { Feed, FeedEvent, TrafficSecond } from '../feed/types.ts';
import { TRAFFIC_LATENCY_BOUNDS_MS } from '../feed/types.ts';
import type { Outcome } from '../http/pipeline.ts';

/** Seconds kept and shown. */
export const WINDOW = 120;
export const PUBLISH_EVERY_MS = 2000;
export const MAX_CLIENTS_PER_SECOND = 5000;
/** Busiest clients of a second a node publishes. */
const PUBLISHED_CLIENTS = 50;
const TOP_CLIENTS = 20;
/** A node not heard from this long is no longer summed. */
const NODE_TIMEOUT_MS = 15_000;
const OTHER = '(other)';

interface Bucket {
  t: number;
  tokens: Map<string, number>;
  clients: Map<string, number>;
  refusals: Map<string, number>;
  s429: number;
  s503: number;
  latency: number[];
}

const emptyBucket = (t: number): Bucket => ({ t, tokens: new Map(), clients: new Map(), refusals: new Map(), s429: 0, s503: 0, latency: new Array<number>(TRAFFIC_LATENCY_BOUNDS_MS.length + 1).fill(0) });
const add = (m: Map<string, number>, k: string, n = 1) => m.set(k, (m.get(k) ?? 0) + n);

function latencyBucket(ms: number): number {
  let i = 0;
  while (i < TRAFFIC_LATENCY_BOUNDS_MS.length && ms > TRAFFIC_LATENCY_BOUNDS_MS[i]!) i++;
  return i;
}

/** This process's ring of recent seconds. */
export class TrafficRecorder {
  readonly #ring: Bucket[] = [];
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  #bucket(): Bucket {
    const t = Math.floor(this.#now() / 1000);
    const i = t % WINDOW;
    let b = this.#ring[i];
    if (!b || b.t !== t) this.#ring[i] = b = emptyBucket(t);
    return b;
  }

  /** The pipeline observer: one call per request a dialect endpoint answered. */
  readonly observe = (o: Outcome): void => {
    const b = this.#bucket();
    if (o.status === 429) b.s429++;
    else if (o.status === 503) b.s503++;
    if (o.result !== 'ok') add(b.refusals, o.result);
    if (o.endpoint !== 'token') return;
    b.latency[latencyBucket(o.ms)]!++;
    if (o.result !== 'ok') return;
    add(b.tokens, o.dialect);
    const client = o.clientId !== undefined && (b.clients.has(o.clientId) || b.clients.size < MAX_CLIENTS_PER_SECOND) ? o.clientId : OTHER;
    add(b.clients, client);
  };

  /** A request the server shed with 503 before any endpoint saw it. */
  readonly shed = (): void => {
    const b = this.#bucket();
    b.s503++;
    add(b.refusals, 'temporarily_unavailable');
  };

  /** Every second of the window, oldest first, up to and including `upTo` (epoch s). */
  seconds(from: number, upTo: number, clients = Infinity): TrafficSecond[] {
    const out: TrafficSecond[] = [];
    for (const b of this.#ring) {
      if (b && b.t >= from && b.t <= upTo && b.t > upTo - WINDOW) out.push(toSecond(b, clients));
    }
    return out.sort((a, b) => a.t - b.t);
  }
}

function toSecond(b: Bucket, clients: number): TrafficSecond {
  let top = [...b.clients];
  if (top.length > clients) {
    top.sort((x, y) => y[1] - x[1]);
    const rest = top.slice(clients).reduce((n, [, c]) => n + c, 0);
    top = [...top.slice(0, clients), [OTHER, rest]];
  }
  return { t: b.t, tokens: Object.fromEntries(b.tokens), clients: Object.fromEntries(top), refusals: Object.fromEntries(b.refusals), s429: b.s429, s503: b.s503, latency: [...b.latency] };
}

/** What `/console/api/traffic` answers. */
export interface TrafficView {
  /** Nodes summed (this one included). */
  readonly nodes: number;
  readonly window: number;
  /** One entry per second, oldest first, up to the last complete second. */
  readonly seconds: ReadonlyArray<{
    readonly t: number;
    readonly tokens: Readonly<Record<string, number>>;
    readonly total: number;
    readonly refused: number;
    readonly s429: number;
    readonly s503: number;
    readonly p50: number | null;
    readonly p99: number | null;
  }>;
  /** Over the window: the 20 clients that got the most tokens. */
  readonly topClients: ReadonlyArray<{ readonly client_id: string; readonly tokens: number }>;
  /** Over the window, by OAuth error code. */
  readonly refusals: Readonly<Record<string, number>>;
  readonly totals: { readonly tokens: number; readonly refused: number; readonly s429: number; readonly s503: number };
  /** Token-request latency over the window, ms (upper estimate within a bucket). */
  readonly latency: { readonly p50: number | null; readonly p99: number | null };
}

/** This node's ring and, with Redis, what the other nodes publish. */
export class DeploymentTraffic {
  readonly recorder: TrafficRecorder;
  readonly #node: string;
  readonly #feed: Feed | undefined;
  readonly #now: () => number;
  /** Other nodes: their seconds by epoch second, and when they were last heard from. */
  readonly #remote = new Map<string, { seen: number; seconds: Map<number, TrafficSecond> }>();
  #published = 0;
  #timer: NodeJS.Timeout | undefined;

  /** `feed`: publish and listen (a deployment sharing Redis); undefined: this node alone. */
  constructor(recorder: TrafficRecorder, node: string, feed: Feed | undefined, now: () => number = Date.now) {
    this.recorder = recorder;
    this.#node = node;
    this.#feed = feed;
    this.#now = now;
    if (feed) {
      feed.subscribe((event) => this.#hear(event));
      this.#published = Math.floor(now() / 1000) - 1;
      this.#timer = setInterval(() => void this.publish(), PUBLISH_EVERY_MS);
      this.#timer.unref();
    }
  }

  /** Publishes the seconds completed since the last report (the timer calls it; tests may too). */
  async publish(): Promise<void> {
    if (!this.#feed) return;
    const upTo = Math.floor(this.#now() / 1000) - 1;
    if (upTo <= this.#published) return;
    const seconds = this.recorder.seconds(this.#published + 1, upTo, PUBLISHED_CLIENTS);
    this.#published = upTo;
    await this.#feed.publish({ type: 'traffic', node: this.#node, seconds });
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
  }

  #hear(event: FeedEvent): void {
    if (event.type !== 'traffic' || event.node === this.#node || typeof event.node !== 'string' || !Array.isArray(event.seconds)) return;
    const now = this.#now();
    const oldest = Math.floor(now / 1000) - WINDOW;
    const seconds = event.seconds.slice(-WINDOW).filter((s) => wellFormed(s) && s.t > oldest);
    if (seconds.length !== event.seconds.length) return; // a malformed report is dropped whole
    let entry = this.#remote.get(event.node);
    if (!entry) {
      if (this.#remote.size >= 1000 || event.node.length > 64) return;
      this.#remote.set(event.node, (entry = { seen: now, seconds: new Map() }));
    }
    entry.seen = now;
    for (const s of seconds) entry.seconds.set(s.t, s);
    for (const t of entry.seconds.keys()) if (t <= oldest) entry.seconds.delete(t);
  }

  /** The window summed over this node and every node heard from recently. */
  view(): TrafficView {
    const now = this.#now();
    const upTo = Math.floor(now / 1000) - 1;
    const from = upTo - WINDOW + 1;
    const sources: Array<Map<number, TrafficSecond>> = [new Map(this.recorder.seconds(from, upTo).map((s) => [s.t, s]))];
    for (const [node, entry] of this.#remote) {
      if (now - entry.seen > NODE_TIMEOUT_MS) this.#remote.delete(node);
      else sources.push(entry.seconds);
    }
    const seconds: Array<TrafficView['seconds'][number]> = [];
    const clients = new Map<string, number>();
    const refusals = new Map<string, number>();
    const latency = new Array<number>(TRAFFIC_LATENCY_BOUNDS_MS.length + 1).fill(0);
    const totals = { tokens: 0, refused: 0, s429: 0, s503: 0 };
    for (let t = from; t <= upTo; t++) {
      const tokens = new Map<string, number>();
      const lat = new Array<number>(latency.length).fill(0);
      let refused = 0;
      let s429 = 0;
      let s503 = 0;
      for (const src of sources) {
        const s = src.get(t);
        if (!s) continue;
        for (const [k, n] of Object.entries(s.tokens)) add(tokens, k, n);
        for (const [k, n] of Object.entries(s.clients)) add(clients, k, n);
        for (const [k, n] of Object.entries(s.refusals)) {
          add(refusals, k, n);
          refused += n;
        }
        s429 += s.s429;
        s503 += s.s503;
        s.latency.forEach((n, i) => (lat[i]! += n));
      }
      lat.forEach((n, i) => (latency[i]! += n));
      const total = [...tokens.values()].reduce((a, b) => a + b, 0);
      totals.tokens += total;
      totals.refused += refused;
      totals.s429 += s429;
      totals.s503 += s503;
      seconds.push({ t, tokens: Object.fromEntries(tokens), total, refused, s429, s503, p50: quantile(lat, 0.5), p99: quantile(lat, 0.99) });
    }
    const topClients = [...clients]
      .filter(([id]) => id !== OTHER)
      .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
      .slice(0, TOP_CLIENTS)
      .map(([client_id, tokens]) => ({ client_id, tokens }));
    return { nodes: sources.length, window: WINDOW, seconds, topClients, refusals: Object.fromEntries(refusals), totals, latency: { p50: quantile(latency, 0.5), p99: quantile(latency, 0.99) } };
  }
}

/** The q-quantile of a bucketed histogram, interpolated within its bucket; null when empty. */
export function quantile(counts: readonly number[], q: number): number | null {
  const total = counts.reduce((a, b) => a + b, 0);
  if (total === 0) return null;
  const rank = q * total;
  let seen = 0;
  for (let i = 0; i < counts.length; i++) {
    const n = counts[i]!;
    if (n > 0 && seen + n >= rank) {
      const lower = i === 0 ? 0 : TRAFFIC_LATENCY_BOUNDS_MS[i - 1]!;
      const upper = TRAFFIC_LATENCY_BOUNDS_MS[i] ?? lower * 2;
      return +(lower + ((upper - lower) * (rank - seen)) / n).toFixed(3);
    }
    seen += n;
  }
  return TRAFFIC_LATENCY_BOUNDS_MS.at(-1)!;
}

const count = (v: unknown): boolean => typeof v === 'number' && Number.isInteger(v) && v >= 0 && v < 1e12;
const counts = (v: unknown, max: number): boolean =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && Object.keys(v).length <= max && Object.values(v).every(count);

/** A second from another node, checked before it is summed (the feed is shared, not trusted blindly). */
function wellFormed(s: unknown): s is TrafficSecond {
  const x = s as Partial<TrafficSecond> | null;
  return (
    typeof x === 'object' && x !== null && count(x.t) && counts(x.tokens, 100) && counts(x.clients, PUBLISHED_CLIENTS + 1) && counts(x.refusals, 100) &&
    count(x.s429) && count(x.s503) && Array.isArray(x.latency) && x.latency.length === TRAFFIC_LATENCY_BOUNDS_MS.length + 1 && x.latency.every(count)
  );
}
