/**
 * Content negotiation by `Accept` (RFC 9110 §12.5.1), for an endpoint that answers in its default
 * media type unless the caller asks, by name, for one alternative (RFC 9701's
 * `application/token-introspection+jwt` at the introspection endpoint).
 *
 * The rule, simple on purpose: the alternative is chosen only when the header names it exactly, with
 * a q above 0 and at least the q the default gets from its most specific matching range
 * (`type/subtype`, then `type/*`, then `*\/*`). A tie goes to the alternative: a client names it only
 * because it reads it. A wildcard alone never selects it, and nothing ever answers 406: a header that
 * accepts neither still gets the default (§12.5.1 lets a server disregard it). Media-type parameters
 * other than `q` are ignored; an element that does not parse (a bad range, a q outside 0..1 or with
 * more than three decimals) is skipped, as if not sent. One pass over the header, no regular
 * expression that can backtrack, so a header at Node's size limit (16 KiB) costs microseconds.
 */

/** Media-range token characters (RFC 9110 §5.6.2 tchar), lower-cased. */
const TOKEN = /^[!#$%&'*+.^_`|~0-9a-z-]+$/;
/** qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] ) (RFC 9110 §12.4.2). */
const QVALUE = /^(?:0(?:\.\d{0,3})?|1(?:\.0{0,3})?)$/;

interface Best {
  specificity: number;
  q: number;
}

/** Of the ranges matching `type` (lower-case), the q of the most specific; the highest among equals. */
function consider(best: Best, range: string, q: number, type: string): void {
  const slash = type.indexOf('/');
  const specificity = range === type ? 3 : range === `${type.slice(0, slash)}/*` ? 2 : range === '*/*' ? 1 : 0;
  if (specificity === 0 || specificity < best.specificity) return;
  best.q = specificity > best.specificity ? q : Math.max(best.q, q);
  best.specificity = specificity;
}

/**
 * Whether `accept` (the header's value, duplicates joined by commas as Node joins them) asks for
 * `alternative` over `fallback`; both lower-case `type/subtype`.
 */
export function prefersAlternative(accept: string | undefined, alternative: string, fallback: string): boolean {
  if (accept === undefined) return false;
  const alt: Best = { specificity: 0, q: 0 };
  const dflt: Best = { specificity: 0, q: 0 };
  for (const element of accept.split(',')) {
    const [rawRange = '', ...params] = element.split(';');
    const range = rawRange.trim().toLowerCase();
    const slash = range.indexOf('/');
    if (slash <= 0 || !TOKEN.test(range.slice(0, slash)) || !TOKEN.test(range.slice(slash + 1))) continue;
    let q = 1;
    let valid = true;
    for (const param of params) {
      const eq = param.indexOf('=');
      if (eq < 0 || param.slice(0, eq).trim().toLowerCase() !== 'q') continue;
      const value = param.slice(eq + 1).trim();
      if (!QVALUE.test(value)) valid = false;
      else q = Number(value);
    }
    if (!valid) continue;
    if (range === alternative) consider(alt, range, q, alternative);
    consider(dflt, range, q, fallback);
  }
  return alt.specificity === 3 && alt.q > 0 && alt.q >= dflt.q;
}
