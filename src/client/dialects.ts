/**
 * How each dialect Keymint speaks asks for a token and answers (the contracts in docs/dialects/), so one
 * token source fetches from any of those providers, real or Keymint-emulated. Each codec turns the
 * canonical input into headers + body and the provider's 200 into a canonical grant.
 */

import { JWT_BEARER_ASSERTION_TYPE } from './client-assertion.ts';

export type Grant =
  | { readonly type: 'client_credentials' }
  /** RFC 6749 §6. Polar rotates it: the newest one is kept and passed to `onRefreshToken`. */
  | { readonly type: 'refresh_token'; readonly refreshToken: string }
  /** Polar's `web` grant: a session token for a user, or an organization (`sub` required). */
  | { readonly type: 'web'; readonly sessionToken: string; readonly subType?: 'user' | 'organization'; readonly sub?: string };

export interface RequestInput {
  readonly clientId: string;
  /** Empty when the client authenticates with an assertion instead. */
  readonly clientSecret: string;
  /** A `private_key_jwt` assertion, for dialects with `privateKeyJwt` (RFC 7523 §2.2). */
  readonly clientAssertion: string | undefined;
  readonly scope: string | undefined;
  readonly audience: string | undefined;
  readonly grant: Grant;
}

export interface EncodedRequest {
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

/** A successful answer, canonical. Times are relative to when the request was sent. */
export interface Issued {
  readonly accessToken: string;
  readonly expiresInSec: number | undefined;
  /** Absolute expiry when the dialect states one (Polygon's `expiresAt`), ms since the epoch. */
  readonly expiresAtMs: number | undefined;
  readonly refreshToken: string | undefined;
  /** `DPoP` when the token is bound to the proof key (RFC 9449 §5). */
  readonly tokenType: 'Bearer' | 'DPoP';
}

export interface DialectCodec {
  readonly name: string;
  readonly grants: readonly Grant['type'][];
  /** Whether `scope` / `audience` can be sent at all. */
  readonly scope: boolean;
  readonly audience: boolean;
  /** Whether the endpoint takes `private_key_jwt` and DPoP proofs (the standard one does). */
  readonly privateKeyJwt: boolean;
  readonly dpop: boolean;
  encode(input: RequestInput): EncodedRequest;
  /** Throws a plain Error when the body does not have the dialect's shape. */
  decode(body: unknown): Issued;
  /** The provider's own error code in an error body, if any. */
  errorCode(body: unknown): string | undefined;
}

const FORM = { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' };
const JSON_HEADERS = { 'content-type': 'application/json', accept: 'application/json' };
const form = (fields: Record<string, string | undefined>): string =>
  new URLSearchParams(Object.entries(fields).filter((e): e is [string, string] => e[1] !== undefined)).toString();

/** `client_secret_basic` with each half form-urlencoded first (RFC 6749 §2.3.1, SECURITY A-03). */
export function basicAuth(id: string, secret: string): string {
  const enc = (v: string) => form({ v }).slice(2);
  return `Basic ${Buffer.from(`${enc(id)}:${enc(secret)}`).toString('base64')}`;
}

function grantFields(grant: Grant): Record<string, string | undefined> {
  switch (grant.type) {
    case 'client_credentials':
      return { grant_type: 'client_credentials' };
    case 'refresh_token':
      return { grant_type: 'refresh_token', refresh_token: grant.refreshToken };
    case 'web':
      return { grant_type: 'web', session_token: grant.sessionToken, sub_type: grant.subType, sub: grant.sub };
  }
}

const obj = (v: unknown): Record<string, unknown> => {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error('the body is not a JSON object');
  return v as Record<string, unknown>;
};
const str = (v: unknown, name: string): string => {
  if (typeof v !== 'string' || v === '') throw new Error(`${name} is not a non-empty string`);
  return v;
};
const seconds = (v: unknown, name: string): number | undefined => {
  if (v === undefined || v === null) return undefined;
  const n = typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isFinite(n) || n <= 0) throw new Error(`${name} is not a positive number`);
  return n;
};
const tokenType = (v: unknown): 'Bearer' | 'DPoP' => {
  const type = typeof v === 'string' ? v.toLowerCase() : v;
  if (type === undefined || type === 'bearer') return 'Bearer';
  if (type === 'dpop') return 'DPoP';
  throw new Error('token_type is neither Bearer nor DPoP');
};

/** `{access_token, token_type, expires_in, refresh_token?}` (RFC 6749 §5.1 and its cousins). */
function decodeRfc(body: unknown): Issued {
  const b = obj(body);
  return {
    accessToken: str(b.access_token, 'access_token'),
    expiresInSec: seconds(b.expires_in, 'expires_in'),
    expiresAtMs: undefined,
    refreshToken: typeof b.refresh_token === 'string' && b.refresh_token !== '' ? b.refresh_token : undefined,
    tokenType: tokenType(b.token_type),
  };
}

const field = (name: string) => (body: unknown) => {
  const v = (body as Record<string, unknown> | null)?.[name];
  return typeof v === 'string' ? v : undefined;
};

export const DIALECTS = {
  /**
   * RFC 6749: form, `client_secret_basic` or `private_key_jwt` (RFC 7523 §2.2), `resource` for the
   * audience (RFC 8707).
   */
  oauth2: {
    name: 'oauth2',
    grants: ['client_credentials', 'refresh_token', 'web'],
    scope: true,
    audience: true,
    privateKeyJwt: true,
    dpop: true,
    encode: (i) =>
      i.clientAssertion === undefined
        ? {
            headers: { ...FORM, authorization: basicAuth(i.clientId, i.clientSecret) },
            body: form({ ...grantFields(i.grant), scope: i.scope, resource: i.audience }),
          }
        : {
            headers: FORM,
            body: form({
              ...grantFields(i.grant),
              scope: i.scope,
              resource: i.audience,
              client_id: i.clientId,
              client_assertion_type: JWT_BEARER_ASSERTION_TYPE,
              client_assertion: i.clientAssertion,
            }),
          },
    decode: decodeRfc,
    errorCode: field('error'),
  },
  /** Polygon OMS: JSON `{apiKey, apiSecret}` → `{accessToken, tokenType, expiresIn, expiresAt}`. */
  'polygon-oms': {
    name: 'polygon-oms',
    grants: ['client_credentials'],
    scope: false,
    audience: false,
    privateKeyJwt: false,
    dpop: false,
    encode: (i) => ({ headers: JSON_HEADERS, body: JSON.stringify({ apiKey: i.clientId, apiSecret: i.clientSecret }) }),
    decode: (body) => {
      const b = obj(body);
      if (tokenType(b.tokenType) !== 'Bearer') throw new Error('tokenType is not Bearer');
      const at = b.expiresAt === undefined ? undefined : Date.parse(str(b.expiresAt, 'expiresAt'));
      if (at !== undefined && Number.isNaN(at)) throw new Error('expiresAt is not a date-time');
      return { accessToken: str(b.accessToken, 'accessToken'), expiresInSec: seconds(b.expiresIn, 'expiresIn'), expiresAtMs: at, refreshToken: undefined, tokenType: 'Bearer' };
    },
    errorCode: field('error'),
  },
  /** Orum: JSON `{client_id, client_secret}` → `{access_token, token_type, expires_in}`. */
  orum: {
    name: 'orum',
    grants: ['client_credentials'],
    scope: false,
    audience: false,
    privateKeyJwt: false,
    dpop: false,
    encode: (i) => ({ headers: JSON_HEADERS, body: JSON.stringify({ client_id: i.clientId, client_secret: i.clientSecret }) }),
    decode: decodeRfc,
    errorCode: field('error_code'),
  },
  /**
   * Polar: form with the credentials in the body; no `client_credentials` (the dialect does not offer
   * it): give `grant: {type: 'refresh_token', refreshToken}` (after an authorization-code flow done
   * elsewhere) or `{type: 'web', sessionToken, …}`. Always six fields back; the refresh token rotates.
   */
  polar: {
    name: 'polar',
    grants: ['refresh_token', 'web'],
    scope: true,
    audience: false,
    privateKeyJwt: false,
    dpop: false,
    encode: (i) => ({
      headers: FORM,
      body: form({ ...grantFields(i.grant), client_id: i.clientId, client_secret: i.clientSecret, scope: i.scope }),
    }),
    decode: decodeRfc,
    errorCode: field('error'),
  },
  /** Tradevest: form only (Content-Type required), `grant_type=client_credentials`, optional scope. */
  tradevest: {
    name: 'tradevest',
    grants: ['client_credentials'],
    scope: true,
    audience: false,
    privateKeyJwt: false,
    dpop: false,
    encode: (i) => ({
      headers: FORM,
      body: form({ client_id: i.clientId, client_secret: i.clientSecret, grant_type: 'client_credentials', scope: i.scope }),
    }),
    decode: decodeRfc,
    errorCode: field('error'),
  },
  /** Fuuffy: form `{client_id, client_secret}` → `{"data": {access_token, token_type, expires_in}}`. */
  fuuffy: {
    name: 'fuuffy',
    grants: ['client_credentials'],
    scope: false,
    audience: false,
    privateKeyJwt: false,
    dpop: false,
    encode: (i) => ({ headers: FORM, body: form({ client_id: i.clientId, client_secret: i.clientSecret }) }),
    decode: (body) => decodeRfc(obj(body).data),
    errorCode: (body) => field('code_reason')((body as Record<string, unknown> | null)?.error),
  },
} as const satisfies Record<string, DialectCodec>;

export type DialectName = keyof typeof DIALECTS;
