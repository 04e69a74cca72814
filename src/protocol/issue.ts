/**
 * The one place that mints tokens and persists what must be durable. A stateful token's record is
 * written before the result is returned, so a 200 is only ever sent for a token the store holds.
 */
import type { GrantDecision } from '../grants/types.ts';
import type { ClientRecord, Store, TokenRecord } from '../storage/types.ts';
import { storedDigest } from '../tokens/digest.ts';
import { signJwt } from '../tokens/jwt.ts';
import type { Keyring, SigningAlg } from '../tokens/keyring.ts';
import { prefixedFormat, type OpaqueFormat } from '../tokens/opaque.ts';
import { randomBase62 } from '../tokens/random.ts';
import type { TokenResult } from './token-request.ts';

/** How a dialect's access tokens look: an RFC 9068 JWT, or an opaque stored token. */
export type AccessTokenSpec =
  | { readonly format: 'jwt'; /** Overrides the deployment's algorithm (Polygon requires RS256). */ readonly alg?: SigningAlg }
  | { readonly format: 'opaque'; readonly opaque: OpaqueFormat };

export interface IssueSettings {
  readonly issuer: string;
  readonly alg: SigningAlg;
  /** Default access-token lifetime, seconds. */
  readonly accessTokenTtl: number;
  /** Refresh-token absolute lifetime, seconds. */
  readonly refreshTokenTtl: number;
}

export interface IssueDeps {
  readonly keyring: Pick<Keyring, 'signer' | 'pepper'>;
  readonly store: Pick<Store, 'tokens'>;
  readonly settings: IssueSettings;
}

export const refreshTokenFormat = prefixedFormat('keymint-refresh', 'km_rt_');

export async function issue(
  decision: GrantDecision,
  client: ClientRecord,
  spec: AccessTokenSpec,
  now: number,
  deps: IssueDeps,
): Promise<TokenResult> {
  const { settings } = deps;
  const ttl = client.accessTokenTtl ?? settings.accessTokenTtl;
  const iat = Math.floor(now / 1000);
  const exp = iat + ttl;
  const jti = randomBase62(22);
  const scope = decision.scopes.join(' ');
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
      mode: client.mode,
      env: client.environment,
    };
    accessToken = signJwt(deps.keyring.signer(spec.alg ?? settings.alg), 'at+jwt', claims);
  } else {
    accessToken = spec.opaque.mint();
    await deps.store.tokens.insert(record(deps, accessToken, 'access_token', decision, client, now, exp * 1000, jti));
  }
  let refreshToken: string | undefined;
  if (decision.refreshToken) {
    refreshToken = refreshTokenFormat.mint();
    const refreshExp = now + settings.refreshTokenTtl * 1000;
    await deps.store.tokens.insert(record(deps, refreshToken, 'refresh_token', decision, client, now, refreshExp, randomBase62(22)));
  }
  return {
    accessToken,
    tokenType: 'Bearer',
    expiresIn: ttl,
    expiresAt: new Date(exp * 1000),
    issuedAt: new Date(iat * 1000),
    scope,
    refreshToken,
    clientId: client.id,
  };
}

function record(
  deps: IssueDeps,
  token: string,
  kind: TokenRecord['kind'],
  decision: GrantDecision,
  client: ClientRecord,
  now: number,
  expiresAt: number,
  jti: string,
): TokenRecord {
  return {
    digest: storedDigest(deps.keyring.pepper(), token),
    kind,
    clientId: client.id,
    subject: decision.subject,
    scope: decision.scopes.join(' '),
    audience: decision.audience,
    issuedAt: now,
    expiresAt,
    revokedAt: null,
    familyId: decision.familyId,
    jti,
  };
}
