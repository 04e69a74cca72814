/**
 * The key ring: signing keys and the peppers that digest stored secrets and tokens, sealed at rest.
 * Part of the storage contract that src/storage/types.ts gathers; every backend implements it.
 */
export type KeyUse = 'sig' | 'hmac';
export type KeyState = 'next' | 'active' | 'retired';

export interface KeyRecord {
  readonly kid: string;
  readonly use: KeyUse;
  /** JWS alg for `sig` keys (RS256 | PS256 | ES256 | EdDSA: one alg per key); `HS256` for peppers. */
  readonly alg: string;
  readonly state: KeyState;
  /** Public JWK (sig keys only), JSON. */
  readonly publicJwk: string | null;
  /** Private part sealed with AES-256-GCM under the key-encryption key. */
  readonly sealed: string;
  readonly createdAt: number;
  readonly activatedAt: number | null;
  readonly retiredAt: number | null;
  /** Epoch ms after which a retired key is removed from the JWKS (every token it signed has expired). */
  readonly publishUntil: number | null;
}

export interface KeyChange {
  readonly put: readonly KeyRecord[];
  readonly remove: readonly string[];
}

export interface KeyRepo {
  list(): Promise<KeyRecord[]>;
  /**
   * Atomic over the whole keyring: `change` sees every key and returns what to upsert and remove;
   * concurrent mutations (two nodes rotating at once) are serialised, so the second sees the first's
   * result. Resolves to the keyring after the change.
   */
  mutate(change: (keys: readonly KeyRecord[]) => KeyChange): Promise<KeyRecord[]>;
  /** A number that changes whenever the keyring changes (cheap cache validation). */
  version(): Promise<number>;
}
