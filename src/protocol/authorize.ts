/**
 * The authorization request — RFC 6749 §4.1.1, RFC 7636 §4.3, OIDC Core §3.1.2 — as pure logic:
 * validation (which errors may go back to the client and which must be shown to the user, §4.1.2.1)
 * and code issuance. No HTTP here: `http/authorize.ts` reads the query and renders the answers.
 */
import type { Maybe } from '../util/maybe.ts';
import type { SigningAlg } from '../config/types.ts';
import { candidateDigests, storedDigest } from '../tokens/digest.ts';
import type { Keyring } from '../tokens/keyring.ts';
import { opaqueFormat } from '../tokens/opaque.ts';
import { randomBase62 } from '../tokens/random.ts';
import type { ClientRecord, CodeRecord, SessionRecord, Store } from '../storage/types.ts';
import type { OAuthErrorCode } from '../wire/errors.ts';
import { resolveAudience, scopesForAudience, type AudienceSettings } from './audience.ts';
import { isFapi2 } from './fapi2.ts';
import { readResponseMode, type JwtResponse } from './jarm.ts';
import { isCodeChallenge } from './pkce.ts';
import { isPrivilegedScope } from '../wire/scope.ts';
import { OAuthError } from '../wire/errors.ts';
import { defaultScopes, isScopeToken } from './scope.ts';

export const authorizationCodeFormat = opaqueFormat({ kind: 'checksummed', prefix: 'km_ac_' });

/** SECURITY C-01: 60 s (the FAPI2 conformance "expired code" test waits 60 s). */
export const CODE_TTL_MS = 60_000;

export interface AuthorizationRequest {
  readonly client: ClientRecord;
  readonly redirectUri: string;
  readonly scopes: readonly string[];
  readonly state: string | undefined;
  readonly nonce: string | undefined;
  /** null: a client let off PKCE (SECURITY P-08) sent none. */
  readonly codeChallenge: string | null;
  /** RFC 8707: the resource the token will be for, when the request named one. */
  readonly resource: string | undefined;
  /** OIDC Core §3.1.2.1 `prompt`: empty when absent; `none` is only ever alone. */
  readonly prompt: ReadonlySet<Prompt>;
  /** OIDC Core §3.1.2.1 `max_age`, seconds: the longest time since the user last signed in. */
  readonly maxAge: number | undefined;
  /** RFC 9449 §10 `dpop_jkt`: the thumbprint of the DPoP key the code is bound to, when the request named one. */
  readonly dpopJkt: string | undefined;
  /** JARM: the response (code or error) goes back as one signed JWT (`response_mode` query.jwt or jwt); undefined: in the query. */
  readonly jwtResponse: JwtResponse | undefined;
}

/**
 * RFC 9449 §10: `dpop_jkt` is an RFC 7638 SHA-256 thumbprint, base64url without padding: 43
 * characters, canonically encoded (the last one carries 4 bits, so a value that does not decode back
 * to itself names no key a proof could match).
 */
export const isJwkThumbprint = (v: string): boolean => /^[A-Za-z0-9_-]{43}$/.test(v) && Buffer.from(v, 'base64url').toString('base64url') === v;

/** The `prompt` values the authorization endpoint takes (OIDC Core §3.1.2.1). */
export const PROMPT_VALUES = ['none', 'login', 'consent', 'select_account'] as const;
export type Prompt = (typeof PROMPT_VALUES)[number];
const isPrompt = (v: string): v is Prompt => (PROMPT_VALUES as readonly string[]).includes(v);

/** Shown to the user, never redirected: the client or redirect URI cannot be trusted (§4.1.2.1). */
export interface PageError {
  readonly kind: 'page';
  readonly description: string;
}

/** Sent back to the client's redirect URI. */
export interface RedirectError {
  readonly kind: 'redirect';
  readonly redirectUri: string;
  readonly state: string | undefined;
  readonly error: OAuthErrorCode | 'unsupported_response_type' | 'login_required' | 'consent_required' | 'access_denied' | 'invalid_request_uri';
  readonly description: string;
  /** JARM: sent as one signed JWT (the request's response mode); undefined: in the query. */
  readonly jwtResponse?: JwtResponse;
}

export type Validated = { readonly kind: 'ok'; readonly request: AuthorizationRequest } | PageError | RedirectError;

/** The refusal of a plain request from a client registered with require_signed_request_object. */
export const REQUIRE_SIGNED = 'This client must send its authorization request as a signed request object (the request parameter).';

