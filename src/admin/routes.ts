/**
 * Admin API under /admin/v1, authenticated by Keymint's own access tokens carrying `keymint:admin`.
 * It calls the same ClientService and Keyring as the CLI: one implementation, two front ends.
 */
import { createLocalJWKSet } from 'jose/jwks/local';
import { jwtVerify } from 'jose/jwt/verify';
import type { JSONWebKeySet, JWTPayload } from 'jose';
import { ClientExistsError, ClientInputError, ClientNotFoundError, type ClientService } from '../credentials/clients.ts';
import type { CreateClientInput, UpdateClientInput } from '../credentials/client-inputs.ts';
import { CLIENT_FIELD_NAMES, CLIENT_FIELDS, ruleField, type ClientField, type FieldKind } from '../credentials/client-fields.ts';
import { SIGNING_ALGS, type Keyring } from '../tokens/keyring.ts';
import { checkedSubject, type SessionService } from '../credentials/sessions.ts';
import { encryptionAsked, ENCRYPTION_REFUSED } from '../credentials/client-rules.ts';
import { adminAudience } from '../protocol/audience.ts';
import { connectedApps, withdrawApp } from '../protocol/consent.ts';
import { jtiDigest, SECRETLESS_AUTH_METHODS, type SecretlessAuthMethod, type Store, type SubjectType } from '../storage/types.ts';
import type { Handler } from '../http/router.ts';
import { readCredentials } from '../wire/authorization.ts';
import { json, type HttpRequest, type HttpResponse } from '../wire/http.ts';
import { parseJsonObject } from '../dialects/codec/params.ts';
import { OAuthError, toOAuthError } from '../wire/errors.ts';
import { ADMIN_SCOPE } from '../wire/scope.ts';
import { redactPath, type Logger } from '../util/log.ts';

export const ADMIN_PREFIX = '/admin/v1/';

/** The most audit events one GET /admin/v1/audit answers. */
const MAX_AUDIT_LIMIT = 1000;

export interface AdminDeps {
  readonly clients: ClientService;
  readonly sessions: SessionService;
  readonly keyring: Keyring;
  readonly store: Pick<Store, 'audit' | 'clients' | 'consents' | 'tokens'>;
  readonly issuer: string;
  readonly log: Logger;
  readonly now?: () => number;
}

const problem = (status: number, error: string, description: string, headers: Record<string, string> = {}): HttpResponse =>
  json(status, { error, error_description: description }, { 'Cache-Control': 'no-store', ...headers });

