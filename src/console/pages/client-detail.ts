/**
 * One client: every setting, its live secrets (ids and dates, never a digest), its recent audit
 * events, and for admins the actions (edit, rotate, disable or enable, delete), each leading to
 * its own form or confirmation page.
 */
import type { AuditEvent } from '../../storage/types.ts';
import type { ClientView } from '../../credentials/clients.ts';
import { canChange, layout, type PageContext } from './layout.ts';
import { html, type Html, type Interpolation } from './html.ts';
import { paths } from './paths.ts';
import { auditTable } from './audit.ts';

/** Settings that not every deployment's client view carries (editable metadata and claims). */
export interface ClientExtras {
  readonly metadata?: Readonly<Record<string, string>>;
  readonly claims?: Readonly<Record<string, unknown>>;
}

export type ConsoleClient = ClientView & ClientExtras;

const list = (values: readonly string[], none = 'none'): Html =>
  values.length === 0 ? html`<span class="empty">${none}</span>` : html`${values.map((v, i) => html`${i > 0 && ', '}<code>${v}</code>`)}`;

const pairs = (record: Readonly<Record<string, unknown>> | undefined): Html => {
  const entries = Object.entries(record ?? {});
  if (entries.length === 0) return html`<span class="empty">none</span>`;
  return html`${entries.map(([k, v], i) => html`${i > 0 && html`<br>`}<code>${k}</code> = <code>${typeof v === 'string' ? v : JSON.stringify(v)}</code>`)}`;
};

/** A confidential client authenticating with a secret (every other method holds none). */
export const hasSecret = (c: ClientView): boolean => c.type === 'confidential' && c.token_endpoint_auth_method === 'client_secret_basic';

/** Its keys: inline (each key's kid, type and certificate) or at a URL. */
const keys = (c: ClientView): Html => {
  if (c.jwks_uri !== undefined) return html`at <code>${c.jwks_uri}</code>`;
  const inline = (c.jwks?.keys ?? []) as ReadonlyArray<{ kid?: string; kty?: string; crv?: string; alg?: string; x5c?: unknown }>;
  if (inline.length === 0) return html`<span class="empty">none</span>`;
  return html`${inline.length === 1 ? '1 key' : `${inline.length} keys`}: ${inline.map((k, i) => html`${i > 0 && ', '}<code>${k.kid ?? 'no kid'}</code> (${[k.kty, k.crv, k.alg].filter(Boolean).join(' ')}${k.x5c !== undefined && ', with certificate'})`)}`;
};

/** The certificate name a tls_client_auth client is registered with (one of the five). */
const TLS_NAME_LABELS = [
  ['tls_client_auth_subject_dn', 'subject DN'],
  ['tls_client_auth_san_dns', 'DNS name'],
  ['tls_client_auth_san_uri', 'URI'],
  ['tls_client_auth_san_ip', 'IP address'],
  ['tls_client_auth_san_email', 'e-mail address'],
] as const;
const certificateName = (c: ClientView): Html => {
  const named = TLS_NAME_LABELS.find(([k]) => c[k] !== undefined);
  return named ? html`${named[1]} <code>${c[named[0]]}</code>` : html`<span class="empty">none</span>`;
};

