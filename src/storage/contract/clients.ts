/**
 * Clients and their secrets: the record every client-authentication method reads, and its repository.
 * Part of the storage contract that src/storage/types.ts gathers; every backend implements it.
 */
import type { Maybe } from '../../util/maybe.ts';
import type { SigningAlg } from '../../config/types.ts';

export type ClientMode = 'live' | 'sandbox';
export type ClientType = 'confidential' | 'public';
export type ClientStatus = 'active' | 'disabled';
/** The ways a confidential client authenticates without a secret. */
export const SECRETLESS_AUTH_METHODS = ['private_key_jwt', 'tls_client_auth', 'self_signed_tls_client_auth'] as const;
export type SecretlessAuthMethod = (typeof SECRETLESS_AUTH_METHODS)[number];
/** A security profile a client can be held to (docs/fapi2.md). */
export type SecurityProfile = 'fapi2';

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
  /**
   * OIDC RP-Initiated Logout 1.0 §3.1 `post_logout_redirect_uris`: where the end-session endpoint may
   * send the browser after logout, compared byte for byte; absent = none.
   */
  readonly postLogoutRedirectUris?: readonly string[];
  /**
   * OIDC Back-Channel Logout 1.0 §2.2 `backchannel_logout_uri`: where a logout token is POSTed when a
   * session this client got an ID token in ends; absent = none.
   */
  readonly backchannelLogoutUri?: string;
  /** §2.2 `backchannel_logout_session_required`: its logout tokens must carry `sid`; absent = false. */
  readonly backchannelLogoutSessionRequired?: true;
  readonly trusted: boolean;
  /**
   * Whether the authorization request must carry a PKCE challenge: absent = yes. Only a confidential
   * client may be registered with false (Polar's contract: `client_secret`, no `code_verifier`); a
   * challenge it does send is still verified (SECURITY P-08).
   */
  readonly pkceRequired?: boolean;
  /**
   * RFC 9126 §6 `require_pushed_authorization_requests`: the authorization endpoint takes this
   * client's requests only through a pushed request (`request_uri`); absent = no.
   */
  readonly requirePar?: boolean;
  /**
   * RFC 9101 §10.5 `require_signed_request_object`: the authorization endpoint (and the push) take
   * this client's requests only as a request object signed with its registered keys; absent = no.
   */
  readonly requireSignedRequestObject?: boolean;
  /**
   * The security profile the client is held to: `fapi2`, the FAPI 2.0 Security Profile's
   * authorization-server rules (docs/fapi2.md: PAR only, private_key_jwt only, DPoP-bound tokens,
   * PS256/ES256/EdDSA only); absent = none.
   */
  readonly securityProfile?: SecurityProfile;
  /**
   * `refresh_token_rotation`: false, a refresh keeps the refresh token instead of rotating it (RFC
   * 9700 §4.14.2, bound to the client's authentication; confidential clients only, RT-11); absent =
   * rotate. A fapi2 client never rotates (FAPI 2.0 §5.3.2.1 item 10), whatever this says.
   */
  readonly refreshTokenRotation?: boolean;
  /**
   * OIDC Dynamic Client Registration §2 `id_token_signed_response_alg`: what its ID tokens are signed
   * with, one of the algorithms the keyring keeps (RS256 and the deployment's `--alg`); absent = RS256.
   */
  readonly idTokenAlg?: SigningAlg;
  /**
   * JARM `authorization_signed_response_alg`: what its JWT authorization responses (response_mode
   * jwt, query.jwt) are signed with, one of the algorithms the keyring keeps; absent = RS256.
   */
  readonly authorizationResponseAlg?: SigningAlg;
  /**
   * RFC 9701 §6 `introspection_signed_response_alg`: what its introspection answers are signed with
   * when it asks for a JWT (`Accept: application/token-introspection+jwt`), one of the algorithms the
   * keyring keeps, as `idTokenAlg`; absent = RS256.
   */
  readonly introspectionAlg?: SigningAlg;
  /** Access-token lifetime override in seconds; null = the deployment default. */
  readonly accessTokenTtl: number | null;
  /** Token requests per minute this client may make; absent or null = the deployment default. */
  readonly rateLimit?: number | null;
  /**
   * A client_credentials request matching a still-valid token this node issued to the client (same
   * endpoint, scopes and audience, enough lifetime left) gets that token again; absent = off.
   */
  readonly tokenReuse?: boolean;
  /**
   * How a confidential client authenticates: absent = with a secret (`client_secret_basic` or
   * `client_secret_post`); `private_key_jwt` = with an assertion signed by a key of `jwks` or `jwksUri`
   * (RFC 7523 §2.2), and never with a secret; `tls_client_auth` = with a certificate issued by a CA
   * of `--tls-client-ca` naming it as one of the `tls*` names below says (RFC 8705 §2.1);
   * `self_signed_tls_client_auth` = with a certificate registered in `jwks`/`jwksUri` as `x5c`
   * (RFC 8705 §2.2). Public clients authenticate with `none`.
   */
  readonly authMethod?: SecretlessAuthMethod;
  /** RFC 8705 §2.1.2: the one name a `tls_client_auth` client's certificate must carry; exactly one is set. */
  readonly tlsSubjectDn?: string;
  readonly tlsSanDns?: string;
  readonly tlsSanUri?: string;
  readonly tlsSanIp?: string;
  readonly tlsSanEmail?: string;
  /** RFC 8705 §3.4 `tls_client_certificate_bound_access_tokens`: its tokens are bound to the certificate it presents. */
  readonly certBound?: boolean;
  /** The client's public keys, registered inline (RFC 7591 `jwks`). */
  readonly jwks?: ClientJwks;
  /** Where the client publishes its public signing keys (RFC 7591 `jwks_uri`). */
  readonly jwksUri?: string;
  /** Every token request must carry a DPoP proof (RFC 9449 §5.2 `dpop_bound_access_tokens`). */
  readonly dpopBound?: boolean;
  /** Audiences the client may obtain tokens for by token exchange (RFC 8693); absent = none. */
  readonly exchangeAudiences?: readonly string[];
  /** Scopes an exchanged token may carry (never more than the subject token's); absent = none. */
  readonly exchangeScopes?: readonly string[];
  /**
   * The audiences it is a resource server for: introspection answers it about an active access token
   * of any client whose `aud` includes one of them (I-17). Set by operators only.
   */
  readonly introspectionAudiences?: readonly string[];
  /** A dynamically registered client's RFC 7592 registration access token, as a peppered digest. */
  readonly registrationToken?: { readonly pepperKid: string; readonly digest: string };
  /** Free-form labels for operators (shown by show, list and the admin API); never put in tokens. */
  readonly metadata?: Readonly<Record<string, string>>;
  /** Static claims added to every access token the client is issued (never a registered or protocol claim). */
  readonly claims?: Readonly<Record<string, ClaimValue>>;
  /** Which tool manages the client (`apply` for configuration as code); absent = made by hand or registration. */
  readonly managedBy?: string;
  readonly secrets: readonly SecretRecord[];
  readonly createdAt: number;
  readonly updatedAt: number;
}

/** The value of a client's static claim: a string, a number, a boolean, or an array of those. */
export type ClaimValue = string | number | boolean | ReadonlyArray<string | number | boolean>;

/** A JSON Web Key Set of public keys, as registered (validated by credentials/client-keys.ts). */
export interface ClientJwks {
  readonly keys: ReadonlyArray<Readonly<Record<string, unknown>>>;
}

export interface ClientRepo {
  /** Inserts; rejects with `ConflictError` if the id exists. */
  insert(client: ClientRecord): Promise<void>;
  /** A store answers with a promise; the client cache (credentials/client-cache.ts) from memory when it holds the client. */
  get(id: string): Maybe<ClientRecord | undefined>;
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
  /** Best-effort bookkeeping: sets one secret's lastUsedAt (see `secretUsed`); never fails a request. */
  touchSecret(clientId: string, secretId: string, at: number): Promise<void>;
}

/** The client with secret `secretId` marked used at `at`: what `touchSecret` writes. */
export const secretUsed = (client: ClientRecord, secretId: string, at: number): ClientRecord => ({
  ...client,
  secrets: client.secrets.map((s) => (s.id === secretId ? { ...s, lastUsedAt: at } : s)),
});
