/**
 * Create and edit a client: one form, rendered from raw values (so a refused form comes back as the
 * user typed it) and parsed here too, so the names of the controls and the fields they fill are
 * written in one file. Lists are one per line (scopes may also be space-separated); claims and the
 * JWKS are JSON; metadata is `key=value` per line. The controls of one authentication method (the
 * JWKS and its URL, the tls_client_auth names) are read only when that method is chosen; an empty
 * one is none (cleared on edit). Everything else is left to ClientService's rules.
 */
import { csrfField, layout, type PageContext } from './layout.ts';
import { checkbox, checkboxes, errorSummary, input, select, textarea, type FormErrors } from './forms.ts';
import { html, type Html } from './html.ts';
import { paths } from './paths.ts';
import type { ConsoleClient } from './client-detail.ts';
import { CLIENT_FIELDS, fieldsOn, ruleField, type ClientField, type ClientFieldName, type FieldForm, type FieldValue, type FormControl } from '../../credentials/client-fields.ts';
import type { CreateClientInput, UpdateClientInput } from '../../credentials/client-inputs.ts';

type FormFieldName = { [N in ClientFieldName]: (typeof CLIENT_FIELDS)[N]['form'] extends null ? never : N }[ClientFieldName];
type ControlOf<N extends FormFieldName> = (typeof CLIENT_FIELDS)[N]['form'] extends { readonly control: infer C extends string } ? C : never;
type RawOf<N extends FormFieldName> = (typeof CLIENT_FIELDS)[N]['form'] extends { readonly kind: 'checkboxes' } ? readonly string[] : (typeof CLIENT_FIELDS)[N]['form'] extends { readonly kind: 'checkbox' } ? boolean : string;

/** The form as typed: every control's raw value. */
export type ClientFormValues = { readonly [N in FormFieldName as ControlOf<N>]: RawOf<N> };

/** What the form asks ClientService to set: a new client's input, or an edit's change. */
export type ClientFormInput = CreateClientInput | UpdateClientInput;

const FORM_FIELDS = fieldsOn('form');

export const LABELS = Object.fromEntries(FORM_FIELDS.map(([, f]) => [f.control, f.label])) as Readonly<Record<keyof ClientFormValues, string>>;
const HINTS = Object.fromEntries(FORM_FIELDS.map(([, f]) => [f.control, f.hint])) as Readonly<Record<keyof ClientFormValues, string>>;

/** ClientService's field names (ClientInputError.field) → this form's control names. */
const SERVICE_FIELDS: ReadonlyMap<string, string> = new Map(FORM_FIELDS.map(([name, f]) => [ruleField(name), f.control]));

export const formFieldOf = (serviceField: string): string => SERVICE_FIELDS.get(serviceField) ?? serviceField;

/** The control that picks the authentication method, whose choice decides which `methods` controls are read. */
const METHOD_CONTROL = CLIENT_FIELDS.authMethod.form.control;

const lines = (text: string): string[] => text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== '');

/** A control's raw value from the setting's value, by the kind of control. */
function raw(f: FieldForm, value: unknown): unknown {
  switch (f.kind) {
    case 'words':
    case 'lines':
      return (value as readonly string[]).join('\n');
    case 'number':
      return value === null ? '' : String(value);
    case 'checkbox':
      return f.inverted ? !value : value;
    case 'json':
    case 'jwks':
      return value && Object.keys(value).length > 0 ? JSON.stringify(value, null, 2) : '';
    case 'pairs':
      return Object.entries((value ?? {}) as Record<string, string>).map(([k, v]) => `${k}=${v}`).join('\n');
    case 'select':
      // A select's `none` choice stands for null (the security profile).
      return value ?? 'none';
    default:
      return value ?? '';
  }
}

const valuesOf = (value: (name: ClientFieldName) => unknown): ClientFormValues => Object.fromEntries(FORM_FIELDS.map(([name, f]) => [f.control, raw(f, value(name))])) as unknown as ClientFormValues;

/** A new client's form: every control at the setting's default (the name empty). */
export function emptyClientForm(): ClientFormValues {
  return valuesOf((name) => (name === 'name' ? '' : (CLIENT_FIELDS[name] as ClientField).default));
}

export function clientFormValues(c: ConsoleClient): ClientFormValues {
  const view = c as unknown as Readonly<Record<string, unknown>>;
  return valuesOf((name) => view[(CLIENT_FIELDS[name] as ClientField).api]);
}

export function clientFormFromBody(form: URLSearchParams): ClientFormValues {
  const one = (k: string) => form.get(k) ?? '';
  return Object.fromEntries(FORM_FIELDS.map(([, f]) => {
    const k = f.control;
    const value = f.kind === 'checkboxes' ? form.getAll(k) : f.kind === 'checkbox' ? form.get(k) === 'on' : f.kind === 'input' || f.kind === 'number' ? one(k).trim() : one(k);
    return [k, value];
  })) as unknown as ClientFormValues;
}

