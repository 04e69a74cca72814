/**
 * Regenerates docs/dialects/<name>.md and docs/dialects/README.md by running a real Keymint with
 * the four seed dialects at their default paths and performing, per dialect, the success and every
 * error request of scripts/dialect-cases.ts. Secrets, ids and tokens become placeholders; the clock
 * is fixed, so a rerun without a behaviour change leaves the docs byte-identical.
 *
 *   npm run docs:dialects
 *
 * test/dialects/docs.test.ts fails when the committed pages differ from what this produces.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { STATUS_CODES } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../src/config/index.ts';
import { newClientSecret } from '../src/credentials/secrets.ts';
import { DIALECTS } from '../src/dialects/index.ts';
import type { Dialect } from '../src/dialects/types.ts';
import type { HttpResponse } from '../src/wire/http.ts';
import { createKeymint, type Keymint } from '../src/service.ts';
import { randomBase62 } from '../src/tokens/random.ts';
import { createLogger } from '../src/util/log.ts';
import { CODEC_CASES, extraCodecCases, liveCases, NOTES, type Credentials, type LiveCase } from './dialect-cases.ts';

const SEED = ['polygon-oms', 'orum', 'tradevest', 'fuuffy'];
const OUT = new URL('../docs/dialects/', import.meta.url);
const NOW = Date.parse('2026-01-01T00:00:00Z');
/** Headers every answer has that say nothing about the dialect. */
const SKIP_HEADERS = new Set(['date', 'connection', 'keep-alive', 'content-length', 'x-content-type-options', 'referrer-policy', 'x-frame-options']);

/**
 * Servers to document, each with the dialects it mounts at their default paths (`oauth2` and
 * `tradevest` share a default path, so they run on separate servers) and the dialect a "restricted"
 * client is limited to (one not on that server).
 */
const GROUPS: ReadonlyArray<{ readonly dialects: readonly string[]; readonly restrictedTo: string }> = [
  { dialects: ['oauth2'], restrictedTo: 'orum' },
  { dialects: SEED, restrictedTo: 'oauth2' },
];

/** Every page, by file name under docs/dialects/, as a real server answers today. */
export async function dialectDocs(): Promise<Record<string, string>> {
  const pages: Record<string, string> = {};
  const index: string[] = [];
  for (const group of GROUPS) Object.assign(pages, await groupDocs(group.dialects, group.restrictedTo, index));
  pages['README.md'] = readme(index);
  return pages;
}