const when = (iso: string | null, none: string): Interpolation => (iso === null ? html`<span class="empty">${none}</span>` : iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z'));

export interface ClientDetailView {
  readonly client: ConsoleClient;
  /** The client's recent audit events, newest first. */
  readonly events: readonly AuditEvent[];
}

export function clientDetailPage(ctx: PageContext, view: ClientDetailView): string {
  const c = view.client;
  const rows: Array<[string, Interpolation]> = [
    ['Client id', html`<code>${c.client_id}</code>`],
    ['Status', html`<span class="badge badge-${c.status}">${c.status}</span>`],
    ['Mode', c.mode],
    ['Environment', c.environment],
    ['Type', c.type],
    ['Authentication', html`<code>${c.token_endpoint_auth_method}</code>`],
    ['Keys (JWKS)', keys(c)],
    ['Certificate name (tls_client_auth)', certificateName(c)],
    ['DPoP-bound tokens', c.dpop_bound_access_tokens ? 'required' : 'not required'],
    ['Certificate-bound tokens', c.tls_client_certificate_bound_access_tokens ? 'yes: bound to its TLS client certificate' : 'no'],
    ['Grants', list(c.grants)],
    ['Scopes', list(c.scopes)],
    ['Audiences', list(c.audiences)],
    ['Dialects', list(c.dialects, 'all')],
    ['Redirect URIs', list(c.redirect_uris)],
    ['Post-logout redirect URIs', list(c.post_logout_redirect_uris)],
    ['Back-channel logout URI', c.backchannel_logout_uri ?? html`<span class="empty">none</span>`],
    ['Back-channel logout requires sid', c.backchannel_logout_session_required ? 'yes' : 'no'],
    ['Trusted (no consent)', c.trusted ? 'yes' : 'no'],
    ['Token lifetime', c.access_token_ttl === null ? html`<span class="empty">deployment default</span>` : `${c.access_token_ttl} s`],
    ['Rate limit', c.rate_limit === null ? html`<span class="empty">deployment default</span>` : `${c.rate_limit} requests/minute`],
    ['PKCE', c.pkce_required ? 'required' : 'optional for this confidential client'],
    ['Pushed authorization requests', c.require_pushed_authorization_requests === true ? 'required' : 'optional'],
    ['Signed request objects', c.require_signed_request_object === true ? 'required' : 'optional'],
    ['Refresh token rotation', c.refresh_token_rotation ? 'on: each refresh returns a new refresh token' : 'off: the refresh token is kept, bound to the client'],
    ['Token reuse', c.token_reuse ? 'on: a client_credentials request may get a still-valid earlier token' : 'off'],
    ['Token exchange audiences', list(c.exchange_audiences)],
    ['Token exchange scopes', list(c.exchange_scopes)],
    ['Introspection audiences (resource server)', list(c.introspection_audiences)],
    ['ID tokens signed with', c.id_token_signed_response_alg],
    ['JWT authorization responses signed with', c.authorization_signed_response_alg],
    ['JWT introspection answers signed with', c.introspection_signed_response_alg],
    ['Security profile', c.security_profile === 'fapi2' ? 'FAPI 2.0 Security Profile' : 'none'],
    ...(c.claims === undefined ? [] : [['Claims', pairs(c.claims)] as [string, Interpolation]]),
    ...(c.metadata === undefined ? [] : [['Metadata', pairs(c.metadata)] as [string, Interpolation]]),
    ['Created', when(c.created_at, '')],
    ['Updated', when(c.updated_at, '')],
  ];
  const admin = canChange(ctx);
  const body = html`<div class="page-head"><h1>${c.name}</h1>
${admin && html`<div class="actions">
<a class="button" href="${paths.editClient(c.client_id)}">Edit</a>
${hasSecret(c) && html`<a class="button" href="${paths.rotateSecret(c.client_id)}">Rotate secret</a>`}
${c.status === 'active'
  ? html`<a class="button" href="${paths.disableClient(c.client_id)}">Disable</a>`
  : html`<a class="button" href="${paths.enableClient(c.client_id)}">Enable</a>`}
<a class="button danger" href="${paths.deleteClient(c.client_id)}">Delete</a>
</div>`}</div>
<section class="card" aria-labelledby="settings-h"><h2 id="settings-h">Settings</h2>
<dl class="props">${rows.map(([k, v]) => html`<dt>${k}</dt><dd>${v}</dd>`)}</dl></section>
${hasSecret(c) && html`<section class="card" aria-labelledby="secrets-h"><h2 id="secrets-h">Secrets</h2>
${c.secrets.length === 0
  ? html`<p class="empty">No live secret: the client cannot authenticate until one is issued.</p>`
  : html`<div class="table-wrap"><table><caption class="visually-hidden">Live secrets</caption>
<thead><tr><th scope="col">Secret id</th><th scope="col">Created</th><th scope="col">Ends</th><th scope="col">Last used</th></tr></thead>
<tbody>${c.secrets.map((s) => html`<tr><td><code>${s.id}</code></td><td>${when(s.created_at, '')}</td><td>${when(s.expires_at, 'never')}</td><td>${when(s.last_used_at, 'never')}</td></tr>`)}</tbody>
</table></div>`}</section>`}
<section class="card" aria-labelledby="events-h"><h2 id="events-h">Recent changes</h2>
${auditTable(view.events, 'Recent audit events of this client')}
<p><a href="${paths.audit}?client=${encodeURIComponent(c.client_id)}">Full audit log of this client</a></p></section>`;
  return layout(ctx, { title: c.name, section: 'clients', body });
}
