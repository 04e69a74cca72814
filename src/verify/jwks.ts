/**
 * The issuer's signing keys: jwks_uri discovered from RFC 8414 metadata (or given), the JWKS cached,
 * imported keys cached by `kid`. A token with an unknown `kid` triggers a refetch, at most one per
 * cooldown however many such tokens arrive (concurrent ones share the one request). A stale set is
 * refreshed in the background while the cached keys keep serving; if the refresh fails they stay.
 */
import { importJWK } from 'jose/key/import';
import type { CryptoKey, JSONWebKeySet, JWK, JWSHeaderParameters } from 'jose';
import { VerifyError } from './errors.ts';

export interface KeySetOptions {
  readonly issuer: string;
  /** Skips discovery when set. */
  readonly jwksUri: string | undefined;
  readonly fetch: typeof fetch;
  readonly now: () => number;
  /** Least time between two fetches caused by unknown keys, ms. */
  readonly cooldownMs: number;
  /** Age after which the set is refreshed in the background, ms. */
  readonly maxAgeMs: number;
  readonly timeoutMs: number;
}

type Key = CryptoKey | Uint8Array;

interface Entry {
  readonly jwk: JWK;
  /** Imported key per algorithm (a JWK without `alg` may serve a compatible one). */
  readonly imported: Map<string, Key>;
}

/** RFC 8414 §3: the metadata URL of an issuer, path-aware (SECURITY M-01). */
export function metadataUrl(issuer: string): string {
  const url = new URL(issuer);
  const path = url.pathname.replace(/\/$/, '');
  return `${url.origin}/.well-known/oauth-authorization-server${path}`;
}

export class RemoteKeySet {
  readonly #options: KeySetOptions;
  #jwksUri: string | undefined;
  #keys = new Map<string, Entry>();
  #loaded = false;
  #fetchedAt = 0;
  #attemptedAt = Number.NEGATIVE_INFINITY;
  #inflight: Promise<void> | undefined;

  constructor(options: KeySetOptions) {
    this.#options = options;
    this.#jwksUri = options.jwksUri;
  }

  /** The key for a verified header, or a `VerifyError`; synchronous when the key is cached and fresh. */
  getKey(header: JWSHeaderParameters): Key | Promise<Key> {
    const now = this.#options.now();
    if (this.#loaded && now - this.#fetchedAt > this.#options.maxAgeMs && now - this.#attemptedAt >= this.#options.cooldownMs) {
      this.#refresh().catch(() => {}); // stale-while-revalidate; the cached keys keep serving
    }
    const cached = this.#loaded ? this.#cached(header) : undefined;
    return cached ?? this.#resolve(header);
  }

  async #resolve(header: JWSHeaderParameters): Promise<Key> {
    if (!this.#loaded) {
      // Not loaded yet: retry a failed first load at most once a second (or per cooldown if shorter).
      const gate = Math.min(this.#options.cooldownMs, 1000);
      if (!this.#inflight && this.#options.now() - this.#attemptedAt < gate) {
        throw new VerifyError('jwks_unavailable', 'The issuer signing keys could not be fetched.');
      }
      await this.#refresh(); // failure is jwks_unavailable
    } else if (!this.#find(header) && this.#options.now() - this.#attemptedAt >= this.#options.cooldownMs) {
      await this.#refresh().catch(() => {});
    } else if (this.#inflight) {
      await this.#inflight.catch(() => {});
    }
    const entry = this.#find(header);
    if (!entry) throw new VerifyError('invalid_token', 'The token was signed by an unknown key.');
    return this.#import(entry, header.alg!);
  }

  #cached(header: JWSHeaderParameters): Key | undefined {
    return this.#find(header)?.imported.get(header.alg!);
  }

  #find(header: JWSHeaderParameters): Entry | undefined {
    if (header.kid !== undefined) return this.#keys.get(header.kid);
    // No kid: only an unambiguous set (one key) may be used.
    return this.#keys.size === 1 ? this.#keys.values().next().value : undefined;
  }

  async #import(entry: Entry, alg: string): Promise<Key> {
    const have = entry.imported.get(alg);
    if (have) return have;
    if (entry.jwk.alg !== undefined && entry.jwk.alg !== alg) {
      throw new VerifyError('invalid_token', 'The token algorithm does not match its key.');
    }
    try {
      const key = await importJWK(entry.jwk, alg);
      entry.imported.set(alg, key);
      return key;
    } catch (cause) {
      throw new VerifyError('invalid_token', 'The token algorithm does not match its key.', { cause });
    }
  }

  /** One fetch at a time; every caller waiting meanwhile shares its outcome. */
  #refresh(): Promise<void> {
    this.#inflight ??= this.#load().finally(() => {
      this.#inflight = undefined;
    });
    return this.#inflight;
  }

  async #load(): Promise<void> {
    this.#attemptedAt = this.#options.now();
    try {
      this.#jwksUri ??= await this.#discover();
      const set = (await this.#getJson(this.#jwksUri)) as Partial<JSONWebKeySet>;
      if (!Array.isArray(set.keys)) throw new Error('the JWKS has no "keys" array');
      const keys = new Map<string, Entry>();
      for (const jwk of set.keys as JWK[]) {
        if (typeof jwk !== 'object' || jwk === null || typeof jwk.kid !== 'string') continue;
        if (jwk.use !== undefined && jwk.use !== 'sig') continue;
        const previous = this.#keys.get(jwk.kid);
        const same = previous && JSON.stringify(previous.jwk) === JSON.stringify(jwk);
        keys.set(jwk.kid, same ? previous : { jwk, imported: new Map() });
      }
      this.#keys = keys;
      this.#loaded = true;
      this.#fetchedAt = this.#options.now();
    } catch (cause) {
      if (cause instanceof VerifyError) throw cause;
      throw new VerifyError('jwks_unavailable', 'The issuer signing keys could not be fetched.', { cause });
    }
  }

  async #discover(): Promise<string> {
    const doc = (await this.#getJson(metadataUrl(this.#options.issuer))) as Record<string, unknown>;
    // RFC 8414 §3.3: the metadata must name the issuer it was fetched for (SECURITY M-02).
    if (doc.issuer !== this.#options.issuer) throw new Error('the metadata names another issuer');
    if (typeof doc.jwks_uri !== 'string') throw new Error('the metadata has no jwks_uri');
    return doc.jwks_uri;
  }

  async #getJson(url: string): Promise<unknown> {
    const res = await this.#options.fetch(url, {
      headers: { accept: 'application/json' },
      signal: AbortSignal.timeout(this.#options.timeoutMs),
    });
    if (res.status !== 200) throw new Error(`GET ${url} answered ${res.status}`);
    return res.json();
  }
}
