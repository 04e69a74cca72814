/**
 * The example requests `dialect-docs.ts` performs against a real server, per dialect: the success
 * and each error a live server produces on demand, plus the errors that depend on load or a failing
 * dependency (429, 5xx), encoded by the codec from a canonical OAuthError.
 */
import { OAuthError, toOAuthError, UnavailableError } from '../src/wire/errors.ts';

export interface Credentials {
  /** An active client. */
  readonly id: string;
  readonly secret: string;
  /** A disabled client. */
  readonly disabledId: string;
  readonly disabledSecret: string;
  /** A client limited to another dialect. */
  readonly otherId: string;
  readonly otherSecret: string;
  /** A well-formed id and secret no client holds; an id of another environment. */
  readonly unknownId: string;
  readonly foreignId: string;
  readonly wrongSecret: string;
}

export interface LiveCase {
  readonly title: string;
  readonly method?: string;
  readonly headers: Record<string, string>;
  readonly body: string;
}

export interface CodecCase {
  readonly title: string;
  readonly error: OAuthError;
}

const FORM = { 'Content-Type': 'application/x-www-form-urlencoded' };
const JSON_H = { 'Content-Type': 'application/json' };
const form = (o: Record<string, string>) => new URLSearchParams(o).toString();
const json = (o: unknown) => JSON.stringify(o);

export const CODEC_CASES: readonly CodecCase[] = [
  {
    title: 'Rate limited (429)',
    error: new OAuthError('rate_limited', 'Too many requests.', { retryAfter: 30, rateLimit: { limit: 100, remaining: 0, resetAt: 1767225630 } }),
  },
  { title: 'Internal error (500)', error: toOAuthError(new Error('an unexpected failure')) },
  { title: 'Overloaded or a dependency down (503)', error: toOAuthError(new UnavailableError('store unavailable')) },
];