export function adminHandler(deps: AdminDeps): Handler {
  const now = deps.now ?? Date.now;
  let jwksSource = '';
  let jwks: ReturnType<typeof createLocalJWKSet> | undefined;
  const keySet = () => {
    const current = deps.keyring.jwksJson();
    if (current !== jwksSource || !jwks) {
      jwks = createLocalJWKSet(JSON.parse(current) as JSONWebKeySet);
      jwksSource = current;
    }
    return jwks;
  };

  /**
   * RFC 6750 §3: no token → 401 without error code; bad token → invalid_token; no scope → 403. The
   * admin API is low-volume, so every call checks the store (SECURITY ADM-01): the token's record
   * must exist and be live, and the secret that minted it must still be one of the client's live
   * secrets; the audience must be the admin API's (ADM-03).
   */
  async function authorize(req: HttpRequest): Promise<string | HttpResponse> {
    const credentials = readCredentials(req.headersDistinct.authorization, ['Bearer']);
    const realm = 'Bearer realm="keymint-admin"';
    if (credentials.kind === 'absent' || credentials.kind === 'other') return problem(401, 'invalid_token', 'A bearer token is required.', { 'WWW-Authenticate': realm });
    if (credentials.kind === 'malformed') return problem(400, 'invalid_request', 'The Authorization header is malformed.', { 'WWW-Authenticate': `${realm}, error="invalid_request"` });
    const invalid = () => problem(401, 'invalid_token', 'The access token is invalid.', { 'WWW-Authenticate': `${realm}, error="invalid_token"` });
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(credentials.token, keySet(), {
        issuer: deps.issuer,
        audience: adminAudience(deps.issuer),
        typ: 'at+jwt',
        algorithms: [...SIGNING_ALGS],
        currentDate: new Date(now()),
      }));
    } catch {
      return invalid();
    }
    const { client_id: clientId, jti } = payload;
    if (typeof clientId !== 'string' || typeof jti !== 'string') return invalid();
    // A token bound to a DPoP key or a certificate (cnf) is no bearer token, and here only Bearer is read (ADM-05).
    if (payload.cnf !== undefined) return invalid();
    const at = now();
    const [record, client] = await Promise.all([deps.store.tokens.find([jtiDigest(jti)]), deps.store.clients.get(clientId)]);
    if (!record || record.clientId !== clientId || record.revokedAt !== null || record.expiresAt <= at) return invalid();
    if (!client || client.status !== 'active') return invalid();
    const minted = record.meta?.credentialId;
    if (!client.secrets.some((s) => s.id === minted && (s.expiresAt === null || s.expiresAt > at))) return invalid();
    const scopes = typeof payload.scope === 'string' ? payload.scope.split(' ') : [];
    if (!scopes.includes(ADMIN_SCOPE) || !client.scopes.includes(ADMIN_SCOPE)) {
      return problem(403, 'insufficient_scope', `The token lacks the ${ADMIN_SCOPE} scope.`, {
        'WWW-Authenticate': `${realm}, error="insufficient_scope", scope="${ADMIN_SCOPE}"`,
      });
    }
    return clientId;
  }

  return async (req) => {
    try {
      const auth = await authorize(req);
      if (typeof auth !== 'string') return auth;
      const parts = req.path.slice(ADMIN_PREFIX.length).split('/').map(decodeURIComponentSafe);
      return await route(req, parts, `admin:${auth}`, deps);
    } catch (err) {
      if (err instanceof ClientExistsError) return json(409, { error: 'conflict', error_description: err.message, field: err.field }, { 'Cache-Control': 'no-store' });
      // The field is named, so the caller knows which input to fix.
      if (err instanceof ClientInputError) return json(400, { error: 'invalid_request', error_description: err.message, field: err.field }, { 'Cache-Control': 'no-store' });
      if (err instanceof ClientNotFoundError) return problem(404, 'not_found', 'No such client.');
      if (err instanceof OAuthError) return problem(err.status, err.code, err.description);
      // A store outage is a 503 + Retry-After here too, never a 500 (DESIGN: reliability rules).
      const mapped = toOAuthError(err);
      if (mapped.code === 'temporarily_unavailable') return problem(503, mapped.code, mapped.description, { 'Retry-After': String(mapped.retryAfter ?? 1) });
      deps.log.error('admin request failed', { err, path: redactPath(req.path) });
      return problem(500, 'server_error', 'An internal error occurred.');
    }
  };
}

type Serve = (req: HttpRequest, id: string, actor: string, deps: AdminDeps) => Promise<HttpResponse>;

/** One endpoint of the admin API: a method on a path below /admin/v1/ whose `:id` matches one non-empty segment. */
interface AdminRoute {
  readonly method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  readonly path: readonly string[];
  readonly serve: Serve;
}

const noStore = { 'Cache-Control': 'no-store' };
const noContent = (): HttpResponse => ({ status: 204, headers: noStore, body: '' });

/**
 * Every endpoint, in one table: it serves the request and, for a path it has but not with the
 * method asked, gives the 405's Allow (in the order listed here).
 */
