/**
 * Token reuse for client_credentials (per client, off unless the client is registered with it): a
 * request that matches a token this process issued earlier, to the same client at the same endpoint
 * for the same scopes and audience, gets that token back while more than `minRemaining` of its
 * lifetime is left, instead of a new signature. For clients that do not cache their tokens.
 *
 * The tokens are kept in this process's memory only, never in the store, in a bounded map (the oldest
 * entry goes first). DPoP-bound tokens are never kept (the caller does not offer them). A token is
 * dropped, with every other of its client, when the client record it was issued under has changed
 * (`updatedAt`: an update, a secret rotation, a status change), when the feed reports the client
 * changed or deleted, and when the token is revoked: the feed reports revocations made here or
 * relayed, and before a token is handed out again the store is asked whether it was revoked
 * anywhere. The trade-off is in docs/performance.md: every holder shares one token, so revoking it
 * cuts off every caller that received it.
 */
import type { ClientRecord, Store } from '../storage/types.ts';
import type { TokenResult } from './token-request.ts';

export interface TokenReuseSettings {
  /** Fraction of its lifetime (0..1, exclusive) a token must have left to be handed out again. */
  readonly minRemaining: number;
  /** Most tokens kept. */
  readonly maxEntries: number;
}

interface Entry {
  readonly clientId: string;
  readonly clientUpdatedAt: number;
  readonly result: TokenResult;
  /** The key the token's record has or would have in the store (`pepperKid:hex` or `jti:<id>`). */
  readonly digest: string;
}

export class TokenReuse {
  readonly #settings: TokenReuseSettings;
  readonly #tokens: Pick<Store['tokens'], 'find'>;
  readonly #entries = new Map<string, Entry>();

  constructor(settings: TokenReuseSettings, tokens: Pick<Store['tokens'], 'find'>) {
    this.#settings = settings;
    this.#tokens = tokens;
  }

  /** The key of a request: endpoint, client, scopes and audience (order-insensitive). */
  static key(endpoint: string, clientId: string, scopes: readonly string[], audience: readonly string[]): string {
    return JSON.stringify([endpoint, clientId, [...scopes].sort(), [...audience].sort()]);
  }

  get size(): number {
    return this.#entries.size;
  }

  /** The kept token for `key`, its `expiresIn` counted from `now`, or undefined. */
  async take(key: string, client: ClientRecord, now: number): Promise<TokenResult | undefined> {
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    if (entry.clientUpdatedAt !== client.updatedAt) {
      this.forgetClient(client.id);
      return undefined;
    }
    const exp = entry.result.expiresAt.getTime();
    const lifetime = exp - entry.result.issuedAt.getTime();
    if (exp - now <= this.#settings.minRemaining * lifetime) {
      this.#entries.delete(key);
      return undefined;
    }
    const stored = await this.#tokens.find([entry.digest]);
    if (stored !== undefined && stored.revokedAt !== null) {
      this.forgetClient(client.id);
      return undefined;
    }
    return { ...entry.result, expiresIn: Math.floor(exp / 1000) - Math.floor(now / 1000) };
  }

  keep(key: string, client: ClientRecord, result: TokenResult, digest: string): void {
    this.#entries.delete(key);
    while (this.#entries.size >= this.#settings.maxEntries) {
      const oldest = this.#entries.keys().next().value;
      if (oldest === undefined) break;
      this.#entries.delete(oldest);
    }
    this.#entries.set(key, { clientId: client.id, clientUpdatedAt: client.updatedAt, result, digest });
  }

  forgetClient(clientId: string): void {
    for (const [key, e] of this.#entries) if (e.clientId === clientId) this.#entries.delete(key);
  }

  /** Drops the token recorded under `digest` (and the rest of its client's). */
  forgetToken(digest: string): void {
    for (const e of this.#entries.values()) {
      if (e.digest === digest) {
        this.forgetClient(e.clientId);
        return;
      }
    }
  }

  forgetAll(): void {
    this.#entries.clear();
  }
}
