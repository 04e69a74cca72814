/**
 * The signing keyring and the HMAC peppers, kept in the store with private parts sealed under the
 * key-encryption key.
 *
 * Life cycle of a signing key (per algorithm): `next` (published in the JWKS, not yet signing) →
 * `active` (signs) → `retired` (published until every token it signed has expired, then removed).
 * There is always a `next` key, so a rotation only ever promotes a key verifiers have already seen.
 * Peppers (`use: hmac`) have one `active` member; older ones stay `retired` so stored digests made
 * with them still verify (SECURITY D-01).
 *
 * Nothing is trusted from a key row that the KEK does not vouch for (SECURITY KEY-02, KEY-03): the
 * sealed part is bound to the row's kid, use and alg, the published key is derived from the unsealed
 * private key, and a row whose stored public key differs, whose seal does not open, or whose key
 * does not fit its alg is refused: never published, never used, logged once. Someone who can write
 * to the database but lacks the KEK can therefore not plant a key. What the KEK cannot vouch for:
 * a row's `state` and dates (a database writer can retire, re-activate or delete genuine keys).
 */
import { createHash, createPrivateKey, createPublicKey, createSecretKey, generateKeyPair, generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import { calculateJwkThumbprint } from 'jose/jwk/thumbprint';
import type { JWK } from 'jose';
import type { KeyRecord, KeyRepo } from '../storage/types.ts';
import type { Logger } from '../util/log.ts';
import { randomBase62 } from './random.ts';
import { seal, sealVersion, unseal } from './seal.ts';
import { SIGNING_ALGS, type SigningAlg } from '../config/types.ts';

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
  /** Where refused key rows are reported (once per row). */
  readonly log?: Pick<Logger, 'warn'>;
  /**
   * Private keys to use, per algorithm, when the keyring has to create that algorithm's active key
   * (the sandbox's fixed signing key): the same key gives the same kid, so recorded tokens keep
   * verifying from one run to the next. Absent: keys are generated.
   */
  readonly signingKeys?: ReadonlyMap<SigningAlg, KeyObject>;
  /** Whether each algorithm keeps a `next` key ready for rotation (default true; a sandbox never rotates). */
  readonly next?: boolean;
  /**
   * Pairs generated before the keyring opened (`generateOffLoop`), taken for the first active key
   * of their algorithm instead of generating one then: `keymint sandbox` starts generating while it
   * loads the service. Ignored where `signingKeys` gives that algorithm's key.
   */
  readonly firstPairs?: ReadonlyMap<SigningAlg, KeyPair>;
}

/** A key row once its sealed part has opened and matched the row. */
type Opened = { readonly use: 'sig'; readonly key: KeyObject; readonly jwk: JWK } | { readonly use: 'hmac'; readonly key: KeyObject };

