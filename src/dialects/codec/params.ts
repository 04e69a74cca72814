/**
 * Body and header decoding shared by the dialects. Each trap listed in docs/requirements.md is
 * handled here once: duplicate parameters, duplicate headers, junk base64, `%` sequences that do not
 * decode, `__proto__` keys, empty values.
 */
import { OAuthError } from '../../wire/errors.ts';
import { headerValues, type HttpRequest } from '../../wire/http.ts';

/** A parameter bag that inherits nothing: `params.constructor` is undefined, `__proto__` is just a key. */
export type Params = Record<string, unknown>;

/**
 * The bags' one prototype: empty, frozen, and itself without a prototype, so a bag inherits nothing
 * (no `__proto__` setter either). Not `Object.create(null)` per bag: V8 keeps such an object in
 * dictionary mode, where adding a name just sliced out of a body cost about 0.8 µs per parameter
 * (against about 0.1 µs for an object with a prototype), and every read of a name the request did
 * not send (`client_assertion`, `scope`, …) missed V8's inline caches.
 */
const NOTHING: object = Object.freeze(Object.create(null));

const emptyParams = (): Params => Object.create(NOTHING) as Params;

const duplicate = (field: string): OAuthError =>
  new OAuthError('invalid_request', 'A request parameter was sent more than once.', { field, reason: 'duplicate' });

/**
 * application/x-www-form-urlencoded → strings; any name twice is `invalid_request` (SECURITY T-05),
 * except the `repeatable` ones (RFC 8707 `resource`), whose values are kept as a list.
 */
export function parseForm(body: Buffer | string, repeatable: readonly string[] = []): Params {
  const text = typeof body === 'string' ? body : utf8(body);
  const out = emptyParams();
  const add = (name: string, value: string): void => {
    if (repeatable.includes(name)) {
      const list = (out[name] ??= []) as string[];
      list.push(value);
    } else {
      if (name in out) throw duplicate(name);
      out[name] = value;
    }
  };
  // The pairs as URLSearchParams reads them (WHATWG URL §5.1). A body with no `%` and no `+` has
  // nothing to decode, so splitting it at `&` and the first `=` gives the same pairs without building
  // a URLSearchParams (the usual token request: `grant_type=client_credentials`); a lone surrogate (a
  // string body only: a Buffer was decoded strictly) goes the standard way too. URLSearchParams drops
  // a leading `?` of a string it is given (a query's), which a form body does not have: a leading `&`
  // (an empty pair, skipped) keeps it part of the first name, as the split below does.
  if (text.includes('%') || text.includes('+') || !text.isWellFormed()) {
    new URLSearchParams(text.startsWith('?') ? `&${text}` : text).forEach((value, name) => add(name, value));
    return out;
  }
  for (const part of text.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    if (eq < 0) add(part, '');
    else add(part.slice(0, eq), part.slice(eq + 1));
  }
  return out;
}

/**
 * The values of a repeatable parameter as a list (a form gives a list already, a JSON body a string
 * or an array of strings); removed from `params`. Empty values are omitted (RFC 6749 §3.2).
 */
export function takeList(params: Params, name: string): string[] {
  const value = params[name];
  delete params[name];
  if (value === undefined) return [];
  const list = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(list) || !list.every((v) => typeof v === 'string')) {
    throw new OAuthError('invalid_request', 'Every request parameter must be a string.', { field: name, reason: 'not_string' });
  }
  return list.filter((v) => v !== '');
}

/** A JSON object body → values as parsed (the dialect checks their types); duplicates rejected. */
export function parseJsonObject(body: Buffer): Params {
  const text = utf8(body);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (cause) {
    throw new OAuthError('invalid_request', 'The request body is not valid JSON.', { reason: 'body', cause });
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new OAuthError('invalid_request', 'The request body must be a JSON object.', { reason: 'body' });
  }
  const dup = firstDuplicateKey(text);
  if (dup !== undefined) throw duplicate(dup);
  const out = emptyParams();
  for (const [k, v] of Object.entries(parsed)) out[k] = v;
  return out;
}

/** Strict UTF-8 (invalid bytes throw). One shared decoder: a non-streaming decode keeps no state. */
const UTF8 = new TextDecoder('utf-8', { fatal: true });

function utf8(body: Buffer): string {
  try {
    return UTF8.decode(body);
  } catch (cause) {
    throw new OAuthError('invalid_request', 'The request body is not valid UTF-8.', { reason: 'body', cause });
  }
}

/**
 * The first key that appears twice in one object of a JSON text already known to be valid
 * (JSON.parse silently keeps the last one). Scans tokens; does not re-validate.
 */