const ROUTES: readonly AdminRoute[] = ([
  ['GET', 'clients', async (_req, _id, _actor, deps) => json(200, { clients: await deps.clients.list() }, noStore)],
  ['POST', 'clients', async (req, _id, actor, deps) => {
    const { client, clientSecret } = await deps.clients.create(createInput(body(req)), actor);
    return json(201, { ...client, client_secret: clientSecret }, noStore);
  }],
  ['GET', 'clients/:id', async (_req, id, _actor, deps) => json(200, await deps.clients.show(id), noStore)],
  ['PATCH', 'clients/:id', async (req, id, actor, deps) => json(200, await deps.clients.update(id, updateInput(body(req)), actor), noStore)],
  ['DELETE', 'clients/:id', async (_req, id, actor, deps) => {
    await deps.clients.delete(id, actor);
    return noContent();
  }],
  ['POST', 'clients/:id/rotate-secret', async (req, id, actor, deps) => {
    const b = body(req);
    const overlap = b.expire_old_in ?? 86_400;
    if (typeof overlap !== 'number') throw new ClientInputError('expire_old_in', 'expire_old_in must be a number of seconds');
    if (b.client_secret !== undefined && typeof b.client_secret !== 'string') throw new ClientInputError('client_secret', 'client_secret must be a string');
    const { client, clientSecret } = await deps.clients.rotateSecret(id, overlap, actor, b.client_secret);
    return json(200, { ...client, client_secret: clientSecret }, noStore);
  }],
  ['POST', 'clients/:id/disable', async (_req, id, actor, deps) => json(200, await deps.clients.setStatus(id, 'disabled', actor), noStore)],
  ['POST', 'clients/:id/enable', async (_req, id, actor, deps) => json(200, await deps.clients.setStatus(id, 'active', actor), noStore)],
  // The platform registers a logged-in user; DELETE ends it.
  ['POST', 'sessions', async (req, _id, actor, deps) => {
    const b = body(req);
    const ttl = b.ttl;
    if (ttl !== undefined && typeof ttl !== 'number') throw new ClientInputError('ttl', 'ttl must be a number of seconds');
    const organizations = strings(b.organizations, 'organizations');
    if (typeof b.subject !== 'string') throw new ClientInputError('subject', 'subject must be a string');
    if (b.subject_type !== undefined && b.subject_type !== 'user' && b.subject_type !== 'organization') {
      throw new ClientInputError('subject_type', 'subject_type must be user or organization');
    }
    const created = await deps.sessions.create(
      { subject: b.subject, subjectType: b.subject_type as 'user' | 'organization' | undefined, organizations, ttl: ttl as number | undefined },
      actor,
    );
    return json(201, { id: created.id, session_token: created.sessionToken, expires_at: new Date(created.expiresAt).toISOString() }, noStore);
  }],
  ['DELETE', 'sessions/:id', async (_req, id, actor, deps) => {
    if (!(await deps.sessions.end(id, actor))) return problem(404, 'not_found', 'No such live session.');
    return noContent();
  }],
  // A subject's connected apps (remembered consent, user-grants.md), and the withdrawal of one.
  ['GET', 'consents', async (req, _id, _actor, deps) => {
    const { subject, subjectType } = subjectOf(req);
    const consents = await connectedApps(subjectType, subject, (deps.now ?? Date.now)(), deps);
    return json(200, { subject, subject_type: subjectType, consents }, noStore);
  }],
  ['DELETE', 'consents/:id', async (req, id, actor, deps) => {
    const { subject, subjectType } = subjectOf(req);
    if (!(await withdrawApp(id, subjectType, subject, (deps.now ?? Date.now)(), actor, deps))) return problem(404, 'not_found', 'The subject has no consent or live grant for this client.');
    return noContent();
  }],
  ['GET', 'keys', async (_req, _id, _actor, deps) => json(200, { keys: deps.keyring.describe() }, noStore)],
  ['POST', 'keys/rotate', async (_req, _id, actor, deps) => {
    await deps.keyring.rotate();
    await deps.store.audit.append({ at: Date.now(), actor, action: 'key.rotate', target: 'signing', detail: {} });
    return json(200, { keys: deps.keyring.describe() }, noStore);
  }],
  ['GET', 'audit', async (req, _id, _actor, deps) => {
    // A limit that is not one whole number in range is refused, not silently replaced by the default.
    const given = new URLSearchParams(req.query).getAll('limit');
    if (given.length > 1 || (given.length === 1 && !/^[1-9]\d{0,3}$/.test(given[0]!)) || Number(given[0] ?? 100) > MAX_AUDIT_LIMIT) {
      throw new ClientInputError('limit', `limit must be a whole number in 1..${MAX_AUDIT_LIMIT}`);
    }
    return json(200, { events: await deps.store.audit.list(Number(given[0] ?? 100)) }, noStore);
  }],
] satisfies Array<[AdminRoute['method'], string, Serve]>).map(([method, path, serve]) => ({ method, path: path.split('/'), serve }));

