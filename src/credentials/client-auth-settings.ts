/**
 * A client's authentication and token-binding settings: how it authenticates (a secret, or
 * `private_key_jwt` with keys inline or at a `jwks_uri`: RFC 7591 §2), whether its tokens must be
 * DPoP-bound (RFC 9449 §5.2), and what token exchange may give it (RFC 8693). Validated here once
 * for every front end; the view uses the RFC 7591 names.
 */
import { isIP } from 'node:net';
import { SECRETLESS_AUTH_METHODS, type ClientJwks, type ClientRecord, type ClientType, type SecretlessAuthMethod } from '../storage/types.ts';
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

/** RFC 8705 §2.1.2: the names a `tls_client_auth` client may be registered with, by their RFC 7591 metadata names. */
export const TLS_NAMES = {
  tlsSubjectDn: 'tls_client_auth_subject_dn',
  tlsSanDns: 'tls_client_auth_san_dns',
  tlsSanUri: 'tls_client_auth_san_uri',
  tlsSanIp: 'tls_client_auth_san_ip',
  tlsSanEmail: 'tls_client_auth_san_email',
} as const;
export type TlsNameField = keyof typeof TLS_NAMES;
export const TLS_NAME_FIELDS = Object.keys(TLS_NAMES) as TlsNameField[];

export interface AuthSettingsInput extends Partial<Record<TlsNameField, string>> {
  /** Authenticates without a secret: with assertions (`private_key_jwt`) or a certificate (RFC 8705). */
  readonly authMethod?: SecretlessAuthMethod;
  readonly jwks?: unknown;
  readonly jwksUri?: string;
  readonly dpopBound?: boolean;
  /** RFC 8705 §3.4 `tls_client_certificate_bound_access_tokens`. */
  readonly certBound?: boolean;
  readonly exchangeAudiences?: readonly string[];
  readonly exchangeScopes?: readonly string[];
  /** The audiences it is a resource server for at the introspection endpoint (operator-only). */
  readonly introspectionAudiences?: readonly string[];
}

export type AuthSettings = Pick<ClientRecord, 'authMethod' | 'jwks' | 'jwksUri' | 'dpopBound' | 'certBound' | 'exchangeAudiences' | 'exchangeScopes' | 'introspectionAudiences' | TlsNameField>;

/** How many audiences one client may be a resource server for at the introspection endpoint. */
export const MAX_INTROSPECTION_AUDIENCES = 20;

/** Whether the method proves the client with its registered keys (`jwks` or `jwks_uri`). */
export const usesKeys = (method: string | undefined): boolean => method === 'private_key_jwt' || method === 'self_signed_tls_client_auth';

/** A name of RFC 8705 §2.1.2 in the form its kind takes; the message names what is wrong. */
function tlsNameProblem(field: TlsNameField, value: unknown): string | undefined {
  if (typeof value !== 'string' || value.length === 0 || value.length > 1024 || /[\x00-\x1f\x7f]/.test(value)) return 'a non-empty string of at most 1024 characters';
  if (field === 'tlsSanIp' && isIP(value) === 0) return 'an IPv4 or IPv6 address';
  if (field === 'tlsSanUri' && URL.parse(value) === null) return 'an absolute URI';
  if (field === 'tlsSanEmail' && !/^[^@\s]+@[^@\s]+$/.test(value)) return 'an e-mail address';
  if (field === 'tlsSubjectDn' && !/^\s*[A-Za-z][\w.-]*\s*=/.test(value)) return 'a distinguished name such as CN=billing,O=Acme (RFC 4514)';
  return undefined;
}

