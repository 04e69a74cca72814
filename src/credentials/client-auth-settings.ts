/**
 * A client's authentication and token-binding settings: how it authenticates (a secret, or
 * `private_key_jwt` with keys inline or at a `jwks_uri`: RFC 7591 §2), whether its tokens must be
 * DPoP-bound (RFC 9449 §5.2), and what token exchange may give it (RFC 8693). Validated here once
 * for every front end; the view uses the RFC 7591 names.
 */
import type { ClientJwks, ClientRecord, ClientType } from '../storage/types.ts';
import { isScopeToken } from '../wire/scope.ts';
import { ClientKeysError, validateClientJwks } from './client-keys.ts';

/** The input error of the management surfaces: the field, and a message naming no secret. */
export class AuthSettingsError extends Error {
  readonly field: string;
  constructor(field: string, message: string) {
    super(message);
    this.name = 'AuthSettingsError';
    this.field = field;
  }
}

export interface AuthSettingsInput {
  /** `private_key_jwt`: authenticates with assertions and holds no secret. */
  readonly authMethod?: 'private_key_jwt';
  readonly jwks?: unknown;
  readonly jwksUri?: string;
  readonly dpopBound?: boolean;
  readonly exchangeAudiences?: readonly string[];
  readonly exchangeScopes?: readonly string[];
}

export type AuthSettings = Pick<ClientRecord, 'authMethod' | 'jwks' | 'jwksUri' | 'dpopBound' | 'exchangeAudiences' | 'exchangeScopes'>;

/** The settings as stored (defaults left out), or AuthSettingsError naming the field at fault. */
export function authSettings(input: AuthSettingsInput, ctx: { readonly type: ClientType; readonly allowHttpJwksUri: boolean }): AuthSettings {
  const keyed = input.authMethod === 'private_key_jwt';
  if (input.authMethod !== undefined && !keyed) throw new AuthSettingsError('token_endpoint_auth_method', 'token_endpoint_auth_method is client_secret_basic, client_secret_post or private_key_jwt');
  if (keyed && ctx.type !== 'confidential') throw new AuthSettingsError('token_endpoint_auth_method', 'a public client authenticates with none');
  if (!keyed && (input.jwks !== undefined || input.jwksUri !== undefined)) throw new AuthSettingsError('jwks', 'jwks and jwks_uri are for private_key_jwt clients');
  if (keyed && (input.jwks === undefined) === (input.jwksUri === undefined)) throw new AuthSettingsError('jwks', 'a private_key_jwt client has exactly one of jwks and jwks_uri');
  let jwks: ClientJwks | undefined;
  if (input.jwks !== undefined) {
    try {
      jwks = validateClientJwks(input.jwks);
    } catch (err) {
      if (err instanceof ClientKeysError) throw new AuthSettingsError('jwks', err.message);
      throw err;
    }
  }
  if (input.jwksUri !== undefined && !isJwksUri(input.jwksUri, ctx.allowHttpJwksUri)) throw new AuthSettingsError('jwks_uri', 'jwks_uri is an https URL without credentials or fragment');
  if (input.dpopBound !== undefined && typeof input.dpopBound !== 'boolean') throw new AuthSettingsError('dpop_bound_access_tokens', 'dpop_bound_access_tokens is true or false');
  for (const a of input.exchangeAudiences ?? []) {
    if (typeof a !== 'string' || URL.parse(a) === null || /\s/.test(a)) throw new AuthSettingsError('exchange_audiences', 'an exchange audience is an absolute URI');
  }
  for (const s of input.exchangeScopes ?? []) {
    if (typeof s !== 'string' || !isScopeToken(s)) throw new AuthSettingsError('exchange_scopes', 'an exchange scope is an RFC 6749 scope token');
  }
  return {
    ...(keyed ? { authMethod: 'private_key_jwt' as const } : {}),
    ...(jwks === undefined ? {} : { jwks }),
    ...(input.jwksUri === undefined ? {} : { jwksUri: input.jwksUri }),
    ...(input.dpopBound === true ? { dpopBound: true } : {}),
    ...(input.exchangeAudiences?.length ? { exchangeAudiences: [...new Set(input.exchangeAudiences)] } : {}),
    ...(input.exchangeScopes?.length ? { exchangeScopes: [...new Set(input.exchangeScopes)] } : {}),
  };
}

/**
 * Whether `value` may be a client's `jwks_uri`, whichever way the client came (the admin API, RFC
 * 7591 registration, a metadata document): an https URL (http only when allowed) without
 * credentials or fragment. The fetch checks again; this refuses a client that could never authenticate.
 */
export function isJwksUri(value: unknown, allowHttp: boolean): value is string {
  const url = typeof value === 'string' ? URL.parse(value) : null;
  if (!url || !(url.protocol === 'https:' || (url.protocol === 'http:' && allowHttp))) return false;
  return url.username === '' && url.password === '' && !(value as string).includes('#');
}

/** The settings in a client's public view, by their RFC 7591 / RFC 9449 names. */
export function authView(c: ClientRecord) {
  return {
    token_endpoint_auth_method: c.type === 'public' ? 'none' : (c.authMethod ?? 'client_secret_basic'),
    ...(c.jwks === undefined ? {} : { jwks: c.jwks }),
    ...(c.jwksUri === undefined ? {} : { jwks_uri: c.jwksUri }),
    dpop_bound_access_tokens: c.dpopBound === true,
    exchange_audiences: [...(c.exchangeAudiences ?? [])],
    exchange_scopes: [...(c.exchangeScopes ?? [])],
  };
}
