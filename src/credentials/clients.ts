/**
 * The client life cycle: one service behind both the CLI and the admin API. A secret is returned
 * once, at creation or rotation, and stored only as a peppered HMAC digest.
 */
import type { Keyring } from '../tokens/keyring.ts';
import { hmacHex, digestsEqual } from '../tokens/digest.ts';
import { randomBase62 } from '../tokens/random.ts';
import type { ClientMode, ClientRecord, ClientType, SecretRecord, Store } from '../storage/types.ts';
import { ADMIN_SCOPE, isScopeToken } from '../wire/scope.ts';
import { newClientId, parseClientId, type IdSettings } from './ids.ts';
import { redirectUriProblem } from './redirect-uris.ts';
import { AuthSettingsError, authSettings, authView, type AuthSettingsInput } from './client-auth-settings.ts';
import { looksLikeClientSecret, newClientSecret } from './secrets.ts';

/** At most this many secrets authenticate a client at once (overlapping rotation). */
export const MAX_LIVE_SECRETS = 2;

/** Input errors of the management surface (CLI, admin API); the message names the field, never a secret. */
export class ClientInputError extends Error {
  readonly field: string;
  constructor(field: string, message: string) {
    super(message);
    this.name = 'ClientInputError';
    this.field = field;
  }
}

export class ClientNotFoundError extends Error {
  constructor() {
    super('no such client');
    this.name = 'ClientNotFoundError';
  }
}

export interface CreateClientInput extends AuthSettingsInput {
  readonly name: string;
  readonly mode?: ClientMode;
  readonly type?: ClientType;
  readonly scopes?: readonly string[];
  readonly grants?: readonly string[];
  readonly audiences?: readonly string[];
  readonly dialects?: readonly string[];
  readonly redirectUris?: readonly string[];
  readonly trusted?: boolean;
  /** false: a confidential client may use the code flow without PKCE (SECURITY P-08); default true. */
  readonly pkceRequired?: boolean;
  /** Access-token lifetime in seconds. */
  readonly ttl?: number | null;
  /** Adds the `keymint:admin` scope: the client may call the admin API. */
  readonly admin?: boolean;
  /** Token requests per minute for this client; absent/null = the deployment's `--rate-limit-client`. */
  readonly rateLimit?: number | null;
  /** client_credentials requests may get a still-valid earlier token back (docs/performance.md); default false. */
  readonly tokenReuse?: boolean;
}

/** The public view of a client: what `clients list/show` and the admin API print. No digests. */
export interface ClientView {
  client_id: string;
  name: string;
  mode: ClientMode;
  environment: string;
  type: ClientType;
  status: ClientRecord['status'];
  grants: string[];
  scopes: string[];
  audiences: string[];
  dialects: string[];
  redirect_uris: string[];
  trusted: boolean;
  pkce_required: boolean;
  access_token_ttl: number | null;
  rate_limit: number | null;
  token_reuse: boolean;
  token_endpoint_auth_method: string;
  jwks?: ClientRecord['jwks'];
  jwks_uri?: string;
  dpop_bound_access_tokens: boolean;
  exchange_audiences: string[];
  exchange_scopes: string[];
  secrets: Array<{ id: string; created_at: string; expires_at: string | null; last_used_at: string | null }>;
  created_at: string;
  updated_at: string;
}

export interface ClientServiceSettings extends IdSettings {
  /** Longest access-token lifetime a client may be given, seconds. */
  readonly maxTokenTtl: number;
  /** Dialect names this deployment knows (a client may be limited to some). */
  readonly knownDialects: readonly string[];
  /** Grant types this server implements (the grant registry). */
  readonly knownGrants: readonly string[];
  /** `jwks_uri` may be plain http (tests and local development). */
  readonly jwksUriAllowHttp?: boolean;
}

export interface ClientServiceDeps {
  readonly store: Pick<Store, 'clients' | 'audit' | 'tokens'>;
  readonly keyring: Pick<Keyring, 'pepper' | 'peppers'>;
  readonly settings: ClientServiceSettings;
  readonly now?: () => number;
}

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

export function toView(c: ClientRecord, now: number): ClientView {
  return {
    client_id: c.id,
    name: c.name,
    mode: c.mode,
    environment: c.environment,
    type: c.type,
    status: c.status,
    grants: [...c.grants],
    scopes: [...c.scopes],
    audiences: [...c.audiences],
    dialects: [...c.dialects],
    redirect_uris: [...c.redirectUris],
    trusted: c.trusted,
    pkce_required: c.pkceRequired !== false,
    access_token_ttl: c.accessTokenTtl,
    rate_limit: c.rateLimit ?? null,
    token_reuse: c.tokenReuse === true,
    ...authView(c),
    secrets: c.secrets
      .filter((s) => s.expiresAt === null || s.expiresAt > now)
      .map((s) => ({ id: s.id, created_at: iso(s.createdAt)!, expires_at: iso(s.expiresAt), last_used_at: iso(s.lastUsedAt) })),
    created_at: iso(c.createdAt)!,
    updated_at: iso(c.updatedAt)!,
  };
}

