/**
 * The one place that mints tokens and persists what must be durable. A stateful token's record is
 * written before the result is returned, so a 200 is only ever sent for a token the store holds.
 * A refresh rotation (`decision.replaces`) consumes the old token and stores the new ones in ONE
 * atomic write: after a crash either the old token is live or the new ones exist, never both. A code
 * redemption (`decision.redeems`) likewise consumes the code in the write that stores its tokens, and
 * a device authorization request (`decision.redeemsDevice`, RFC 8628) is redeemed the same way. A
 * refresh without rotation (`decision.keeps`) checks the kept token is live and slides its idle
 * deadline in the write that stores the access token.
 */
import { andThen, type Maybe } from '../util/maybe.ts';
import type { Config } from '../config/types.ts';
import { ConsentMissingError, RevokedFamilyError, type ClientRecord, type Store, type TokenMeta, type TokenRecord, type TokenRepo } from '../storage/types.ts';
import { forgetWhenClosed, openSuccessor, sealSuccessor, type RefreshGrace } from './refresh-grace.ts';
import { isPrivilegedScope } from '../wire/scope.ts';
import type { AuthenticatedClient } from './client-auth/types.ts';
import type { AccessTokenFormat, MintedToken, RefreshTokenFormat } from '../tokens/formats.ts';
import type { Keyring } from '../tokens/keyring.ts';
import { randomBase62 } from '../tokens/random.ts';
import { OAuthError } from '../wire/errors.ts';
import type { GrantDecision } from './grant.ts';
import { mintIdToken } from './id-token.ts';
import { registeredAlg } from './signed-response.ts';
import type { TokenResult } from './token-request.ts';

export type { AccessTokenSpec, TokenShapes } from '../tokens/formats.ts';
export type { OpaqueShape } from '../tokens/opaque.ts';

/** When a dialect returns an OIDC ID token: only with `openid` in scope, or on every user token. */
export type IdTokenPolicy = 'openid' | 'always';

/** The formats one token endpoint mints with, resolved once from what its dialect declares. */
export interface IssueFormats {
  readonly access: AccessTokenFormat;
  readonly refresh: RefreshTokenFormat;
  readonly idToken: IdTokenPolicy;
}

export interface IssueDeps {
  readonly keyring: Pick<Keyring, 'signer'>;
  readonly store: Pick<Store, 'tokens' | 'codes' | 'deviceCodes' | 'sessions'>;
  readonly settings: Pick<Config, 'issuer' | 'tokenTtl' | 'refreshTokenTtl' | 'refreshTokenIdleTtl' | 'alg'>;
  /** The refresh-reuse grace window (RACE-04); absent = off. */
  readonly refreshGrace?: RefreshGrace;
}

export interface Issued {
  readonly result: TokenResult;
  readonly accessDigest: string;
}

/**
 * A token that is not stored (a JWT of no grant family, without a refresh token: client_credentials)
 * is answered at once when it is signed inline; anything the store must hold first, with a promise.
 */
