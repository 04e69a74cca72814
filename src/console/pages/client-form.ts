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
import { CLIENT_FIELDS, fieldsOn, ruleField, type ClientField, type ClientFieldName, type FieldForm, type FieldValue, type FormControl } from '../../credentials/client-fields.ts';
import type { ClientMode, ClientType } from '../../storage/types.ts';

type FormFieldName = { [N in ClientFieldName]: (typeof CLIENT_FIELDS)[N]['form'] extends null ? never : N }[ClientFieldName];
type ControlOf<N extends FormFieldName> = (typeof CLIENT_FIELDS)[N]['form'] extends { readonly control: infer C extends string } ? C : never;
type RawOf<N extends FormFieldName> = (typeof CLIENT_FIELDS)[N]['form'] extends { readonly kind: 'checkboxes' } ? readonly string[] : (typeof CLIENT_FIELDS)[N]['form'] extends { readonly kind: 'checkbox' } ? boolean : string;

/** The form as typed: every control's raw value. */
export type ClientFormValues = { readonly [N in FormFieldName as ControlOf<N>]: RawOf<N> };

/** What the form asks ClientService to set (create or update); names as CreateClientInput's. */
export type ClientFormInput = { readonly [N in Exclude<FormFieldName, 'mode' | 'type'>]: FormInputValue<N> } & { readonly mode?: ClientMode; readonly type?: ClientType };
type FormInputValue<N extends FormFieldName> = FieldValue<N> extends readonly string[] ? string[] : FieldValue<N> extends Readonly<Record<string, infer V>> ? Record<string, V> : FieldValue<N>;

const FORM_FIELDS = fieldsOn('form');

export const LABELS = Object.fromEntries(FORM_FIELDS.map(([, f]) => [f.control, f.label])) as Readonly<Record<keyof ClientFormValues, string>>;
const HINTS = Object.fromEntries(FORM_FIELDS.map(([, f]) => [f.control, f.hint])) as Readonly<Record<keyof ClientFormValues, string>>;

/** ClientService's field names (ClientInputError.field) → this form's control names. */
const SERVICE_FIELDS: ReadonlyMap<string, string> = new Map(FORM_FIELDS.map(([name, f]) => [ruleField(name), f.control]));

export const formFieldOf = (serviceField: string): string => SERVICE_FIELDS.get(serviceField) ?? serviceField;

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
      return value && Object.keys(value).length > 0 ? JSON.stringify(value, null, 2) : '';
    case 'pairs':
      return Object.entries((value ?? {}) as Record<string, string>).map(([k, v]) => `${k}=${v}`).join('\n');
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
    case 'input':
      // An optional setting (a URL) left empty: none.
      return v === '' && (CLIENT_FIELDS[name] as ClientField).nullable ? null : v;
    case 'select':
      if (!choicesOf(name).includes(v as string)) errors[f.control] = choicesOf(name).join(' or ');
      return v;
    default:
      return v;
  }
}

/** The order the parse reports what it cannot read: numbers, then JSON, then key=value, then choices. */
const PARSE_ORDER: readonly FormControl[] = ['number', 'json', 'pairs', 'select'];
const parseRank = (f: FieldForm): number => {
  const rank = PARSE_ORDER.indexOf(f.kind);
  return rank < 0 ? PARSE_ORDER.length : rank;
};

/**
 * The service input of a form, or the fields it cannot even be read from (the service checks
 * everything else and names its field; map it back with `formFieldOf`).
 */
export function parseClientForm(v: ClientFormValues, kind: 'create' | 'edit'): { input: ClientFormInput } | { errors: FormErrors } {
  const errors: Record<string, string> = {};
  const raws = v as unknown as Readonly<Record<string, unknown>>;
  const input: Record<string, unknown> = {};
  for (const [name, f] of [...FORM_FIELDS].sort(([, a], [, b]) => parseRank(a) - parseRank(b))) {
    if ((CLIENT_FIELDS[name] as ClientField).createOnly && kind !== 'create') continue;
    input[name] = parsed(name, f, raws[f.control], errors);
  }
  if (Object.keys(errors).length > 0) return { errors };
  return { input: input as ClientFormInput };
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
${select({ name: 'mode', label: LABELS.mode, value: v.mode, errors: e, choices: [{ value: 'live', label: 'live' }, { value: 'sandbox', label: 'sandbox' }], hint: HINTS.mode })}
${select({ name: 'type', label: LABELS.type, value: v.type, errors: e, choices: [{ value: 'confidential', label: 'confidential (has a secret)' }, { value: 'public', label: 'public (no secret)' }] })}
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
${view.extras && html`${textarea({ name: 'claims', label: LABELS.claims, value: v.claims, rows: 4, hint: HINTS.claims, errors: e })}
${textarea({ name: 'metadata', label: LABELS.metadata, value: v.metadata, rows: 4, hint: HINTS.metadata, errors: e })}`}
<div class="actions"><button type="submit" class="primary">${editing ? 'Save changes' : 'Create client'}</button>
<a href="${editing ? paths.client(view.clientId!) : paths.clients}">Cancel</a></div>
</form>`;
  return layout(ctx, { title, section: 'clients', body });
}