/** Every endpoint as `METHOD /admin/v1/path` (`:id` for the client id or session), for the docs' check. */
export const ADMIN_ENDPOINTS: readonly string[] = ROUTES.map((r) => `${r.method} ${ADMIN_PREFIX}${r.path.join('/')}`);

/** The id a route's path captures from a request's segments ('' where it has none), or undefined where it does not match. */
function capture(path: readonly string[], parts: readonly string[]): string | undefined {
  if (path.length !== parts.length) return undefined;
  let id = '';
  for (const [i, segment] of path.entries()) {
    if (segment === ':id' && parts[i] !== '') id = parts[i]!;
    else if (segment !== parts[i]) return undefined;
  }
  return id;
}

async function route(req: HttpRequest, parts: string[], actor: string, deps: AdminDeps): Promise<HttpResponse> {
  // One trailing slash names the same endpoint (`clients/`); HEAD is GET without the body (the server leaves it out).
  if (parts.length > 1 && parts.at(-1) === '') parts = parts.slice(0, -1);
  const method = req.method === 'HEAD' ? 'GET' : req.method;
  const allow: string[] = [];
  for (const r of ROUTES) {
    const id = capture(r.path, parts);
    if (id === undefined) continue;
    if (r.method === method) return r.serve(req, id, actor, deps);
    allow.push(...(r.method === 'GET' ? ['GET', 'HEAD'] : [r.method]));
  }
  // RFC 9110 §15.5.6: a path that exists, asked with a method it does not take, is 405 with Allow.
  if (allow.length > 0) return problem(405, 'method_not_allowed', `This endpoint accepts only ${allow.join(', ')}.`, { Allow: allow.join(', ') });
  return problem(404, 'not_found', 'No such admin endpoint.');
}

/**
 * The subject a consents call names: `subject` (required) and `subject_type` (`user`, the default,
 * or `organization`), each at most once in the query.
 */
function subjectOf(req: HttpRequest): { subject: string; subjectType: SubjectType } {
  const query = new URLSearchParams(req.query);
  const type = query.getAll('subject_type');
  if (type.length > 1 || (type.length === 1 && type[0] !== 'user' && type[0] !== 'organization')) {
    throw new ClientInputError('subject_type', 'subject_type must be user or organization');
  }
  const subjectType = (type[0] ?? 'user') as SubjectType;
  const subject = query.getAll('subject');
  if (subject.length > 1) throw new ClientInputError('subject', 'subject must be given once');
  return { subject: checkedSubject(subjectType, subject[0]), subjectType };
}

function body(req: HttpRequest): Record<string, unknown> {
  if (req.body.length === 0) return {};
  const media = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
  if (media !== 'application/json') throw new ClientInputError('content-type', 'the body must be application/json');
  return parseJsonObject(req.body);
}

const strings = (v: unknown, field: string): string[] | undefined => {
  if (v === undefined) return undefined;
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) throw new ClientInputError(field, `${field} must be an array of strings`);
  return v as string[];
};

/** The JSON type the admin API checks a setting's value for, by its kind; the client rules check the rest (maps, keys, lists' items). */
const JSON_TYPE: Partial<Record<FieldKind, string>> = { text: 'string', mode: 'string', clientType: 'string', uri: 'string', secret: 'string', flag: 'boolean', count: 'number' };

/**
 * A setting's value from a body, checked for its JSON type (`label` is the name the error gives);
 * with `nullable`, null passes (the default, or none), and an update's error says so.
 */
function checked(v: unknown, f: ClientField, label: string, nullable: boolean, sayNull: boolean): unknown {
  if (v === undefined || (v === null && nullable)) return v;
  if (f.kind === 'list') return strings(v, label);
  const type = JSON_TYPE[f.kind];
  if (type === undefined || typeof v === type) return v;
  throw new ClientInputError(label, `${label} must be a ${type}${sayNull && nullable ? ' or null' : ''}`);
}