function wholeOrNull(text: string, field: string, errors: Record<string, string>): number | null {
  if (text === '') return null;
  if (!/^\d{1,10}$/.test(text)) {
    errors[field] = 'a whole number, or empty for the deployment default';
    return null;
  }
  return Number(text);
}

function jsonObject(text: string, field: string, errors: Record<string, string>): Record<string, unknown> {
  if (text.trim() === '') return {};
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not an object');
    return parsed as Record<string, unknown>;
  } catch {
    errors[field] = 'a JSON object, e.g. {"org_id": "acme"}';
    return {};
  }
}

/** A pasted JWKS: any JSON (the rules say what a key set must hold); empty: none. */
function jsonValue(text: string, field: string, errors: Record<string, string>): unknown {
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    errors[field] = 'JSON, a key set such as {"keys": [{"kty": "EC", …}]}';
    return undefined;
  }
}

function keyValues(text: string, field: string, errors: Record<string, string>): Record<string, string> {
  const pairs: Array<[string, string]> = [];
  for (const line of lines(text)) {
    const eq = line.indexOf('=');
    if (eq <= 0) errors[field] = `"${line.slice(0, 40)}" is not key=value`;
    else pairs.push([line.slice(0, eq).trim(), line.slice(eq + 1).trim()]);
  }
  // fromEntries defines each key as its own (OBJ-01): `pairs.__proto__ = v` was a prototype assignment, the key lost.
  return Object.fromEntries(pairs);
}

/** The choices of a select: those of the field's CLI flag (mode, type). */
const choicesOf = (name: ClientFieldName): readonly string[] => (CLIENT_FIELDS[name] as ClientField).cli?.flags[0]?.choices ?? [];

/** The setting a control's raw value asks for; a value it cannot read is named in `errors`. */
function parsed(name: ClientFieldName, f: FieldForm, v: unknown, errors: Record<string, string>): unknown {
  switch (f.kind) {
    case 'words':
      return [...new Set((v as string).split(/\s+/).filter((s) => s !== ''))];
    case 'lines':
      return lines(v as string);
    case 'checkboxes':
      return [...new Set(v as string[])];
    case 'number':
      return wholeOrNull(v as string, f.control, errors);
    case 'checkbox':
      return f.inverted ? !v : v;
    case 'json':
      return jsonObject(v as string, f.control, errors);
    case 'pairs':
      return keyValues(v as string, f.control, errors);
    case 'jwks':
      return jsonValue(v as string, f.control, errors);
    case 'select':
      if (!choicesOf(name).includes(v as string)) errors[f.control] = choicesOf(name).join(' or ');
      return v;
    default:
      // An optional text (a URL, a certificate name) left empty is none.
      return v === '' && (CLIENT_FIELDS[name] as ClientField).nullable ? undefined : v;
  }
}

/** The order the parse reports what it cannot read: numbers, then JSON, then key=value, then choices. */
const PARSE_ORDER: readonly FormControl[] = ['number', 'json', 'jwks', 'pairs', 'select'];
const parseRank = (f: FieldForm): number => {
  const rank = PARSE_ORDER.indexOf(f.kind);
  return rank < 0 ? PARSE_ORDER.length : rank;
};

/**
 * The service input of a form, or the fields it cannot even be read from (the service checks
 * everything else and names its field; map it back with `formFieldOf`). A control of another
 * authentication method than the chosen one is not read: absent from a new client, cleared by an
 * edit (as the admin API's null), so the client holds exactly what the form shows. A select not
 * sent (a public client's edit has no method) is not given: the setting stays, or has its default.
 */
