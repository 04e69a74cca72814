/**
 * The audit log: filters by client (target), actor and action as a GET form, newest first, paged
 * by page number. The route layer reads the filtered page from storage; this renders it.
 */
import type { AuditEvent } from '../../storage/types.ts';
import { layout, type PageContext } from './layout.ts';
import { input } from './forms.ts';
import { html, type Html } from './html.ts';
import { paths } from './paths.ts';

export interface AuditFilter {
  readonly client: string;
  readonly actor: string;
  readonly action: string;
  /** 1-based. */
  readonly page: number;
}

export const AUDIT_PAGE_SIZE = 50;

export function parseAuditFilter(query: string): AuditFilter {
  const p = new URLSearchParams(query);
  const get = (k: string) => (p.get(k) ?? '').trim().slice(0, 200);
  const page = Number(p.get('page') ?? '1');
  return { client: get('client'), actor: get('actor'), action: get('action'), page: Number.isInteger(page) && page >= 1 && page <= 100_000 ? page : 1 };
}

/** Events matching the filter: client and action match exactly or by prefix (`client.`), actor by substring. */
export function matchesAudit(e: AuditEvent, f: AuditFilter): boolean {
  return (
    (f.client === '' || e.target === f.client) &&
    (f.actor === '' || e.actor.toLowerCase().includes(f.actor.toLowerCase())) &&
    (f.action === '' || e.action === f.action || (f.action.endsWith('.') && e.action.startsWith(f.action)))
  );
}

const detail = (d: AuditEvent['detail']): Html => {
  const entries = Object.entries(d);
  if (entries.length === 0) return html`<span class="empty">—</span>`;
  return html`${entries.map(([k, v], i) => html`${i > 0 && html`<br>`}${k}: <code>${v === null ? 'null' : String(v)}</code>`)}`;
};

export function auditTable(events: readonly AuditEvent[], caption: string): Html {
  if (events.length === 0) return html`<p class="empty">No events.</p>`;
  return html`<div class="table-wrap"><table><caption class="visually-hidden">${caption}</caption>
<thead><tr><th scope="col">When (UTC)</th><th scope="col">Actor</th><th scope="col">Action</th><th scope="col">Target</th><th scope="col">Detail</th></tr></thead>
<tbody>${events.map((e) => html`<tr><td class="mono">${new Date(e.at).toISOString().replace('T', ' ').replace(/\.\d+Z$/, '')}</td><td>${e.actor}</td><td class="audit-action"><code>${e.action}</code></td><td><code>${e.target}</code></td><td>${detail(e.detail)}</td></tr>`)}</tbody>
</table></div>`;
}

export interface AuditView {
  readonly filter: AuditFilter;
  /** This page's events, newest first. */
  readonly events: readonly AuditEvent[];
  readonly hasNext: boolean;
  /** Known action names, offered as suggestions. */
  readonly actions?: readonly string[];
}

export function auditPage(ctx: PageContext, view: AuditView): string {
  const f = view.filter;
  const link = (page: number) => {
    const q = new URLSearchParams();
    for (const k of ['client', 'actor', 'action'] as const) if (f[k] !== '') q.set(k, f[k]);
    if (page > 1) q.set('page', String(page));
    const s = q.toString();
    return `${paths.audit}${s ? `?${s}` : ''}`;
  };
  const body = html`<h1>Audit log</h1>
<form method="get" action="${paths.audit}" class="card filters" role="search" aria-label="Filter the audit log">
${input({ name: 'client', label: 'Client id', value: f.client, spellcheck: false })}
${input({ name: 'actor', label: 'Actor', value: f.actor, hint: 'console:name, cli, admin:…', spellcheck: false })}
${input({ name: 'action', label: 'Action', value: f.action, hint: view.actions && view.actions.length > 0 ? `e.g. ${view.actions.slice(0, 3).join(', ')}; client. for all client actions` : 'e.g. client.create; client. for all client actions', spellcheck: false })}
<div class="actions"><button type="submit">Apply filters</button></div>
</form>
<p role="status">Page ${f.page}${view.events.length === 0 ? ': no events' : `: ${view.events.length} event${view.events.length === 1 ? '' : 's'}`}.</p>
${auditTable(view.events, 'Audit events')}
<nav class="pager" aria-label="Audit log pages">
${f.page > 1 && html`<a href="${link(f.page - 1)}" rel="prev">Newer events</a>`}
${view.hasNext && html`<a href="${link(f.page + 1)}" rel="next">Older events</a>`}
</nav>`;
  return layout(ctx, { title: 'Audit log', section: 'audit', body });
}