export class ClientService {
  readonly #deps: ClientServiceDeps;
  readonly #now: () => number;
  /** Secret ids whose lastUsedAt was written recently: bookkeeping at most once a minute each. */
  readonly #touched = new Map<string, number>();

  constructor(deps: ClientServiceDeps) {
    this.#deps = deps;
    this.#now = deps.now ?? Date.now;
  }

  async create(input: CreateClientInput, actor: string): Promise<{ client: ClientView; clientSecret: string | null }> {
    const { client, clientSecret } = await this.#create(input, actor, undefined);
    return { client, clientSecret };
  }

  /**
   * A client registered by itself (RFC 7591): created like any other, with a registration access
   * token (RFC 7592 §1) returned once and stored as a peppered digest.
   */
  async register(input: CreateClientInput): Promise<{ client: ClientView; clientSecret: string | null; registrationAccessToken: string }> {
    const token = `km_reg_${randomBase62(43)}`;
    const pepper = this.#deps.keyring.pepper();
    const created = await this.#create(input, 'registration', { pepperKid: pepper.kid, digest: hmacHex(pepper, token) });
    return { ...created, registrationAccessToken: token };
  }

  /** The registered client whose registration access token this is, compared in constant time; else undefined. */
  async registered(clientId: string, token: string): Promise<ClientRecord | undefined> {
    const client = clientId.length <= 256 ? await this.#deps.store.clients.get(clientId) : undefined;
    const held = client?.registrationToken;
    const pepper = (held && this.#deps.keyring.peppers().find((p) => p.kid === held.pepperKid)) ?? this.#deps.keyring.pepper();
    const equal = digestsEqual(hmacHex(pepper, token), held?.digest ?? DUMMY_DIGEST);
    return equal && held !== undefined && client?.status === 'active' ? client : undefined;
  }

  async #create(input: CreateClientInput, actor: string, registrationToken: ClientRecord['registrationToken']): Promise<{ client: ClientView; clientSecret: string | null }> {
    const now = this.#now();
    const mode = input.mode ?? 'live';
    const type = input.type ?? 'confidential';
    const scopes = [...new Set([...(input.scopes ?? []), ...(input.admin ? [ADMIN_SCOPE] : [])])];
    const grants = [...new Set(input.grants ?? ['client_credentials'])];
    this.#validate({ ...input, scopes, grants, mode, type });
    const auth = this.#authSettings(input, type);
    const secret = type === 'confidential' && auth.authMethod === undefined ? newClientSecret() : null;
    const record: ClientRecord = {
      id: newClientId(this.#deps.settings, mode),
      name: input.name,
      mode,
      environment: this.#deps.settings.environment,
      type,
      status: 'active',
      grants,
      scopes,
      audiences: [...(input.audiences ?? [])],
      dialects: [...(input.dialects ?? [])],
      redirectUris: [...(input.redirectUris ?? [])],
      trusted: input.trusted ?? false,
      ...(input.pkceRequired === false ? { pkceRequired: false } : {}),
      accessTokenTtl: input.ttl ?? null,
      rateLimit: input.rateLimit ?? null,
      ...(input.tokenReuse === true ? { tokenReuse: true } : {}),
      ...auth,
      ...(registrationToken === undefined ? {} : { registrationToken }),
      secrets: secret ? [this.#secretRecord(secret, now, null)] : [],
      createdAt: now,
      updatedAt: now,
    };
    await this.#deps.store.clients.insert(record);
    await this.#audit(actor, 'client.create', record.id, { mode, type, admin: scopes.includes(ADMIN_SCOPE) });
    return { client: toView(record, now), clientSecret: secret };
  }

  async list(): Promise<ClientView[]> {
    const now = this.#now();
    return (await this.#deps.store.clients.list()).map((c) => toView(c, now));
  }

  async show(id: string): Promise<ClientView> {
    const c = await this.#deps.store.clients.get(id);
    if (!c) throw new ClientNotFoundError();
    return toView(c, this.#now());
  }

  /**
   * Issues a new secret. Live older secrets keep working for `overlapSeconds` more (0 = end now);
   * if that would leave more than MAX_LIVE_SECRETS live, the oldest ones end now.
   */
  async rotateSecret(id: string, overlapSeconds: number, actor: string): Promise<{ client: ClientView; clientSecret: string }> {
    if (!Number.isInteger(overlapSeconds) || overlapSeconds < 0) {
      throw new ClientInputError('expire_old_in', 'the overlap must be a whole number of seconds ≥ 0');
    }
    const now = this.#now();
    const secret = newClientSecret();
    const updated = await this.#deps.store.clients.update(id, (c) => {
      if (c.type !== 'confidential') throw new ClientInputError('client_id', 'a public client has no secret');
      if (c.authMethod === 'private_key_jwt') throw new ClientInputError('client_id', 'a private_key_jwt client has no secret: change its keys instead');
      const overlapEnd = now + overlapSeconds * 1000;
      const live = c.secrets
        .filter((s) => s.expiresAt === null || s.expiresAt > now)
        .sort((a, b) => b.createdAt - a.createdAt)
        .slice(0, MAX_LIVE_SECRETS - 1)
        .map((s) => ({ ...s, expiresAt: Math.min(s.expiresAt ?? Infinity, overlapEnd) }))
        .filter((s) => s.expiresAt > now);
      return { ...c, secrets: [this.#secretRecord(secret, now, null), ...live], updatedAt: now };
    });
    if (!updated) throw new ClientNotFoundError();
    // SECURITY RT-08: a secret rotation is a security event; tokens granted to the client end with it.
    const revoked = await this.#deps.store.tokens.revokeClient(id, now);
    await this.#audit(actor, 'client.rotate_secret', id, { overlap_seconds: overlapSeconds, tokens_revoked: revoked });
    return { client: toView(updated, now), clientSecret: secret };
  }

  async setStatus(id: string, status: ClientRecord['status'], actor: string): Promise<ClientView> {
    const now = this.#now();
    const updated = await this.#deps.store.clients.update(id, (c) => ({ ...c, status, updatedAt: now }));
    if (!updated) throw new ClientNotFoundError();
    // SECURITY RT-08: disabling ends every stored token (refresh families, opaque and recorded JWTs).
    const revoked = status === 'disabled' ? await this.#deps.store.tokens.revokeClient(id, now) : 0;
    await this.#audit(actor, status === 'active' ? 'client.enable' : 'client.disable', id, status === 'disabled' ? { tokens_revoked: revoked } : {});
    return toView(updated, now);
  }

  async delete(id: string, actor: string): Promise<void> {
    if (!(await this.#deps.store.clients.delete(id))) throw new ClientNotFoundError();
    await this.#deps.store.tokens.revokeClient(id, this.#now());
    await this.#audit(actor, 'client.delete', id, {});
  }

  /**
   * Verifies a client secret in constant time with respect to whether the client exists: every call
   * computes MAX_LIVE_SECRETS HMACs and as many fixed-length comparisons (SECURITY A-10). Resolves to
   * the client and the matching secret's id when one of its live secrets matches, else undefined.
   * Status and environment are the caller's to check: they are only revealed to a caller that proved
   * the secret.
   */
  async verifySecret(clientId: string, secret: string): Promise<{ client: ClientRecord; secretId: string } | undefined> {
    const now = this.#now();
    const wellFormed = looksLikeClientSecret(secret) && parseClientId(this.#deps.settings, clientId) !== undefined;
    const client = wellFormed ? await this.#deps.store.clients.get(clientId) : undefined;
    const candidates: Array<SecretRecord | undefined> = client?.secrets.filter((s) => s.expiresAt === null || s.expiresAt > now) ?? [];
    const peppers = this.#deps.keyring.peppers();
    const fallback = this.#deps.keyring.pepper();
    // One HMAC per distinct pepper among the slots (empty slots use the current pepper), and always
    // MAX_LIVE_SECRETS comparisons: an unknown client costs one HMAC and two compares, exactly what a
    // known client whose secrets share the current pepper costs (the usual case; see docs/security.md).
    const digests = new Map<string, string>();
    let match: SecretRecord | undefined;
    for (let i = 0; i < MAX_LIVE_SECRETS; i++) {
      const s = candidates[i];
      const pepper = (s && peppers.find((p) => p.kid === s.pepperKid)) ?? fallback;
      let digest = digests.get(pepper.kid);
      if (digest === undefined) digests.set(pepper.kid, (digest = hmacHex(pepper, secret)));
      const equal = digestsEqual(digest, s?.digest ?? DUMMY_DIGEST);
      if (equal && s && match === undefined && wellFormed) match = s;
    }
    if (!client || !match) return undefined;
    this.#touch(client.id, match.id, now);
    return { client, secretId: match.id };
  }

  #touch(clientId: string, secretId: string, now: number): void {
    const last = this.#touched.get(secretId) ?? 0;
    if (now - last < 60_000) return;
    this.#touched.set(secretId, now);
    this.#deps.store.clients.touchSecret(clientId, secretId, now).catch(() => {});
  }

  #secretRecord(secret: string, now: number, expiresAt: number | null): SecretRecord {
    const pepper = this.#deps.keyring.pepper();
    return { id: `sec_${randomBase62(10)}`, pepperKid: pepper.kid, digest: hmacHex(pepper, secret), createdAt: now, expiresAt, lastUsedAt: null };
  }

  #validate(input: CreateClientInput & { scopes: string[]; grants: string[]; mode: ClientMode; type: ClientType }): void {
    if (typeof input.name !== 'string' || input.name.length === 0 || input.name.length > 200 || /[\u0000-\u001f\u007f]/.test(input.name)) {
      throw new ClientInputError('name', 'name must be 1–200 printable characters');
    }
    if (input.mode !== 'live' && input.mode !== 'sandbox') throw new ClientInputError('mode', 'mode must be live or sandbox');
    if (input.type !== 'confidential' && input.type !== 'public') throw new ClientInputError('type', 'type must be confidential or public');
    for (const s of input.scopes) if (!isScopeToken(s)) throw new ClientInputError('scope', 'a scope contains characters outside RFC 6749 §3.3');
    const { knownGrants } = this.#deps.settings;
    for (const g of input.grants) {
      if (!knownGrants.includes(g)) throw new ClientInputError('grant', `unknown grant; known: ${knownGrants.join(', ')}`);
    }
    if (input.type === 'public' && input.grants.includes('client_credentials')) {
      throw new ClientInputError('grant', 'a public client cannot use client_credentials (RFC 6749 §4.4)');
    }
    for (const d of input.dialects ?? []) {
      if (!this.#deps.settings.knownDialects.includes(d)) throw new ClientInputError('dialect', `unknown dialect; known: ${this.#deps.settings.knownDialects.join(', ')}`);
    }
    for (const a of input.audiences ?? []) if (!isAbsoluteUri(a)) throw new ClientInputError('audience', 'an audience must be an absolute URI');
    for (const u of input.redirectUris ?? []) {
      const problem = typeof u === 'string' ? redirectUriProblem(u, input.mode) : 'a redirect URI must be a string';
      if (problem !== undefined) throw new ClientInputError('redirect_uri', problem);
    }
    if (input.pkceRequired !== undefined && typeof input.pkceRequired !== 'boolean') throw new ClientInputError('pkce_required', 'pkce_required must be true or false');
    // RFC 9700 §2.1.1: a public client MUST use PKCE; only a confidential one may be let off.
    if (input.pkceRequired === false && input.type !== 'confidential') throw new ClientInputError('pkce_required', 'a public client must use PKCE (RFC 9700 §2.1.1)');
    if (input.tokenReuse !== undefined && typeof input.tokenReuse !== 'boolean') throw new ClientInputError('token_reuse', 'token_reuse must be true or false');
    if (input.rateLimit !== undefined && input.rateLimit !== null && (!Number.isInteger(input.rateLimit) || input.rateLimit < 1 || input.rateLimit > 100_000_000)) {
      throw new ClientInputError('rate_limit', 'rate_limit must be a whole number of requests per minute in 1..100000000');
    }
    if (input.ttl !== undefined && input.ttl !== null) {
      if (!Number.isInteger(input.ttl) || input.ttl < 1 || input.ttl > this.#deps.settings.maxTokenTtl) {
        throw new ClientInputError('ttl', `ttl must be a whole number of seconds in 1..${this.#deps.settings.maxTokenTtl}`);
      }
    }
  }

  #authSettings(input: AuthSettingsInput, type: ClientType) {
    try {
      return authSettings(input, { type, allowHttpJwksUri: this.#deps.settings.jwksUriAllowHttp === true });
    } catch (err) {
      if (err instanceof AuthSettingsError) throw new ClientInputError(err.field, err.message);
      throw err;
    }
  }

  async #audit(actor: string, action: string, target: string, detail: Record<string, string | number | boolean | null>): Promise<void> {
    await this.#deps.store.audit.append({ at: this.#now(), actor, action, target, detail });
  }
}

/** Compared against when the client is unknown, so that case costs what a wrong secret costs. */
const DUMMY_DIGEST = '0'.repeat(64);

function isAbsoluteUri(value: string): boolean {
  try {
    return new URL(value).protocol.length > 1 && !/\s/.test(value);
  } catch {
    return false;
  }
}