export function liveCases(dialect: string, c: Credentials): LiveCase[] {
  const get: LiveCase = { title: 'Method other than POST (405)', method: 'GET', headers: {}, body: '' };
  switch (dialect) {
    case 'oauth2': {
      const basicOf = (id: string, secret: string) => ({ ...FORM, Authorization: `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}` });
      const cc = { grant_type: 'client_credentials' };
      return [
        { title: 'Success (client_secret_basic)', headers: basicOf(c.id, c.secret), body: form(cc) },
        { title: 'Success (client_secret_post, JSON extension)', headers: JSON_H, body: json({ ...cc, client_id: c.id, client_secret: c.secret }) },
        { title: 'grant_type missing (400)', headers: basicOf(c.id, c.secret), body: form({ scope: 'read' }) },
        { title: 'grant_type unsupported (400)', headers: basicOf(c.id, c.secret), body: form({ grant_type: 'password' }) },
        { title: 'Scope not allowed (400)', headers: basicOf(c.id, c.secret), body: form({ ...cc, scope: 'admin' }) },
        { title: 'Parameter sent twice (400)', headers: basicOf(c.id, c.secret), body: 'grant_type=client_credentials&grant_type=client_credentials' },
        { title: 'Two authentication methods (400)', headers: basicOf(c.id, c.secret), body: form({ ...cc, client_secret: c.secret }) },
        { title: 'No client authentication (401)', headers: FORM, body: form(cc) },
        { title: 'Wrong secret via Basic (401; an unknown client answers the same bytes)', headers: basicOf(c.id, c.wrongSecret), body: form(cc) },
        { title: 'Wrong secret in the body (401, no WWW-Authenticate)', headers: FORM, body: form({ ...cc, client_id: c.id, client_secret: c.wrongSecret }) },
        { title: 'Disabled client (401)', headers: basicOf(c.disabledId, c.disabledSecret), body: form(cc) },
        { title: 'Client limited to other dialects (400)', headers: basicOf(c.otherId, c.otherSecret), body: form(cc) },
        { title: 'Content-Type not accepted (400)', headers: { ...basicOf(c.id, c.secret), 'Content-Type': 'text/plain' }, body: form(cc) },
        get,
      ];
    }
    case 'polygon-oms':
      return [
        { title: 'Success', headers: JSON_H, body: json({ apiKey: c.id, apiSecret: c.secret }) },
        { title: 'Form data instead of JSON (400)', headers: FORM, body: form({ apiKey: c.id, apiSecret: c.secret }) },
        { title: 'Body is not valid JSON (400)', headers: JSON_H, body: '{"apiKey":' },
        { title: 'apiSecret missing (400)', headers: JSON_H, body: json({ apiKey: c.id }) },
        { title: 'apiKey not a string (400)', headers: JSON_H, body: json({ apiKey: 12345, apiSecret: c.secret }) },
        { title: 'Wrong secret (401; an unknown key answers the same bytes)', headers: JSON_H, body: json({ apiKey: c.id, apiSecret: c.wrongSecret }) },
        { title: 'Unknown key (401)', headers: JSON_H, body: json({ apiKey: c.unknownId, apiSecret: c.wrongSecret }) },
        { title: 'Key of another environment (401)', headers: JSON_H, body: json({ apiKey: c.foreignId, apiSecret: c.secret }) },
        { title: 'Disabled key (401)', headers: JSON_H, body: json({ apiKey: c.disabledId, apiSecret: c.disabledSecret }) },
        { title: 'Key limited to other dialects (403)', headers: JSON_H, body: json({ apiKey: c.otherId, apiSecret: c.otherSecret }) },
        get,
      ];
    case 'orum':
      return [
        { title: 'Success (JSON)', headers: JSON_H, body: json({ client_id: c.id, client_secret: c.secret }) },
        { title: 'Success (form data)', headers: FORM, body: form({ client_id: c.id, client_secret: c.secret }) },
        { title: 'client_id missing (400)', headers: JSON_H, body: json({ client_secret: c.secret }) },
        { title: 'client_id not a string (400)', headers: JSON_H, body: json({ client_id: 12345, client_secret: c.secret }) },
        { title: 'client_secret missing (400)', headers: JSON_H, body: json({ client_id: c.id }) },
        { title: 'client_secret not a string (400)', headers: JSON_H, body: json({ client_id: c.id, client_secret: true }) },
        { title: 'grant_type other than client_credentials (400)', headers: JSON_H, body: json({ client_id: c.id, client_secret: c.secret, grant_type: 'password' }) },
        { title: 'Body is not valid JSON (400)', headers: JSON_H, body: '{"client_id":' },
        { title: 'Wrong secret (401; an unknown client answers the same bytes)', headers: JSON_H, body: json({ client_id: c.id, client_secret: c.wrongSecret }) },
        { title: 'Unknown client (401)', headers: JSON_H, body: json({ client_id: c.unknownId, client_secret: c.wrongSecret }) },
        { title: 'Disabled client (403)', headers: JSON_H, body: json({ client_id: c.disabledId, client_secret: c.disabledSecret }) },
        { title: 'Client limited to other dialects (403)', headers: JSON_H, body: json({ client_id: c.otherId, client_secret: c.otherSecret }) },
        get,
      ];
    case 'tradevest': {
      const cc = { grant_type: 'client_credentials', client_id: c.id, client_secret: c.secret };
      return [
        { title: 'Success', headers: FORM, body: form(cc) },
        { title: 'Content-Type missing (400)', headers: {}, body: form(cc) },
        { title: 'JSON instead of form data (400)', headers: JSON_H, body: json(cc) },
        { title: 'grant_type missing (400)', headers: FORM, body: form({ client_id: c.id, client_secret: c.secret }) },
        { title: 'grant_type unsupported (400)', headers: FORM, body: form({ ...cc, grant_type: 'password' }) },
        { title: 'Wrong secret (400; an unknown client answers the same bytes)', headers: FORM, body: form({ ...cc, client_secret: c.wrongSecret }) },
        { title: 'Unknown client (400)', headers: FORM, body: form({ ...cc, client_id: c.unknownId, client_secret: c.wrongSecret }) },
        { title: 'Disabled client (400)', headers: FORM, body: form({ ...cc, client_id: c.disabledId, client_secret: c.disabledSecret }) },
        { title: 'Client limited to other dialects (400)', headers: FORM, body: form({ ...cc, client_id: c.otherId, client_secret: c.otherSecret }) },
        get,
      ];
    }
    case 'fuuffy':
      return [
        { title: 'Success', headers: FORM, body: form({ client_id: c.id, client_secret: c.secret }) },
        { title: 'client_secret missing (400)', headers: FORM, body: form({ client_id: c.id }) },
        { title: 'grant_type other than client_credentials (400)', headers: FORM, body: form({ client_id: c.id, client_secret: c.secret, grant_type: 'password' }) },
        { title: 'JSON instead of form data (400)', headers: JSON_H, body: json({ client_id: c.id, client_secret: c.secret }) },
        { title: 'Wrong secret (401; an unknown client answers the same bytes)', headers: FORM, body: form({ client_id: c.id, client_secret: c.wrongSecret }) },
        { title: 'Unknown client (401)', headers: FORM, body: form({ client_id: c.unknownId, client_secret: c.wrongSecret }) },
        { title: 'Disabled client (403)', headers: FORM, body: form({ client_id: c.disabledId, client_secret: c.disabledSecret }) },
        { title: 'Client limited to other dialects (403)', headers: FORM, body: form({ client_id: c.otherId, client_secret: c.otherSecret }) },
        get,
      ];
    default:
      return [];
  }
}

