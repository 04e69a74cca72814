/**
 * The clients list: a GET form of filters (search, dialect, mode, environment, status) over a
 * table. Filtering is a pure function of the list and the query, so the URL is the whole state and
 * a filtered view can be bookmarked or shared.
 */
import type { ClientView } from '../../credentials/clients.ts';
import { canChange, layout, type PageContext } from './layout.ts';
import { input, select, type Choice } from './forms.ts';
import { html } from './html.ts';
import { paths } from './paths.ts';

export interface ClientFilter {
  readonly q: string;
  readonly dialect: string;
  readonly mode: string;
  readonly environment: string;
  readonly status: string;
}

const KEYS = ['q', 'dialect', 'mode', 'environment', 'status'] as const;

export function parseClientFilter(query: string): ClientFilter {
  const p = new URLSearchParams(query);
  const get = (k: string) => (p.get(k) ?? '').trim().slice(0, 200);
  return { q: get('q'), dialect: get('dialect'), mode: get('mode'), environment: get('environment'), status: get('status') };
}

/**
 * Clients matching every filter set. `q` matches the name or id, case-insensitively; a dialect
 * matches clients limited to it and clients limited to none (they may speak every dialect).
 */
export function filterClients(clients: readonly ClientView[], f: ClientFilter): ClientView[] {
  const q = f.q.toLowerCase();
  return clients.filter(
    (c) =>
      (q === '' || c.name.toLowerCase().includes(q) || c.client_id.toLowerCase().includes(q)) &&
      (f.dialect === '' || c.dialects.length === 0 || c.dialects.includes(f.dialect)) &&
      (f.mode === '' || c.mode === f.mode) &&
      (f.environment === '' || c.environment === f.environment) &&
      (f.status === '' || c.status === f.status),
  );
}

export interface ClientsListView {
  /** Every client; the page filters. */
  readonly clients: readonly ClientView[];
  readonly filter: ClientFilter;
  readonly dialects: readonly string[];
}

const any = (label: string): Choice => ({ value: '', label });
const choices = (values: Iterable<string>): Choice[] => [...new Set(values)].sort().map((v) => ({ value: v, label: v }));

export function clientsListPage(ctx: PageContext, view: ClientsListView): string {
  const f = view.filter;
  const shown = filterClients(view.clients, f);
  const filtered = KEYS.some((k) => f[k] !== '');
  const body = html`<div class="page-head"><h1>Clients</h1>
${canChange(ctx) && html`<a class="button primary" href="${paths.newClient}">New client</a>`}</div>
<form method="get" action="${paths.clients}" class="card filters" role="search" aria-label="Filter clients">
${input({ name: 'q', label: 'Search', type: 'search', value: f.q, hint: 'Name or client id', spellcheck: false })}
${select({ name: 'dialect', label: 'Dialect', value: f.dialect, choices: [any('Any dialect'), ...choices(view.dialects)] })}
${select({ name: 'mode', label: 'Mode', value: f.mode, choices: [any('Any mode'), ...choices(['live', 'sandbox'])] })}
${select({ name: 'environment', label: 'Environment', value: f.environment, choices: [any('Any environment'), ...choices(view.clients.map((c) => c.environment))] })}
${select({ name: 'status', label: 'Status', value: f.status, choices: [any('Any status'), ...choices(['active', 'disabled'])] })}
<div class="actions"><button type="submit">Apply filters</button>${filtered && html`<a href="${paths.clients}">Clear</a>`}</div>
</form>
<p role="status">${shown.length} of ${view.clients.length} client${view.clients.length === 1 ? '' : 's'}${filtered && ' match the filters'}.</p>
${shown.length === 0
  ? html`<p class="empty">${view.clients.length === 0 ? 'No clients yet.' : 'No client matches these filters.'}</p>`
  : html`<div class="table-wrap"><table>
<caption class="visually-hidden">Clients</caption>
<thead><tr><th scope="col">Name</th><th scope="col">Client id</th><th scope="col">Mode</th><th scope="col">Environment</th><th scope="col">Status</th><th scope="col">Grants</th><th scope="col">Dialects</th></tr></thead>
<tbody>
${shown.map((c) => html`<tr>
<td><a href="${paths.client(c.client_id)}">${c.name}</a></td>
<td><code>${c.client_id}</code></td>
<td>${c.mode}</td>
<td>${c.environment}</td>
<td><span class="badge badge-${c.status}">${c.status}</span></td>
<td>${c.grants.join(', ')}</td>
<td>${c.dialects.length === 0 ? html`<span class="empty">all</span>` : c.dialects.join(', ')}</td>
</tr>`)}
</tbody></table></div>`}`;
  return layout(ctx, { title: 'Clients', section: 'clients', body });
}
