/**
 * The one place that mints tokens and persists what must be durable. A stateful token's record is
 * written before the result is returned, so a 200 is only ever sent for a token the store holds.
 * A refresh rotation (`decision.replaces`) consumes the old token and stores the new ones in ONE
 * atomic write: after a crash either the old token is live or the new ones exist, never both.
 */
import type { GrantDecision } from './grant.ts';
import { jtiDigest, type ClientRecord, type Store, type SubjectType, type TokenMeta, type TokenRecord } from '../storage/types.ts';
import { storedDigest } from '../tokens/digest.ts';
import { signJwtAsync } from '../tokens/jwt.ts';
import type { Keyring, SigningAlg } from '../tokens/keyring.ts';
import { prefixedFormat, type OpaqueFormat } from '../tokens/opaque.ts';
import { randomBase62 } from '../tokens/random.ts';
import { OAuthError } from '../wire/errors.ts';
import { mintIdToken } from './id-token.ts';
import type { TokenResult } from './token-request.ts';

/** Formats chosen by the subject type of a user-delegated token (Polar's `_u_` / `_o_` prefixes). */
export type FormatsBySubjectType = Readonly<Partial<Record<SubjectType, OpaqueFormat>>>;

/** How a dialect's access tokens look: an RFC 9068 JWT, or an opaque stored token. */
export type AccessTokenSpec =
  | { readonly format: 'jwt'; /** Overrides the deployment's algorithm (Polygon requires RS256). */ readonly alg?: SigningAlg }
  | { readonly format: 'opaque'; readonly opaque: OpaqueFormat; readonly bySubjectType?: FormatsBySubjectType };

/** How a dialect's refresh tokens look (default: Keymint's `km_rt_`). */
export interface RefreshTokenSpec {
  readonly opaque: OpaqueFormat;
  readonly bySubjectType?: FormatsBySubjectType;
}

/** When a dialect returns an OIDC ID token: only with `openid` in scope, or on every user token. */
export type IdTokenPolicy = 'openid' | 'always';

export interface IssueSettings {
  readonly issuer: string;
  readonly alg: SigningAlg;
  /** Default access-token lifetime, seconds. */
  readonly accessTokenTtl: number;
  /** Refresh-token absolute lifetime (the whole family), seconds. */
  readonly refreshTokenTtl: number;
  /** Refresh-token idle lifetime (each token of the family), seconds. */
  readonly refreshTokenIdleTtl: number;
}

export interface IssueDeps {
  readonly keyring: Pick<Keyring, 'signer' | 'pepper'>;
  readonly store: Pick<Store, 'tokens'>;
  readonly settings: IssueSettings;
}

/** What the speaking dialect decides about the tokens' shapes (never by name: by declared formats). */
export interface IssueFormats {
  readonly accessToken: AccessTokenSpec;
  readonly refreshToken?: RefreshTokenSpec;
  readonly idToken?: IdTokenPolicy;
}

export const refreshTokenFormat = prefixedFormat('keymint-refresh', 'km_rt_');

const pick = (fallback: OpaqueFormat, by: FormatsBySubjectType | undefined, type: SubjectType | undefined): OpaqueFormat =>
  (type !== undefined ? by?.[type] : undefined) ?? fallback;

export async function issue(
  decision: GrantDecision,
  client: ClientRecord,
  formats: IssueFormats,
  now: number,
  deps: IssueDeps,
): Promise<TokenResult> {
  const { settings } = deps;
  const spec = formats.accessToken;
  const ttl = client.accessTokenTtl ?? settings.accessTokenTtl;
  const iat = Math.floor(now / 1000);
  const exp = iat + ttl;
  const jti = randomBase62(22);
  const scope = decision.scopes.join(' ');
  const meta: TokenMeta = {
    ...(decision.subjectType === undefined ? {} : { subjectType: decision.subjectType }),
    ...(decision.authTime === undefined ? {} : { authTime: decision.authTime }),
  };
  const records: TokenRecord[] = [];
  let accessToken: string;
  if (spec.format === 'jwt') {
    // RFC 9068 §2.2: iss, exp, aud, sub, client_id, iat, jti; scope when there is one.
    const claims: Record<string, unknown> = {
      iss: settings.issuer,
      sub: decision.subject,
      aud: decision.audience.length === 1 ? decision.audience[0] : decision.audience,
      exp,
      iat,
      jti,
      client_id: client.id,
      ...(scope ? { scope } : {}),
      ...(decision.subjectType === undefined ? {} : { sub_type: decision.subjectType }),
      mode: client.mode,
      env: client.environment,
    };
    accessToken = await signJwtAsync(deps.keyring.signer(spec.alg ?? settings.alg), 'at+jwt', claims);
    // A JWT of a grant family is recorded by its jti, so revoking the family revokes it too (C-02, RT-04).
    if (decision.familyId !== null) records.push(record(jtiDigest(jti), 'access_token', decision, client, now, exp * 1000, jti, scope, meta));
  } else {
    accessToken = pick(spec.opaque, spec.bySubjectType, decision.subjectType).mint();
    records.push(record(storedDigest(deps.keyring.pepper(), accessToken), 'access_token', decision, client, now, exp * 1000, jti, scope, meta));
  }
  let refreshToken: string | undefined;
  if (decision.refreshToken) {
    const rt = formats.refreshToken;
    refreshToken = pick(rt?.opaque ?? refreshTokenFormat, rt?.bySubjectType, decision.subjectType).mint();
    const familyExpiresAt = decision.familyExpiresAt ?? now + settings.refreshTokenTtl * 1000;
    const expiresAt = Math.min(now + settings.refreshTokenIdleTtl * 1000, familyExpiresAt);
    const granted = (decision.refreshScopes ?? decision.scopes).join(' ');
    records.push(
      record(storedDigest(deps.keyring.pepper(), refreshToken), 'refresh_token', decision, client, now, expiresAt, randomBase62(22), granted, {
        ...meta,
        familyExpiresAt,
        grantedScope: granted,
      }),
    );
  }
  if (decision.replaces !== undefined) {
    if (!(await deps.store.tokens.rotate(decision.replaces, now, records))) {
      throw new OAuthError('invalid_grant', 'The refresh token is invalid, expired or revoked.', { field: 'refresh_token' });
    }
  } else {
    for (const r of records) await deps.store.tokens.insert(r);
  }
  const wantsIdToken = decision.subjectType !== undefined && (formats.idToken === 'always' || decision.scopes.includes('openid'));
  return {
    accessToken,
    tokenType: 'Bearer',
    expiresIn: ttl,
    expiresAt: new Date(exp * 1000),
    issuedAt: new Date(iat * 1000),
    scope,
    refreshToken,
    idToken: wantsIdToken
      ? mintIdToken(deps.keyring, {
          issuer: settings.issuer,
          subject: decision.subject,
          clientId: client.id,
          iat,
          exp,
          authTime: decision.authTime,
          nonce: decision.nonce,
          accessToken,
          subjectType: decision.subjectType,
        })
      : undefined,
    clientId: client.id,
  };
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
