/**
 * A client's public keys for `private_key_jwt` (RFC 7523 §2.2, OIDC Core §9): registered inline
 * (`jwks`) or as a `jwks_uri` the client hosts. Registered sets are validated at registration;
 * fetched sets are validated the same way on each fetch and cached for `cacheTtlMs`. A `kid` the
 * cached set lacks causes one refetch, at most one per `unknownKidCooldownMs` per URI, shared by
 * every request waiting for it. A refetch that fails leaves the previous set serving.
 */
import { createHash } from 'node:crypto';
import type { JSONWebKeySet, JWK } from 'jose';
import { jwsVerifyKey, type JwsVerifyKey } from '../tokens/jws-verify.ts';
import { fetchJwksDocument, type JwksFetchSettings } from './jwks-fetch.ts';

/** Where a client's keys are: a registered set (as stored: validated again, once per object) or a `jwks_uri`. */
export type ClientKeySource = { readonly jwks: unknown } | { readonly jwksUri: string };

/** The key source of a client registered for `private_key_jwt`, or undefined when it has none. */
export function keySourceOf(client: { readonly jwks?: unknown; readonly jwksUri?: string | undefined }): ClientKeySource | undefined {
  if (client.jwks !== undefined) return { jwks: client.jwks };
  if (client.jwksUri !== undefined) return { jwksUri: client.jwksUri };
  return undefined;
}

/** The `alg` values a client key may be used with; never `none`, never HS* (RFC 8725 §3.1). */
export const CLIENT_KEY_ALGORITHMS = ['ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519', 'PS256', 'PS384', 'PS512', 'RS256', 'RS384', 'RS512'] as const;

const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];
const CURVES: Readonly<Record<string, readonly string[]>> = { EC: ['P-256', 'P-384', 'P-521'], OKP: ['Ed25519'] };
const FAMILY: Readonly<Record<string, string>> = { ES: 'EC', Ed: 'OKP', PS: 'RSA', RS: 'RSA' };
const MAX_KEYS = 16;
/** Imported keys kept (oldest dropped first). */
const IMPORTED_KEYS_MAX = 10_000;

/** A registered or fetched key set that cannot be used; `message` says why, naming no key material. */
export class ClientKeysError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ClientKeysError';
  }
}

/**
 * The usable signing keys of a set, as given: public only (any private member refuses the whole
 * set: it has leaked), kty RSA (≥ 2048 bits), EC (P-256/384/521) or OKP (Ed25519), `use` absent or
 * `sig`, `alg` absent or one of `CLIENT_KEY_ALGORITHMS` of the key's family, `kid` unique, and a `kid`
 * on every key when there is more than one. Keys of another kind or use are dropped; none left throws.
 */
export function validateClientJwks(value: unknown): JSONWebKeySet {
  const keys = (value as { keys?: unknown } | null)?.keys;
  if (typeof value !== 'object' || value === null || !Array.isArray(keys)) throw new ClientKeysError('a JWKS is an object with a keys array');
  if (keys.length > MAX_KEYS) throw new ClientKeysError(`a client JWKS holds at most ${MAX_KEYS} keys`);
  const usable: JWK[] = [];
  const kids = new Set<string>();
  for (const key of keys) {
    if (typeof key !== 'object' || key === null || Array.isArray(key)) throw new ClientKeysError('each key is a JSON object');
    const jwk = key as JWK;
    if (PRIVATE_MEMBERS.some((m) => m in jwk)) throw new ClientKeysError('the JWKS holds private or symmetric key material');
    if (jwk.use !== undefined && jwk.use !== 'sig') continue;
    if (jwk.kty !== 'RSA' && jwk.kty !== 'EC' && jwk.kty !== 'OKP') continue;
    if (jwk.kid !== undefined && (typeof jwk.kid !== 'string' || jwk.kid === '')) throw new ClientKeysError('kid is a non-empty string');
    if (jwk.kid !== undefined && kids.has(jwk.kid)) throw new ClientKeysError('two keys share one kid');
    if (jwk.alg !== undefined && !algorithmFits(jwk.alg, jwk)) throw new ClientKeysError('a key names an alg that is not allowed or does not fit it');
    if (jwk.kty === 'RSA' && (typeof jwk.n !== 'string' || typeof jwk.e !== 'string' || Buffer.from(jwk.n, 'base64url').length * 8 < 2048)) {
      throw new ClientKeysError('RSA keys have n and e, and at least 2048 bits');
    }
    if (jwk.kty !== 'RSA' && !CURVES[jwk.kty]!.includes(jwk.crv!)) throw new ClientKeysError('an EC or OKP key has an unsupported crv');
    if (jwk.kid !== undefined) kids.add(jwk.kid);
    usable.push(jwk);
  }
  if (usable.length === 0) throw new ClientKeysError('the JWKS has no usable signing key');
  if (usable.length > 1 && kids.size !== usable.length) throw new ClientKeysError('every key needs a kid when there are several');
  return { keys: usable };
}

/** `alg` is allowed and belongs to the key's family (and curve, for ECDSA). */
export function algorithmFits(alg: string, jwk: JWK): boolean {
  if (!(CLIENT_KEY_ALGORITHMS as readonly string[]).includes(alg)) return false;
  if (jwk.kty !== FAMILY[alg.slice(0, 2)]) return false;
  if (jwk.kty === 'EC') return ({ ES256: 'P-256', ES384: 'P-384', ES512: 'P-521' } as Record<string, string>)[alg] === jwk.crv;
  return true;
}

