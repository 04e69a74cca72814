/**
 * The rules a client's settings obey, in one place for every way a client is made or changed:
 * create, import with a chosen id and secret, update (CLI, admin API, configuration as code, the
 * console). Each rule refuses with a ClientInputError naming the field; none names a secret.
 */
import { idTokenAlgs, orList, OTHER_SIGNING_ALGS, type SigningAlg } from '../config/types.ts';
import type { ClaimValue, ClientMode, ClientRecord, ClientType, SecurityProfile } from '../storage/types.ts';
import { isScopeToken } from '../wire/scope.ts';
import { parseClientId, type IdSettings } from './ids.ts';
import { backchannelLogoutUriProblem, redirectUriProblem } from './redirect-uris.ts';
import { looksLikeClientSecret } from './secrets.ts';

/** Input errors of the management surface (CLI, admin API); the message names the field, never a secret. */
export class ClientInputError extends Error {
  readonly field: string;
  constructor(field: string, message: string) {
    super(message);
    this.name = 'ClientInputError';
    this.field = field;
  }
}

export class ClientNotFoundError extends Error {
  constructor() {
    super('no such client');
    this.name = 'ClientNotFoundError';
  }
}

/** The settings every client has, as the rules check them (after defaults and merging). */
export interface ClientSettings {
  readonly name: string;
  readonly mode: ClientMode;
  readonly type: ClientType;
  readonly scopes: readonly string[];
  readonly grants: readonly string[];
  readonly audiences: readonly string[];
  readonly dialects: readonly string[];
  readonly redirectUris: readonly string[];
  /** OIDC RP-Initiated Logout §3.1 (LOGOUT-04): checked as redirect URIs are. */
  readonly postLogoutRedirectUris: readonly string[];
  /** OIDC Back-Channel Logout §2.2 (BCL-01): https, or http where a redirect URI may be; absent: none. */
  readonly backchannelLogoutUri: string | undefined;
  readonly backchannelLogoutSessionRequired: boolean;
  readonly trusted: boolean;
  /** false: a confidential client may use the code flow without PKCE (SECURITY P-08). */
  readonly pkceRequired: boolean;
  /** RFC 9126 §6: its authorization requests must be pushed (PAR-05). */
  readonly requirePar: boolean;
  /** RFC 9101 §10.5: its authorization requests must be signed request objects (JAR-05). */
  readonly requireSignedRequestObject: boolean;
  /** false: refresh tokens are kept, not rotated (RT-11); confidential clients only. */
  readonly refreshTokenRotation: boolean;
  /** The FAPI 2.0 Security Profile (docs/fapi2.md, FAPI-01..); null: none. */
  readonly securityProfile: SecurityProfile | null;
  /** OIDC Dynamic Client Registration §2 `id_token_signed_response_alg` (IDT-01). */
  readonly idTokenAlg: SigningAlg;
  /** JARM `authorization_signed_response_alg` (JARM-05): what its JWT authorization responses are signed with. */
  readonly authorizationResponseAlg: SigningAlg;
  /** RFC 9701 §6 `introspection_signed_response_alg` (I-11). */
  readonly introspectionAlg: SigningAlg;
  readonly accessTokenTtl: number | null;
  readonly rateLimit: number | null;
  /** client_credentials requests may get a still-valid earlier token back. */
  readonly tokenReuse: boolean;
  readonly metadata: Readonly<Record<string, string>>;
  readonly claims: Readonly<Record<string, ClaimValue>>;
}

export interface RuleSettings {
  readonly maxTokenTtl: number;
  readonly knownDialects: readonly string[];
  readonly knownGrants: readonly string[];
  /** The deployment's `--alg`: the keyring keeps keys for it and RS256, what ID tokens may be signed with. */
  readonly alg: SigningAlg;
}

/** Size limits of `metadata` (free-form labels, never put in tokens). */
export const METADATA_LIMITS = { entries: 32, keyChars: 64, valueChars: 512, totalBytes: 8192 } as const;
/** Size limits of static `claims` (added to every access token the client gets). */
export const CLAIM_LIMITS = { entries: 16, nameChars: 64, arrayItems: 32, stringChars: 256, totalBytes: 2048 } as const;