export function parseClientForm(v: ClientFormValues, kind: 'create'): { input: CreateClientInput } | { errors: FormErrors };
export function parseClientForm(v: ClientFormValues, kind: 'edit'): { input: UpdateClientInput } | { errors: FormErrors };
export function parseClientForm(v: ClientFormValues, kind: 'create' | 'edit'): { input: ClientFormInput } | { errors: FormErrors };
export function parseClientForm(v: ClientFormValues, kind: 'create' | 'edit'): { input: ClientFormInput } | { errors: FormErrors } {
  const errors: Record<string, string> = {};
  const raws = v as unknown as Readonly<Record<string, unknown>>;
  const method = raws[METHOD_CONTROL] as string;
  const input: Record<string, unknown> = {};
  for (const [name, f] of [...FORM_FIELDS].sort(([, a], [, b]) => parseRank(a) - parseRank(b))) {
    if ((CLIENT_FIELDS[name] as ClientField).createOnly && kind !== 'create') continue;
    // A select the form did not send (a public client's edit has no method) leaves the setting as it is, or at its default.
    if (f.kind === 'select' && raws[f.control] === '') continue;
    const value = f.methods && !f.methods.includes(method) ? undefined : parsed(name, f, raws[f.control], errors);
    if (value !== undefined) input[name] = value;
    else if (kind === 'edit') input[name] = null;
  }
  // A fapi2 client never rotates, so its view (and this form) shows rotation off whatever it holds:
  // unchecked there asks for nothing, and the setting stays for when the profile is dropped.
  if (raws[CLIENT_FIELDS.securityProfile.form.control] === 'fapi2' && input.refreshTokenRotation === false) delete input.refreshTokenRotation;
  // A new client with a secret names no method (the service's input has only the secretless ones).
  if (kind === 'create' && input.authMethod === 'client_secret_basic') delete input.authMethod;
  if (Object.keys(errors).length > 0) return { errors };
  return { input: input as unknown as ClientFormInput };
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
  /** What this deployment signs with (RS256 and its --alg): the choices of the signed-response algorithms. */
  readonly algs?: readonly string[];
  /** Editing a public client: it authenticates with none, so the form has no method or keys. */
  readonly publicClient?: boolean;
}

/** A control shown only for some authentication methods: the script hides it for the others. */
const forMethods = (name: ClientFieldName, control: Html): Html => {
  const methods = (CLIENT_FIELDS[name] as ClientField).form?.methods;
  return methods ? html`<div data-methods="${methods.join(' ')}">${control}</div>` : control;
};

const AUTH_METHOD_LABELS: Readonly<Record<string, string>> = {
  client_secret_basic: 'client_secret_basic (a secret)',
  private_key_jwt: 'private_key_jwt (signed assertions, no secret)',
  tls_client_auth: 'tls_client_auth (a CA-issued certificate, no secret)',
  self_signed_tls_client_auth: 'self_signed_tls_client_auth (a self-signed certificate, no secret)',
};
const PROFILE_LABELS: Readonly<Record<string, string>> = { none: 'none', fapi2: 'fapi2 (FAPI 2.0 Security Profile)' };