/** `params`: every parameter once (duplicates are already refused by the caller with `duplicate`). */
export async function validateAuthorization(
  params: Readonly<Record<string, string>>,
  duplicate: string | undefined,
  deps: {
    findClient: ClientLookup;
    settings: AudienceSettings & { readonly requirePar?: boolean; readonly alg: SigningAlg };
    /**
     * The dialect's token endpoint reads no DPoP proofs (`polar`): `dpop_jkt` in the query is ignored
     * like any parameter the endpoint does not know, as the provider's own server does, rather than
     * binding a code that endpoint could never redeem. A pushed or signed one still binds the code.
     */
    ignoresDpopJkt?: boolean;
    /** The dialect's contract has no JWT responses (`polar`): `response_mode` in the query is ignored likewise (JARM-06). */
    ignoresResponseMode?: boolean;
  },
  options: { readonly pushed?: boolean; readonly signed?: boolean } = {},
): Promise<Validated> {
  const clientId = params.client_id;
  const client = clientId === undefined || clientId.length > 512 ? undefined : await deps.findClient(clientId);
  if (!client || client.status !== 'active') return { kind: 'page', description: 'The application is unknown or disabled.' };
  const redirectUri = params.redirect_uri;
  // RFC 9700 §4.1.3, SECURITY BCP-05: exact string comparison with a registered URI.
  if (redirectUri === undefined || duplicate === 'redirect_uri' || duplicate === 'client_id' || !client.redirectUris.includes(redirectUri)) {
    return { kind: 'page', description: 'The redirect URI is missing or not registered for this application.' };
  }
  const state = duplicate === 'state' ? undefined : params.state;
  // A pushed request's or a request object's parameters cannot be changed on the way (RFC 9126, 9101).
  const integrityProtected = options.pushed === true || options.signed === true;
  // JARM §2.3 (JARM-03): the response mode is read first, so every error after it goes back in it; one
  // that cannot be honoured (not offered, repeated, an alg no longer kept) is answered in the query.
  const mode = deps.ignoresResponseMode === true && !integrityProtected ? undefined : params.response_mode;
  const read = duplicate === 'response_mode' ? undefined : readResponseMode(mode, client, deps.settings.alg);
  const jwtResponse = read?.ok === true ? read.jwt : undefined;
  const fail = (error: RedirectError['error'], description: string): RedirectError => ({ kind: 'redirect', redirectUri, state, error, description, ...(jwtResponse ? { jwtResponse } : {}) });
  if (duplicate !== undefined) return fail('invalid_request', 'A request parameter was sent more than once.');
  if (read?.ok === false) return fail(read.error, read.description);
  // RFC 9126 §6 (SECURITY PAR-05): a client registered with require_pushed_authorization_requests, or
  // every client under --require-par, sends its parameters only through the pushed request; so does
  // a fapi2 client (FAPI 2.0 §5.3.2.2 item 3, FAPI-02).
  if (options.pushed !== true && (client.requirePar === true || deps.settings.requirePar === true || isFapi2(client))) {
    return fail('invalid_request', 'This client must push its authorization request first (pushed authorization requests).');
  }
  // RFC 9101 §10.5 (SECURITY JAR-05): a client registered with require_signed_request_object sends
  // its parameters only in a request object (a pushed request was held to it at the push).
  if (client.requireSignedRequestObject === true && options.signed !== true && options.pushed !== true) return fail('invalid_request', REQUIRE_SIGNED);
  if (params.response_type !== 'code') return fail('unsupported_response_type', 'Only response_type=code is supported.');
  if (!client.grants.includes('authorization_code')) return fail('unauthorized_client', 'The client is not allowed to use the authorization code flow.');
  // SECURITY P-03, BCP-04: S256 is required; an absent method means plain, which is refused. P-08: a
  // confidential client registered with pkce_required=false may send no challenge at all; one it
  // does send is held to the same rules (and its verifier to P-04/P-05 at the token endpoint).
  const waived = client.pkceRequired === false && client.type === 'confidential' && !isFapi2(client) && params.code_challenge === undefined && params.code_challenge_method === undefined;
  if (!waived && (params.code_challenge === undefined || params.code_challenge_method !== 'S256' || !isCodeChallenge(params.code_challenge))) {
    return fail('invalid_request', 'PKCE with code_challenge_method=S256 is required.');
  }
  // SECURITY ADM-02: a user never delegates Keymint's own authority; unnamed, it is left out.
  let scopes: string[];
  if (params.scope === undefined) scopes = defaultScopes(client.scopes);
  else {
    scopes = [...new Set(params.scope.split(' '))];
    const allowed = (s: string) => isScopeToken(s) && client.scopes.includes(s) && !isPrivilegedScope(s);
    if (!scopes.every(allowed)) return fail('invalid_scope', 'The requested scope is invalid or not allowed.');
  }
  // RFC 8707 §2: a resource the client may not have is refused here, before the user is asked.
  if (params.resource !== undefined) {
    try {
      scopes = scopesForAudience(scopes, params.scope !== undefined, resolveAudience([params.resource], scopes, client, deps.settings), deps.settings);
    } catch (err) {
      if (err instanceof OAuthError && (err.code === 'invalid_target' || err.code === 'invalid_scope')) return fail(err.code, err.description);
      throw err;
    }
  }
  if (params.nonce !== undefined && params.nonce.length > 512) return fail('invalid_request', 'The nonce is too long.');
  if (state !== undefined && state.length > 2048) return fail('invalid_request', 'The state is too long.');
  const prompts = params.prompt === undefined ? [] : params.prompt.split(' ');
  if (!prompts.every(isPrompt)) return fail('invalid_request', `prompt takes ${PROMPT_VALUES.join(', ')}.`);
  const prompt = new Set(prompts);
  if (prompt.has('none') && prompt.size > 1) return fail('invalid_request', 'prompt=none cannot be combined with another value.');
  if (params.max_age !== undefined && !/^[0-9]{1,10}$/.test(params.max_age)) return fail('invalid_request', 'max_age must be a whole number of seconds.');
  const maxAge = params.max_age === undefined ? undefined : Number(params.max_age);
  // A pushed request's or a request object's dpop_jkt is kept all the same (RFC 9449 §10): its
  // parameters cannot be changed on the way, and taking the browser to this mount instead must not
  // drop the binding. Its code is then redeemed where DPoP proofs are read.
  const dpopJkt = deps.ignoresDpopJkt === true && !integrityProtected ? undefined : params.dpop_jkt;
  if (dpopJkt !== undefined && !isJwkThumbprint(dpopJkt)) {
    return fail('invalid_request', 'dpop_jkt must be the base64url SHA-256 JWK thumbprint of the DPoP key (43 characters).');
  }
  return { kind: 'ok', request: { client, redirectUri, scopes, state, nonce: params.nonce, codeChallenge: params.code_challenge ?? null, resource: params.resource, prompt, maxAge, dpopJkt, jwtResponse } };
}