/**
 * Claims a client may not set: the registered JWT claims (RFC 7519 §4.1), those of RFC 9068 §2.2 and
 * RFC 7662 §2.2, OIDC's (Core §2, §3.1.3.6), RFC 8693's `act`/`may_act`, RFC 7800's `cnf`, JOSE header
 * names, and the ones Keymint itself writes (`sub_type`, `mode`, `env`). The protocol claims are
 * written after the static ones anyway, so one could never override them; refusing says so at once.
 */
export const RESERVED_CLAIMS: ReadonlySet<string> = new Set([
  'iss', 'sub', 'aud', 'exp', 'nbf', 'iat', 'jti',
  'scope', 'scp', 'client_id', 'cnf', 'act', 'may_act', 'typ', 'alg', 'kid', 'cty', 'crit', 'jku', 'jwk', 'x5u', 'x5c', 'x5t', 'x5t#S256',
  'active', 'token_type', 'username',
  'azp', 'auth_time', 'nonce', 'acr', 'amr', 'at_hash', 'c_hash', 's_hash', 'sid', 'events', 'authorization_details',
  'sub_type', 'mode', 'env',
]);

const KEY = /^[A-Za-z0-9_.:-]+$/;
/** Names that address an object's prototype chain when a JavaScript program copies claims by name. */
const PROTOTYPE_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);
const CONTROL = /[\u0000-\u001f\u007f]/;
/** Printable ASCII without whitespace: what an imported id or secret may hold. */
const PRINTABLE = /^[\x21-\x7e]+$/;
/** The shortest secret a caller may choose outside sandbox mode. */
export const MIN_IMPORTED_SECRET = 16;

/** Bidirectional controls: they reorder the text after them (U+061C, U+200E/F, U+202A–U+202E, U+2066–U+2069). */
const BIDI_CONTROL = /[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/;

/**
 * A client's name as people see it (the consent page, the console): 1 to `max` characters of
 * well-formed Unicode, no control characters and no bidirectional controls, which could make the
 * consent page show another name, or a document's host beside it reversed.
 */
export function isDisplayName(value: unknown, max: number): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= max && value.isWellFormed() && !CONTROL.test(value) && !BIDI_CONTROL.test(value);
}

