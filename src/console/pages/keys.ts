/**
 * Signing keys per algorithm: `next` (published, not yet signing), `active` (signs) and `retired`
 * (published until every token it signed has expired), each with its publication window, and for
 * admins the rotation. Key material is never shown; the JWKS is public anyway.
 */
import type { KeyRecord } from '../../storage/types.ts';
import { canChange, csrfField, layout, type PageContext } from './layout.ts';
import { html } from './html.ts';
import { paths } from './paths.ts';

export type KeyDescription = Omit<KeyRecord, 'sealed'>;

export interface KeysView {
  readonly keys: readonly KeyDescription[];
  readonly now: number;
  /** The JWKS URL, linked for reference. */
  readonly jwksUri?: string;
}

const ORDER: Readonly<Record<string, number>> = { next: 0, active: 1, retired: 2 };
const at = (ms: number | null): string => (ms === null ? '—' : new Date(ms).toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z'));
const LABEL: Readonly<Record<string, string>> = { active: 'current', next: 'next', retired: 'retired' };

function windowOf(k: KeyDescription, now: number): string {
  if (k.state === 'next') return `published since ${at(k.createdAt)}; signs from the next rotation`;
  if (k.state === 'active') return `signing since ${at(k.activatedAt ?? k.createdAt)}`;
  if (k.publishUntil === null) return `retired ${at(k.retiredAt)}`;
  return k.publishUntil > now ? `retired ${at(k.retiredAt)}; published until ${at(k.publishUntil)}` : `retired ${at(k.retiredAt)}; no longer published`;
}

export function keysPage(ctx: PageContext, view: KeysView): string {
  const signing = view.keys.filter((k) => k.use === 'sig');
  const algs = [...new Set(signing.map((k) => k.alg))].sort();
  const peppers = view.keys.filter((k) => k.use !== 'sig');
  const body = html`<div class="page-head"><h1>Signing keys</h1>
${canChange(ctx) && html`<form method="post" action="${paths.rotateKeys}">${csrfField(ctx)}<button type="submit" class="primary">Rotate keys</button></form>`}</div>
<p>Rotation makes each algorithm's <em>next</em> key current, retires the current one (still published until every token it signed has expired) and creates a new <em>next</em> key.${view.jwksUri && html` Published keys: <a href="${view.jwksUri}">${view.jwksUri}</a>.`}</p>
${algs.length === 0 && html`<p class="empty">No signing keys.</p>`}
${algs.map((alg) => {
  const keys = signing.filter((k) => k.alg === alg).sort((a, b) => (ORDER[a.state] ?? 3) - (ORDER[b.state] ?? 3) || b.createdAt - a.createdAt);
  return html`<section class="card" aria-labelledby="alg-${alg}"><h2 id="alg-${alg}">${alg}</h2>
<div class="table-wrap"><table><caption class="visually-hidden">${alg} keys</caption>
<thead><tr><th scope="col">Key id</th><th scope="col">State</th><th scope="col">Created</th><th scope="col">Window</th></tr></thead>
<tbody>${keys.map((k) => html`<tr><td><code>${k.kid}</code></td><td><span class="badge badge-${k.state}">${LABEL[k.state] ?? k.state}</span></td><td class="mono">${at(k.createdAt)}</td><td>${windowOf(k, view.now)}</td></tr>`)}</tbody>
</table></div></section>`;
})}
${peppers.length > 0 && html`<section class="card" aria-labelledby="peppers-h"><h2 id="peppers-h">Secret peppers</h2>
<p>HMAC keys that digest client secrets and opaque tokens; never published.</p>
<div class="table-wrap"><table><caption class="visually-hidden">Peppers</caption>
<thead><tr><th scope="col">Key id</th><th scope="col">State</th><th scope="col">Created</th></tr></thead>
<tbody>${peppers.map((k) => html`<tr><td><code>${k.kid}</code></td><td><span class="badge badge-${k.state}">${LABEL[k.state] ?? k.state}</span></td><td class="mono">${at(k.createdAt)}</td></tr>`)}</tbody>
</table></div></section>`}`;
  return layout(ctx, { title: 'Signing keys', section: 'keys', body });
}