export function issue(
  decision: GrantDecision,
  caller: AuthenticatedClient,
  formats: IssueFormats,
  now: number,
  deps: IssueDeps,
  /** Thumbprint of the DPoP key the tokens are bound to (RFC 9449 §6), if any. */
  jkt?: string,
  /** Thumbprint of the TLS client certificate the tokens are bound to (RFC 8705 §3.1), if any. */
  x5t?: string,
): Maybe<Issued> {
  const { settings } = deps;
  const { client } = caller;
  const wantsIdToken = decision.subjectType !== undefined && (formats.idToken === 'always' || decision.scopes.includes('openid'));
  const idTokenAlg = wantsIdToken ? registeredAlg(client.idTokenAlg, settings.alg, 'ID tokens', 'id_token_signed_response_alg') : undefined;
  const ttl = client.accessTokenTtl ?? settings.tokenTtl;
  const iat = Math.floor(now / 1000);
  const exp = iat + ttl;
  const jti = randomBase62(22);
  const scope = decision.scopes.join(' ');
  // Optional members are assigned when present rather than spread from `cond ? {} : {…}`: every
  // request of the common case would otherwise build and copy a handful of empty objects.
  const meta: { -readonly [K in keyof TokenMeta]: TokenMeta[K] } = {};
  if (decision.subjectType !== undefined) meta.subjectType = decision.subjectType;
  if (decision.authTime !== undefined) meta.authTime = decision.authTime;
  if (decision.sid !== undefined) meta.sid = decision.sid;
  if (decision.act !== undefined) meta.act = decision.act;
  if (caller.credentialId !== null) meta.credentialId = caller.credentialId;
  // The key or certificate the tokens are bound to, as their records keep it.
  const bound: { jkt?: string; x5t?: string } = {};
  if (jkt !== undefined) bound.jkt = jkt;
  if (x5t !== undefined) bound.x5t = x5t;
  // The client's static claims come first: a protocol claim written below always wins (their names
  // are refused at registration too, SECURITY CE-05). An opaque token keeps them in its record.
  const statics = client.claims ?? {};
  // RFC 9068 §2.2: iss, exp, aud, sub, client_id, iat, jti; scope when there is one.
  const claims: Record<string, unknown> & { jti: string } = {
    ...statics,
    iss: settings.issuer,
    sub: decision.subject,
    aud: decision.audience.length === 1 ? decision.audience[0] : decision.audience,
    exp,
    iat,
    jti,
    client_id: client.id,
  };
  if (scope) claims.scope = scope;
  if (decision.subjectType !== undefined) claims.sub_type = decision.subjectType;
  claims.mode = client.mode;
  claims.env = client.environment;
  // RFC 8693 §4.1: the delegation chain; RFC 9449 §6.1, RFC 8705 §3.1: the key or certificate the token is bound to.
  if (decision.act !== undefined) claims.act = decision.act;
  if (jkt !== undefined || x5t !== undefined) {
    const cnf: { jkt?: string; 'x5t#S256'?: string } = {};
    if (jkt !== undefined) cnf.jkt = jkt;
    if (x5t !== undefined) cnf['x5t#S256'] = x5t;
    claims.cnf = cnf;
  }
  return andThen(formats.access.mint(claims, decision.subjectType), (access) => {
    const records: TokenRecord[] = [];
    // A JWT of a grant family is recorded by its jti, so revoking the family revokes it too (C-02,
    // RT-04); so is one carrying a privileged scope, whose record the admin API checks (ADM-01).
    if (formats.access.stored || decision.familyId !== null || decision.scopes.some(isPrivilegedScope)) {
      const kept: TokenMeta = formats.access.stored && Object.keys(statics).length > 0 ? { claims: statics } : {};
      records.push(record(access.digest, 'access_token', decision, client, now, exp * 1000, jti, scope, { ...meta, ...bound, ...kept }));
    }
    let refresh: MintedToken | undefined;
    if (decision.refreshToken) {
      refresh = formats.refresh.mint(decision.subjectType);
      const familyExpiresAt = decision.familyExpiresAt ?? now + settings.refreshTokenTtl * 1000;
      const expiresAt = Math.min(now + settings.refreshTokenIdleTtl * 1000, familyExpiresAt);
      const granted = (decision.refreshScopes ?? decision.scopes).join(' ');
      records.push(
        record(refresh.digest, 'refresh_token', decision, client, now, expiresAt, randomBase62(22), granted, {
          ...meta,
          familyExpiresAt,
          grantedScope: granted,
          // RFC 9449 §5, RFC 8705 §4: a public client's refresh token is bound to its key or certificate;
          // a confidential client's is bound by its authentication instead (SECURITY DP-04).
          ...(client.type === 'public' ? bound : {}),
        }),
      );
    }
    const answer = (refreshToken: string | undefined): Issued => {
      const result: { -readonly [K in keyof TokenResult]: TokenResult[K] } = {
        accessToken: access.token,
        tokenType: jkt === undefined ? 'Bearer' : 'DPoP',
        expiresIn: ttl,
        expiresAt: new Date(exp * 1000),
        issuedAt: new Date(iat * 1000),
        scope,
        refreshToken,
        idToken: idTokenAlg
          ? mintIdToken(deps.keyring, {
              issuer: settings.issuer,
              subject: decision.subject,
              clientId: client.id,
              iat,
              exp,
              authTime: decision.authTime,
              nonce: decision.nonce,
              sid: decision.sid,
              accessToken: access.token,
              subjectType: decision.subjectType,
            }, idTokenAlg)
          : undefined,
        clientId: client.id,
      };
      if (decision.issuedTokenType !== undefined) result.issuedTokenType = decision.issuedTokenType;
      return { result, accessDigest: access.digest };
    };
    // OIDC Back-Channel Logout (BCL-03): the session records that this client got an ID token in it,
    // written beside the tokens, so its end tells the client. A refresh carries the sid and client its
    // family's first ID token was recorded with: nothing to write again.
    const noted = idTokenAlg !== undefined && decision.sid !== undefined && decision.replaces === undefined && decision.keeps === undefined
      ? deps.store.sessions.addClient(decision.sid, client.id)
      : undefined;
    // Nothing for the store to hold or consume: answered at once.
    if (records.length === 0 && decision.replaces === undefined && decision.redeems === undefined && decision.redeemsDevice === undefined) {
      return noted === undefined ? answer(undefined) : noted.then(() => answer(undefined));
    }
    const persisted = persist(decision, records, refresh, now, deps);
    return (noted === undefined ? persisted : Promise.all([persisted, noted]).then(([r]) => r)).then(answer);
  });
}