export function checkSettings(s: ClientSettings, rules: RuleSettings): void {
  if (!isDisplayName(s.name, 200)) {
    throw new ClientInputError('name', 'name must be 1–200 printable characters');
  }
  if (s.mode !== 'live' && s.mode !== 'sandbox') throw new ClientInputError('mode', 'mode must be live or sandbox');
  if (s.type !== 'confidential' && s.type !== 'public') throw new ClientInputError('type', 'type must be confidential or public');
  for (const x of s.scopes) if (typeof x !== 'string' || !isScopeToken(x)) throw new ClientInputError('scope', 'a scope contains characters outside RFC 6749 §3.3');
  for (const g of s.grants) {
    if (!rules.knownGrants.includes(g)) throw new ClientInputError('grant', `unknown grant; known: ${rules.knownGrants.join(', ')}`);
  }
  if (s.type === 'public' && s.grants.includes('client_credentials')) {
    throw new ClientInputError('grant', 'a public client cannot use client_credentials (RFC 6749 §4.4)');
  }
  for (const d of s.dialects) {
    if (!rules.knownDialects.includes(d)) throw new ClientInputError('dialect', `unknown dialect; known: ${rules.knownDialects.join(', ')}`);
  }
  for (const a of s.audiences) if (typeof a !== 'string' || !isAbsoluteUri(a)) throw new ClientInputError('audience', 'an audience must be an absolute URI');
  for (const u of s.redirectUris) {
    const problem = typeof u === 'string' ? redirectUriProblem(u, s.mode) : 'a redirect URI must be a string';
    if (problem !== undefined) throw new ClientInputError('redirect_uri', problem);
  }
  for (const u of s.postLogoutRedirectUris) {
    const problem = typeof u === 'string' ? redirectUriProblem(u, s.mode) : 'a redirect URI must be a string';
    if (problem !== undefined) throw new ClientInputError('post_logout_redirect_uri', problem);
  }
  if (s.backchannelLogoutUri !== undefined) {
    const problem = typeof s.backchannelLogoutUri === 'string' ? backchannelLogoutUriProblem(s.backchannelLogoutUri, s.mode) : 'backchannel_logout_uri must be a string';
    if (problem !== undefined) throw new ClientInputError('backchannel_logout_uri', problem);
  }
  if (typeof s.backchannelLogoutSessionRequired !== 'boolean') throw new ClientInputError('backchannel_logout_session_required', 'backchannel_logout_session_required must be true or false');
  if (typeof s.trusted !== 'boolean') throw new ClientInputError('trusted', 'trusted must be true or false');
  if (typeof s.tokenReuse !== 'boolean') throw new ClientInputError('token_reuse', 'token_reuse must be true or false');
  if (typeof s.requirePar !== 'boolean') throw new ClientInputError('require_pushed_authorization_requests', 'require_pushed_authorization_requests must be true or false');
  if (typeof s.requireSignedRequestObject !== 'boolean') throw new ClientInputError('require_signed_request_object', 'require_signed_request_object must be true or false');
  if (typeof s.pkceRequired !== 'boolean') throw new ClientInputError('pkce_required', 'pkce_required must be true or false');
  if (typeof s.refreshTokenRotation !== 'boolean') throw new ClientInputError('refresh_token_rotation', 'refresh_token_rotation must be true or false');
  // RFC 9700 §4.14.2: a public client's refresh token is sender-constrained or rotated; only a
  // confidential one may be bound to its client authentication instead (RT-11).
  if (!s.refreshTokenRotation && s.type !== 'confidential') {
    throw new ClientInputError('refresh_token_rotation', 'a public client\'s refresh tokens must rotate (RFC 9700 §4.14.2): refresh_token_rotation false is for confidential clients');
  }
  if (!idTokenAlgs(rules.alg).includes(s.idTokenAlg)) throw new ClientInputError('id_token_signed_response_alg', idTokenAlgProblem(rules.alg));
  if (!idTokenAlgs(rules.alg).includes(s.authorizationResponseAlg)) {
    throw new ClientInputError('authorization_signed_response_alg', idTokenAlgProblem(rules.alg, 'authorization responses'));
  }
  if (!idTokenAlgs(rules.alg).includes(s.introspectionAlg)) throw new ClientInputError('introspection_signed_response_alg', idTokenAlgProblem(rules.alg, 'introspection answers'));
  if (s.securityProfile !== null) checkFapi2(s, rules);
  // RFC 9700 §2.1.1: a public client MUST use PKCE; only a confidential one may be let off.
  if (!s.pkceRequired && s.type !== 'confidential') throw new ClientInputError('pkce_required', 'a public client must use PKCE (RFC 9700 §2.1.1)');
  if (s.rateLimit !== null && (!Number.isInteger(s.rateLimit) || s.rateLimit < 1 || s.rateLimit > 100_000_000)) {
    throw new ClientInputError('rate_limit', 'rate_limit must be a whole number of requests per minute in 1..100000000');
  }
  if (s.accessTokenTtl !== null && (!Number.isInteger(s.accessTokenTtl) || s.accessTokenTtl < 1 || s.accessTokenTtl > rules.maxTokenTtl)) {
    throw new ClientInputError('ttl', `ttl must be a whole number of seconds in 1..${rules.maxTokenTtl}`);
  }
  checkMetadata(s.metadata);
  checkClaims(s.claims);
}

/** "--alg PS256, --alg ES256 or --alg EdDSA": how a deployment comes to sign with more than RS256. */
const WITH_ALG = orList(OTHER_SIGNING_ALGS.map((a) => `--alg ${a}`));

/**
 * Why an ID token alg (or another alg of something the server signs for a client: `what`, JARM's authorization
 * responses, RFC 9701's introspection answers) is refused: the server signs only RS256 and its `--alg` (OIDC Dynamic
 * Client Registration §2).
 */
export const idTokenAlgProblem = (alg: SigningAlg, what = 'ID tokens'): string =>
  alg === 'RS256'
    ? `this server signs ${what} with RS256 only (${orList(OTHER_SIGNING_ALGS)} need it started with ${WITH_ALG})`
    : `this server signs ${what} with RS256 or ${alg} (its --alg)`;