export interface ClientKeysSettings extends JwksFetchSettings {
  /** How long a fetched set is used before it is fetched again, ms. */
  readonly cacheTtlMs: number;
  /** Least time between two fetches of one URI caused by unknown `kid`s, ms. */
  readonly unknownKidCooldownMs: number;
  readonly now: () => number;
  /** Told of each failed fetch (the request itself goes on as "no such key"). */
  readonly onFetchError?: (uri: string, error: unknown) => void;
  /** Fetches a URI's set; the default is the guarded fetch above (tests may count calls). */
  readonly fetchJwks?: (uri: string, settings: JwksFetchSettings) => Promise<unknown>;
}

export interface ClientKeys {
  /** base64url SHA-256 of each key's `x5c[0]` certificate (RFC 8705 §2.2); fetched sets as `keyFor` fetches them. */
  certificateThumbprints(source: ClientKeySource): Promise<readonly string[]>;
  /**
   * The key with header `kid` (or the one key fitting `alg`, when the header names none and the set
   * has exactly one) imported for `alg`, or undefined: no such key, an alg that does not fit it, or
   * a set that could not be fetched. Only the registered source is consulted: `jwk`, `jku`, `x5u` of
   * an assertion header are never read (RFC 8725 §3.10).
   */
  keyFor(source: ClientKeySource, header: { readonly kid?: string | undefined; readonly alg: string }): Promise<JwsVerifyKey | undefined>;
}

interface Remote {
  keys: readonly JWK[] | undefined;
  fetchedAt: number;
  attemptedAt: number;
  inflight: Promise<void> | undefined;
}

export function clientKeys(settings: ClientKeysSettings): ClientKeys {
  const fetchJwks = settings.fetchJwks ?? fetchJwksDocument;
  const remotes = new Map<string, Remote>();
  const imported = new Map<string, JwsVerifyKey | undefined>();
  /** The same by key object, in front: a set kept in memory (cached client, fetched set) needs no lookup by content. */
  const importedByObject = new WeakMap<JWK, Map<string, JwsVerifyKey | undefined>>();
  const validated = new WeakMap<object, readonly JWK[]>();

  function load(uri: string, remote: Remote): Promise<void> {
    remote.inflight ??= (async () => {
      remote.attemptedAt = settings.now();
      try {
        remote.keys = validateClientJwks(await fetchJwks(uri, settings)).keys;
        remote.fetchedAt = settings.now();
      } catch (error) {
        settings.onFetchError?.(uri, error);
      } finally {
        remote.inflight = undefined;
      }
    })();
    return remote.inflight;
  }

  async function remoteKeys(uri: string, kid: string | undefined): Promise<readonly JWK[]> {
    let remote = remotes.get(uri);
    if (!remote) remotes.set(uri, (remote = { keys: undefined, fetchedAt: 0, attemptedAt: Number.NEGATIVE_INFINITY, inflight: undefined }));
    const t = settings.now();
    const cooled = t - remote.attemptedAt >= settings.unknownKidCooldownMs;
    const expired = remote.keys === undefined || t - remote.fetchedAt >= settings.cacheTtlMs;
    const unknown = kid !== undefined && remote.keys !== undefined && !remote.keys.some((k) => k.kid === kid);
    if (remote.inflight) await remote.inflight;
    else if ((expired || unknown) && cooled) await load(uri, remote);
    return remote.keys ?? [];
  }

  /**
   * Imported keys by alg and content: a stored record read again (a new object) imports nothing new.
   * undefined: the key cannot be imported for that alg (remembered as well).
   */
  function importFor(jwk: JWK, alg: string): JwsVerifyKey | undefined {
    let byAlg = importedByObject.get(jwk);
    if (byAlg?.has(alg)) return byAlg.get(alg);
    const id = `${alg}:${JSON.stringify(jwk)}`;
    let key = imported.get(id);
    if (key === undefined && !imported.has(id)) {
      try {
        key = jwsVerifyKey(jwk, alg);
      } catch {
        key = undefined;
      }
      if (imported.size >= IMPORTED_KEYS_MAX) imported.delete(imported.keys().next().value!);
      imported.set(id, key);
    }
    if (!byAlg) importedByObject.set(jwk, (byAlg = new Map()));
    byAlg.set(alg, key);
    return key;
  }

  /** A registered set as stored, validated once per object (a set that no longer validates has no keys). */
  function inlineKeys(jwks: unknown): readonly JWK[] {
    if (typeof jwks !== 'object' || jwks === null) return [];
    let keys = validated.get(jwks);
    if (!keys) {
      try {
        keys = validateClientJwks(jwks).keys;
      } catch {
        keys = [];
      }
      validated.set(jwks, keys);
    }
    return keys;
  }

  return {
    async certificateThumbprints(source) {
      const keys = 'jwks' in source ? inlineKeys(source.jwks) : await remoteKeys(source.jwksUri, undefined);
      return keys.flatMap((k) => {
        const der = typeof k.x5c?.[0] === 'string' ? Buffer.from(k.x5c[0], 'base64') : undefined;
        return der === undefined || der.length === 0 ? [] : [createHash('sha256').update(der).digest('base64url')];
      });
    },
    async keyFor(source, header) {
      const keys = 'jwks' in source ? inlineKeys(source.jwks) : await remoteKeys(source.jwksUri, header.kid);
      const candidates = header.kid !== undefined ? keys.filter((k) => k.kid === header.kid) : keys.length === 1 ? keys : [];
      const jwk = candidates[0];
      if (!jwk || !algorithmFits(header.alg, jwk) || (jwk.alg !== undefined && jwk.alg !== header.alg)) return undefined;
      return importFor(jwk, header.alg);
    },
  };
}