export function firstDuplicateKey(text: string): string | undefined {
  const stack: Array<Set<string> | null> = []; // a Set per open object, null per open array
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '{') {
      stack.push(new Set());
      expectKey = true;
    } else if (ch === '[') {
      stack.push(null);
      expectKey = false;
    } else if (ch === '}' || ch === ']') {
      stack.pop();
      expectKey = false;
    } else if (ch === ',') {
      expectKey = stack.at(-1) instanceof Set;
    } else if (ch === '"') {
      let j = i + 1;
      while (text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      if (expectKey) {
        const key = JSON.parse(text.slice(i, j + 1)) as string;
        const keys = stack.at(-1) as Set<string>;
        if (keys.has(key)) return key;
        keys.add(key);
        expectKey = false;
      }
      i = j;
    }
  }
  return undefined;
}

/** Only non-empty string values, as the protocol layer wants them (RFC 6749 §3.2: empty ≡ omitted). */
export function stringParams(params: Params, names?: readonly string[]): Record<string, string> {
  const out = emptyParams() as Record<string, string>;
  for (const name of names ?? Object.keys(params)) {
    const v = params[name];
    if (typeof v === 'string' && v !== '') out[name] = v;
  }
  return out;
}

/** The single value of a header; a header sent twice is `invalid_request` (Node would keep the first). */
export function singleHeader(req: HttpRequest, name: string): string | undefined {
  const values = headerValues(req, name);
  if (values === undefined || values.length === 0) return undefined;
  if (values.length > 1) {
    throw new OAuthError('invalid_request', 'A request header was sent more than once.', { field: name, reason: 'duplicate' });
  }
  return values[0];
}

/** The media type of the body, lower-cased, without parameters; undefined when absent. */
export function mediaType(req: HttpRequest): { type: string; charset: string | undefined } | undefined {
  const raw = singleHeader(req, 'content-type');
  if (raw === undefined) return undefined;
  const [type = '', ...rest] = raw.split(';');
  let charset: string | undefined;
  for (const p of rest) {
    const [k, v] = p.split('=');
    if (k?.trim().toLowerCase() === 'charset') charset = v?.trim().replace(/^"|"$/g, '').toLowerCase();
  }
  return { type: type.trim().toLowerCase(), charset };
}

export interface BasicCredentials {
  readonly clientId: string;
  readonly clientSecret: string;
}

/**
 * `Authorization: Basic` per RFC 6749 §2.3.1: base64 → split at the first `:` → form-urldecode
 * each half (SECURITY A-03). Undefined when there is no Authorization header; a header that is
 * not well-formed Basic is a failed authentication (401), never a 500.
 */
export function basicCredentials(req: HttpRequest): BasicCredentials | undefined {
  const header = singleHeader(req, 'authorization');
  if (header === undefined) return undefined;
  const fail = (): never => {
    throw new OAuthError('invalid_client', 'Client authentication failed.', { reason: 'credentials' });
  };
  const match = /^Basic +([A-Za-z0-9+/]+={0,2}) *$/i.exec(header);
  if (!match || match[1]!.length % 4 !== 0) return fail();
  let decoded: string;
  try {
    decoded = UTF8.decode(Buffer.from(match[1]!, 'base64'));
  } catch {
    return fail();
  }
  const colon = decoded.indexOf(':');
  if (colon < 0) return fail();
  const clientId = formUrlDecode(decoded.slice(0, colon));
  const clientSecret = formUrlDecode(decoded.slice(colon + 1));
  if (clientId === undefined || clientSecret === undefined || clientId === '') return fail();
  return { clientId, clientSecret };
}

/** `+` → space, then percent-decoding; undefined when a `%` sequence does not decode. */
export function formUrlDecode(value: string): string | undefined {
  // Generated ids and secrets have neither: nothing to decode.
  if (!value.includes('%') && !value.includes('+')) return value;
  try {
    return decodeURIComponent(value.replace(/\+/g, ' '));
  } catch {
    return undefined;
  }
}

/** Names that must never travel in a URI (RFC 6749 §2.3.1, SECURITY A-04). */
const SECRET_BEARING = ['client_id', 'client_secret', 'client_assertion', 'code', 'code_verifier', 'refresh_token', 'session_token', 'token', 'apiKey', 'apiSecret'];

/**
 * Rejects credentials in the query string and parameters that appear in both query and body.
 * Other query parameters are ignored (SECURITY T-04).
 */
export function rejectQueryCredentials(req: HttpRequest, body: Params): void {
  if (req.query === '') return;
  for (const [name] of new URLSearchParams(req.query)) {
    if (SECRET_BEARING.includes(name)) {
      throw new OAuthError('invalid_request', 'Credentials must not be sent in the request URI.', { field: name, reason: 'malformed' });
    }
    if (name in body) throw duplicate(name);
  }
}