/**
 * The encryption metadata of the responses the server signs for a client, each refused with why: JARM
 * §3's for authorization responses, RFC 9701 §6's for introspection answers. Encrypted responses
 * (JWE) are not offered, so a client that asks for them is refused (admin API, dynamic registration,
 * a configuration file's schema) rather than sent signed responses it would take for encrypted ones.
 */
const JARM_JWE = 'encrypted authorization responses (JWE) are not supported; they are signed only (authorization_signed_response_alg)';
const INTROSPECTION_JWE = 'encrypted introspection answers (JWE) are not supported; they are signed only (introspection_signed_response_alg)';
export const ENCRYPTION_REFUSED: Readonly<Record<string, string>> = {
  authorization_encrypted_response_alg: JARM_JWE,
  authorization_encrypted_response_enc: JARM_JWE,
  introspection_encrypted_response_alg: INTROSPECTION_JWE,
  introspection_encrypted_response_enc: INTROSPECTION_JWE,
};

/** The first of ENCRYPTION_REFUSED's fields a request body names, if any. */
export const encryptionAsked = (body: Readonly<Record<string, unknown>>): string | undefined => Object.keys(ENCRYPTION_REFUSED).find((m) => body[m] !== undefined);

/** The refusal of a fapi2 client with the openid scope by a deployment that signs only RS256. */
export const FAPI2_NEEDS_ALG = `a fapi2 client with the openid scope needs ID tokens signed with ${orList(OTHER_SIGNING_ALGS)} (FAPI 2.0 §5.4.1): start the server with ${WITH_ALG}`;

/**
 * Whether a refresh rotates this client's refresh token (RT-05), or keeps it (RT-11): its
 * `refresh_token_rotation`, except that a fapi2 client never rotates (FAPI 2.0 §5.3.2.1 item 10:
 * "shall not use refresh token rotation except in extraordinary circumstances").
 */
export const rotatesRefreshTokens = (client: Pick<ClientRecord, 'securityProfile' | 'refreshTokenRotation'>): boolean =>
  client.refreshTokenRotation !== false && client.securityProfile !== 'fapi2';

/** How a FAPI 2.0 client may authenticate (§5.3.2.1 item 6): private_key_jwt or mTLS (RFC 8705 §2). */
export const FAPI2_AUTH_METHODS: readonly string[] = ['private_key_jwt', 'tls_client_auth', 'self_signed_tls_client_auth'];

/** The refusal of any other authentication method for a fapi2 client (FAPI-01). */
export const FAPI2_AUTH_REFUSAL = `a fapi2 client authenticates with ${FAPI2_AUTH_METHODS.join(', ')} (FAPI 2.0 §5.3.2.1)`;

/** The grants a FAPI 2.0 client may have: the code flow (with refresh) and client credentials (FAPI 2 §5.3.2.1 NOTE 3). */
export const FAPI2_GRANTS: readonly string[] = ['authorization_code', 'refresh_token', 'client_credentials'];

/**
 * FAPI 2.0 Security Profile §5.3.2 (FAPI-01): what the settings alone must already satisfy. Its
 * authentication (private_key_jwt or mTLS, FAPI-04) is checked with the keys (clients.ts); the rest is
 * enforced per request.
 */
function checkFapi2(s: ClientSettings, rules: RuleSettings): void {
  const field = 'security_profile';
  if (s.securityProfile !== 'fapi2') throw new ClientInputError(field, 'security_profile is fapi2 or none');
  // §5.4.1 item 1.2: its ID tokens are signed with PS256, ES256 or EdDSA, never RS256.
  if (s.scopes.includes('openid') && s.idTokenAlg === 'RS256') {
    if (rules.alg === 'RS256') throw new ClientInputError(field, FAPI2_NEEDS_ALG);
    throw new ClientInputError('id_token_signed_response_alg', `a fapi2 client with the openid scope has its ID tokens signed with ${rules.alg}, not RS256 (FAPI 2.0 §5.4.1)`);
  }
  // §5.3.2.1 item 3: "shall only support confidential clients".
  if (s.type !== 'confidential') throw new ClientInputError(field, 'a fapi2 client is confidential (FAPI 2.0 §5.3.2.1)');
  const other = s.grants.find((g) => !FAPI2_GRANTS.includes(g));
  if (other !== undefined) throw new ClientInputError('grant', `a fapi2 client may use only ${FAPI2_GRANTS.join(', ')}`);
  // §5.3.2.2 item 5: PKCE with S256, always.
  if (!s.pkceRequired) throw new ClientInputError('pkce_required', 'a fapi2 client must use PKCE (FAPI 2.0 §5.3.2.2)');
  // §5.3.2.2 item 8: no authorization response over plain http (loopback is for native, public clients).
  if (s.redirectUris.some((u) => !u.startsWith('https://'))) throw new ClientInputError('redirect_uri', 'a fapi2 client\'s redirect URIs are https (FAPI 2.0 §5.3.2.2)');
}