export function clientFormPage(ctx: PageContext, view: ClientFormView): string {
  const v = view.values;
  const e = view.errors;
  const editing = view.kind === 'edit';
  const action = editing ? paths.editClient(view.clientId!) : paths.newClient;
  const title = editing ? `Edit ${v.name || 'client'}` : 'New client';
  const options = (values: readonly string[]) => values.map((x) => ({ value: x, label: x }));
  const labelled = (name: ClientFieldName, labels: Readonly<Record<string, string>>) => choicesOf(name).map((x) => ({ value: x, label: labels[x] ?? x }));
  // The deployment's algorithms, and a client's current one should the deployment no longer sign with it (the rules then say so).
  const algSelect = (name: 'idTokenAlg' | 'authorizationResponseAlg' | 'introspectionAlg') => {
    const f = CLIENT_FIELDS[name].form;
    const value = v[f.control];
    const algs = view.algs ?? ['RS256'];
    return select({ name: f.control, label: f.label, value, errors: e, choices: options(algs.includes(value) ? algs : [...algs, value]) });
  };
  const text = (name: ClientFieldName) => {
    const f = (CLIENT_FIELDS[name] as ClientField).form!;
    return forMethods(name, input({ name: f.control, label: f.label, value: (v as unknown as Record<string, string>)[f.control], hint: f.hint, spellcheck: false, errors: e }));
  };
  const body = html`<h1>${title}</h1>
${errorSummary(e, LABELS)}
<form method="post" action="${action}" class="card" novalidate>
${csrfField(ctx)}
${input({ name: 'name', label: LABELS.name, value: v.name, required: true, errors: e })}
${!editing && html`<div class="grid-2">
${select({ name: 'mode', label: LABELS.mode, value: v.mode, errors: e, choices: [{ value: 'live', label: 'live' }, { value: 'sandbox', label: 'sandbox' }], hint: HINTS.mode })}
${select({ name: 'type', label: LABELS.type, value: v.type, errors: e, choices: [{ value: 'confidential', label: 'confidential (authenticates: a secret, keys or a certificate)' }, { value: 'public', label: 'public (cannot keep a credential: PKCE only)' }] })}
</div>`}
${checkboxes({ name: 'grants', label: LABELS.grants, checked: v.grants, choices: options(view.grants), errors: e })}
${textarea({ name: 'scopes', label: LABELS.scopes, value: v.scopes, hint: HINTS.scopes, errors: e })}
${textarea({ name: 'audiences', label: LABELS.audiences, value: v.audiences, hint: HINTS.audiences, errors: e })}
${textarea({ name: 'redirect_uris', label: LABELS.redirect_uris, value: v.redirect_uris, hint: HINTS.redirect_uris, errors: e })}
${textarea({ name: 'post_logout_redirect_uris', label: LABELS.post_logout_redirect_uris, value: v.post_logout_redirect_uris, hint: HINTS.post_logout_redirect_uris, errors: e })}
${input({ name: 'backchannel_logout_uri', label: LABELS.backchannel_logout_uri, value: v.backchannel_logout_uri, hint: HINTS.backchannel_logout_uri, errors: e })}
${checkbox({ name: 'backchannel_logout_session_required', label: LABELS.backchannel_logout_session_required, checked: v.backchannel_logout_session_required, hint: HINTS.backchannel_logout_session_required, errors: e })}
${checkboxes({ name: 'dialects', label: LABELS.dialects, checked: v.dialects, choices: options(view.dialects), hint: HINTS.dialects, errors: e })}
<div class="grid-2">
${input({ name: 'ttl', label: LABELS.ttl, type: 'number', value: v.ttl, min: 1, ...(view.maxTtl === undefined ? {} : { max: view.maxTtl }), hint: HINTS.ttl, errors: e })}
${input({ name: 'rate_limit', label: LABELS.rate_limit, type: 'number', value: v.rate_limit, min: 1, hint: HINTS.rate_limit, errors: e })}
</div>
${checkbox({ name: 'trusted', label: LABELS.trusted, checked: v.trusted, errors: e })}
${checkbox({ name: 'pkce_optional', label: LABELS.pkce_optional, checked: v.pkce_optional, hint: HINTS.pkce_optional, errors: e })}
${checkbox({ name: 'require_par', label: LABELS.require_par, checked: v.require_par, hint: HINTS.require_par, errors: e })}
${checkbox({ name: 'require_signed_request_object', label: LABELS.require_signed_request_object, checked: v.require_signed_request_object, hint: HINTS.require_signed_request_object, errors: e })}
<h2>Authentication and tokens</h2>
${!view.publicClient && html`${select({ name: 'auth_method', label: LABELS.auth_method, value: v.auth_method, choices: labelled('authMethod', AUTH_METHOD_LABELS), hint: editing ? HINTS.auth_method : undefined, errors: e })}
${forMethods('jwks', textarea({ name: 'jwks', label: LABELS.jwks, value: v.jwks, rows: 6, hint: HINTS.jwks, errors: e }))}
${text('jwksUri')}
${forMethods('tlsSubjectDn', html`<p class="hint">tls_client_auth: the one name its certificate must carry; fill in exactly one of the five.</p>`)}
${text('tlsSubjectDn')}
${text('tlsSanDns')}
${text('tlsSanUri')}
${text('tlsSanIp')}
${text('tlsSanEmail')}`}
${checkbox({ name: 'dpop_bound', label: LABELS.dpop_bound, checked: v.dpop_bound, errors: e })}
${checkbox({ name: 'cert_bound', label: LABELS.cert_bound, checked: v.cert_bound, errors: e })}
${checkbox({ name: 'refresh_token_rotation', label: LABELS.refresh_token_rotation, checked: v.refresh_token_rotation, hint: HINTS.refresh_token_rotation, errors: e })}
${checkbox({ name: 'token_reuse', label: LABELS.token_reuse, checked: v.token_reuse, hint: HINTS.token_reuse, errors: e })}
${textarea({ name: 'exchange_audiences', label: LABELS.exchange_audiences, value: v.exchange_audiences, hint: HINTS.exchange_audiences, errors: e })}
${textarea({ name: 'exchange_scopes', label: LABELS.exchange_scopes, value: v.exchange_scopes, hint: HINTS.exchange_scopes, errors: e })}
${textarea({ name: 'introspection_audiences', label: LABELS.introspection_audiences, value: v.introspection_audiences, hint: HINTS.introspection_audiences, errors: e })}
${select({ name: 'security_profile', label: LABELS.security_profile, value: v.security_profile, choices: labelled('securityProfile', PROFILE_LABELS).sort((a) => (a.value === 'none' ? -1 : 1)), hint: HINTS.security_profile, errors: e })}
<div class="grid-2">
${algSelect('idTokenAlg')}
${algSelect('authorizationResponseAlg')}
${algSelect('introspectionAlg')}
</div>
${view.extras && html`${textarea({ name: 'claims', label: LABELS.claims, value: v.claims, rows: 4, hint: HINTS.claims, errors: e })}
${textarea({ name: 'metadata', label: LABELS.metadata, value: v.metadata, rows: 4, hint: HINTS.metadata, errors: e })}`}
<div class="actions"><button type="submit" class="primary">${editing ? 'Save changes' : 'Create client'}</button>
<a href="${editing ? paths.client(view.clientId!) : paths.clients}">Cancel</a></div>
</form>`;
  return layout(ctx, { title, section: 'clients', body, script: true });
}
