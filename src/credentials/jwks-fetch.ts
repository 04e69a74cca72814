/**
 * Fetches a client's `jwks_uri` or client ID metadata document, and POSTs to its `backchannel_logout_uri`
 * (postForm), the way a URL chosen by someone else must be reached (RFC 9700
 * §4.15, SSRF): https only; every address the name resolves to checked, and the connection made to
 * a checked address (the check is the resolver of the request, so a second lookup cannot swap in
 * another one); no redirects; a byte limit while reading; one deadline for the whole exchange.
 *
 * Private, loopback, link-local, shared, multicast and reserved ranges are refused unless
 * `allowPrivateAddresses` is set; plain http only with `allowHttp` (tests and local development).
 */
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import type { IncomingMessage } from 'node:http';
import { BlockList, isIP, type LookupFunction } from 'node:net';
import { http, https } from '../util/node-http.ts';

export interface JwksFetchSettings {
  /** Whole exchange, connect to last byte, ms. */
  readonly timeoutMs: number;
  /** Largest body read, bytes. */
  readonly maxBytes: number;
  /** Lets `jwks_uri` reach private, loopback and link-local addresses (an operator's choice). */
  readonly allowPrivateAddresses: boolean;
  /** Lets `jwks_uri` be plain http (tests and local development only). */
  readonly allowHttp: boolean;
  /**
   * Refuses an answer whose content type is not `application/json` or `application/…+json` (the
   * client ID metadata document draft treats every other type as an error).
   */
  readonly requireJsonType?: boolean;
}

/** `application/json`, or a more specific `application/<name>+json`, parameters aside. */
const JSON_MEDIA_TYPE = /^application\/(?:[a-z0-9!#$&^_.-]+\+)?json$/;

/** Why a fetch failed; the message names no address and repeats nothing the server sent. */
export class JwksFetchError extends Error {
  /** The deadline passed (rather than an address refused, a network error or an answer refused). */
  readonly timedOut: boolean;
  constructor(message: string, options?: { cause?: unknown; timedOut?: boolean }) {
    super(message, options);
    this.name = 'JwksFetchError';
    this.timedOut = options?.timedOut === true;
  }
}

const BLOCKED = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12],
  ['192.0.0.0', 24], ['192.0.2.0', 24], ['192.88.99.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15],
  ['198.51.100.0', 24], ['203.0.113.0', 24], ['224.0.0.0', 4], ['240.0.0.0', 4],
] as const) BLOCKED.addSubnet(net, prefix, 'ipv4');
for (const [net, prefix] of [
  ['::', 128], ['::1', 128], ['64:ff9b::', 96], ['64:ff9b:1::', 48], ['100::', 64],
  ['2001::', 23], ['2001:db8::', 32], ['2002::', 16], ['fc00::', 7], ['fe80::', 10], ['fec0::', 10], ['ff00::', 8],
] as const) BLOCKED.addSubnet(net, prefix, 'ipv6');

/**
 * True for an address a public `jwks_uri` must not reach. BlockList checks IPv4-mapped IPv6
 * (`::ffff:127.0.0.1`) against the IPv4 ranges; NAT64 and 6to4 prefixes, which embed any IPv4
 * address, are refused whole.
 */
export function isPrivateAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 0) return true;
  return BLOCKED.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

export const fetchJwksDocument = (uri: string, settings: JwksFetchSettings): Promise<unknown> => fetchClientDocument(uri, settings, 'jwks_uri');

/** The URL a client named, if it may be reached at all: https (http when allowed), no credentials, no private IP literal. */
function checkedUrl(uri: string, settings: JwksFetchSettings, label: string): URL {
  const url = URL.parse(uri);
  if (!url || (url.protocol !== 'https:' && !(url.protocol === 'http:' && settings.allowHttp))) {
    throw new JwksFetchError(`${label} must be an https URL`);
  }
  if (url.username !== '' || url.password !== '') throw new JwksFetchError(`${label} must not carry credentials`);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  // An IP literal is connected to without a lookup, so it is checked here.
  if (isIP(host) !== 0 && !settings.allowPrivateAddresses && isPrivateAddress(host)) {
    throw new JwksFetchError(`${label} resolves to a private address`);
  }
  return url;
}

