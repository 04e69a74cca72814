/**
 * The signing keyring and the HMAC peppers, kept in the store with private parts sealed under the
 * key-encryption key.
 *
 * Life cycle of a signing key (per algorithm): `next` (published in the JWKS, not yet signing) →
 * `active` (signs) → `retired` (published until every token it signed has expired, then removed).
 * There is always a `next` key, so a rotation only ever promotes a key verifiers have already seen.
 * Peppers (`use: hmac`) have one `active` member; older ones stay `retired` so stored digests made
 * with them still verify (SECURITY D-01).
 */
import { createPrivateKey, createSecretKey, generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import { calculateJwkThumbprint, type JWK } from 'jose';
import type { KeyRecord, KeyRepo } from '../storage/types.ts';
import { randomBase62 } from './random.ts';
import { seal, unseal } from './seal.ts';
import type { SigningAlg } from '../config/types.ts';

export { SIGNING_ALGS, type SigningAlg } from '../config/types.ts';

export interface Signer {
  readonly kid: string;
  readonly alg: SigningAlg;
  readonly key: KeyObject;
}

export interface Pepper {
  readonly kid: string;
  /** Imported once: HMAC with a KeyObject avoids re-importing raw bytes on every digest. */
  readonly key: KeyObject;
}

export interface KeyringOptions {
  readonly kek: Buffer;
  /** Algorithms that must always have an active key (the configured one, and RS256 for ID tokens). */
  readonly algs: readonly SigningAlg[];
  /** Longest lifetime of anything a key signs, seconds: a retired key stays published this long. */
  readonly maxTokenTtl: number;
  readonly now?: () => number;
}

/** Extra time a retired key stays published beyond the longest token lifetime (clock skew). */
const PUBLISH_SKEW_MS = 5 * 60_000;

export class Keyring {
  readonly #repo: KeyRepo;
  readonly #options: KeyringOptions;
  readonly #now: () => number;
  #version = -1;
  #signers = new Map<string, Signer>();
  #peppers: Pepper[] = [];
  #jwksJson = '{"keys":[]}';
  #records: KeyRecord[] = [];

  private constructor(repo: KeyRepo, options: KeyringOptions) {
    this.#repo = repo;
    this.#options = options;
    this.#now = options.now ?? Date.now;
  }

  /** Loads the keyring, creating whatever is missing (first start) in one atomic change. */
  static async open(repo: KeyRepo, options: KeyringOptions): Promise<Keyring> {
    const ring = new Keyring(repo, options);
    const records = await repo.mutate((keys) => ({ put: ring.#missing(keys), remove: [] }));
    await ring.#load(records, await repo.version());
    return ring;
  }

  /** Reloads from the store if another process changed the keyring. Cheap when nothing changed. */
  async refresh(): Promise<boolean> {
    const version = await this.#repo.version();
    if (version === this.#version) return false;
    await this.#load(await this.#repo.list(), version);
    return true;
  }

  /** The key that signs now for `alg`. */
  signer(alg: SigningAlg): Signer {
    const signer = this.#signers.get(alg);
    if (!signer) throw new Error(`no active ${alg} signing key`);
    return signer;
  }

  /** Current pepper for new digests. */
  pepper(): Pepper {
    const active = this.#peppers[0];
    if (!active) throw new Error('no active pepper');
    return active;
  }

  /** Every live pepper, current first: digests are looked up under each (SECURITY D-01). */
  peppers(): readonly Pepper[] {
    return this.#peppers;
  }

  /** Serialised JWKS: `next`, `active` and still-published `retired` signing keys. */
  jwksJson(): string {
    return this.#jwksJson;
  }

  /** Key records without private parts (for `keys list` and the admin API). */
  describe(): Array<Omit<KeyRecord, 'sealed'>> {
    return this.#records.map(({ sealed: _sealed, ...rest }) => rest);
  }

  /**
   * Rotates the signing keys of `algs` (default: all maintained algorithms): `next` becomes `active`,
   * `active` becomes `retired` (published for maxTokenTtl + skew), a new `next` is created, and
   * retired keys past their publication window are removed. With `pepper`, the pepper rotates too.
   */
  async rotate(options: { algs?: readonly SigningAlg[]; pepper?: boolean } = {}): Promise<void> {
    const algs = options.algs ?? this.#options.algs;
    const records = await this.#repo.mutate((keys) => this.#rotation(keys, algs, options.pepper === true));
    await this.#load(records, await this.#repo.version());
  }

  #rotation(keys: readonly KeyRecord[], algs: readonly SigningAlg[], pepper: boolean) {
    const now = this.#now();
    const put: KeyRecord[] = [];
    const remove: string[] = [];
    const publishUntil = now + this.#options.maxTokenTtl * 1000 + PUBLISH_SKEW_MS;
    for (const k of keys) {
      if (k.state === 'retired' && k.publishUntil !== null && k.publishUntil < now) remove.push(k.kid);
    }
    for (const alg of algs) {
      const ofAlg = keys.filter((k) => k.use === 'sig' && k.alg === alg);
      for (const k of ofAlg.filter((k) => k.state === 'active')) put.push({ ...k, state: 'retired', retiredAt: now, publishUntil });
      const next = ofAlg.find((k) => k.state === 'next');
      put.push(next ? { ...next, state: 'active', activatedAt: now } : this.#newSigningKey(alg, 'active', now));
      put.push(this.#newSigningKey(alg, 'next', now));
    }
    if (pepper) {
      // Retired peppers stay until removed by an operator: digests made with them still verify.
      for (const k of keys.filter((k) => k.use === 'hmac' && k.state === 'active')) {
        put.push({ ...k, state: 'retired', retiredAt: now });
      }
      put.push(this.#newPepper(now));
    }
    return { put, remove };
  }

  #missing(keys: readonly KeyRecord[]): KeyRecord[] {
    const now = this.#now();
    const put: KeyRecord[] = [];
    for (const alg of this.#options.algs) {
      const ofAlg = keys.filter((k) => k.use === 'sig' && k.alg === alg);
      if (!ofAlg.some((k) => k.state === 'active')) put.push(this.#newSigningKey(alg, 'active', now));
      if (!ofAlg.some((k) => k.state === 'next')) put.push(this.#newSigningKey(alg, 'next', now));
    }
    if (!keys.some((k) => k.use === 'hmac' && k.state === 'active')) put.push(this.#newPepper(now));
    return put;
  }

  #newSigningKey(alg: SigningAlg, state: 'active' | 'next', now: number): KeyRecord {
    const { privateKey, publicKey } = generate(alg);
    const jwk = publicKey.export({ format: 'jwk' }) as JWK;
    // kid: random, so two keys with equal material (never expected) still get distinct ids.
    const kid = `${alg.toLowerCase()}-${randomBase62(16)}`;
    const der = privateKey.export({ format: 'der', type: 'pkcs8' });
    return {
      kid,
      use: 'sig',
      alg,
      state,
      publicJwk: JSON.stringify({ ...jwk, kid, alg, use: 'sig' }),
      sealed: seal(this.#options.kek, der, kid),
      createdAt: now,
      activatedAt: state === 'active' ? now : null,
      retiredAt: null,
      publishUntil: null,
    };
  }

  #newPepper(now: number): KeyRecord {
    const kid = `p${randomBase62(7)}`;
    return {
      kid,
      use: 'hmac',
      alg: 'HS256',
      state: 'active',
      publicJwk: null,
      sealed: seal(this.#options.kek, randomBytes(32), kid),
      createdAt: now,
      activatedAt: now,
      retiredAt: null,
      publishUntil: null,
    };
  }

  async #load(records: KeyRecord[], version: number): Promise<void> {
    const now = this.#now();
    const signers = new Map<string, Signer>();
    const published: JWK[] = [];
    const peppers: Pepper[] = [];
    for (const k of records) {
      if (k.use === 'hmac') {
        const pepper = { kid: k.kid, key: createSecretKey(unseal(this.#options.kek, k.sealed, k.kid)) };
        if (k.state === 'active') peppers.unshift(pepper);
        else peppers.push(pepper);
        continue;
      }
      if (k.state === 'retired' && k.publishUntil !== null && k.publishUntil < now) continue;
      if (k.publicJwk) published.push(JSON.parse(k.publicJwk) as JWK);
      if (k.state === 'active') {
        const key = createPrivateKey({ key: unseal(this.#options.kek, k.sealed, k.kid), format: 'der', type: 'pkcs8' });
        signers.set(k.alg, { kid: k.kid, alg: k.alg as SigningAlg, key });
      }
    }
    // Deterministic order: verifiers and tests see a stable document.
    published.sort((a, b) => String(a.kid).localeCompare(String(b.kid)));
    this.#signers = signers;
    this.#peppers = peppers;
    this.#records = records;
    this.#jwksJson = JSON.stringify({ keys: published });
    this.#version = version;
  }
}

function generate(alg: SigningAlg): { privateKey: KeyObject; publicKey: KeyObject } {
  switch (alg) {
    case 'RS256':
      return generateKeyPairSync('rsa', { modulusLength: 2048 });
    case 'ES256':
      return generateKeyPairSync('ec', { namedCurve: 'P-256' });
    case 'EdDSA':
      return generateKeyPairSync('ed25519');
  }
}

/** RFC 7638 thumbprint, for operators comparing keys out of band. */
export async function thumbprint(publicJwk: string): Promise<string> {
  return calculateJwkThumbprint(JSON.parse(publicJwk) as JWK);
}