/** The settings as stored (defaults left out), or AuthSettingsError naming the field at fault. */
export function authSettings(input: AuthSettingsInput, ctx: { readonly type: ClientType; readonly allowHttpJwksUri: boolean }): AuthSettings {
  const method = input.authMethod;
  const keyed = usesKeys(method);
  if (method !== undefined && !(SECRETLESS_AUTH_METHODS as readonly string[]).includes(method)) {
    throw new AuthSettingsError('token_endpoint_auth_method', 'token_endpoint_auth_method is client_secret_basic, client_secret_post, private_key_jwt, tls_client_auth or self_signed_tls_client_auth');
  }
  if (method !== undefined && ctx.type !== 'confidential') throw new AuthSettingsError('token_endpoint_auth_method', 'a public client authenticates with none');
  if (!keyed && (input.jwks !== undefined || input.jwksUri !== undefined)) throw new AuthSettingsError('jwks', 'jwks and jwks_uri are for private_key_jwt and self_signed_tls_client_auth clients');
  if (keyed && (input.jwks === undefined) === (input.jwksUri === undefined)) throw new AuthSettingsError('jwks', `a ${method} client has exactly one of jwks and jwks_uri`);
  const names = TLS_NAME_FIELDS.filter((f) => input[f] !== undefined);
  // RFC 8705 §2.1.2: exactly one name, so which certificate proves the client is never ambiguous.
  if (method === 'tls_client_auth' && names.length !== 1) {
    throw new AuthSettingsError(TLS_NAMES[names[1] ?? 'tlsSubjectDn'], `a tls_client_auth client has exactly one of ${Object.values(TLS_NAMES).join(', ')}`);
  }
  if (method !== 'tls_client_auth' && names.length > 0) throw new AuthSettingsError(TLS_NAMES[names[0]!], `${TLS_NAMES[names[0]!]} is for tls_client_auth clients`);
  for (const f of names) {
    const problem = tlsNameProblem(f, input[f]);
    if (problem !== undefined) throw new AuthSettingsError(TLS_NAMES[f], `${TLS_NAMES[f]} is ${problem}`);
  }
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
  if (input.certBound !== undefined && typeof input.certBound !== 'boolean') throw new AuthSettingsError('tls_client_certificate_bound_access_tokens', 'tls_client_certificate_bound_access_tokens is true or false');
  for (const a of input.exchangeAudiences ?? []) {
    if (typeof a !== 'string' || URL.parse(a) === null || /\s/.test(a)) throw new AuthSettingsError('exchange_audiences', 'an exchange audience is an absolute URI');
  }
  for (const s of input.exchangeScopes ?? []) {
    if (typeof s !== 'string' || !isScopeToken(s)) throw new AuthSettingsError('exchange_scopes', 'an exchange scope is an RFC 6749 scope token');
  }
  if ((input.introspectionAudiences?.length ?? 0) > MAX_INTROSPECTION_AUDIENCES) throw new AuthSettingsError('introspection_audiences', `a client has at most ${MAX_INTROSPECTION_AUDIENCES} introspection audiences`);
  for (const a of input.introspectionAudiences ?? []) {
    if (typeof a !== 'string' || a.length > 2048 || URL.parse(a) === null || /\s/.test(a) || a.includes('#')) {
      throw new AuthSettingsError('introspection_audiences', 'an introspection audience is an absolute URI of at most 2048 characters without a fragment');
    }
  }
  return {
    ...(method === undefined ? {} : { authMethod: method }),
    ...Object.fromEntries(names.map((f) => [f, input[f]])),
    ...(jwks === undefined ? {} : { jwks }),
    ...(input.jwksUri === undefined ? {} : { jwksUri: input.jwksUri }),
    ...(input.dpopBound === true ? { dpopBound: true } : {}),
    ...(input.certBound === true ? { certBound: true } : {}),
    ...(input.exchangeAudiences?.length ? { exchangeAudiences: [...new Set(input.exchangeAudiences)] } : {}),
    ...(input.exchangeScopes?.length ? { exchangeScopes: [...new Set(input.exchangeScopes)] } : {}),
    ...(input.introspectionAudiences?.length ? { introspectionAudiences: [...new Set(input.introspectionAudiences)] } : {}),
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
    ...Object.fromEntries(TLS_NAME_FIELDS.filter((f) => c[f] !== undefined).map((f) => [TLS_NAMES[f], c[f]])),
    dpop_bound_access_tokens: c.dpopBound === true,
    tls_client_certificate_bound_access_tokens: c.certBound === true,
    exchange_audiences: [...(c.exchangeAudiences ?? [])],
    exchange_scopes: [...(c.exchangeScopes ?? [])],
    introspection_audiences: [...(c.introspectionAudiences ?? [])],
  };
}
