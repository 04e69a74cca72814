/**
 * Token formats as strategies. A dialect declares how its tokens look (data: `AccessTokenSpec`,
 * `TokenShapes`); the composition root turns each declaration into a format once, and minting asks
 * the format, never which dialect is speaking.
 */
import { andThen, type Maybe } from '../util/maybe.ts';
import type { SigningAlg } from '../config/types.ts';
import { jtiDigest, type SubjectType } from '../storage/types.ts';
import { storedDigest } from './digest.ts';
import { jwtSigner, type SigningMode } from './jwt.ts';
import type { Keyring } from './keyring.ts';
import { KEYMINT_ACCESS, KEYMINT_REFRESH, opaqueFormat, type OpaqueFormat, type OpaqueShape } from './opaque.ts';

/** Opaque shapes by the subject type of a user-delegated token (Polar's `_u_` / `_o_` prefixes). */
export interface TokenShapes {
  readonly default: OpaqueShape;
  readonly user?: OpaqueShape;
  readonly organization?: OpaqueShape;
}

/** How a dialect's access tokens look: an RFC 9068 JWT, or an opaque token stored by digest. */
export type AccessTokenSpec =
  | { readonly format: 'jwt'; /** Overrides the deployment's algorithm (Polygon requires RS256). */ readonly alg?: SigningAlg }
  | { readonly format: 'opaque'; readonly shapes: TokenShapes };

export interface MintedToken {
  readonly token: string;
  /** The key its record is stored under: `pepperKid:hex` of an opaque token, `jti:<id>` of a JWT. */
  readonly digest: string;
}

export interface AccessTokenFormat {
  /** True when a token exists only as its stored record (opaque); a JWT is recorded only to join a family. */
  readonly stored: boolean;
  /** `claims` are the RFC 9068 claims, `jti` included; an opaque format keeps them in the record only. */
  mint(claims: Readonly<Record<string, unknown>> & { readonly jti: string }, subjectType: SubjectType | undefined): Maybe<MintedToken>;
}

export interface RefreshTokenFormat {
  mint(subjectType: SubjectType | undefined): MintedToken;
}

export type FormatKeys = Pick<Keyring, 'signer' | 'pepper'>;

const shapeFor = (shapes: TokenShapes, type: SubjectType | undefined): OpaqueShape => (type !== undefined ? shapes[type] : undefined) ?? shapes.default;

export function accessTokenFormat(spec: AccessTokenSpec, keyring: FormatKeys, deploymentAlg: SigningAlg, signing: SigningMode): AccessTokenFormat {
  if (spec.format === 'jwt') {
    const alg = spec.alg ?? deploymentAlg;
    const signJwt = jwtSigner(signing);
    return {
      stored: false,
      mint: (claims) => andThen(signJwt(keyring.signer(alg), 'at+jwt', claims), (token) => ({ token, digest: jtiDigest(claims.jti) })),
    };
  }
  const formats = byShape(spec.shapes);
  return {
    stored: true,
    mint(_claims, subjectType) {
      const token = formats(subjectType).mint();
      return { token, digest: storedDigest(keyring.pepper(), token) };
    },
  };
}

export function refreshTokenFormat(shapes: TokenShapes | undefined, keyring: Pick<Keyring, 'pepper'>): RefreshTokenFormat {
  const formats = byShape(shapes ?? { default: KEYMINT_REFRESH });
  return {
    mint(subjectType) {
      const token = formats(subjectType).mint();
      return { token, digest: storedDigest(keyring.pepper(), token) };
    },
  };
}

function byShape(shapes: TokenShapes): (type: SubjectType | undefined) => OpaqueFormat {
  const built = new Map<OpaqueShape, OpaqueFormat>();
  return (type) => {
    const shape = shapeFor(shapes, type);
    let format = built.get(shape);
    if (!format) built.set(shape, (format = opaqueFormat(shape)));
    return format;
  };
}

/**
 * Every opaque format a deployment can have issued, given what its dialects declare, plus Keymint's
 * own: what refresh and introspection recognise before any lookup (SECURITY D-03).
 */
export function opaqueFormatsOf(declared: Iterable<{ readonly accessToken: AccessTokenSpec; readonly refreshToken?: TokenShapes }>): OpaqueFormat[] {
  const byPrefix = new Map<string, OpaqueFormat>();
  const add = (shape: OpaqueShape | undefined) => {
    if (shape && !byPrefix.has(shape.prefix)) byPrefix.set(shape.prefix, opaqueFormat(shape));
  };
  add(KEYMINT_REFRESH);
  add(KEYMINT_ACCESS);
  const addAll = (shapes: TokenShapes | undefined) => {
    add(shapes?.default);
    add(shapes?.user);
    add(shapes?.organization);
  };
  for (const d of declared) {
    if (d.accessToken.format === 'opaque') addAll(d.accessToken.shapes);
    addAll(d.refreshToken);
  }
  return [...byPrefix.values()];
}