/**
 * Stores the new tokens, consuming what the decision replaces or redeems in the same write; resolves
 * to the refresh token to hand out (the new one, or a retried rotation's successor: RACE-04).
 */
async function persist(decision: GrantDecision, records: readonly TokenRecord[], refresh: MintedToken | undefined, now: number, deps: IssueDeps): Promise<string | undefined> {
  if (decision.keeps !== undefined) {
    // RT-11: no rotation. The token stays; its idle deadline slides (never past its family's end, and
    // not at all for a token that records no family end), in the write that stores the access token.
    const { familyExpiresAt } = decision;
    const until = familyExpiresAt === undefined ? 0 : Math.min(now + deps.settings.refreshTokenIdleTtl * 1000, familyExpiresAt);
    if (!(await deps.store.tokens.extend(decision.keeps, now, until, records))) {
      throw new OAuthError('invalid_grant', 'The refresh token is invalid, expired or revoked.', { field: 'refresh_token' });
    }
  } else if (decision.replaces !== undefined) {
    const { refreshGrace: grace } = deps;
    const sealed = grace && refresh ? sealSuccessor(grace, decision.replaces, refresh, now) : undefined;
    if (await deps.store.tokens.rotate(decision.replaces, now, records, sealed)) {
      if (grace && sealed) forgetWhenClosed(deps.store.tokens, decision.replaces, grace);
    } else {
      // RACE-04: within the grace window, a retry gets a new access token and the same successor.
      const successor = grace ? await liveSuccessor(deps.store.tokens, grace, decision.replaces, now) : undefined;
      if (successor === undefined) {
        // Another use of the same refresh token won the rotation: it is reuse, so the family ends, the
        // winner's successor included, which the atomic rotation has already stored (RT-04, RACE-02).
        if (decision.familyId !== null) await deps.store.tokens.revokeFamily(decision.familyId, now);
        throw new OAuthError('invalid_grant', 'The refresh token is invalid, expired or revoked.', { field: 'refresh_token' });
      }
      await insertAll(deps.store.tokens, records.filter((r) => r.kind === 'access_token'));
      return successor;
    }
  } else if (decision.redeems !== undefined) {
    const replayed = async () => {
      // Another redemption of the code won and its tokens are stored: the code was replayed (C-02, RACE-01).
      if (decision.familyId !== null) await deps.store.tokens.revokeFamily(decision.familyId, now);
      return new OAuthError('invalid_grant', 'The authorization code is invalid, expired or already used.', { field: 'code' });
    };
    let won: boolean;
    try {
      won = await deps.store.codes.redeem(decision.redeems, now, records, decision.redeemsWithConsent);
    } catch (err) {
      if (!(err instanceof ConsentMissingError)) throw err;
      // CON-06: the consent was withdrawn after the code was issued; nothing was written. The code is
      // spent all the same, as by any failed attempt of its client (C-07).
      if (!(await deps.store.codes.consume(decision.redeems, now))) throw await replayed();
      throw new OAuthError('invalid_grant', 'The user has withdrawn the approval of this application.', { field: 'code' });
    }
    if (!won) throw await replayed();
  } else if (decision.redeemsDevice !== undefined) {
    let won: boolean;
    try {
      won = await deps.store.deviceCodes.redeem(decision.redeemsDevice, now, records, decision.redeemsWithConsent);
    } catch (err) {
      if (!(err instanceof ConsentMissingError)) throw err;
      // CON-06: the user withdrew the approval after giving it on the verification page; nothing written.
      throw new OAuthError('access_denied', 'The user has withdrawn the approval of this application.', { status: 400 });
    }
    if (!won) {
      // Still approved, unredeemed: its family was revoked, by the app's withdrawal (CON-05) or the
      // client's disabling or deletion (CON-04), which end the approval whether or not the client is
      // trusted, and whatever consent is given or status set later.
      const request = await deps.store.deviceCodes.find([decision.redeemsDevice]);
      if (request?.status === 'approved') throw new OAuthError('access_denied', 'The approval of this application was withdrawn.', { status: 400 });
      // Another poll redeemed the request first (it holds the tokens).
      throw new OAuthError('invalid_grant', 'The device code is invalid, expired or already used.', { field: 'device_code' });
    }
  } else if (records.length > 0) {
    await insertAll(deps.store.tokens, records);
  }
  return refresh?.token;
}

