/**
 * The cross-node feed: what one node tells the others so their caches follow the shared store.
 * Delivery is best effort and fast (Redis pub/sub, typically a few ms); a node that was
 * disconnected gets `resync` when it reconnects and drops every cache, so nothing it missed survives
 * beyond the reconnection. Without Redis the feed is local: a single node needs nothing more, and the
 * keyring is still polled from the store (`keyringRefreshMs`) and client entries expire (`clientCacheMs`).
 */
export type FeedEvent =
  /** The keyring changed (rotation): call `keyring.refresh()`. */
  | { readonly type: 'keys' }
  /** A client was created, changed or deleted: drop its cached copy. */
  | { readonly type: 'client'; readonly id: string }
  /**
   * A token was revoked. Carries only what verifiers need to refuse it: the JWT id, or the stored
   * digest of an opaque token (never the token), and when it would expire anyway (epoch ms).
   */
  | { readonly type: 'revocation'; readonly jti?: string; readonly digest?: string; readonly expiresAt: number }
  /** This node may have missed messages (it reconnected): drop every cache. */
  | { readonly type: 'resync' }
  /** A node's traffic counters for the seconds since its last report (the console sums the deployment). */
  | { readonly type: 'traffic'; readonly node: string; readonly seconds: readonly TrafficSecond[] };

/**
 * One second of one node's traffic, as the console's charts need it. Every key is a dialect name, an
 * OAuth error code or an authenticated client id (the node's busiest of that second); never a secret.
 */
export interface TrafficSecond {
  /** Epoch second. */
  readonly t: number;
  /** Tokens issued, by dialect. */
  readonly tokens: Readonly<Record<string, number>>;
  /** Tokens issued, by client: the busiest clients of that second. */
  readonly clients: Readonly<Record<string, number>>;
  /** Refused requests at the dialect endpoints, by OAuth error code. */
  readonly refusals: Readonly<Record<string, number>>;
  readonly s429: number;
  readonly s503: number;
  /** Token-request latency: counts per bucket of `TRAFFIC_LATENCY_BOUNDS_MS` (the last is above them all). */
  readonly latency: readonly number[];
}

/** Upper bounds of the latency buckets, ms. */
export const TRAFFIC_LATENCY_BOUNDS_MS: readonly number[] = [0.5, 1, 2, 3, 5, 7.5, 10, 15, 20, 30, 50, 75, 100, 150, 200, 300, 500, 750, 1000, 2000, 5000, 10000];

export interface Feed {
  /** Sends to every node, this one included. Never throws: a lost message is bounded by the cache TTLs. */
  publish(event: FeedEvent): Promise<void>;
  subscribe(handler: (event: FeedEvent) => void): void;
  /** True while connected (always true for the local feed). */
  healthy(): boolean;
  close(): Promise<void>;
}

/** The feed of a single node: events go to this process's subscribers only. */
export function localFeed(): Feed {
  const handlers: Array<(event: FeedEvent) => void> = [];
  return {
    async publish(event) {
      for (const h of handlers) h(event);
    },
    subscribe: (h) => void handlers.push(h),
    healthy: () => true,
    close: async () => {},
  };
}
