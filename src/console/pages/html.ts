/**
 * Escaping by construction: `html` is a tagged template whose interpolations are HTML-escaped unless
 * they are already `Html` (built by `html` itself). Arrays are joined; `null`, `undefined` and
 * `false` render nothing, so `${cond && html`…`}` reads naturally. Nothing else marks text as safe:
 * a page cannot put a client's name into markup unescaped.
 */
const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export const escapeHtml = (value: string): string => value.replace(/[&<>"']/g, (c) => ESCAPES[c]!);

/** Markup that is safe to place as is. Only `html` and `trusted` make one. */
export class Html {
  readonly #text: string;
  constructor(text: string) {
    this.#text = text;
  }
  toString(): string {
    return this.#text;
  }
}

export type Interpolation = Html | string | number | boolean | null | undefined | readonly Interpolation[];

function render(value: Interpolation): string {
  if (value === null || value === undefined || value === false) return '';
  if (value instanceof Html) return value.toString();
  if (Array.isArray(value)) return value.map(render).join('');
  return escapeHtml(String(value));
}

export function html(strings: TemplateStringsArray, ...values: Interpolation[]): Html {
  let out = strings[0]!;
  for (let i = 0; i < values.length; i++) out += render(values[i]!) + strings[i + 1]!;
  return new Html(out);
}

/** Markup written in this folder as a constant (an SVG path, a fixed fragment): never request data. */
export const trusted = (markup: string): Html => new Html(markup);
