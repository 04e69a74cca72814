/**
 * One view of any token this server issued — JWT or opaque access token, refresh token — for
 * introspection, revocation and userinfo. JWTs are verified locally and joined with their `jti:`
 * record (family membership, revocation); opaque tokens are found by digest (token-lookup.ts).
 */
import { jtiDigest, type ClaimValue, type SubjectType, type TokenActor } from '../storage/types.ts';
import { RESERVED_CLAIMS } from '../credentials/client-rules.ts';
import type { LocalJwtVerifier } from '../tokens/local-verify.ts';
import { findStoredToken, type TokenLookupDeps } from './token-lookup.ts';

export interface TokenView {
  readonly kind: 'access_token' | 'refresh_token';
  readonly jwt: boolean;
  /** The stored record's digest (`jti:<id>` for a JWT, whether or not a record exists yet). */
  readonly digest: string;
  readonly recorded: boolean;
  readonly clientId: string;
  readonly subject: string;
  readonly subjectType: SubjectType | undefined;
  readonly scope: string;
  readonly audience: readonly string[];
  /** Epoch ms. */
  readonly issuedAt: number;
  readonly expiresAt: number;
  readonly jti: string;
  readonly familyId: string | null;
  /** Thumbprint of the DPoP key the token is bound to (RFC 9449 §6), if it is. */
  readonly jkt: string | undefined;
  /** Thumbprint of the TLS client certificate the token is bound to (RFC 8705 §3.1), if it is. */
  readonly x5t?: string | undefined;
  /** The delegation chain of an exchanged token (RFC 8693 §4.1), if any. */
  readonly act: TokenActor | undefined;
  /** The client's static claims the access token was issued with (SECURITY CE-05). */
  readonly claims: Readonly<Record<string, ClaimValue>>;
  /** Not revoked and not expired at `now`. */
  readonly active: boolean;
}

/** A JWT's static claims: every claim Keymint's own minting does not write (their names are reserved). */
const staticClaims = (payload: Readonly<Record<string, unknown>>): Record<string, ClaimValue> =>
  Object.fromEntries(Object.entries(payload).filter(([k]) => !RESERVED_CLAIMS.has(k))) as Record<string, ClaimValue>;

export interface TokenViewDeps extends TokenLookupDeps {
  readonly verifyJwt: LocalJwtVerifier;
}

export async function viewToken(token: string, now: number, deps: TokenViewDeps): Promise<TokenView | undefined> {
  const payload = await deps.verifyJwt(token, now);
  if (payload) {
    const jti = typeof payload.jti === 'string' ? payload.jti : undefined;
    const clientId = typeof payload.client_id === 'string' ? payload.client_id : undefined;
    if (jti === undefined || clientId === undefined || typeof payload.exp !== 'number') return undefined;
    const rec = await deps.store.tokens.find([jtiDigest(jti)]);
    const aud = payload.aud === undefined ? [] : Array.isArray(payload.aud) ? payload.aud : [payload.aud];
    const subType = payload.sub_type === 'user' || payload.sub_type === 'organization' ? payload.sub_type : undefined;
    const cnf = payload.cnf as { jkt?: unknown; 'x5t#S256'?: unknown } | undefined;
    return {
      kind: 'access_token',
      jwt: true,
      digest: jtiDigest(jti),
      recorded: rec !== undefined,
      clientId,
      subject: String(payload.sub ?? ''),
      subjectType: subType,
      scope: typeof payload.scope === 'string' ? payload.scope : '',
      audience: aud,
      issuedAt: (payload.iat ?? 0) * 1000,
      expiresAt: payload.exp * 1000,
      jti,
      familyId: rec?.familyId ?? null,
      jkt: typeof cnf?.jkt === 'string' ? cnf.jkt : undefined,
      x5t: typeof cnf?.['x5t#S256'] === 'string' ? cnf['x5t#S256'] : undefined,
      act: actorOf(payload.act),
      claims: staticClaims(payload),
      active: rec?.revokedAt == null && payload.exp * 1000 > now,
    };
  }
  const rec = await findStoredToken(token, deps);
  if (!rec || rec.digest.startsWith('jti:')) return undefined;
  const subType = rec.meta?.subjectType;
  return {
    kind: rec.kind,
    jwt: false,
    digest: rec.digest,
    recorded: true,
    clientId: rec.clientId,
    subject: rec.subject,
    subjectType: subType === 'user' || subType === 'organization' ? subType : undefined,
    scope: rec.scope,
    audience: rec.audience,
    issuedAt: rec.issuedAt,
    expiresAt: rec.expiresAt,
    jti: rec.jti,
    familyId: rec.familyId,
    jkt: rec.meta?.jkt,
    x5t: rec.meta?.x5t,
    act: rec.meta?.act,
    claims: rec.meta?.claims ?? {},
    active: rec.revokedAt === null && rec.expiresAt > now,
  };
}

/** An `act` claim as Keymint reads it (RFC 8693 §4.1): `sub` (and `iss`) at each level, at most 8 deep. */
export function actorOf(value: unknown, depth = 0): TokenActor | undefined {
  if (depth >= 8 || typeof value !== 'object' || value === null) return undefined;
  const { sub, iss, act } = value as { sub?: unknown; iss?: unknown; act?: unknown };
  if (typeof sub !== 'string') return undefined;
  const prior = actorOf(act, depth + 1);
  return { sub, ...(typeof iss === 'string' ? { iss } : {}), ...(prior ? { act: prior } : {}) };
}
