/**
 * The pages around a client's secret and status: the one-time secret (after create or rotate), the
 * rotation form with its overlap window, and the confirmations of disable, enable and delete. Each
 * change is a POST with the CSRF token; nothing changes on a GET.
 */
import type { ClientView } from '../../credentials/clients.ts';
import { csrfField, layout, type PageContext } from './layout.ts';
import { errorSummary, input, type FormErrors } from './forms.ts';
import { html } from './html.ts';
import { paths } from './paths.ts';

export interface SecretView {
  readonly client: ClientView;
  /** Shown on this page only; the route answers it with Cache-Control: no-store. */
  readonly secret: string;
  readonly reason: 'created' | 'rotated';
  /** Rotation only: when the previous secret stops working (ISO time), or null when it already has. */
  readonly previousEnds?: string | null;
}

export function secretPage(ctx: PageContext, view: SecretView): string {
  const c = view.client;
  const title = view.reason === 'created' ? `Client ${c.name} created` : `New secret for ${c.name}`;
  const body = html`<h1>${title}</h1>
<div class="notice notice-warn" role="note"><strong>Copy the secret now.</strong> It is shown once: Keymint keeps only a digest of it and cannot show it again.</div>
<section class="card" aria-labelledby="cred-h"><h2 id="cred-h">Credentials</h2>
${input({ name: 'client_id', label: 'Client id', value: c.client_id, readonly: true, spellcheck: false })}
<div class="field"><label for="secret-value">Client secret</label>
<div class="secret"><input type="text" id="secret-value" value="${view.secret}" readonly spellcheck="false" autocomplete="off" aria-describedby="secret-hint">
<button type="button" data-copy="secret-value" hidden>Copy secret</button></div>
<p class="hint" id="secret-hint">Store it in your secret manager; send it as HTTP Basic credentials or <code>client_secret</code>.</p>
<p data-copy-status="secret-value" aria-live="polite"></p></div>
${view.reason === 'rotated' && html`<p>${view.previousEnds ? html`The previous secret keeps working until <strong>${view.previousEnds}</strong>.` : 'The previous secret has stopped working.'} Tokens issued before the rotation were revoked.</p>`}
<div class="actions"><a class="button primary" href="${paths.client(c.client_id)}">Done: go to the client</a></div>
</section>`;
  return layout(ctx, { title, section: 'clients', body, script: true });
}

export interface RotateView {
  readonly client: ClientView;
  /** Seconds the old secret keeps working, as typed. */
  readonly overlap: string;
  readonly errors?: FormErrors;
}

export function rotatePage(ctx: PageContext, view: RotateView): string {
  const c = view.client;
  const body = html`<h1>Rotate the secret of ${c.name}</h1>
${errorSummary(view.errors, { overlap: 'Overlap' })}
<form method="post" action="${paths.rotateSecret(c.client_id)}" class="card">
${csrfField(ctx)}
<p>A new secret is issued and shown once. Tokens issued so far are revoked. The current secret keeps working for the overlap you choose, so deployments can switch without downtime; at most two secrets are live at once.</p>
${input({ name: 'overlap', label: 'Overlap (seconds the current secret keeps working)', type: 'number', min: 0, value: view.overlap, hint: '0 ends the current secret now; 3600 is one hour.', required: true, errors: view.errors })}
<div class="actions"><button type="submit" class="primary">Rotate secret</button><a href="${paths.client(c.client_id)}">Cancel</a></div>
</form>`;
  return layout(ctx, { title: `Rotate secret: ${c.name}`, section: 'clients', body });
}

export type StatusAction = 'disable' | 'enable' | 'delete';

const WORDS: Readonly<Record<StatusAction, { verb: string; effect: string; path: (id: string) => string; danger: boolean }>> = {
  disable: { verb: 'Disable', effect: 'Its token requests are refused and every token it holds is revoked. You can enable it again later.', path: paths.disableClient, danger: true },
  enable: { verb: 'Enable', effect: 'It can request tokens again with its live secrets.', path: paths.enableClient, danger: false },
  delete: { verb: 'Delete', effect: 'The client and its secrets are removed for good and every token it holds is revoked. This cannot be undone.', path: paths.deleteClient, danger: true },
};

/** The confirmation of a status change: a GET shows this; only its POST acts. */
export function confirmPage(ctx: PageContext, client: ClientView, action: StatusAction): string {
  const w = WORDS[action];
  const title = `${w.verb} ${client.name}?`;
  const body = html`<div class="card narrow">
<h1>${title}</h1>
<p><code>${client.client_id}</code></p>
<p>${w.effect}</p>
<form method="post" action="${w.path(client.client_id)}">
${csrfField(ctx)}
<div class="actions"><button type="submit" class="${w.danger ? 'danger' : 'primary'}">${w.verb} client</button>
<a href="${paths.client(client.client_id)}">Cancel</a></div>
</form></div>`;
  return layout(ctx, { title, section: 'clients', body });
}