/** Fetches and parses a JSON document at a URL a client named; `label` names it in errors. */
export async function fetchClientDocument(uri: string, settings: JwksFetchSettings, label: string): Promise<unknown> {
  const body = await get(checkedUrl(uri, settings, label), settings, label);
  try {
    return JSON.parse(body.toString('utf8'));
  } catch (cause) {
    throw new JwksFetchError(`${label} did not answer JSON`, { cause });
  }
}

function checkedLookup(settings: JwksFetchSettings, label: string): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (error, addresses: LookupAddress[]) => {
      if (error) return callback(error, '', 0);
      const refused = !settings.allowPrivateAddresses && addresses.some((a) => isPrivateAddress(a.address));
      if (refused || addresses.length === 0) {
        return callback(new JwksFetchError(`${label} resolves to a private address`), '', 0);
      }
      if (options.all) return (callback as (e: null, a: LookupAddress[]) => void)(null, addresses);
      callback(null, addresses[0]!.address, addresses[0]!.family);
    });
  };
}

function get(url: URL, settings: JwksFetchSettings, label: string): Promise<Buffer> {
  const request = url.protocol === 'https:' ? https().request : http.request;
  return new Promise<Buffer>((resolve, reject) => {
    const fail = (error: JwksFetchError) => {
      req.destroy();
      reject(error);
    };
    const deadline = setTimeout(() => fail(new JwksFetchError(`${label} timed out`, { timedOut: true })), settings.timeoutMs);
    const req = request(url, {
      method: 'GET',
      headers: { accept: 'application/jwk-set+json, application/json' },
      lookup: checkedLookup(settings, label),
      agent: false,
    });
    req.on('error', (cause) => {
      clearTimeout(deadline);
      reject(cause instanceof JwksFetchError ? cause : new JwksFetchError(`${label} could not be fetched`, { cause }));
    });
    req.on('response', (res: IncomingMessage) => {
      if (res.statusCode !== 200) {
        clearTimeout(deadline);
        return fail(new JwksFetchError(`${label} answered ${res.statusCode}${res.statusCode! >= 300 && res.statusCode! < 400 ? ' (redirects are not followed)' : ''}`));
      }
      if (settings.requireJsonType && !JSON_MEDIA_TYPE.test((res.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase())) {
        clearTimeout(deadline);
        return fail(new JwksFetchError(`${label} is not served as application/json`));
      }
      if (Number(res.headers['content-length'] ?? 0) > settings.maxBytes) {
        clearTimeout(deadline);
        return fail(new JwksFetchError(`${label} answered more bytes than allowed`));
      }
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > settings.maxBytes) {
          clearTimeout(deadline);
          return fail(new JwksFetchError(`${label} answered more bytes than allowed`));
        }
        chunks.push(chunk);
      });
      res.on('end', () => {
        clearTimeout(deadline);
        resolve(Buffer.concat(chunks));
      });
      res.on('error', () => {}); // the request's error handler has rejected already
    });
    req.end();
  });
}

/**
 * POSTs a form to a URL a client named, under the same rules (address checks, no redirects, one
 * deadline for the whole exchange); resolves to the answer's status once its headers arrive (the body
 * is not read). Rejects with a JwksFetchError when it cannot be reached or does not answer in time.
 */
export function postForm(uri: string, form: URLSearchParams, settings: Pick<JwksFetchSettings, 'timeoutMs' | 'allowPrivateAddresses' | 'allowHttp'>, label: string): Promise<number> {
  let url: URL;
  try {
    url = checkedUrl(uri, { ...settings, maxBytes: 0 }, label);
  } catch (err) {
    return Promise.reject(err);
  }
  const body = Buffer.from(form.toString());
  const request = url.protocol === 'https:' ? https().request : http.request;
  return new Promise<number>((resolve, reject) => {
    const deadline = setTimeout(() => {
      req.destroy();
      reject(new JwksFetchError(`${label} timed out`, { timedOut: true }));
    }, settings.timeoutMs);
    const req = request(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': body.length, accept: 'application/json' },
      lookup: checkedLookup({ ...settings, maxBytes: 0 }, label),
      agent: false,
    });
    req.on('error', (cause) => {
      clearTimeout(deadline);
      reject(cause instanceof JwksFetchError ? cause : new JwksFetchError(`${label} could not be reached`, { cause }));
    });
    req.on('response', (res: IncomingMessage) => {
      clearTimeout(deadline);
      resolve(res.statusCode ?? 0);
      res.on('error', () => {});
      req.destroy();
    });
    req.end(body);
  });
}
