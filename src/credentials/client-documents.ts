/**
 * Clients identified by the URL of their metadata document (OAuth Client ID Metadata Document, the
 * way MCP clients identify themselves without registering): the `client_id` is an https URL, and the
 * JSON document there describes the client. Fetched with the guards of any URL a client names
 * (./jwks-fetch.ts: https, no private addresses unless allowed, no redirects, 5 KB, one deadline)
 * and served as `application/json` or `application/…+json` (the draft: any other type is an error),
 * cached for `cacheTtlMs` (failures for a tenth of it), one fetch at a time per URL.
 *
 * Accepted: a document whose `client_id` is the URL exactly; no `client_secret` (a document is
 * public); `token_endpoint_auth_method` `none` (a public client) or `private_key_jwt` with a
 * `jwks_uri` or `jwks`; one to ten `redirect_uris` that any live client could register; the code
 * flow among its `grant_types`; at most ten `post_logout_redirect_uris` under the same rule, and a
 * `backchannel_logout_uri` (with `backchannel_logout_session_required`) under registration's. The client gets the registration policy's scopes (narrowed to the
 * document's `scope` when it has one) and audiences, and the code and refresh grants only. It is
 * never `trusted`: the user always sees the consent page, which names the document's host.
 */
import type { ClientRecord } from '../storage/types.ts';
import { isJwksUri } from './client-auth-settings.ts';
import { isDisplayName } from './client-rules.ts';
import { validateClientJwks } from './client-keys.ts';
import { fetchClientDocument, type JwksFetchSettings } from './jwks-fetch.ts';
import { backchannelLogoutUriProblem, redirectUriProblem } from './redirect-uris.ts';
import { PUBLIC_CLIENT_GRANTS, type RegistrationPolicy } from './registration-policy.ts';

export interface ClientDocumentSettings {
  readonly allowPrivateAddresses: boolean;
  readonly environment: string;
  readonly policy: RegistrationPolicy;
  /** The dialects such a client may use: the one whose endpoints take these ids. */
  readonly dialects: readonly string[];
  readonly now: () => number;
  /** Told why a document was refused or could not be fetched (the request then fails as for an unknown client). */
  readonly onRefused: (clientId: string, reason: string) => void;
}

/** Documents are small (the draft suggests 5 KB) and JSON by content type; fetches are bounded in time and count. */
const FETCH = { timeoutMs: 3000, maxBytes: 5120, allowHttp: false, requireJsonType: true } as const;
const CACHE_TTL_MS = 300_000;
const MAX_ENTRIES = 1000;
const MAX_ID_LENGTH = 512;

interface Entry {
  readonly at: number;
  readonly client: Promise<ClientRecord | undefined>;
}

export interface ClientDocuments {
  /** Whether `clientId` has the shape of a document URL (then it is never a stored client's id). */
  isDocumentId(clientId: string): boolean;
  resolve(clientId: string): Promise<ClientRecord | undefined>;
}

export function clientDocuments(settings: ClientDocumentSettings): ClientDocuments {
  const cache = new Map<string, Entry>();
  const fetchSettings: JwksFetchSettings = { ...FETCH, allowPrivateAddresses: settings.allowPrivateAddresses };

  async function load(clientId: string): Promise<ClientRecord | undefined> {
    try {
      return clientFromDocument(clientId, await fetchClientDocument(clientId, fetchSettings, 'client metadata document'), settings);
    } catch (err) {
      settings.onRefused(clientId, err instanceof Error ? err.message : 'unreadable');
      return undefined;
    }
  }

  return {
    isDocumentId,
    async resolve(clientId) {
      if (!isDocumentId(clientId)) return undefined;
      const now = settings.now();
      const held = cache.get(clientId);
      if (held) {
        const client = await held.client;
        if (now - held.at < (client ? CACHE_TTL_MS : CACHE_TTL_MS / 10)) return client;
      }
      const entry = { at: now, client: load(clientId) };
      cache.delete(clientId);
      if (cache.size >= MAX_ENTRIES) cache.delete(cache.keys().next().value!);
      cache.set(clientId, entry);
      return entry.client;
    },
  };
}

/** An https URL with a path, no fragment, no userinfo, no dot segments (the draft's client_id rules). */
export function isDocumentId(value: string): boolean {
  if (value.length > MAX_ID_LENGTH || !value.startsWith('https://')) return false;
  const url = URL.parse(value);
  if (!url || url.hash !== '' || value.includes('#') || url.username !== '' || url.password !== '') return false;
  if (url.pathname === '/' || url.href !== value) return false; // href differs when dot segments or case were normalised
  return !/\/\.\.?(\/|$)/.test(value.slice(url.origin.length));
}