/** `metadata`: at most 32 string → string entries; keys `[A-Za-z0-9_.:-]{1,64}`, values ≤ 512 printable characters, 8 KiB in all. */
export function checkMetadata(m: unknown): asserts m is Record<string, string> {
  if (typeof m !== 'object' || m === null || Array.isArray(m)) throw new ClientInputError('metadata', 'metadata must be an object of string values');
  const entries = Object.entries(m);
  const L = METADATA_LIMITS;
  if (entries.length > L.entries) throw new ClientInputError('metadata', `metadata holds at most ${L.entries} entries`);
  for (const [k, v] of entries) {
    if (k.length > L.keyChars || !KEY.test(k)) throw new ClientInputError('metadata', `a metadata key is 1–${L.keyChars} of A-Z a-z 0-9 _ . : -`);
    if (typeof v !== 'string' || v.length > L.valueChars || CONTROL.test(v)) {
      throw new ClientInputError('metadata', `metadata value of ${k} must be a string of at most ${L.valueChars} printable characters`);
    }
  }
  if (Buffer.byteLength(JSON.stringify(m)) > L.totalBytes) throw new ClientInputError('metadata', `metadata is at most ${L.totalBytes} bytes as JSON`);
}

/**
 * Static `claims`: at most 16; names `[A-Za-z0-9_.:-]{1,64}` and not reserved; each value a string
 * (≤ 256 characters), a finite number, a boolean, or an array of at most 32 of those; 2 KiB as JSON.
 */
export function checkClaims(c: unknown): asserts c is Record<string, ClaimValue> {
  if (typeof c !== 'object' || c === null || Array.isArray(c)) throw new ClientInputError('claims', 'claims must be an object');
  const entries = Object.entries(c);
  const L = CLAIM_LIMITS;
  if (entries.length > L.entries) throw new ClientInputError('claims', `a client has at most ${L.entries} claims`);
  for (const [name, value] of entries) {
    if (name.length > L.nameChars || !KEY.test(name)) throw new ClientInputError('claims', `a claim name is 1–${L.nameChars} of A-Z a-z 0-9 _ . : -`);
    if (RESERVED_CLAIMS.has(name) || name.toLowerCase().startsWith('keymint')) {
      throw new ClientInputError('claims', `${name} is a registered or protocol claim that Keymint sets itself`);
    }
    // A verifier that merges claims into an object (`Object.assign`, a deep merge) would take these
    // as its prototype or constructor: every token would carry a prototype-pollution payload.
    if (PROTOTYPE_KEYS.has(name)) throw new ClientInputError('claims', `${name} is not allowed as a claim name: JavaScript verifiers would read it as a prototype`);
    const scalar = (v: unknown) =>
      (typeof v === 'string' && v.length <= L.stringChars && !CONTROL.test(v)) || (typeof v === 'number' && Number.isFinite(v)) || typeof v === 'boolean';
    const ok = scalar(value) || (Array.isArray(value) && value.length <= L.arrayItems && value.every(scalar));
    if (!ok) {
      throw new ClientInputError('claims', `claim ${name} must be a string (≤ ${L.stringChars} characters), a number, a boolean, or an array of at most ${L.arrayItems} of those`);
    }
  }
  if (Buffer.byteLength(JSON.stringify(c)) > L.totalBytes) throw new ClientInputError('claims', `claims are at most ${L.totalBytes} bytes as JSON`);
}

/**
 * A client id chosen by the caller: 1–256 printable ASCII characters without whitespace, not a UUID
 * (the shape of user and organization subjects). One spelled
 * in this deployment's own shape (`sk_…_live_…`) must agree with the client's mode and this
 * environment, since the token endpoint reads the environment from such an id before any lookup.
 */