/** Codec-only rows beyond the common three (Fuuffy documents a 404 of its own). */
export function extraCodecCases(dialect: string): CodecCase[] {
  return dialect === 'fuuffy' ? [{ title: 'Not found (404)', error: new OAuthError('not_found', 'No such endpoint.') }] : [];
}

/** Keymint's decisions where the provider's documentation is silent, shown on each dialect's page. */
export const NOTES: Readonly<Record<string, readonly string[]>> = {
  oauth2: [
    'JSON bodies (`application/json`) are accepted as an extension; every value must be a string.',
    'A request with no client authentication is 401 `invalid_client` (RFC 6749 §5.2); `WWW-Authenticate: Basic` accompanies a 401 only when the client used Basic.',
    'The `scope` member is always present in a success (possibly empty when the client has no scopes); a client without scopes that asks for none gets an empty scope.',
    'Errors with no RFC 6749 code of their own: 405 and 413 are `invalid_request`, 429 is `temporarily_unavailable` with `Retry-After`.',
    'The grants `authorization_code`, `refresh_token` and `web` are documented in [../user-grants.md](../user-grants.md).',
  ],
  'polygon-oms': [
    'A method other than POST is answered as every webrpc service answers it: 405 `WebrpcBadMethod` (code -3, `bad method`), with `Allow: POST`.',
    '`cause` is one of `apiKey`, `apiSecret`, `body` (not a JSON object, or a duplicated unknown key), `content-type`, `method`, `signature` (unknown key or wrong secret), `environment`, `revoked` (disabled key); 403, 429 and 5xx carry none.',
    'A disabled key is 401 with `cause: "revoked"` (the seed documents 401 for revoked credentials); a key limited to other dialects, or without the client_credentials grant, is 403 `PermissionDenied`.',
    'Unrecognised JSON members are ignored; a member sent twice is 400.',
  ],
  orum: [
    'A `grant_type` other than `client_credentials` (or not a string) is 400 `invalid_grant_type`, `grant_type must be client_credentials`, following the seed\'s `invalid_<field>` pattern.',
    'A parameter sent twice, a body that does not parse, and a Content-Type other than JSON or form are 400 `invalid_request`.',
    'A client limited to other dialects, or without the client_credentials grant, is 403 `forbidden`, `client is not allowed to use this endpoint`.',
    '405 is `method_not_allowed`, `Method Not Allowed`, with `Allow: POST`.',
  ],
  tradevest: [
    'Errors stay inside the seed\'s 400 enum: `invalid_scope` and `invalid_target` are answered as `invalid_request`; a method other than POST is 405 `{"error":"invalid_request"}` with `Allow: POST`.',
    'Client credentials are read from the body only (the seed documents no Basic authentication); absent credentials are 400 `invalid_client`.',
  ],
  fuuffy: [
    '`error_trace` names only the dialect\'s own fields (`client_id`, `client_secret`, `grant_type`), `Content-Type`, or `body`; never a value, never an unknown name.',
    'A method other than POST is 405 `405001` / `method_not_allowed` / `Method not allowed`, following the catalogue\'s pattern.',
    'A disabled client, or one limited to other dialects, is 403 `403001`.',
    'The `X-RateLimit-*` headers accompany a 429 whenever the limiter reports its state; `Retry-After` always does.',
  ],
};
