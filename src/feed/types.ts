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
  | { readonly type: 'resync' };

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
