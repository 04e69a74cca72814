/**
 * Create and edit a client: one form, rendered from raw values (so a refused form comes back as the
 * user typed it) and parsed here too, so the names of the controls and the fields they fill are
 * written in one file. Lists are one per line (scopes may also be space-separated); claims are a
 * JSON object; metadata is `key=value` per line.
 */
import { csrfField, layout, type PageContext } from './layout.ts';
import { checkbox, checkboxes, errorSummary, input, select, textarea, type FormErrors } from './forms.ts';
import { html } from './html.ts';
import { paths } from './paths.ts';
import type { ConsoleClient } from './client-detail.ts';

/** The form as typed: every control's raw value. */
export interface ClientFormValues {
  readonly name: string;
  readonly mode: string;
  readonly type: string;
  readonly scopes: string;
  readonly grants: readonly string[];
  readonly redirect_uris: string;
  readonly audiences: string;
  readonly ttl: string;
  readonly rate_limit: string;
  readonly dialects: readonly string[];
  readonly trusted: boolean;
  readonly pkce_optional: boolean;
  readonly claims: string;
  readonly metadata: string;
}

/** What the form asks ClientService to set (create or update); names as CreateClientInput's. */
export interface ClientFormInput {
  readonly name: string;
  readonly mode?: 'live' | 'sandbox';
  readonly type?: 'confidential' | 'public';
  readonly scopes: string[];
  readonly grants: string[];
  readonly redirectUris: string[];
  readonly audiences: string[];
  readonly ttl: number | null;
  readonly rateLimit: number | null;
  readonly dialects: string[];
  readonly trusted: boolean;
  /** false lets a confidential client redeem codes without PKCE. */
  readonly pkceRequired: boolean;
  readonly claims: Record<string, unknown>;
  readonly metadata: Record<string, string>;
}

export const LABELS: Readonly<Record<keyof ClientFormValues, string>> = {
  name: 'Name', mode: 'Mode', type: 'Type', scopes: 'Scopes', grants: 'Grants', redirect_uris: 'Redirect URIs',
  audiences: 'Audiences', ttl: 'Access-token lifetime (seconds)', rate_limit: 'Rate limit (requests per minute)',
  dialects: 'Dialects', trusted: 'Trusted: skip the consent page', pkce_optional: 'PKCE optional: this confidential client may redeem codes without a code_verifier', claims: 'Claims', metadata: 'Metadata',
};

/** ClientService's field names (ClientInputError.field) → this form's control names. */
const SERVICE_FIELDS: Readonly<Record<string, keyof ClientFormValues>> = {
  scope: 'scopes', grant: 'grants', redirect_uri: 'redirect_uris', audience: 'audiences', dialect: 'dialects', rate_limit: 'rate_limit',
  ttl: 'ttl', name: 'name', mode: 'mode', type: 'type', claims: 'claims', claim: 'claims', metadata: 'metadata', pkce_required: 'pkce_optional',
};

export const formFieldOf = (serviceField: string): string => SERVICE_FIELDS[serviceField] ?? serviceField;

const lines = (text: string): string[] => text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== '');

export function emptyClientForm(): ClientFormValues {
  return { name: '', mode: 'live', type: 'confidential', scopes: '', grants: ['client_credentials'], redirect_uris: '', audiences: '', ttl: '', rate_limit: '', dialects: [], trusted: false, pkce_optional: false, claims: '', metadata: '' };
}

export function clientFormValues(c: ConsoleClient): ClientFormValues {
  return {
    name: c.name, mode: c.mode, type: c.type, scopes: c.scopes.join('\n'), grants: c.grants, redirect_uris: c.redirect_uris.join('\n'),
    audiences: c.audiences.join('\n'), ttl: c.access_token_ttl === null ? '' : String(c.access_token_ttl),
    rate_limit: c.rate_limit === null ? '' : String(c.rate_limit), dialects: c.dialects, trusted: c.trusted, pkce_optional: !c.pkce_required,
    claims: c.claims && Object.keys(c.claims).length > 0 ? JSON.stringify(c.claims, null, 2) : '',
    metadata: Object.entries(c.metadata ?? {}).map(([k, v]) => `${k}=${v}`).join('\n'),
  };
}

export function clientFormFromBody(form: URLSearchParams): ClientFormValues {
  const one = (k: string) => form.get(k) ?? '';
  return {
    name: one('name').trim(), mode: one('mode'), type: one('type'), scopes: one('scopes'), grants: form.getAll('grants'),
    redirect_uris: one('redirect_uris'), audiences: one('audiences'), ttl: one('ttl').trim(), rate_limit: one('rate_limit').trim(),
    dialects: form.getAll('dialects'), trusted: form.get('trusted') === 'on', pkce_optional: form.get('pkce_optional') === 'on', claims: one('claims'), metadata: one('metadata'),
  };
}

function wholeOrNull(text: string, field: string, errors: Record<string, string>): number | null {
  if (text === '') return null;
  if (!/^\d{1,10}$/.test(text)) {
    errors[field] = 'a whole number, or empty for the deployment default';
    return null;
  }
  return Number(text);
}

/**
 * The service input of a form, or the fields it cannot even be read from (the service checks
 * everything else and names its field; map it back with `formFieldOf`).
 */
