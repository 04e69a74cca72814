/**
 * Labelled form controls. Each control has a visible <label> (or a fieldset legend), its hint and
 * error tied to it with aria-describedby, and aria-invalid when the server refused its value; an
 * error summary at the top of the form links to each refused field.
 */
import { html, type Html } from './html.ts';

/** Field name → message, as the server refused them. */
export type FormErrors = Readonly<Record<string, string>>;

interface Common {
  readonly name: string;
  readonly label: string;
  readonly hint?: string;
  readonly errors?: FormErrors;
  readonly required?: boolean;
}

const id = (name: string) => `f-${name.replace(/[^A-Za-z0-9_-]/g, '-')}`;

function describedBy(c: Common): { attrs: Html; after: Html } {
  const error = c.errors?.[c.name];
  const ids = [c.hint && `${id(c.name)}-hint`, error && `${id(c.name)}-error`].filter(Boolean).join(' ');
  return {
    attrs: html`${ids && html` aria-describedby="${ids}"`}${error && html` aria-invalid="true"`}${c.required && html` required`}`,
    after: html`${c.hint && html`<p class="hint" id="${id(c.name)}-hint">${c.hint}</p>`}${error && html`<p class="error-text" id="${id(c.name)}-error">${error}</p>`}`,
  };
}

export interface InputOptions extends Common {
  readonly value?: string | number | null;
  readonly type?: 'text' | 'password' | 'number' | 'search' | 'url';
  readonly autocomplete?: string;
  readonly min?: number;
  readonly max?: number;
  readonly readonly?: boolean;
  readonly spellcheck?: boolean;
}

export function input(o: InputOptions): Html {
  const d = describedBy(o);
  return html`<div class="field"><label for="${id(o.name)}">${o.label}</label>
<input type="${o.type ?? 'text'}" id="${id(o.name)}" name="${o.name}" value="${o.value ?? ''}"${o.autocomplete && html` autocomplete="${o.autocomplete}"`}${o.min !== undefined && html` min="${o.min}"`}${o.max !== undefined && html` max="${o.max}"`}${o.readonly && html` readonly`}${o.spellcheck === false && html` spellcheck="false"`}${d.attrs}>
${d.after}</div>`;
}

export interface TextareaOptions extends Common {
  readonly value?: string;
  readonly rows?: number;
}

export function textarea(o: TextareaOptions): Html {
  const d = describedBy(o);
  return html`<div class="field"><label for="${id(o.name)}">${o.label}</label>
<textarea id="${id(o.name)}" name="${o.name}" rows="${o.rows ?? 3}" spellcheck="false"${d.attrs}>${o.value ?? ''}</textarea>
${d.after}</div>`;
}

export interface Choice {
  readonly value: string;
  readonly label: string;
}

export interface SelectOptions extends Common {
  readonly value?: string;
  readonly choices: readonly Choice[];
}

export function select(o: SelectOptions): Html {
  const d = describedBy(o);
  return html`<div class="field"><label for="${id(o.name)}">${o.label}</label>
<select id="${id(o.name)}" name="${o.name}"${d.attrs}>
${o.choices.map((c) => html`<option value="${c.value}"${c.value === (o.value ?? '') && html` selected`}>${c.label}</option>`)}
</select>
${d.after}</div>`;
}

export interface ChecksOptions extends Common {
  readonly checked: readonly string[];
  readonly choices: readonly Choice[];
}

/** A group of checkboxes sharing one name, in a fieldset whose legend is the label. */
export function checkboxes(o: ChecksOptions): Html {
  const d = describedBy({ ...o, required: false });
  return html`<fieldset id="${id(o.name)}"${d.attrs}><legend>${o.label}</legend>
<div class="checks">${o.choices.map((c, i) => html`<label class="check"><input type="checkbox" name="${o.name}" value="${c.value}" id="${id(o.name)}-${i}"${o.checked.includes(c.value) && html` checked`}> ${c.label}</label>`)}</div>
${d.after}</fieldset>`;
}

export function checkbox(o: Common & { readonly checked: boolean }): Html {
  const d = describedBy(o);
  return html`<div class="field"><label class="check"><input type="checkbox" id="${id(o.name)}" name="${o.name}" value="on"${o.checked && html` checked`}${d.attrs}> ${o.label}</label>
${d.after}</div>`;
}

/** The list of refused fields, focused first by screen readers (role=alert), each linking to its control. */
export function errorSummary(errors: FormErrors | undefined, labels: Readonly<Record<string, string>> = {}): Html | '' {
  const entries = Object.entries(errors ?? {});
  if (entries.length === 0) return '';
  return html`<div class="notice notice-error" role="alert"><strong>The form was not saved:</strong><ul>
${entries.map(([name, message]) => html`<li><a href="#${id(name)}">${labels[name] ?? name}</a>: ${message}</li>`)}
</ul></div>`;
}