async function insertAll(tokens: Pick<TokenRepo, 'insert'>, records: readonly TokenRecord[]): Promise<void> {
  try {
    for (const r of records) await tokens.insert(r);
  } catch (err) {
    // The family was revoked while this request ran (a second redemption of its code, a session
    // ended, a reuse elsewhere): nothing of it may be handed out (RACE-01, RACE-03).
    if (err instanceof RevokedFamilyError) throw new OAuthError('invalid_grant', 'The grant was revoked.');
    throw err;
  }
}

/** The successor of the consumed `digest` while its window is open and it is itself unused and unrevoked. */
async function liveSuccessor(tokens: Pick<TokenRepo, 'successor' | 'find'>, grace: RefreshGrace, digest: string, now: number): Promise<string | undefined> {
  const sealed = await tokens.successor(digest, now);
  if (!sealed) return undefined;
  const next = await tokens.find([sealed.digest]);
  if (!next || next.revokedAt !== null || next.expiresAt <= now) return undefined;
  return openSuccessor(grace, digest, sealed);
}

function record(
  digest: string,
  kind: TokenRecord['kind'],
  decision: GrantDecision,
  client: ClientRecord,
  now: number,
  expiresAt: number,
  jti: string,
  scope: string,
  meta: TokenMeta,
): TokenRecord {
  return {
    digest,
    kind,
    clientId: client.id,
    subject: decision.subject,
    scope,
    audience: decision.audience,
    issuedAt: now,
    expiresAt,
    revokedAt: null,
    familyId: decision.familyId,
    jti,
    ...(Object.keys(meta).length === 0 ? {} : { meta }),
  };
}