/** A client by id: a stored one, or one described by a client ID metadata document. */
export type ClientLookup = (clientId: string) => Maybe<ClientRecord | undefined>;

export interface CodeDeps {
  readonly store: Pick<Store, 'codes'>;
  readonly keyring: Pick<Keyring, 'pepper'>;
}

/** Mints a single-use code for an approved request; only its digest is stored (S-01, P-06). */
export async function issueCode(request: AuthorizationRequest, session: SessionRecord, now: number, deps: CodeDeps): Promise<string> {
  const code = authorizationCodeFormat.mint();
  const record: CodeRecord = {
    digest: storedDigest(deps.keyring.pepper(), code),
    clientId: request.client.id,
    redirectUri: request.redirectUri,
    scope: request.scopes.join(' '),
    codeChallenge: request.codeChallenge,
    codeChallengeMethod: request.codeChallenge === null ? null : 'S256',
    nonce: request.nonce ?? null,
    subject: session.subject,
    subjectType: session.subjectType,
    authTime: Math.floor(session.createdAt / 1000),
    issuedAt: now,
    expiresAt: now + CODE_TTL_MS,
    consumedAt: null,
    familyId: `fam_${randomBase62(22)}`,
    resource: request.resource ?? null,
    dpopJkt: request.dpopJkt ?? null,
    sessionId: session.id,
  };
  await deps.store.codes.insert(record);
  return code;
}

export async function findCode(code: string, deps: { store: Pick<Store, 'codes'>; keyring: Pick<Keyring, 'peppers'> }): Promise<CodeRecord | undefined> {
  if (!authorizationCodeFormat.recognises(code)) return undefined;
  return deps.store.codes.find(candidateDigests(deps.keyring.peppers(), code));
}
