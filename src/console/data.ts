/**
 * What the console's pages read and change, over the same services as the CLI and the admin API
 * (ClientService, the keyring, the audit log), each change audited under the signed-in user's name
 * (`console:<name>`). Pages call these and render; they never reach the store themselves.
 */
import { ClientNotFoundError, type ClientService, type ClientView } from '../credentials/clients.ts';
import type { CreateClientInput, UpdateClientInput } from '../credentials/client-inputs.ts';
import type { AuditEvent, AuditFilter, ClientMode, ClientStatus, KeyRecord, Store } from '../storage/types.ts';
import type { Keyring } from '../tokens/keyring.ts';
import { idTokenAlgs } from '../config/types.ts';
import { actorOf, type SignedInUser } from './auth.ts';
import type { TrafficView } from './traffic.ts';

export interface ClientFilter {
  /** Matched, case-insensitively, against the name and the client id. */
  readonly q?: string;
  /** Clients that may use this dialect (a client limited to none may use all). */
  readonly dialect?: string;
  readonly mode?: ClientMode;
  readonly environment?: string;
  readonly status?: ClientStatus;
}

/** A key as the keys page shows it, without private parts. */
export type KeyView = Omit<KeyRecord, 'sealed'>;

export interface KeysOfAlg {
  readonly alg: string;
  /** The key that signs now. */
  readonly current: KeyView | undefined;
  /** Published already, signs after the next rotation. */
  readonly next: KeyView | undefined;
  /** Published until `publishUntil`, so tokens they signed still verify. */
  readonly retired: readonly KeyView[];
}

export interface AuditQuery extends AuditFilter {
  /** The cursor of the page to show (from a previous page's `next`). */
  readonly before?: string;
  readonly limit?: number;
}

export interface ConsoleDataDeps {
  readonly clients: ClientService;
  readonly keyring: Pick<Keyring, 'describe' | 'rotate'>;
  readonly store: Pick<Store, 'audit'>;
  /** The dialects mounted on this server (the filter's choices). */
  readonly dialects: readonly string[];
  /** Grant types a client may be given (the grant registry). */
  readonly grants: readonly string[];
  readonly environment: string;
  readonly maxTokenTtl: number;
  /** The JWKS URL, shown on the keys page. */
  readonly jwksUri: string;
  readonly traffic: () => Promise<TrafficView>;
  readonly now?: () => number;
}

export const AUDIT_PAGE = 50;
/** Deepest page number the audit page follows. */
export const MAX_AUDIT_PAGE = 200;

export class ConsoleData {
  readonly #deps: ConsoleDataDeps;
  readonly #now: () => number;

  constructor(deps: ConsoleDataDeps) {
    this.#deps = deps;
    this.#now = deps.now ?? Date.now;
  }

  get dialects(): readonly string[] {
    return this.#deps.dialects;
  }

  get environment(): string {
    return this.#deps.environment;
  }

  get grants(): readonly string[] {
    return this.#deps.grants;
  }

  get maxTokenTtl(): number {
    return this.#deps.maxTokenTtl;
  }

  get jwksUri(): string {
    return this.#deps.jwksUri;
  }