export type KeyPair = { readonly privateKey: KeyObject; readonly publicKey: KeyObject };

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
  /** Every row seen, by its full content: what it opened to, or why it was refused. */
  #opened = new Map<string, Opened | Error>();

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
   * The new key pairs are generated off the event loop first (an RSA pair would hold it for tens of
   * milliseconds, long enough for the load shedder to refuse the requests behind it).
   */
  async rotate(options: { algs?: readonly SigningAlg[]; pepper?: boolean } = {}): Promise<void> {
    const algs = options.algs ?? this.#options.algs;
    const fresh = await this.#freshPairs(algs);
    const records = await this.#repo.mutate((keys) => this.#rotation(keys, algs, options.pepper === true, fresh));
    await this.#load(records, await this.#repo.version());
  }

  /** The pairs a rotation of `algs` will need, as far as this process knows the keyring: a new `next` key each, and an `active` one where no `next` is ready. */
  async #freshPairs(algs: readonly SigningAlg[]): Promise<ReadonlyMap<SigningAlg, readonly KeyPair[]>> {
    const needs = algs.map((alg) => {
      const ready = this.#records.some((k) => k.use === 'sig' && k.alg === alg && k.state === 'next') || this.#options.signingKeys?.has(alg) === true;
      return [alg, ready ? 1 : 2] as const;
    });
    const pairs = await Promise.all(needs.map(([alg, n]) => Promise.all(Array.from({ length: n }, () => generateOffLoop(alg)))));
    return new Map(needs.map(([alg], i) => [alg, pairs[i]!]));
  }

  #rotation(all: readonly KeyRecord[], algs: readonly SigningAlg[], pepper: boolean, fresh: ReadonlyMap<SigningAlg, readonly KeyPair[]>) {
    // A copy per call: a store may run the change again (a conflict), and each run takes from the start.
    const pool = new Map([...fresh].map(([alg, pairs]) => [alg, [...pairs]]));
    const keys = this.#usable(all).map((u) => u.record);
    const now = this.#now();
    const put: KeyRecord[] = [];
    const remove: string[] = [];
    const publishUntil = now + this.#options.maxTokenTtl * 1000 + PUBLISH_SKEW_MS;
    for (const k of all) {
      if (k.state === 'retired' && k.publishUntil !== null && k.publishUntil < now) remove.push(k.kid);
    }
    for (const alg of algs) {
      const ofAlg = keys.filter((k) => k.use === 'sig' && k.alg === alg);
      for (const k of ofAlg.filter((k) => k.state === 'active')) put.push({ ...k, state: 'retired', retiredAt: now, publishUntil });
      const next = ofAlg.find((k) => k.state === 'next');
      put.push(next ? { ...next, state: 'active', activatedAt: now } : this.#newSigningKey(alg, 'active', now, pool.get(alg)?.shift()));
      put.push(this.#newSigningKey(alg, 'next', now, pool.get(alg)?.shift()));
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

  #missing(all: readonly KeyRecord[]): KeyRecord[] {
    const keys = this.#usable(all).map((u) => u.record);
    const now = this.#now();
    const put: KeyRecord[] = [];
    for (const alg of this.#options.algs) {
      const ofAlg = keys.filter((k) => k.use === 'sig' && k.alg === alg);
      if (!ofAlg.some((k) => k.state === 'active')) put.push(this.#newSigningKey(alg, 'active', now, this.#options.firstPairs?.get(alg)));
      if (this.#options.next !== false && !ofAlg.some((k) => k.state === 'next')) put.push(this.#newSigningKey(alg, 'next', now));
    }
    if (!keys.some((k) => k.use === 'hmac' && k.state === 'active')) put.push(this.#newPepper(now));
    return put;
  }

  /** A new key row: the configured key for an active one when there is one, else `pair`, else a pair generated now. */
  #newSigningKey(alg: SigningAlg, state: 'active' | 'next', now: number, pair?: KeyPair): KeyRecord {
    const given = state === 'active' ? this.#options.signingKeys?.get(alg) : undefined;
    const { privateKey, publicKey } = given ? { privateKey: given, publicKey: createPublicKey(given) } : (pair ?? generate(alg));
    const jwk = publicKey.export({ format: 'jwk' }) as JWK;
    // kid: random, so two keys with equal material (never expected) still get distinct ids; a given
    // key's kid is derived from its public half, so it is the same wherever that key is used.
    const kid = `${alg.toLowerCase()}-${given ? fixedKid(jwk) : randomBase62(16)}`;
    const der = privateKey.export({ format: 'der', type: 'pkcs8' });
    return {
      kid,
      use: 'sig',
      alg,
      state,
      publicJwk: JSON.stringify({ ...jwk, kid, alg, use: 'sig' }),
      sealed: seal(this.#options.kek, der, binding({ kid, use: 'sig', alg })),
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
      sealed: seal(this.#options.kek, randomBytes(PEPPER_BYTES), binding({ kid, use: 'hmac', alg: 'HS256' })),
      createdAt: now,
      activatedAt: now,
      retiredAt: null,
      publishUntil: null,
    };
  }

  async #load(all: KeyRecord[], version: number): Promise<void> {
    const usable = this.#usable(all);
    const now = this.#now();
    const signers = new Map<string, Signer>();
    const published: JWK[] = [];
    const peppers: Pepper[] = [];
    for (const { record: k, opened } of usable) {
      if (opened.use === 'hmac') {
        const pepper = { kid: k.kid, key: opened.key };
        if (k.state === 'active') peppers.unshift(pepper);
        else peppers.push(pepper);
        continue;
      }
      if (k.state === 'retired' && k.publishUntil !== null && k.publishUntil < now) continue;
      published.push(opened.jwk);
      if (k.state === 'active') signers.set(k.alg, { kid: k.kid, alg: k.alg as SigningAlg, key: opened.key });
    }
    // Deterministic order: verifiers and tests see a stable document. Code-unit order, not
    // localeCompare: the first collation loads ICU's collator, some 40 ms on the way to serving.
    published.sort((a, b) => compareCodeUnits(String(a.kid), String(b.kid)));
    this.#signers = signers;
    this.#peppers = peppers;
    this.#records = usable.map((u) => u.record);
    this.#jwksJson = JSON.stringify({ keys: published });
    this.#version = version;
  }

  /**
   * The rows that open under the KEK and match themselves. A row that does not is reported once and
   * left out; when no row at all opens, the KEK itself is wrong, and that error is thrown.
   */
  #usable(all: readonly KeyRecord[]): Array<{ record: KeyRecord; opened: Opened }> {
    const seen = new Map<string, Opened | Error>();
    const usable: Array<{ record: KeyRecord; opened: Opened }> = [];
    let firstError: Error | undefined;
    for (const k of all) {
      const print = fingerprint(k);
      let opened = this.#opened.get(print);
      if (opened === undefined) {
        opened = this.#open(k);
        if (opened instanceof Error) this.#options.log?.warn('key row refused: not published, not used', { kid: k.kid, use: k.use, reason: opened.message });
      }
      seen.set(print, opened);
      if (opened instanceof Error) firstError ??= opened;
      else usable.push({ record: k, opened });
    }
    if (usable.length === 0 && firstError !== undefined) throw firstError;
    this.#opened = seen;
    return usable;
  }

  #open(k: KeyRecord): Opened | Error {
    try {
      // v1 blobs were bound to the kid alone; their use and alg are checked against the material below.
      const plain = unseal(this.#options.kek, k.sealed, sealVersion(k.sealed) === 'v1' ? k.kid : binding(k));
      if (k.use === 'hmac') {
        if (k.alg !== 'HS256' || k.publicJwk !== null || plain.length !== PEPPER_BYTES) return new Error('the row does not describe its pepper');
        return { use: 'hmac', key: createSecretKey(plain) };
      }
      if (k.use !== 'sig' || !isSigningAlg(k.alg)) return new Error('the row has an unknown use or alg');
      const key = createPrivateKey({ key: plain, format: 'der', type: 'pkcs8' });
      if (!fits(key, k.alg)) return new Error('the sealed key does not fit the alg of its row');
      const jwk: JWK = { ...(createPublicKey(key).export({ format: 'jwk' }) as JWK), kid: k.kid, alg: k.alg, use: 'sig' };
      if (k.publicJwk === null || !sameJwk(JSON.parse(k.publicJwk) as unknown, jwk)) {
        return new Error('the stored public key is not the public half of the sealed private key');
      }
      return { use: 'sig', key, jwk };
    } catch (err) {
      return err instanceof Error ? err : new Error(String(err));
    }
  }
}

const PEPPER_BYTES = 32;

const isSigningAlg = (alg: string): alg is SigningAlg => (SIGNING_ALGS as readonly string[]).includes(alg);

/** The additional data a key's seal is bound to: its kid, use and alg (SECURITY KEY-03). */
const binding = (k: Pick<KeyRecord, 'kid' | 'use' | 'alg'>): string => `keymint-key:${k.use}:${k.alg}:${k.kid}`;

/** Everything a row says, so a row edited in place is examined again. */
const fingerprint = (k: KeyRecord): string => JSON.stringify([k.kid, k.use, k.alg, k.publicJwk, k.sealed]);

/** 16 characters of the SHA-256 of the public key's JWK members in code-point order (as RFC 7638 orders them). */
function fixedKid(jwk: JWK): string {
  const members = Object.fromEntries(Object.entries(jwk).sort(([a], [b]) => (a < b ? -1 : 1)));
  return createHash('sha256').update(JSON.stringify(members)).digest('base64url').slice(0, 16);
}

/** Whether `key` is a private key the algorithm `alg` signs with (RSA for RS256 and PS256, P-256 or Ed25519). */
export function keyFits(key: KeyObject, alg: SigningAlg): boolean {
  return key.type === 'private' && fits(key, alg);
}

function fits(key: KeyObject, alg: SigningAlg): boolean {
  switch (alg) {
    case 'RS256':
    case 'PS256':
      return key.asymmetricKeyType === 'rsa';
    case 'ES256':
      return key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1';
    case 'EdDSA':
      return key.asymmetricKeyType === 'ed25519';
  }
}

/** Same members with the same values (a JSON store may reorder members). */
function sameJwk(stored: unknown, derived: JWK): boolean {
  if (typeof stored !== 'object' || stored === null || Array.isArray(stored)) return false;
  const a = Object.entries(stored as Record<string, unknown>);
  return a.length === Object.keys(derived).length && a.every(([name, value]) => Object.hasOwn(derived, name) && (derived as Record<string, unknown>)[name] === value);
}

/** The key type and parameters of each algorithm's keys. */
const KEY_PARAMS: Readonly<Record<SigningAlg, readonly ['rsa', { modulusLength: number }] | readonly ['ec', { namedCurve: string }] | readonly ['ed25519', Record<string, never>]>> = {
  RS256: ['rsa', { modulusLength: 2048 }],
  // Its own RSA keys (an `rsa` pair, not `rsa-pss`: those do not export as a JWK); jwt.ts asks for PSS padding.
  PS256: ['rsa', { modulusLength: 2048 }],
  ES256: ['ec', { namedCurve: 'P-256' }],
  EdDSA: ['ed25519', {}],
};

/** A pair generated on the event loop (start-up, when nothing is being served yet). */
function generate(alg: SigningAlg): KeyPair {
  const [type, params] = KEY_PARAMS[alg];
  return generateKeyPairSync(type as 'rsa', params as { modulusLength: number });
}

/** A pair generated on libuv's thread pool: the event loop keeps serving (or loading) meanwhile. */
export function generateOffLoop(alg: SigningAlg): Promise<KeyPair> {
  const [type, params] = KEY_PARAMS[alg];
  return new Promise((resolve, reject) => {
    generateKeyPair(type as 'rsa', params as { modulusLength: number }, (err, publicKey, privateKey) => (err ? reject(err) : resolve({ publicKey, privateKey })));
  });
}

/** RFC 7638 thumbprint, for operators comparing keys out of band. */
export async function thumbprint(publicJwk: string): Promise<string> {
  return calculateJwkThumbprint(JSON.parse(publicJwk) as JWK);
}

const compareCodeUnits = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