const defined = (entries: Array<[string, unknown]>): Record<string, unknown> => Object.fromEntries(entries.filter(([, v]) => v !== undefined));

const isSecretless = (m: unknown): m is SecretlessAuthMethod => (SECRETLESS_AUTH_METHODS as readonly unknown[]).includes(m);

/** `token_endpoint_auth_method` of a body: a secret's two, the secretless ones, and `none` when a client is made. */
function authMethodOf(b: Record<string, unknown>, creating: boolean): string | undefined {
  const method = b.token_endpoint_auth_method;
  if (method === undefined || method === 'client_secret_basic' || method === 'client_secret_post' || isSecretless(method) || (creating && method === 'none')) return method as string | undefined;
  throw new ClientInputError('token_endpoint_auth_method', `token_endpoint_auth_method is client_secret_basic, client_secret_post, ${SECRETLESS_AUTH_METHODS.join(', ')}${creating ? ' or none' : ''}`);
}

/** Encryption metadata, refused by name (JARM-05, I-12): encrypted responses are not offered. */
function refuseEncryption(b: Record<string, unknown>): void {
  const asked = encryptionAsked(b);
  if (asked !== undefined) throw new ClientInputError(asked, ENCRYPTION_REFUSED[asked]!);
}

/** A POST body by the view's names (RFC 7591's for authentication); `ttl` is accepted for `access_token_ttl`. */
function createInput(b: Record<string, unknown>): CreateClientInput {
  refuseEncryption(b);
  const method = authMethodOf(b, true);
  const input = defined(CLIENT_FIELD_NAMES.filter((name) => name !== 'authMethod').map((name) => {
    const f: ClientField = CLIENT_FIELDS[name];
    // A count may be null (the default); its error names the rules' field (`ttl`).
    const count = f.kind === 'count';
    return [name, checked(name === 'ttl' ? (b.access_token_ttl ?? b.ttl) : b[f.api], f, count ? ruleField(name) : f.api, count, false)];
  }));
  return { ...input, name: input.name ?? '', ...(isSecretless(method) ? { authMethod: method } : {}) } as CreateClientInput;
}

/** Fields PATCH may carry (the view's names); absent = unchanged, null = default or cleared. */
const CHANGEABLE = CLIENT_FIELD_NAMES.filter((name) => !(CLIENT_FIELDS[name] as ClientField).createOnly);
const PATCHABLE = new Set([...CHANGEABLE.map((name) => CLIENT_FIELDS[name].api), 'ttl', 'add_scopes', 'remove_scopes']);

/**
 * A PATCH body (RFC 5789; fields replace, as in JSON merge patch, except that `metadata` and
 * `claims` are replaced whole). A field that cannot change (`client_id`, `mode`, `type`, secrets)
 * or is unknown is refused, naming it, so a typo never passes as a no-op.
 */
function updateInput(b: Record<string, unknown>): UpdateClientInput {
  refuseEncryption(b);
  for (const k of Object.keys(b)) {
    if (!PATCHABLE.has(k)) {
      const fixed = k === 'client_id' || k === 'mode' || k === 'type';
      throw new ClientInputError(k, fixed ? `${k} cannot change: create a new client instead` : k === 'client_secret' ? 'a secret changes by rotate-secret' : `${k} is not a client setting`);
    }
  }
  const method = authMethodOf(b, false);
  const ttlKey = b.access_token_ttl !== undefined ? 'access_token_ttl' : 'ttl';
  const list = (k: string) => strings(b[k], k);
  return defined([
    ...CHANGEABLE.filter((name) => name !== 'authMethod').map((name): [string, unknown] => {
      const f: ClientField = CLIENT_FIELDS[name];
      const key = name === 'ttl' ? ttlKey : f.api;
      return [name, checked(b[key], f, key, f.nullable === true, true)];
    }),
    ['addScopes', list('add_scopes')],
    ['removeScopes', list('remove_scopes')],
    ['authMethod', method === undefined ? undefined : isSecretless(method) ? method : 'client_secret_basic'],
  ]) as UpdateClientInput;
}

function decodeURIComponentSafe(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