  /** What this deployment signs for a client with: RS256 and its `--alg` (the rules' choices). */
  get signingAlgs(): readonly string[] {
    return idTokenAlgs(this.#deps.clients.settings.alg);
  }

  /** Every key without private parts: signing keys and peppers. */
  keyDescriptions(): KeyView[] {
    return this.#deps.keyring.describe();
  }

  async listClients(filter: ClientFilter = {}): Promise<ClientView[]> {
    const q = filter.q?.trim().toLowerCase();
    return (await this.#deps.clients.list())
      .filter((c) => !q || c.name.toLowerCase().includes(q) || c.client_id.toLowerCase().includes(q))
      .filter((c) => !filter.dialect || c.dialects.length === 0 || c.dialects.includes(filter.dialect))
      .filter((c) => !filter.mode || c.mode === filter.mode)
      .filter((c) => !filter.environment || c.environment === filter.environment)
      .filter((c) => !filter.status || c.status === filter.status)
      .sort((a, b) => (a.created_at < b.created_at ? 1 : a.created_at > b.created_at ? -1 : 0));
  }

  /** The filter a list page's query string asks for; values outside the choices are ignored. */
  clientFilter(query: URLSearchParams): ClientFilter {
    const pick = <T extends string>(name: string, allowed: readonly T[]): T | undefined => {
      const v = query.get(name);
      return v !== null && (allowed as readonly string[]).includes(v) ? (v as T) : undefined;
    };
    const q = query.get('q')?.slice(0, 200);
    const env = query.get('environment');
    return {
      ...(q ? { q } : {}),
      ...(pick('dialect', this.#deps.dialects) ? { dialect: pick('dialect', this.#deps.dialects)! } : {}),
      ...(pick('mode', ['live', 'sandbox'] as const) ? { mode: pick('mode', ['live', 'sandbox'] as const)! } : {}),
      ...(env && /^[a-z0-9]{1,16}$/.test(env) ? { environment: env } : {}),
      ...(pick('status', ['active', 'disabled'] as const) ? { status: pick('status', ['active', 'disabled'] as const)! } : {}),
    };
  }

  showClient(id: string): Promise<ClientView> {
    return this.#deps.clients.show(id);
  }

  /** Creates a client; the secret is in the answer only (show it once). */
  createClient(input: CreateClientInput, user: SignedInUser): Promise<{ client: ClientView; clientSecret: string | null }> {
    return this.#deps.clients.create(input, actorOf(user));
  }

  /** Changes a client (everything ClientService.update edits); audited with before and after. */
  updateClient(id: string, change: UpdateClientInput, user: SignedInUser): Promise<ClientView> {
    return this.#deps.clients.update(id, change, actorOf(user));
  }

  /** A client's name, or undefined when it is gone (traffic labels). */
  async clientName(id: string): Promise<string | undefined> {
    try {
      return (await this.#deps.clients.show(id)).name;
    } catch (err) {
      if (err instanceof ClientNotFoundError) return undefined;
      throw err;
    }
  }

  /** A new secret; the older one keeps working `overlapSeconds` more. The secret is in the answer only. */
  rotateSecret(id: string, overlapSeconds: number, user: SignedInUser): Promise<{ client: ClientView; clientSecret: string }> {
    return this.#deps.clients.rotateSecret(id, overlapSeconds, actorOf(user));
  }

  setStatus(id: string, status: ClientStatus, user: SignedInUser): Promise<ClientView> {
    return this.#deps.clients.setStatus(id, status, actorOf(user));
  }

  deleteClient(id: string, user: SignedInUser): Promise<void> {
    return this.#deps.clients.delete(id, actorOf(user));
  }

  /** Signing keys per algorithm: current, next and the retired ones still published. */
  keys(): KeysOfAlg[] {
    const sig = this.#deps.keyring.describe().filter((k) => k.use === 'sig');
    const algs = [...new Set(sig.map((k) => k.alg))].sort();
    return algs.map((alg) => {
      const of = sig.filter((k) => k.alg === alg);
      return {
        alg,
        current: of.find((k) => k.state === 'active'),
        next: of.find((k) => k.state === 'next'),
        retired: of.filter((k) => k.state === 'retired').sort((a, b) => (b.retiredAt ?? 0) - (a.retiredAt ?? 0)),
      };
    });
  }

  /** Rotates every signing key (next → current → retired), audited. */
  async rotateKeys(user: SignedInUser): Promise<KeysOfAlg[]> {
    await this.#deps.keyring.rotate();
    await this.#deps.store.audit.append({ at: this.#now(), actor: actorOf(user), action: 'key.rotate', target: 'signing', detail: {} });
    return this.keys();
  }

  /** One page of the audit log, newest first. */
  audit(q: AuditQuery): Promise<{ events: AuditEvent[]; next: string | undefined }> {
    const limit = q.limit !== undefined && Number.isInteger(q.limit) && q.limit >= 1 && q.limit <= 500 ? q.limit : AUDIT_PAGE;
    const filter: AuditFilter = {
      ...(q.target ? { target: q.target } : {}),
      ...(q.actor ? { actor: q.actor } : {}),
      ...(q.action ? { action: q.action } : {}),
    };
    return this.#deps.store.audit.query(filter, limit, q.before);
  }

  /**
   * Page `page` (1-based) of `size` events: keyset pages followed from the newest, at most
   * `MAX_AUDIT_PAGE` deep (older events: narrow the filter).
   */
  async auditPageNumber(filter: AuditFilter, page: number, size: number): Promise<{ events: AuditEvent[]; next: string | undefined }> {
    let before: string | undefined;
    let result = await this.audit({ ...filter, limit: size });
    for (let i = 1; i < Math.min(page, MAX_AUDIT_PAGE) && result.next !== undefined; i++) {
      before = result.next;
      result = await this.audit({ ...filter, limit: size, before });
    }
    return result;
  }

  /** The audit query a page's query string asks for (`client`, `actor`, `action`, `before`). */
  auditQuery(query: URLSearchParams): AuditQuery {
    const v = (name: string) => {
      const s = query.get(name)?.trim();
      return s ? s.slice(0, 256) : undefined;
    };
    return { target: v('client'), actor: v('actor'), action: v('action'), before: v('before') };
  }

  traffic(): Promise<TrafficView> {
    return this.#deps.traffic();
  }
}
