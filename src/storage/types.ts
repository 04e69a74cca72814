/**
 * Storage contracts. Every backend (memory, sqlite, postgres) implements these and passes the one
 * contract suite in `test/storage/contract.ts`. Each method states what is atomic.
 *
 * Records hold digests, never bearer secrets (SECURITY S-01).
 */

export type ClientMode = 'live' | 'sandbox';
export type ClientType = 'confidential' | 'public';
export type ClientStatus = 'active' | 'disabled';

export interface SecretRecord {
  /** Short public id of this secret (for listing and revocation), not the secret. */
  readonly id: string;
  /** Id of the pepper the digest was made with (SECURITY D-01). */
  readonly pepperKid: string;
  /** Hex HMAC-SHA256(pepper, secret). */
  readonly digest: string;
  readonly createdAt: number;
  /** Epoch ms after which the secret no longer authenticates; null = until rotated out. */
  readonly expiresAt: number | null;
  readonly lastUsedAt: number | null;
}

export interface ClientRecord {
  readonly id: string;
  readonly name: string;
  readonly mode: ClientMode;
  readonly environment: string;
  readonly type: ClientType;
  readonly status: ClientStatus;
  /** Grant types this client may use. */
  readonly grants: readonly string[];
  /** Scopes this client may be issued. */
  readonly scopes: readonly string[];
  /** Audiences (resource indicators) this client may ask for; empty = the deployment default. */
  readonly audiences: readonly string[];
  /** Dialects this client may use; empty = all. */
  readonly dialects: readonly string[];
  readonly redirectUris: readonly string[];
  readonly trusted: boolean;
  /** Access-token lifetime override in seconds; null = the deployment default. */
  readonly accessTokenTtl: number | null;
  /** Token requests per minute this client may make; absent or null = the deployment default. */
  readonly rateLimit?: number | null;
  readonly secrets: readonly SecretRecord[];
  readonly createdAt: number;
  readonly updatedAt: number;
}

export interface ClientRepo {
  /** Inserts; rejects with `ConflictError` if the id exists. */
  insert(client: ClientRecord): Promise<void>;
  get(id: string): Promise<ClientRecord | undefined>;
  list(): Promise<ClientRecord[]>;
  /**
   * Atomic read-modify-write: `change` sees the current record and returns the next one, with no
   * other write to this client in between (serialised per client across processes and nodes).
   * Resolves to the stored result, or undefined when the client does not exist. If `change` throws,
   * nothing is written and the error propagates.
   */
  update(id: string, change: (current: ClientRecord) => ClientRecord): Promise<ClientRecord | undefined>;
  /** Resolves true when a client was removed. */
  delete(id: string): Promise<boolean>;
  /** Best-effort bookkeeping: sets one secret's lastUsedAt; never fails a request. */
  touchSecret(clientId: string, secretId: string, at: number): Promise<void>;
}

export type KeyUse = 'sig' | 'hmac';
export type KeyState = 'next' | 'active' | 'retired';

export interface KeyRecord {
  readonly kid: string;
  readonly use: KeyUse;
  /** JWS alg for `sig` keys (RS256 | ES256 | EdDSA); `HS256` for peppers. */
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

export type TokenKind = 'access_token' | 'refresh_token';

/** A stateful token (opaque access token, refresh token) or a revoked JWT id. */
export interface TokenRecord {
  /** `pepperKid:hex` digest of the token (opaque) or `jti:<id>` for a JWT. */
  readonly digest: string;
  readonly kind: TokenKind;
  readonly clientId: string;
  readonly subject: string;
  readonly scope: string;
  readonly audience: readonly string[];
  readonly issuedAt: number;
  readonly expiresAt: number;
  readonly revokedAt: number | null;
  /** Grant family (refresh rotation, code redemption) for revoke-by-family; null if none. */
  readonly familyId: string | null;
  readonly jti: string;
}

export interface TokenRepo {
  /** Durable when the promise resolves (a 200 is only sent after it). Rejects on duplicate digest. */
  insert(token: TokenRecord): Promise<void>;
  /** The first record matching any of the candidate digests (one per live pepper, SECURITY D-01). */
  find(digests: readonly string[]): Promise<TokenRecord | undefined>;
  /** Marks revoked if not already; resolves true if this call revoked it. */
  revoke(digest: string, at: number): Promise<boolean>;
  /** Revokes every token of the family; resolves how many were newly revoked. */
  revokeFamily(familyId: string, at: number): Promise<number>;
  /** Removes records that expired before `before`; resolves how many. */
  purgeExpired(before: number): Promise<number>;
}

export interface AuditEvent {
  readonly at: number;
  /** Who: `cli`, `admin:<client id>`, `system`. */
  readonly actor: string;
  /** What: `client.create`, `client.rotate_secret`, `key.rotate`, … */
  readonly action: string;
  /** The object acted on (client id, kid); never a secret. */
  readonly target: string;
  readonly detail: Readonly<Record<string, string | number | boolean | null>>;
}

export interface AuditRepo {
  append(event: AuditEvent): Promise<void>;
  /** Newest first. */
  list(limit: number): Promise<AuditEvent[]>;
}

export interface Store {
  readonly kind: string;
  /**
   * Optional, synchronous and cheap: a value that changes whenever another connection (the CLI,
   * another node) has committed since the last call (SQLite's `data_version`). Caches use it to stay
   * exact without a feed; stores without it rely on the feed and the cache lifetime.
   */
  readonly changeMarker?: () => number;
  readonly clients: ClientRepo;
  readonly keys: KeyRepo;
  readonly tokens: TokenRepo;
  readonly audit: AuditRepo;
  close(): Promise<void>;
}

export class ConflictError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConflictError';
  }
}
