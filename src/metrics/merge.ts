/**
 * One exposition from several processes' (the workers of one `keymint serve`): samples with the same
 * name and labels are added up — counters, histogram buckets, sums and counts, and gauges of
 * quantities (requests in flight, pool connections). A gauge of a state is not a quantity: `*_up`
 * gauges keep the lowest value (1 only when every worker is up) and the others named in `WORST`
 * keep the highest (the latest, for a timestamp). HELP and TYPE lines are kept once, in first-seen order.
 */
const WORST_IS_HIGHEST = new Set(['keymint_limiter_fallback', 'keymint_event_loop_delay_seconds', 'keymint_purge_last_run_timestamp_seconds']);

type Merge = 'sum' | 'min' | 'max';

function mergeOf(family: string, type: string | undefined): Merge {
  if (type !== 'gauge') return 'sum';
  if (family.endsWith('_up')) return 'min';
  return WORST_IS_HIGHEST.has(family) ? 'max' : 'sum';
}

export function mergeExpositions(texts: readonly string[]): string {
  const families = new Map<string, { meta: string[]; type: string | undefined; samples: Map<string, number> }>();
  const familyOf = (name: string) => {
    let f = families.get(name);
    if (!f) families.set(name, (f = { meta: [], type: undefined, samples: new Map() }));
    return f;
  };
  for (const text of texts) {
    let current: string | undefined;
    for (const line of text.split('\n')) {
      if (line === '') continue;
      const meta = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line);
      if (meta) {
        current = meta[2]!;
        const f = familyOf(current);
        if (meta[1] === 'TYPE') f.type = meta[3];
        if (!f.meta.some((m) => m.startsWith(`# ${meta[1]} `))) f.meta.push(line);
        continue;
      }
      const space = line.lastIndexOf(' ');
      if (space < 0 || current === undefined) continue;
      const series = line.slice(0, space);
      const value = Number(line.slice(space + 1));
      const f = familyOf(current);
      const before = f.samples.get(series);
      const how = mergeOf(current, f.type);
      f.samples.set(series, before === undefined ? value : how === 'sum' ? before + value : how === 'min' ? Math.min(before, value) : Math.max(before, value));
    }
  }
  const out: string[] = [];
  for (const f of families.values()) {
    out.push(...f.meta);
    for (const [series, value] of f.samples) out.push(`${series} ${value}`);
  }
  return `${out.join('\n')}\n`;
}
