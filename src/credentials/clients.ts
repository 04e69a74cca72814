/**
 * The client life cycle: one service behind both the CLI and the admin API. A secret is returned
 * once, at creation or rotation, and stored only as a peppered HMAC digest.
 */
import type { Keyring } from '../tokens/keyring.ts';
import { hmacHex, digestsEqual } from '../tokens/digest.ts';
import { hasValidChecksum, randomBase62 } from '../tokens/random.ts';
import { andThen, type Maybe } from '../util/maybe.ts';
import type { ClientRecord, ClientType, SecretRecord, Store } from '../storage/types.ts';
import type { SigningAlg } from '../config/types.ts';
import type { CreateClientInput, UpdateClientInput } from './client-inputs.ts';
import { ADMIN_SCOPE } from '../wire/scope.ts';
import { ConflictError, SECRETLESS_AUTH_METHODS } from '../storage/types.ts';
import { newClientId, type IdSettings } from './ids.ts';
import { AuthSettingsError, authSettings, TLS_NAME_FIELDS, usesKeys, type AuthSettingsInput } from './client-auth-settings.ts';
import {
  checkImportedId,
  checkImportedSecret,
  checkSettings,
  ClientInputError,
  FAPI2_AUTH_METHODS,
  FAPI2_AUTH_REFUSAL,
  ClientNotFoundError,
  hasGeneratedShape,
  isPlausibleCredential,
  settingsOf,
  type ClientSettings,
} from './client-rules.ts';
import { newClientSecret } from './secrets.ts';
import { VerifiedSecrets } from './verified-secrets.ts';
import { auditable, changedFields, stored, toView, type ClientView } from './client-view.ts';

export { toView, type ClientView };

/** The longest a replaced secret keeps working after a rotation, seconds (a year). */
export const MAX_SECRET_OVERLAP_SECONDS = 31_536_000;

/** At most this many secrets authenticate a client at once (overlapping rotation). */
export const MAX_LIVE_SECRETS = 2;

export { ClientInputError, ClientNotFoundError };

/** A client with the chosen id exists already. */
export class ClientExistsError extends ClientInputError {
  constructor() {
    super('client_id', 'a client with this client_id exists already');
    this.name = 'ClientExistsError';
  }
}

export interface ClientServiceSettings extends IdSettings {
  /** Longest access-token lifetime a client may be given, seconds. */
  readonly maxTokenTtl: number;
  /** Dialect names this deployment knows (a client may be limited to some). */
  readonly knownDialects: readonly string[];
  /** Grant types this server implements (the grant registry). */
  readonly knownGrants: readonly string[];
  /** The deployment's signing algorithm (`--alg`): with RS256, what a client's ID tokens may be signed with. */
  readonly alg: SigningAlg;
  /** `jwks_uri` may be plain http (tests and local development). */
  readonly jwksUriAllowHttp?: boolean;
  /** Sandbox mode: a secret chosen by the caller may be shorter than 16 characters. */
  readonly sandbox?: boolean;
}

export interface ClientServiceDeps {
  readonly store: Pick<Store, 'clients' | 'audit' | 'tokens' | 'consents'>;
  readonly keyring: Pick<Keyring, 'pepper' | 'peppers'>;
  readonly settings: ClientServiceSettings;
  readonly now?: () => number;
}

/** How `ClientService.update` is made by a caller with rules of its own (RFC 7592 update). */
export interface UpdateOptions {
  /** Run on the stored client inside the atomic update, before the change: a throw changes nothing. */
  readonly check?: (current: ClientRecord) => void;
  /** A redirect URI the client did not have ends every user's remembered consent to it (audited as `consents_revoked`). */
  readonly newRedirectEndsConsent?: boolean;
}