async function groupDocs(names: readonly string[], restrictedTo: string, index: string[]): Promise<Record<string, string>> {
  const pages: Record<string, string> = {};
  const dataDir = mkdtempSync(join(tmpdir(), 'keymint-docs-'));
  const config = loadConfig({ port: '0', dataDir, logLevel: 'silent', issuer: 'http://localhost:8080', dialects: [...names], maxEventLoopDelayMs: '0' }, {});
  const keymint = await createKeymint(config, { log: createLogger('silent'), now: () => NOW });
  try {
    const base = `http://127.0.0.1:${await keymint.listen()}`;
    const creds = await makeClients(keymint, restrictedTo);
    const scrub = scrubber(creds);
    for (const name of names) {
      const dialect = DIALECTS.get(name)!;
      const sections: string[] = [];
      for (const c of liveCases(name, creds)) {
        const res = await fetch(base + dialect.defaultPath, { method: c.method ?? 'POST', headers: c.headers, ...(c.method === 'GET' ? {} : { body: c.body }) });
        const headers = [...res.headers].filter(([k]) => !SKIP_HEADERS.has(k));
        sections.push(section(c.title, scrub(renderRequest(dialect.defaultPath, c)), scrub(renderResponse(res.status, headers, await res.text()))));
      }
      for (const c of [...extraCodecCases(name), ...CODEC_CASES]) {
        const r: HttpResponse = dialect.encodeError(c.error, { method: 'POST', path: dialect.defaultPath, query: '', headers: {}, headersDistinct: {}, rawHeaders: [], body: Buffer.alloc(0), ip: '' });
        const headers = Object.entries(r.headers).map(([k, v]) => [k.toLowerCase(), v] as [string, string]);
        sections.push(section(`${c.title} — from the codec`, undefined, renderResponse(r.status, headers, String(r.body))));
      }
      pages[`${name}.md`] = page(dialect, sections);
      index.push(`| [\`${name}\`](${name}.md) | \`POST ${dialect.defaultPath}\` | ${Object.keys(dialect.contract.requestBodies).map((t) => `\`${t}\``).join(', ')} | ${tokenFormat(dialect)} |`);
    }
    return pages;
  } finally {
    await keymint.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

if (import.meta.main) {
  const pages = await dialectDocs();
  mkdirSync(OUT, { recursive: true });
  for (const [file, text] of Object.entries(pages)) writeFileSync(new URL(file, OUT), text);
  console.log(`wrote ${Object.keys(pages).length} pages to docs/dialects/`);
}

async function makeClients(keymint: Keymint, restrictedTo: string): Promise<Credentials> {
  const make = async (input: { dialects?: string[] } = {}) => {
    const { client, clientSecret } = await keymint.clients.create({ name: 'docs', ...input }, 'docs');
    return { id: client.client_id, secret: clientSecret ?? '' };
  };
  const main = await make();
  const disabled = await make();
  await keymint.clients.setStatus(disabled.id, 'disabled', 'docs');
  const other = await make({ dialects: [restrictedTo] });
  return {
    id: main.id,
    secret: main.secret,
    disabledId: disabled.id,
    disabledSecret: disabled.secret,
    otherId: other.id,
    otherSecret: other.secret,
    unknownId: `sk_live_${randomBase62(24)}`,
    foreignId: `sk_stg_live_${main.id.slice(-24)}`,
    wrongSecret: newClientSecret(),
  };
}

/** Replaces every id, secret and token with a placeholder (the longest values first). */
function scrubber(c: Credentials): (text: string) => string {
  const placeholders: Array<[string, string]> = [
    [c.foreignId, '<other_environment_client_id>'],
    [c.unknownId, '<unknown_client_id>'],
    [c.disabledId, '<disabled_client_id>'],
    [c.disabledSecret, '<disabled_client_secret>'],
    [c.otherId, '<restricted_client_id>'],
    [c.otherSecret, '<restricted_client_secret>'],
    [c.wrongSecret, '<wrong_client_secret>'],
    [c.id, '<client_id>'],
    [c.secret, '<client_secret>'],
  ];
  return (text) => {
    let out = text;
    for (const [value, name] of placeholders) out = out.split(value).join(name);
    return out
      .replace(/^(Authorization: Basic )[A-Za-z0-9+/=]+$/gm, '$1<base64 of client_id:client_secret>')
      .replace(/eyJ[\w-]*\.[\w-]+\.[\w-]+/g, '<access_token>').replace(/sk-[0-9a-f]{32}/g, '<access_token>');
  };
}

function renderRequest(path: string, c: LiveCase): string {
  const lines = [`${c.method ?? 'POST'} ${path} HTTP/1.1`, 'Host: localhost:8080', ...Object.entries(c.headers).map(([k, v]) => `${k}: ${v}`)];
  return c.method === 'GET' ? lines.join('\n') : `${lines.join('\n')}\n\n${c.body}`;
}

function renderResponse(status: number, headers: Array<[string, string]>, body: string): string {
  const names: Record<string, string> = { 'cache-control': 'Cache-Control', 'content-type': 'Content-Type', 'retry-after': 'Retry-After', 'x-retry-in': 'X-Retry-In' };
  const title = (k: string) => names[k] ?? k.replace(/(^|-)(\w)/g, (_, d: string, ch: string) => d + ch.toUpperCase()).replace(/^X-Ratelimit/, 'X-RateLimit');
  const sorted = [...headers].sort(([a], [b]) => a.localeCompare(b));
  return [`HTTP/1.1 ${status} ${STATUS_CODES[status]}`, ...sorted.map(([k, v]) => `${title(k)}: ${v}`), '', body].join('\n');
}

function section(title: string, request: string | undefined, response: string): string {
  const req = request === undefined ? '' : `Request:\n\n\`\`\`http\n${request}\n\`\`\`\n\n`;
  return `### ${title}\n\n${req}Response:\n\n\`\`\`http\n${response}\n\`\`\`\n`;
}

function tokenFormat(d: Dialect): string {
  if (d.accessToken.format === 'opaque') return 'opaque `sk-` + 32 hex, stored as an HMAC digest';
  return d.accessToken.alg ? `${d.accessToken.alg} JWT (RFC 9068)` : 'JWT (RFC 9068, deployment algorithm)';
}

function page(d: Dialect, sections: string[]): string {
  const [success, ...rest] = sections;
  const live = rest.filter((s) => !s.includes('— from the codec'));
  const codec = rest.filter((s) => s.includes('— from the codec'));
  const successes = [success!, ...live.filter((s) => s.startsWith('### Success'))];
  const errors = live.filter((s) => !s.startsWith('### Success'));
  return `<!-- Generated by \`npm run docs:dialects\` (scripts/dialect-docs.ts); do not edit by hand. -->
# \`${d.name}\` — ${d.contract.title}

${d.contract.summary}

- Endpoint: \`POST ${d.defaultPath}\` (mount it elsewhere with \`--dialect ${d.name}=/path\`)
- Request body: ${Object.keys(d.contract.requestBodies).map((t) => `\`${t}\``).join(', ')}
- Grant: \`client_credentials\` (${d.contract.basicAuth ? 'HTTP Basic or credentials in the body' : 'credentials in the body'})
- Access token: ${tokenFormat(d)}
- OpenAPI 3.1: \`GET ${d.defaultPath}/openapi.json\`
- Every answer carries \`Cache-Control: no-store\` and \`Pragma: no-cache\`; 429 and 503 carry \`Retry-After\`.

${d.name === 'oauth2' ? 'Decisions where the RFCs leave room' : "Where the provider's documentation is silent"}:

${(NOTES[d.name] ?? []).map((n) => `- ${n}`).join('\n')}

Examples are recorded from a real server; ids, secrets and tokens are replaced by placeholders
such as \`<client_id>\`, \`<client_secret>\` and \`<access_token>\`. Bodies are shown byte for byte.

## Success

${successes.join('\n')}
## Errors

${errors.join('\n')}
## Errors for limits and failures

A 429 depends on a client's request rate and a 5xx on a failing dependency, so these examples are
encoded by the dialect's codec from the canonical error, exactly as the server sends them.

${codec.join('\n')}`;
}

function readme(rows: string[]): string {
  return `<!-- Generated by \`npm run docs:dialects\` (scripts/dialect-docs.ts); do not edit by hand. -->
# Wire dialects

Keymint speaks each provider's token contract byte for byte on one engine (each dialect's page lists
the decisions Keymint made where the provider's documentation is silent). Mount any set of them at once:

\`\`\`sh
npx keymint serve --dialect oauth2 --dialect polygon-oms --dialect orum --dialect fuuffy --dialect tradevest=/connect/token
\`\`\`

\`tradevest\` and \`oauth2\` both default to \`/oauth2/token\`; mounting both there is a startup error
naming both, so one of them moves (\`tradevest=/connect/token\`, the path Tradevest's guide also uses).
A client can be limited to some dialects (\`dialects\` on the client); elsewhere it is refused as
\`unauthorized_client\` in that dialect's shape.

| dialect | endpoint | request body | access token |
|---|---|---|---|
${rows.join('\n')}

Each mounted dialect publishes its OpenAPI 3.1 document at \`<mount>/openapi.json\`, generated from
the codec's contract.
`;
}
