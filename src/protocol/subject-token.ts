/**
 * Subject and actor tokens of a token exchange (RFC 8693 §2.1), read into what the exchange needs:
 * who the token names, what it allows, its delegation chain and its key binding. Two sources:
 *
 * - Keymint's own access tokens (JWT or opaque), through the same view as introspection: active,
 *   not revoked, any client's;
 * - JWTs of issuers the operator trusts, verified against that issuer's JWKS: signature, `iss`,
 *   `exp` required and not passed, `aud` naming this server's issuer.
 *
 * Anything else (unknown issuer, bad signature, expired, revoked, not an access token) is undefined:
 * the grant answers `invalid_grant` for all of them alike.
 */
import { createRemoteJWKSet } from 'jose/jwks/remote';
import { decodeJwt } from 'jose/jwt/decode';
import { jwtVerify } from 'jose/jwt/verify';
import type { JWTPayload } from 'jose';
import type { TrustedIssuer } from '../config/types.ts';
import type { TokenActor } from '../storage/types.ts';
import { actorOf, viewToken, type TokenViewDeps } from './token-view.ts';

export const TOKEN_TYPE = {
  accessToken: 'urn:ietf:params:oauth:token-type:access_token',
  jwt: 'urn:ietf:params:oauth:token-type:jwt',
} as const;

export type Actor = TokenActor;

export interface SubjectToken {
  readonly issuer: string;
  readonly subject: string;
  /** `user` | `organization` for Keymint's user tokens. */
  readonly subjectType: 'user' | 'organization' | undefined;
  readonly scopes: readonly string[];
  /** The delegation chain the token already carries. */
  readonly act: Actor | undefined;
  /** RFC 8693 §4.4 `may_act`: who may act for this subject, when the token says. */
  readonly mayAct: { readonly sub?: string; readonly iss?: string } | undefined;
  /** Thumbprint of the DPoP key the token is bound to. */
  readonly jkt: string | undefined;
  /** Thumbprint of the TLS client certificate the token is bound to (RFC 8705 §3 `x5t#S256`). */
  readonly x5t: string | undefined;
}

export interface SubjectTokenReader {
  read(token: string, type: string, now: number): Promise<SubjectToken | undefined>;
}

export interface SubjectTokenDeps extends TokenViewDeps {
  readonly settings: { readonly issuer: string; readonly exchangeIssuers: readonly TrustedIssuer[] };
}

const MAX_TOKEN_LENGTH = 8192;
const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

export function subjectTokenReader(deps: SubjectTokenDeps): SubjectTokenReader {
  const { issuer } = deps.settings;
  const trusted = new Map(deps.settings.exchangeIssuers.map((t) => [t.issuer, createRemoteJWKSet(new URL(t.jwksUri), { timeoutDuration: 2000, cooldownDuration: 30_000 })]));

  async function external(token: string, now: number): Promise<SubjectToken | undefined> {
    if (!JWT_SHAPE.test(token)) return undefined;
    let iss: unknown;
    try {
      ({ iss } = decodeJwt(token));
    } catch {
      return undefined;
    }
    const keys = typeof iss === 'string' ? trusted.get(iss) : undefined;
    if (!keys) return undefined;
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, keys, { issuer: iss as string, audience: issuer, requiredClaims: ['exp', 'sub'], currentDate: new Date(now) }));
    } catch {
      return undefined;
    }
    return fromClaims(payload, iss as string);
  }

  return {
    async read(token, type, now) {
      if (token.length > MAX_TOKEN_LENGTH) return undefined;
      const view = await viewToken(token, now, deps);
      if (view) {
        if (!view.active || view.kind !== 'access_token') return undefined;
        const claims = view.jwt ? decodeJwt(token) : {};
        return {
          issuer,
          subject: view.subject,
          subjectType: view.subjectType,
          scopes: view.scope.split(' ').filter(Boolean),
          act: view.act,
          mayAct: mayActOf(claims.may_act),
          jkt: view.jkt,
          x5t: view.x5t,
        };
      }
      // An opaque token of another issuer cannot be checked: only JWTs come from trusted issuers.
      return type === TOKEN_TYPE.jwt || type === TOKEN_TYPE.accessToken ? external(token, now) : undefined;
    },
  };
}

function fromClaims(claims: JWTPayload, iss: string): SubjectToken | undefined {
  if (typeof claims.sub !== 'string' || claims.sub === '') return undefined;
  const scope = typeof claims.scope === 'string' ? claims.scope.split(' ').filter(Boolean) : Array.isArray(claims.scp) ? claims.scp.filter((s): s is string => typeof s === 'string') : [];
  const cnf = claims.cnf as { jkt?: unknown; 'x5t#S256'?: unknown } | undefined;
  return {
    issuer: iss,
    subject: claims.sub,
    subjectType: undefined,
    scopes: scope,
    act: actorOf(claims.act),
    mayAct: mayActOf(claims.may_act),
    jkt: typeof cnf?.jkt === 'string' ? cnf.jkt : undefined,
    x5t: typeof cnf?.['x5t#S256'] === 'string' ? cnf['x5t#S256'] : undefined,
  };
}

function mayActOf(value: unknown): SubjectToken['mayAct'] {
  if (typeof value !== 'object' || value === null) return undefined;
  const { sub, iss } = value as { sub?: unknown; iss?: unknown };
  return { ...(typeof sub === 'string' ? { sub } : {}), ...(typeof iss === 'string' ? { iss } : {}) };
}
