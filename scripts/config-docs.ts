/** Writes docs/configuration.md from the config options table (the one place defaults are documented). */
import { writeFileSync } from 'node:fs';
import { defaultText, OPTIONS } from '../src/config/index.ts';

export function configMarkdown(): string {
  const rows = OPTIONS.map((o) => {
    const shown = defaultText(o);
    const doc = `${o.doc}${shown === undefined ? '' : ` Default: ${shown === '' ? 'empty' : shown}.`}`;
    return `| ${o.envOnly ? '—' : `\`--${o.flag}\``} | \`${o.env}\` | ${doc.replace(/\|/g, '\\|')} |`;
  });
  return [
    '# Configuration',
    '',
    'Generated from `src/config/options.ts` by `node scripts/config-docs.ts`; do not edit by hand.',
    'Every option has a command-line flag and a `KEYMINT_*` environment twin; the flag wins. A bad',
    'value stops startup with a message naming the option as it was given (`keymint: --port: …` or `keymint: KEYMINT_PORT: …`), exit code 2.',
    '',
    '| flag | environment | meaning and default |',
    '|---|---|---|',
    ...rows,
    '',
  ].join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  writeFileSync(new URL('../docs/configuration.md', import.meta.url), configMarkdown());
}
