/**
 * How each target asks for a client_credentials token: path, headers and body per dialect (as in
 * /work/shared/DIALECTS.md), and where the token sits in the answer.
 */
import type { TokenRequest } from './load.ts';

export interface Credentials {
  readonly clientId: string;
  readonly clientSecret: string;
}

export interface Recipe {
  /** The dialect's name (or `oidc-provider`). */
  readonly name: string;
  /** The `--dialect` argument that mounts it. */
  readonly mount: string;
  readonly path: string;
  /** Token format, for comparing like with like. */
  readonly format: 'jwt' | 'opaque';
  request(base: string, creds: Credentials): TokenRequest;
  token(body: unknown): unknown;
}

const FORM = 'application/x-www-form-urlencoded';
const form = (fields: Record<string, string>): string => new URLSearchParams(fields).toString();
const basic = (c: Credentials): string => `Basic ${Buffer.from(`${c.clientId}:${c.clientSecret}`).toString('base64')}`;
const field = (body: unknown, ...path: string[]): unknown =>
  path.reduce<unknown>((v, k) => (v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined), body);

/** The standard: client_secret_basic, form body. */
export const OAUTH2: Recipe = {
  name: 'oauth2',
  mount: 'oauth2',
  path: '/oauth2/token',
  format: 'jwt',
  request: (base, c) => ({ url: `${base}/oauth2/token`, headers: { authorization: basic(c), 'content-type': FORM }, body: form({ grant_type: 'client_credentials' }) }),
  token: (b) => field(b, 'access_token'),
};

/** The same request against oidc-provider, whose token endpoint is /token. */
export const OIDC_PROVIDER: Recipe = { ...OAUTH2, name: 'oidc-provider', mount: '', path: '/token', request: (base, c) => ({ ...OAUTH2.request(base, c), url: `${base}/token` }) };

/** The minimal endpoint (bench/minimal-server.ts) answers any path; it is sent Keymint's request as is. */
export const MINIMAL: Recipe = { ...OAUTH2, name: 'minimal', mount: '' };

/** The seed dialects with their own request shapes; tradevest is mounted on its alias, as oauth2 holds /oauth2/token. */
export const DIALECT_RECIPES: readonly Recipe[] = [
  {
    name: 'polygon-oms',
    mount: 'polygon-oms',
    path: '/v0.9/auth/token',
    format: 'jwt',
    request: (base, c) => ({ url: `${base}/v0.9/auth/token`, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ apiKey: c.clientId, apiSecret: c.clientSecret }) }),
    token: (b) => field(b, 'accessToken'),
  },
  {
    name: 'orum',
    mount: 'orum',
    path: '/oauth/token',
    format: 'jwt',
    request: (base, c) => ({ url: `${base}/oauth/token`, headers: { 'content-type': FORM }, body: form({ client_id: c.clientId, client_secret: c.clientSecret }) }),
    token: (b) => field(b, 'access_token'),
  },
  {
    name: 'tradevest',
    mount: 'tradevest=/connect/token',
    path: '/connect/token',
    format: 'jwt',
    request: (base, c) => ({
      url: `${base}/connect/token`,
      headers: { 'content-type': FORM },
      body: form({ grant_type: 'client_credentials', client_id: c.clientId, client_secret: c.clientSecret }),
    }),
    token: (b) => field(b, 'access_token'),
  },
  {
    name: 'fuuffy',
    mount: 'fuuffy',
    path: '/v1/auth/token',
    format: 'opaque',
    request: (base, c) => ({ url: `${base}/v1/auth/token`, headers: { 'content-type': FORM }, body: form({ client_id: c.clientId, client_secret: c.clientSecret }) }),
    token: (b) => field(b, 'data', 'access_token'),
  },
];