/** Why a document was refused (the message says which rule). */
export class DocumentRefused extends Error {}
const Refused = DocumentRefused;

/** The client a fetched document describes, or DocumentRefused naming the rule it breaks. */
export function clientFromDocument(clientId: string, doc: unknown, settings: Pick<ClientDocumentSettings, 'environment' | 'policy' | 'dialects' | 'now'>): ClientRecord {
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new Refused('the document is not a JSON object');
  const d = doc as Record<string, unknown>;
  if (d.client_id !== clientId) throw new Refused('client_id is not the document URL');
  if ('client_secret' in d || 'client_secret_expires_at' in d) throw new Refused('a document holds no secret');
  const method = d.token_endpoint_auth_method ?? 'none';
  if (method !== 'none' && method !== 'private_key_jwt') throw new Refused('token_endpoint_auth_method must be none or private_key_jwt');
  const keys = method === 'private_key_jwt' ? keysOf(d) : {};
  const redirects = d.redirect_uris;
  if (!Array.isArray(redirects) || redirects.length === 0 || redirects.length > 10) throw new Refused('redirect_uris must list one to ten URIs');
  for (const uri of redirects) {
    if (typeof uri !== 'string' || redirectUriProblem(uri, 'live') !== undefined) throw new Refused('a redirect URI may not be registered');
  }
  // OIDC RP-Initiated Logout §3.1 and Back-Channel Logout §2.2, read as registration reads them (LOGOUT-04, BCL-01).
  const postLogout = d.post_logout_redirect_uris ?? [];
  if (!Array.isArray(postLogout) || postLogout.length > 10) throw new Refused('post_logout_redirect_uris must list at most ten URIs');
  for (const uri of postLogout) {
    if (typeof uri !== 'string' || redirectUriProblem(uri, 'live') !== undefined) throw new Refused('a post-logout redirect URI may not be registered');
  }
  const backchannel = d.backchannel_logout_uri;
  if (backchannel !== undefined && (typeof backchannel !== 'string' || backchannelLogoutUriProblem(backchannel, 'live') !== undefined)) {
    throw new Refused('backchannel_logout_uri may not be registered');
  }
  const sessionRequired = d.backchannel_logout_session_required ?? false;
  if (typeof sessionRequired !== 'boolean') throw new Refused('backchannel_logout_session_required must be true or false');
  const grants = Array.isArray(d.grant_types) ? d.grant_types.filter((g): g is string => typeof g === 'string' && PUBLIC_CLIENT_GRANTS.includes(g)) : ['authorization_code'];
  if (!grants.includes('authorization_code')) throw new Refused('grant_types must include authorization_code');
  if (Array.isArray(d.response_types) && !d.response_types.includes('code')) throw new Refused('response_types must include code');
  const asked = typeof d.scope === 'string' ? new Set(d.scope.split(' ')) : undefined;
  const host = new URL(clientId).host;
  const name = isDisplayName(d.client_name, 100) ? `${d.client_name} (${host})` : host;
  const now = settings.now();
  return {
    id: clientId,
    name,
    mode: 'live',
    environment: settings.environment,
    type: method === 'none' ? 'public' : 'confidential',
    status: 'active',
    grants,
    scopes: settings.policy.scopes.filter((s) => asked === undefined || asked.has(s)),
    audiences: [...settings.policy.audiences],
    dialects: [...settings.dialects],
    redirectUris: redirects as string[],
    ...(postLogout.length === 0 ? {} : { postLogoutRedirectUris: postLogout as string[] }),
    ...(backchannel === undefined ? {} : { backchannelLogoutUri: backchannel as string }),
    ...(sessionRequired ? { backchannelLogoutSessionRequired: true as const } : {}),
    trusted: false,
    accessTokenTtl: null,
    ...keys,
    secrets: [],
    createdAt: now,
    updatedAt: now,
  };
}

function keysOf(d: Record<string, unknown>): Pick<ClientRecord, 'authMethod' | 'jwks' | 'jwksUri'> {
  if (d.jwks_uri !== undefined && d.jwks === undefined) {
    if (!isJwksUri(d.jwks_uri, false)) throw new Refused('jwks_uri must be an https URL without credentials or fragment');
    return { authMethod: 'private_key_jwt', jwksUri: d.jwks_uri };
  }
  if (d.jwks !== undefined && d.jwks_uri === undefined) return { authMethod: 'private_key_jwt', jwks: validateClientJwks(d.jwks) };
  throw new Refused('private_key_jwt needs exactly one of jwks_uri and jwks');
}