export class ClientService {
  readonly #deps: ClientServiceDeps;
  readonly #now: () => number;
  /** Secret ids whose lastUsedAt was written recently: bookkeeping at most once a minute each. */
  readonly #touched = new Map<string, number>();
  /** Secrets already proven against a client record (see `verifySecret`). */
  readonly #verified = new VerifiedSecrets();

  constructor(deps: ClientServiceDeps) {
    this.#deps = deps;
    this.#now = deps.now ?? Date.now;
  }

  /** The rules clients are checked by (apply checks a whole plan against them before its first change). */
  get settings(): ClientServiceSettings {
    return this.#deps.settings;
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
    const settings: ClientSettings = {
      name: input.name,
      mode,
      type,
      scopes: [...new Set([...(input.scopes ?? []), ...(input.admin ? [ADMIN_SCOPE] : [])])],
      grants: [...new Set(input.grants ?? ['client_credentials'])],
      audiences: [...(input.audiences ?? [])],
      dialects: [...(input.dialects ?? [])],
      redirectUris: [...(input.redirectUris ?? [])],
      postLogoutRedirectUris: [...(input.postLogoutRedirectUris ?? [])],
      backchannelLogoutUri: input.backchannelLogoutUri ?? undefined,
      backchannelLogoutSessionRequired: input.backchannelLogoutSessionRequired ?? false,
      trusted: input.trusted ?? false,
      pkceRequired: input.pkceRequired ?? true,
      requirePar: input.requirePar ?? false,
      requireSignedRequestObject: input.requireSignedRequestObject ?? false,
      refreshTokenRotation: input.refreshTokenRotation ?? true,
      securityProfile: profileOf(input.securityProfile),
      idTokenAlg: (input.idTokenAlg ?? 'RS256') as SigningAlg, // the rules refuse what the keyring does not keep
      authorizationResponseAlg: (input.authorizationResponseAlg ?? 'RS256') as SigningAlg, // as idTokenAlg
      introspectionAlg: (input.introspectionAlg ?? 'RS256') as SigningAlg,
      accessTokenTtl: input.ttl ?? null,
      rateLimit: input.rateLimit ?? null,
      tokenReuse: input.tokenReuse ?? false,
      metadata: input.metadata ?? {},
      claims: input.claims ?? {},
    };
    checkSettings(settings, this.#deps.settings);
    const auth = this.#authSettings(input, type);
    keysForRequestObjects(settings, auth);
    fapi2Authentication(settings, auth);
    const usesSecret = type === 'confidential' && auth.authMethod === undefined;
    if (input.clientId !== undefined) checkImportedId(input.clientId, mode, this.#deps.settings);
    if (input.clientSecret !== undefined) {
      if (!usesSecret) throw new ClientInputError('client_secret', 'only a confidential client authenticating with a secret has one');
      checkImportedSecret(input.clientSecret, this.#deps.settings.sandbox === true);
    }
    if (input.managedBy !== undefined) checkManagedBy(input.managedBy);
    if (input.tokenReuse !== undefined && typeof input.tokenReuse !== 'boolean') throw new ClientInputError('token_reuse', 'token_reuse must be true or false');
    const secret = usesSecret ? (input.clientSecret ?? newClientSecret()) : null;
    const record: ClientRecord = {
      id: input.clientId ?? newClientId(this.#deps.settings, mode),
      environment: this.#deps.settings.environment,
      status: 'active',
      ...stored(settings),
      ...auth,
      ...(registrationToken === undefined ? {} : { registrationToken }),
      ...(input.managedBy === undefined ? {} : { managedBy: input.managedBy }),
      secrets: secret ? [this.#secretRecord(secret, now, null)] : [],
      createdAt: now,
      updatedAt: now,
    };
    try {
      await this.#deps.store.clients.insert(record);
    } catch (err) {
      if (err instanceof ConflictError && input.clientId !== undefined) throw new ClientExistsError();
      throw err;
    }
    await this.#audit(actor, 'client.create', record.id, {
      mode,
      type,
      admin: settings.scopes.includes(ADMIN_SCOPE),
      ...(input.clientId === undefined ? {} : { imported_id: true }),
      ...(input.clientSecret === undefined ? {} : { imported_secret: true }),
      after: JSON.stringify(auditable(toView(record, now))),
    });
    return { client: toView(record, now), clientSecret: secret };
  }

  /**
   * Changes a client's settings (see UpdateClientInput), checked by the rules `create` uses, in one
   * atomic read-modify-write: refused input changes nothing. The change reaches every node through
   * the feed (and at the latest when their cached copy expires). Audited with the fields changed,
   * before and after. Moving to `private_key_jwt` ends the client's secrets and revokes its tokens.
   */
  async update(id: string, patch: UpdateClientInput, actor: string, options: UpdateOptions = {}): Promise<ClientView> {
    const now = this.#now();
    let before: ClientRecord | undefined;
    const updated = await this.#deps.store.clients.update(id, (c) => {
      options.check?.(c);
      before = c;
      const next = this.#patched(c, patch, now);
      return changedFields(c, next, now).length === 0 ? c : next;
    });
    if (!updated || !before) throw new ClientNotFoundError();
    const changed = changedFields(before, updated, now);
    if (changed.length === 0) return toView(updated, now);
    // SECURITY RT-08: a change of how the client authenticates is a credential event; its tokens end.
    const revoked = before.authMethod !== updated.authMethod ? await this.#deps.store.tokens.revokeClient(id, now) : undefined;
    // RG-07: the consent page names where the user is sent back; a new destination is asked for anew.
    const added = options.newRedirectEndsConsent === true && updated.redirectUris.some((u) => !before!.redirectUris.includes(u));
    const consents = added ? await this.#deps.store.consents.revokeClient(id, now) : undefined;
    const pick = (v: ClientView) => Object.fromEntries(changed.map((k) => [k, v[k]]));
    await this.#audit(actor, 'client.update', id, {
      changed: changed.join(','),
      before: JSON.stringify(pick(toView(before, now))),
      after: JSON.stringify(pick(toView(updated, now))),
      ...(revoked === undefined ? {} : { tokens_revoked: revoked }),
      ...(consents === undefined ? {} : { consents_revoked: consents }),
    });
    return toView(updated, now);
  }

  #patched(c: ClientRecord, p: UpdateClientInput, now: number): ClientRecord {
    if (typeof p !== 'object' || p === null) throw new ClientInputError('body', 'the change must be an object');
    let scopes = p.scopes === undefined ? [...c.scopes] : [...new Set(p.scopes)];
    // Added and removed against the stored list, inside the atomic update: two concurrent edits both count.
    for (const x of p.addScopes ?? []) if (!scopes.includes(x)) scopes.push(x);
    if (p.removeScopes !== undefined) scopes = scopes.filter((x) => !p.removeScopes!.includes(x));
    if (p.admin === true && !scopes.includes(ADMIN_SCOPE)) scopes.push(ADMIN_SCOPE);
    if (p.admin === false) scopes = scopes.filter((x) => x !== ADMIN_SCOPE);
    const current = settingsOf(c);
    const settings: ClientSettings = {
      ...current,
      ...(p.name === undefined ? {} : { name: p.name }),
      scopes,
      ...(p.grants === undefined ? {} : { grants: [...new Set(p.grants)] }),
      ...(p.audiences === undefined ? {} : { audiences: [...p.audiences] }),
      ...(p.dialects === undefined ? {} : { dialects: [...p.dialects] }),
      ...(p.redirectUris === undefined ? {} : { redirectUris: [...p.redirectUris] }),
      ...(p.postLogoutRedirectUris === undefined ? {} : { postLogoutRedirectUris: [...p.postLogoutRedirectUris] }),
      ...(p.backchannelLogoutUri === undefined ? {} : { backchannelLogoutUri: p.backchannelLogoutUri ?? undefined }),
      ...(p.backchannelLogoutSessionRequired === undefined ? {} : { backchannelLogoutSessionRequired: p.backchannelLogoutSessionRequired }),
      ...(p.trusted === undefined ? {} : { trusted: p.trusted }),
      ...(p.pkceRequired === undefined ? {} : { pkceRequired: p.pkceRequired }),
      ...(p.requirePar === undefined ? {} : { requirePar: p.requirePar }),
      ...(p.requireSignedRequestObject === undefined ? {} : { requireSignedRequestObject: p.requireSignedRequestObject }),
      ...(p.refreshTokenRotation === undefined ? {} : { refreshTokenRotation: p.refreshTokenRotation }),
      ...(p.securityProfile === undefined ? {} : { securityProfile: profileOf(p.securityProfile) }),
      ...(p.idTokenAlg === undefined ? {} : { idTokenAlg: p.idTokenAlg as SigningAlg }),
      ...(p.authorizationResponseAlg === undefined ? {} : { authorizationResponseAlg: p.authorizationResponseAlg as SigningAlg }),
      ...(p.introspectionAlg === undefined ? {} : { introspectionAlg: p.introspectionAlg as SigningAlg }),
      ...(p.tokenReuse === undefined ? {} : { tokenReuse: p.tokenReuse }),
      ...(p.ttl === undefined ? {} : { accessTokenTtl: p.ttl }),
      ...(p.rateLimit === undefined ? {} : { rateLimit: p.rateLimit }),
      ...(p.metadata === undefined ? {} : { metadata: p.metadata ?? {} }),
      ...(p.claims === undefined ? {} : { claims: p.claims ?? {} }),
    };
    checkSettings(settings, this.#deps.settings);
    if (p.managedBy !== undefined && p.managedBy !== null) checkManagedBy(p.managedBy);
    if (p.authMethod !== undefined && p.authMethod !== 'client_secret_basic' && !(SECRETLESS_AUTH_METHODS as readonly string[]).includes(p.authMethod)) {
      throw new ClientInputError('token_endpoint_auth_method', 'token_endpoint_auth_method is client_secret_basic, private_key_jwt, tls_client_auth or self_signed_tls_client_auth');
    }
    const method = p.authMethod === undefined ? c.authMethod : p.authMethod === 'client_secret_basic' ? undefined : p.authMethod;
    const keyed = usesKeys(method);
    // Setting one key source replaces the other; leaving the methods that use keys drops both. So with
    // the tls_client_auth names: one given replaces the other, leaving tls_client_auth drops them.
    const keysGiven = (p.jwks !== undefined && p.jwks !== null) || (p.jwksUri !== undefined && p.jwksUri !== null);
    const keep = <T>(given: T | null | undefined, was: T | undefined): T | undefined => (given === null ? undefined : given !== undefined ? given : keysGiven || !keyed ? undefined : was);
    const nameGiven = TLS_NAME_FIELDS.some((f) => p[f] !== undefined && p[f] !== null);
    const names = Object.fromEntries(TLS_NAME_FIELDS.map((f) => [f, p[f] === null ? undefined : (p[f] ?? (nameGiven || method !== 'tls_client_auth' ? undefined : c[f]))]));
    const auth = this.#authSettings(
      {
        ...(method === undefined ? {} : { authMethod: method }),
        ...names,
        jwks: keep(p.jwks, c.jwks),
        jwksUri: keep(p.jwksUri, c.jwksUri),
        dpopBound: p.dpopBound ?? c.dpopBound,
        certBound: p.certBound ?? c.certBound,
        exchangeAudiences: p.exchangeAudiences === undefined ? c.exchangeAudiences : (p.exchangeAudiences ?? undefined),
        exchangeScopes: p.exchangeScopes === undefined ? c.exchangeScopes : (p.exchangeScopes ?? undefined),
        introspectionAudiences: p.introspectionAudiences === undefined ? c.introspectionAudiences : (p.introspectionAudiences ?? undefined),
      },
      c.type,
    );
    keysForRequestObjects(settings, auth);
    fapi2Authentication(settings, auth);
    const { authMethod: _m, jwks: _j, jwksUri: _u, dpopBound: _d, certBound: _cb, tlsSubjectDn: _t1, tlsSanDns: _t2, tlsSanUri: _t3, tlsSanIp: _t4, tlsSanEmail: _t5, exchangeAudiences: _ea, exchangeScopes: _es, introspectionAudiences: _ia2, managedBy, metadata: _md, claims: _cl, pkceRequired: _pk, requirePar: _rp, requireSignedRequestObject: _rs, securityProfile: _sp, refreshTokenRotation: _rr, idTokenAlg: _ia, authorizationResponseAlg: _ara, introspectionAlg: _is, tokenReuse: _tr, postLogoutRedirectUris: _pl, backchannelLogoutUri: _bl, backchannelLogoutSessionRequired: _bs, ...rest } = c;
    const managed = p.managedBy === undefined ? managedBy : (p.managedBy ?? undefined);
    // A client that authenticates without a secret holds none: its secrets end now.
    const secrets = method !== undefined && c.authMethod === undefined ? c.secrets.map((s) => (s.expiresAt === null || s.expiresAt > now ? { ...s, expiresAt: now } : s)) : c.secrets;
    return { ...rest, ...stored(settings), ...auth, ...(managed === undefined ? {} : { managedBy: managed }), secrets, updatedAt: now };
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
  async rotateSecret(id: string, overlapSeconds: number, actor: string, chosenSecret?: string): Promise<{ client: ClientView; clientSecret: string }> {
    // Bounded: an end past Date's range (2^53 s) was stored, then every view of the client threw.
    if (!Number.isInteger(overlapSeconds) || overlapSeconds < 0 || overlapSeconds > MAX_SECRET_OVERLAP_SECONDS) {
      throw new ClientInputError('expire_old_in', `the overlap must be a whole number of seconds in 0..${MAX_SECRET_OVERLAP_SECONDS}`);
    }
    if (chosenSecret !== undefined) checkImportedSecret(chosenSecret, this.#deps.settings.sandbox === true);
    const now = this.#now();
    const secret = chosenSecret ?? newClientSecret();
    const updated = await this.#deps.store.clients.update(id, (c) => {
      if (c.type !== 'confidential') throw new ClientInputError('client_id', 'a public client has no secret');
      if (c.authMethod !== undefined) throw new ClientInputError('client_id', `a ${c.authMethod} client has no secret: ${c.authMethod === 'tls_client_auth' ? 'issue it a new certificate' : 'change its keys'} instead`);
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
    await this.#audit(actor, 'client.rotate_secret', id, { overlap_seconds: overlapSeconds, tokens_revoked: revoked, ...(chosenSecret === undefined ? {} : { imported_secret: true }) });
    return { client: toView(updated, now), clientSecret: secret };
  }

  async setStatus(id: string, status: ClientRecord['status'], actor: string): Promise<ClientView> {
    const now = this.#now();
    const updated = await this.#deps.store.clients.update(id, (c) => ({ ...c, status, updatedAt: now }));
    if (!updated) throw new ClientNotFoundError();
    // SECURITY RT-08: disabling ends every stored token (refresh families, opaque and recorded JWTs),
    // and every user's remembered consent: enabled again, the client asks each user anew.
    if (status === 'active') await this.#audit(actor, 'client.enable', id, {});
    else {
      const revoked = await this.#deps.store.tokens.revokeClient(id, now);
      const consents = await this.#deps.store.consents.revokeClient(id, now);
      await this.#audit(actor, 'client.disable', id, { tokens_revoked: revoked, consents_revoked: consents });
    }
    return toView(updated, now);
  }

  async delete(id: string, actor: string): Promise<void> {
    if (!(await this.#deps.store.clients.delete(id))) throw new ClientNotFoundError();
    const now = this.#now();
    await this.#deps.store.tokens.revokeClient(id, now);
    // A client registered again under the same id (an import) inherits no user's consent, and none
    // of its codes or approved device requests.
    const consents = await this.#deps.store.consents.revokeClient(id, now);
    await this.#audit(actor, 'client.delete', id, { consents_revoked: consents });
  }

  /**
   * Verifies a client secret in constant time with respect to whether the client exists: every call
   * computes MAX_LIVE_SECRETS HMACs and as many fixed-length comparisons (SECURITY A-10). Resolves to
   * the client and the matching secret's id when one of its live secrets matches, else undefined.
   * Status and environment are the caller's to check: they are only revealed to a caller that proved
   * the secret. A secret of the generated shape with a wrong checksum is refused before any lookup;
   * secrets chosen by the caller (import) have no checksum and are looked up whenever they are within
   * the import rules.
   */
  verifySecret(clientId: string, secret: string): Maybe<{ client: ClientRecord; secretId: string } | undefined> {
    const now = this.#now();
    // A secret of the generated shape must carry its checksum (`looksLikeClientSecret`, whose shape
    // test would run a second time).
    const wellFormed = isPlausibleCredential(clientId) && (hasGeneratedShape(secret) ? hasValidChecksum(secret) : isPlausibleCredential(secret));
    if (!wellFormed) return this.#matchSecret(undefined, secret, now, false);
    // A cached client is answered at once, and then so is this.
    return andThen(this.#deps.store.clients.get(clientId), (client) => this.#matchSecret(client, secret, now, true));
  }

  /** `verifySecret` once the client is known (or known not to exist). */
  #matchSecret(client: ClientRecord | undefined, secret: string, now: number, wellFormed: boolean): { client: ClientRecord; secretId: string } | undefined {
    const proven = this.#verified.find(client, secret);
    if (client && proven && (proven.expiresAt === null || proven.expiresAt > now)) {
      this.#touch(client.id, proven.id, now);
      return { client, secretId: proven.id };
    }
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
    this.#verified.remember(client, secret, match);
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

function checkManagedBy(v: unknown): void {
  if (typeof v !== 'string' || !/^[a-z0-9_.:-]{1,64}$/.test(v)) throw new ClientInputError('managed_by', 'managed_by is 1–64 of a-z 0-9 _ . : -');
}

/** RFC 9101 §10.5: a client that must sign its requests has keys to verify them with. */
function keysForRequestObjects(settings: ClientSettings, auth: { readonly jwks?: unknown; readonly jwksUri?: string }): void {
  if (settings.requireSignedRequestObject && auth.jwks === undefined && auth.jwksUri === undefined) {
    throw new ClientInputError('require_signed_request_object', 'require_signed_request_object needs the client keys (jwks or jwks_uri, private_key_jwt)');
  }
}

/** A profile as given (`none` and null: no profile); anything else is left for the rules to refuse. */
const profileOf = (v: unknown): ClientSettings['securityProfile'] => (v === undefined || v === null || v === 'none' ? null : (v as ClientSettings['securityProfile']));

/**
 * FAPI 2.0 §5.3.2.1 item 6 (FAPI-01, FAPI-04): a fapi2 client authenticates with private_key_jwt or
 * mTLS (RFC 8705 §2: tls_client_auth, self_signed_tls_client_auth).
 */
function fapi2Authentication(settings: ClientSettings, auth: { readonly authMethod?: string }): void {
  if (settings.securityProfile === 'fapi2' && !FAPI2_AUTH_METHODS.includes(auth.authMethod ?? '')) {
    throw new ClientInputError('token_endpoint_auth_method', FAPI2_AUTH_REFUSAL);
  }
}