export function checkImportedId(id: unknown, mode: ClientMode, settings: IdSettings): asserts id is string {
  if (typeof id !== 'string' || id.length < 1 || id.length > 256 || !PRINTABLE.test(id)) {
    throw new ClientInputError('client_id', 'client_id must be 1–256 printable ASCII characters without whitespace');
  }
  // RFC 9700 §4.15.1 (SECURITY BCP-11): a client token's `sub` is its id, and user and organization
  // subjects are UUIDs; a client id in that shape could pass for a resource owner.
  if (/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id)) {
    throw new ClientInputError('client_id', 'client_id must not be a UUID: user and organization subjects are UUIDs (RFC 9700 §4.15.1)');
  }
  const parsed = parseClientId(settings, id);
  if (parsed && (parsed.environment !== settings.environment || parsed.mode !== mode)) {
    throw new ClientInputError('client_id', `client_id is spelled as a ${parsed.mode} client of environment ${parsed.environment}; this one is ${mode} in ${settings.environment}`);
  }
}

/**
 * A client secret chosen by the caller: 1–256 printable ASCII characters without whitespace, at
 * least 16 outside sandbox mode. One shaped like a generated secret (`ks_` + 49 base62) must carry
 * a valid checksum, since secrets of that shape are refused before any lookup when it is wrong.
 */
export function checkImportedSecret(secret: unknown, sandbox: boolean): asserts secret is string {
  if (typeof secret !== 'string' || secret.length < 1 || secret.length > 256 || !PRINTABLE.test(secret)) {
    throw new ClientInputError('client_secret', 'client_secret must be 1–256 printable ASCII characters without whitespace');
  }
  if (!sandbox && secret.length < MIN_IMPORTED_SECRET) {
    throw new ClientInputError('client_secret', `client_secret must be at least ${MIN_IMPORTED_SECRET} characters (shorter ones only in sandbox mode)`);
  }
  if (hasGeneratedShape(secret) && !looksLikeClientSecret(secret)) {
    throw new ClientInputError('client_secret', 'client_secret has the shape of a Keymint secret but a wrong checksum');
  }
}

/** `ks_` + 49 base62: the shape of a secret Keymint generates, whose checksum is checked before any lookup. */
export const hasGeneratedShape = (secret: string): boolean => /^ks_[0-9A-Za-z]{49}$/.test(secret);

/** What may be looked up at all: an id or secret within the import rules (generated ones are within them too). */
export const isPlausibleCredential = (value: string): boolean => value.length >= 1 && value.length <= 256 && PRINTABLE.test(value);

function isAbsoluteUri(value: string): boolean {
  try {
    return new URL(value).protocol.length > 1 && !/\s/.test(value);
  } catch {
    return false;
  }
}

/** The settings of a stored client, as the rules see them. */
export const settingsOf = (c: ClientRecord): ClientSettings => ({
  name: c.name,
  mode: c.mode,
  type: c.type,
  scopes: c.scopes,
  grants: c.grants,
  audiences: c.audiences,
  dialects: c.dialects,
  redirectUris: c.redirectUris,
  postLogoutRedirectUris: c.postLogoutRedirectUris ?? [],
  backchannelLogoutUri: c.backchannelLogoutUri,
  backchannelLogoutSessionRequired: c.backchannelLogoutSessionRequired === true,
  trusted: c.trusted,
  pkceRequired: c.pkceRequired !== false,
  requirePar: c.requirePar === true,
  requireSignedRequestObject: c.requireSignedRequestObject === true,
  refreshTokenRotation: c.refreshTokenRotation !== false,
  securityProfile: c.securityProfile ?? null,
  idTokenAlg: c.idTokenAlg ?? 'RS256',
  authorizationResponseAlg: c.authorizationResponseAlg ?? 'RS256',
  introspectionAlg: c.introspectionAlg ?? 'RS256',
  accessTokenTtl: c.accessTokenTtl,
  rateLimit: c.rateLimit ?? null,
  tokenReuse: c.tokenReuse === true,
  metadata: c.metadata ?? {},
  claims: c.claims ?? {},
});