export function parseClientForm(v: ClientFormValues, kind: 'create' | 'edit'): { input: ClientFormInput } | { errors: FormErrors } {
  const errors: Record<string, string> = {};
  const ttl = wholeOrNull(v.ttl, 'ttl', errors);
  const rateLimit = wholeOrNull(v.rate_limit, 'rate_limit', errors);
  let claims: Record<string, unknown> | undefined;
  if (v.claims.trim() !== '') {
    try {
      const parsed: unknown = JSON.parse(v.claims);
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not an object');
      claims = parsed as Record<string, unknown>;
    } catch {
      errors.claims = 'a JSON object, e.g. {"org_id": "acme"}';
    }
  }
  const metadata: Record<string, string> = {};
  for (const line of lines(v.metadata)) {
    const eq = line.indexOf('=');
    if (eq <= 0) errors.metadata = `"${line.slice(0, 40)}" is not key=value`;
    else metadata[line.slice(0, eq).trim()] = line.slice(eq + 1).trim();
  }
  if (kind === 'create' && v.mode !== 'live' && v.mode !== 'sandbox') errors.mode = 'live or sandbox';
  if (kind === 'create' && v.type !== 'confidential' && v.type !== 'public') errors.type = 'confidential or public';
  if (Object.keys(errors).length > 0) return { errors };
  return {
    input: {
      name: v.name,
      ...(kind === 'create' ? { mode: v.mode as 'live' | 'sandbox', type: v.type as 'confidential' | 'public' } : {}),
      scopes: [...new Set(v.scopes.split(/\s+/).filter((s) => s !== ''))],
      grants: [...new Set(v.grants)],
      redirectUris: lines(v.redirect_uris),
      audiences: lines(v.audiences),
      ttl,
      rateLimit,
      dialects: [...new Set(v.dialects)],
      trusted: v.trusted,
      pkceRequired: !v.pkce_optional,
      claims: claims ?? {},
      metadata,
    },
  };
}

export interface ClientFormView {
  readonly kind: 'create' | 'edit';
  readonly values: ClientFormValues;
  readonly errors?: FormErrors;
  /** Set when editing. */
  readonly clientId?: string;
  readonly grants: readonly string[];
  readonly dialects: readonly string[];
  /** Offer claims and metadata (the deployment's clients carry them). */
  readonly extras?: boolean;
  readonly maxTtl?: number;
}

export function clientFormPage(ctx: PageContext, view: ClientFormView): string {
  const v = view.values;
  const e = view.errors;
  const editing = view.kind === 'edit';
  const action = editing ? paths.editClient(view.clientId!) : paths.newClient;
  const title = editing ? `Edit ${v.name || 'client'}` : 'New client';
  const options = (values: readonly string[]) => values.map((x) => ({ value: x, label: x }));
  const body = html`<h1>${title}</h1>
${errorSummary(e, LABELS)}
<form method="post" action="${action}" class="card" novalidate>
${csrfField(ctx)}
${input({ name: 'name', label: LABELS.name, value: v.name, required: true, errors: e })}
${!editing && html`<div class="grid-2">
${select({ name: 'mode', label: LABELS.mode, value: v.mode, errors: e, choices: [{ value: 'live', label: 'live' }, { value: 'sandbox', label: 'sandbox' }], hint: 'Fixed at creation: it is part of the client id.' })}
${select({ name: 'type', label: LABELS.type, value: v.type, errors: e, choices: [{ value: 'confidential', label: 'confidential (has a secret)' }, { value: 'public', label: 'public (no secret)' }] })}
</div>`}
${checkboxes({ name: 'grants', label: LABELS.grants, checked: v.grants, choices: options(view.grants), errors: e })}
${textarea({ name: 'scopes', label: LABELS.scopes, value: v.scopes, hint: 'One per line or separated by spaces.', errors: e })}
${textarea({ name: 'audiences', label: LABELS.audiences, value: v.audiences, hint: 'Absolute URIs, one per line.', errors: e })}
${textarea({ name: 'redirect_uris', label: LABELS.redirect_uris, value: v.redirect_uris, hint: 'One per line; needed for the authorization-code grant.', errors: e })}
${checkboxes({ name: 'dialects', label: LABELS.dialects, checked: v.dialects, choices: options(view.dialects), hint: 'None checked: every dialect.', errors: e })}
<div class="grid-2">
${input({ name: 'ttl', label: LABELS.ttl, type: 'number', value: v.ttl, min: 1, ...(view.maxTtl === undefined ? {} : { max: view.maxTtl }), hint: 'Empty: the deployment default.', errors: e })}
${input({ name: 'rate_limit', label: LABELS.rate_limit, type: 'number', value: v.rate_limit, min: 1, hint: 'Empty: the deployment default.', errors: e })}
</div>
${checkbox({ name: 'trusted', label: LABELS.trusted, checked: v.trusted, errors: e })}
${checkbox({ name: 'pkce_optional', label: LABELS.pkce_optional, checked: v.pkce_optional, hint: 'Only for providers whose contract allows it (Polar); public clients always use PKCE.', errors: e })}
${view.extras && html`${textarea({ name: 'claims', label: LABELS.claims, value: v.claims, rows: 4, hint: 'Static claims added to access tokens, as a JSON object.', errors: e })}
${textarea({ name: 'metadata', label: LABELS.metadata, value: v.metadata, rows: 4, hint: 'key=value per line; shown here, never put in tokens.', errors: e })}`}
<div class="actions"><button type="submit" class="primary">${editing ? 'Save changes' : 'Create client'}</button>
<a href="${editing ? paths.client(view.clientId!) : paths.clients}">Cancel</a></div>
</form>`;
  return layout(ctx, { title, section: 'clients', body });
}
