/**
 * HTML that escapes by construction. `html` is a tagged template: every interpolated value is
 * escaped unless it is itself `Html` (made by `html` or, for text known to be safe, `trusted`);
 * arrays are joined; `undefined`, `null` and `false` render as nothing. Attribute values must be
 * quoted in the template (`value="${v}"`), where escaping `"` and `'` makes them safe.
 */
const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;', '`': '&#96;' };

export const escapeHtml = (value: string): string => value.replace(/[&<>"'`]/g, (c) => ESCAPES[c]!);

export class Html {
  readonly text: string;
  constructor(text: string) {
    this.text = text;
  }
  toString(): string {
    return this.text;
  }
}

export type HtmlValue = Html | string | number | boolean | null | undefined | readonly HtmlValue[];

function render(value: HtmlValue): string {
  if (value === undefined || value === null || value === false) return '';
  if (value instanceof Html) return value.text;
  if (Array.isArray(value)) return value.map(render).join('');
  return escapeHtml(String(value));
}

export function html(strings: TemplateStringsArray, ...values: HtmlValue[]): Html {
  let out = strings[0]!;
  for (let i = 0; i < values.length; i++) out += render(values[i]!) + strings[i + 1]!;
  return new Html(out);
}

/** Markup the caller vouches for (a constant, or HTML built elsewhere by `html`). Never request input. */
export const trusted = (text: string): Html => new Html(text);
