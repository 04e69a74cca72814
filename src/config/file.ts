/**
 * The configuration file: clients declared as code (`keymint apply`, `keymint export`) and, with a
 * `sandbox` section, the sandbox file (`keymint sandbox --file`, `startSandbox`). YAML or JSON (a
 * JSON document is read by the same YAML 1.2 parser, so both report lines and refuse duplicate keys).
 * A valid `.json` file skips that parser (loading it costs more CPU than the rest of the reading): JSON.parse
 * and a scan for duplicate keys give the same value, and the parser is loaded only to say where a problem is.
 * The one JSON Schema, `schema/keymint.config.schema.json`, shipped in the package for editors, is
 * what checks it; a few rules a schema cannot say well are checked after it. A bad file throws one
 * ConfigFileError naming the file, line, column and field.
 */
import { readFileSync } from 'node:fs';
import type { Document, Node as YamlNode } from 'yaml';
import { CONFIG_SCHEMA_URL, configSchemaChecker, type FieldPath } from './schema-check.ts';
import type { SigningAlg } from './types.ts';
import { yaml } from './yaml.ts';

export type { FieldPath } from './schema-check.ts';

/** Where a confidential client's secret comes from; exactly one of env, file and value. */
export interface SecretSource {
  /** An environment variable holding it. */
  readonly env?: string;
  /** A file holding it (one line), relative to the configuration file. */
  readonly file?: string;
  /** With `file`: a missing file is filled with a generated secret when the client is created. */
  readonly generate?: boolean;
  /** The secret itself: sandbox files only. */
  readonly value?: string;
}

/** One client as the file declares it; every field is optional (see the schema for each meaning and default). */
export interface ClientDeclaration {
  readonly name?: string;
  readonly id?: string;
  readonly mode?: 'live' | 'sandbox';
  readonly type?: 'confidential' | 'public';
  readonly status?: 'active' | 'disabled';
  readonly grants?: readonly string[];
  readonly scopes?: readonly string[];
  readonly audiences?: readonly string[];
  readonly redirectUris?: readonly string[];
  readonly postLogoutRedirectUris?: readonly string[];
  readonly backchannelLogoutUri?: string;
  readonly backchannelLogoutSessionRequired?: boolean;
  readonly dialects?: readonly string[];
  readonly trusted?: boolean;
  readonly tokenTtl?: number | null;
  readonly rateLimit?: number | null;
  readonly pkceRequired?: boolean;
  readonly requirePar?: boolean;
  readonly requireSignedRequestObject?: boolean;
  readonly refreshTokenRotation?: boolean;
  readonly securityProfile?: 'fapi2' | 'none' | null;
  readonly idTokenAlg?: SigningAlg;
  readonly authorizationResponseAlg?: SigningAlg;
  readonly introspectionAlg?: SigningAlg;
  readonly claims?: Readonly<Record<string, string | number | boolean | ReadonlyArray<string | number | boolean>>>;
  readonly metadata?: Readonly<Record<string, string>>;
  readonly authMethod?: 'client_secret_basic' | 'private_key_jwt' | 'tls_client_auth' | 'self_signed_tls_client_auth';
  readonly jwks?: unknown;
  readonly jwksUri?: string;
  readonly tlsSubjectDn?: string;
  readonly tlsSanDns?: string;
  readonly tlsSanUri?: string;
  readonly tlsSanIp?: string;
  readonly tlsSanEmail?: string;
  readonly dpopBound?: boolean;
  readonly certBound?: boolean;
  readonly exchangeAudiences?: readonly string[];
  readonly exchangeScopes?: readonly string[];
  readonly introspectionAudiences?: readonly string[];
  readonly secret?: SecretSource;
}

/** The file's contents. `sandbox` is present only when the parser was asked to allow it. */
export interface KeymintFile {
  readonly version: 1;
  /** Clients by key (the stable handle `apply` matches them by). */
  readonly clients: Readonly<Record<string, ClientDeclaration>>;
  readonly sandbox?: Readonly<Record<string, unknown>>;
}

export interface ParseConfigFileOptions {
  /** The file's name as errors should show it (default `keymint.yaml`). */
  readonly path?: string;
  /** Accept a `sandbox` section and literal secrets (`secret.value`): the sandbox file. Default false. */
  readonly allowSandbox?: boolean;
}

export interface ParsedConfigFile {
  readonly file: KeymintFile;
  /** `path:line:column` of a field (or of its nearest present parent), for errors found later. */
  locate(field: FieldPath): string;
  /** A ConfigFileError at `field`, for rules checked after parsing (an unknown dialect, say). */
  error(field: FieldPath, message: string): ConfigFileError;
}

/** A bad configuration file: one line naming where and what. */
export class ConfigFileError extends Error {
  readonly file: string;
  readonly line: number;
  readonly column: number;
  /** The field at fault, as `clients.billing.scopes[1]` ('' for the whole document). */
  readonly field: string;
  constructor(file: string, line: number, column: number, field: string, problem: string) {
    super(`${file}${line > 0 ? `:${line}:${column}` : ''}: ${field === '' ? '' : `${field}: `}${problem}`);
    this.name = 'ConfigFileError';
    this.file = file;
    this.line = line;
    this.column = column;
    this.field = field;
  }
}

export { CONFIG_SCHEMA_URL };

const schemaCheck = (value: unknown) => configSchemaChecker()(value);

/** `clients.billing.scopes[1]`; a key that is not a plain name is quoted. */
export function fieldName(field: FieldPath): string {
  return field
    .map((k, i) => (typeof k === 'number' ? `[${k}]` : /^[A-Za-z_$][\w$-]*$/.test(k) ? `${i === 0 ? '' : '.'}${k}` : `[${JSON.stringify(k)}]`))
    .join('');
}

/**
 * Client fields a reader may expect from a standard but that Keymint refuses, each with why: the
 * schema would call them unknown and suggest a near name, which says less. RFC 9701 §6's encryption
 * of introspection answers is refused so: Keymint signs them and never encrypts.
 */
const INTROSPECTION_JWE = 'encrypted introspection answers (JWE) are not supported: they are signed only (introspectionAlg) and sent over TLS';
const UNSUPPORTED_FIELDS: Readonly<Record<string, string>> = {
  introspectionEncryptedResponseAlg: INTROSPECTION_JWE,
  introspectionEncryptedResponseEnc: INTROSPECTION_JWE,
};

/** The path of the first client field of UNSUPPORTED_FIELDS the file declares, if any. */
function unsupportedField(value: unknown): [string, string, string] | undefined {
  const clients = (value as { clients?: unknown } | null)?.clients;
  if (typeof clients !== 'object' || clients === null) return undefined;
  for (const [key, client] of Object.entries(clients)) {
    if (typeof client !== 'object' || client === null) continue;
    const field = Object.keys(client).find((f) => Object.hasOwn(UNSUPPORTED_FIELDS, f));
    if (field !== undefined) return ['clients', key, field];
  }
  return undefined;
}

/** Parses and checks a configuration file's text; throws ConfigFileError on the first problem. */
export function parseConfigFile(text: string, options: ParseConfigFileOptions = {}): ParsedConfigFile {
  const path = options.path ?? 'keymint.yaml';
  const json = /\.json$/i.test(path) ? plainJson(text) : undefined;
  // The YAML document, for positions; a plain JSON text is read again only when one is asked for
  // (the parser then finds no problem in it: see plainJson).
  let read = json === undefined ? readYaml(text, path) : undefined;
  const value = json === undefined ? read!.value : json.value;
  const position = (field: FieldPath, atKey = false): { line: number; col: number } => {
    read ??= readYaml(text, path);
    const { node, key } = nodeAt(read.doc, field);
    const range = (atKey && key ? key : node)?.range;
    return range ? read.at(range[0]) : { line: 1, col: 1 };
  };
  const error = (field: FieldPath, message: string, atKey = false): ConfigFileError => {
    const { line, col } = position(field, atKey);
    return new ConfigFileError(path, line, col, fieldName(field), message);
  };
  if (value === null || value === undefined) throw new ConfigFileError(path, 1, 1, '', 'the file is empty; a configuration file starts with `version: 1`');
  const unsupported = unsupportedField(value);
  if (unsupported) throw error(unsupported, UNSUPPORTED_FIELDS[unsupported[2]]!, true);
  const problem = schemaCheck(value);
  if (problem) throw error(problem.path, problem.message, problem.atKey);

  const file = value as KeymintFile;
  if (file.sandbox !== undefined && options.allowSandbox !== true) {
    throw error(['sandbox'], 'this is a sandbox file: `keymint sandbox --file` loads it; `apply` does not (remove the section to apply its clients)', true);
  }
  const ids = new Map<string, string>();
  for (const [key, client] of Object.entries(file.clients ?? {})) {
    const secret = client.secret;
    if (secret !== undefined) {
      const sources = (['env', 'file', 'value'] as const).filter((k) => secret[k] !== undefined);
      if (sources.length !== 1) throw error(['clients', key, 'secret'], `names ${sources.length === 0 ? 'no source' : `both ${sources.join(' and ')}`}; give exactly one of env, file${options.allowSandbox ? ', value' : ''}`);
      if (secret.value !== undefined && options.allowSandbox !== true) {
        throw error(['clients', key, 'secret', 'value'], 'a secret written in the file is for sandbox files only; use secret.env or secret.file', true);
      }
      if (secret.generate !== undefined && secret.file === undefined) throw error(['clients', key, 'secret', 'generate'], 'generate needs file: where the generated secret is written', true);
    }
    if (client.id !== undefined) {
      const other = ids.get(client.id);
      if (other !== undefined) throw error(['clients', key, 'id'], `the same id as clients.${other}`);
      ids.set(client.id, key);
    }
  }
  return {
    file: { version: 1, clients: file.clients ?? {}, ...(file.sandbox === undefined ? {} : { sandbox: file.sandbox }) },
    locate: (field) => {
      const { line, col } = position(field);
      return `${path}:${line}:${col}`;
    },
    error: (field, message) => error(field, message),
  };
}

/** Reads and parses a configuration file; an unreadable file is a ConfigFileError too. */
export function loadConfigFile(path: string, options: Omit<ParseConfigFileOptions, 'path'> = {}): ParsedConfigFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory, not a file' : code === 'EACCES' ? 'not readable (permission denied)' : `cannot be read (${code ?? 'error'})`;
    throw new ConfigFileError(path, 0, 0, '', why);
  }
  return parseConfigFile(text, { ...options, path });
}

/** The text through the YAML parser: its value and where each node is; throws ConfigFileError for bad syntax. */
function readYaml(text: string, path: string): { value: unknown; doc: Document; at: (offset: number) => { line: number; col: number } } {
  const { LineCounter, parseDocument } = yaml();
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true, prettyErrors: false, strict: true });
  const at = (offset: number) => lines.linePos(offset);
  if (/\.json$/i.test(path)) strictJson(text, path, at);
  const syntax = doc.errors[0] ?? doc.warnings[0];
  if (syntax) {
    const { line, col } = at(syntax.pos[0]);
    throw new ConfigFileError(path, line, col, '', syntax.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, ''));
  }
  try {
    return { value: doc.toJS({ maxAliasCount: 100 }), doc, at };
  } catch {
    // The one failure left after parsing: aliases that would expand past maxAliasCount.
    throw new ConfigFileError(path, 1, 1, '', 'too many alias expansions (at most 100); write the values out');
  }
}

/** A `.json` file is JSON: what YAML would forgive (trailing commas, comments, bare words) is refused. */
function strictJson(text: string, path: string, at: (offset: number) => { line: number; col: number }): void {
  try {
    JSON.parse(text);
  } catch (err) {
    const message = (err as Error).message;
    const offset = Number(/at position (\d+)/.exec(message)?.[1] ?? 0);
    const { line, col } = at(offset);
    throw new ConfigFileError(path, line, col, '', `not valid JSON: ${message.replace(/ in JSON at position \d+.*$/s, '').replace(/^JSON\.parse: /, '')}`);
  }
}

/**
 * A `.json` file's value without the YAML parser, when the parser would read the same value and
 * find no problem: a mapping that JSON.parse accepts, no key twice in one object (JSON.parse keeps
 * the last, the parser refuses) and no lone carriage return (whitespace to JSON, not to YAML).
 * Anything else (a syntax error, another top-level value) goes through the parser, which reports it.
 */
function plainJson(text: string): { value: unknown } | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
  if (/\r(?!\n)/.test(text) || repeatsAKey(text)) return undefined;
  return { value };
}

/** Whether an object in valid JSON text has a key twice (compared decoded, as `"a"` and `"\u0061"`). */
function repeatsAKey(text: string): boolean {
  // Per open bracket: the keys seen so far for `{`, undefined for `[`.
  const open: Array<Set<string> | undefined> = [];
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '{') open.push(new Set());
    else if (c === '[') open.push(undefined);
    else if (c === '}' || c === ']') open.pop();
    else if (c === '"') {
      let end = i + 1;
      while (text[end] !== '"') end += text[end] === '\\' ? 2 : 1;
      let next = end + 1;
      while (text[next] === ' ' || text[next] === '\t' || text[next] === '\n' || text[next] === '\r') next++;
      if (text[next] === ':') {
        const raw = text.slice(i, end + 1);
        const key = raw.includes('\\') ? (JSON.parse(raw) as string) : raw.slice(1, -1);
        const keys = open.at(-1)!;
        if (keys.has(key)) return true;
        keys.add(key);
      }
      i = end;
    }
  }
  return false;
}

/** The node at `field`, or the nearest present parent's; with the key node when the last step is a map key. */
function nodeAt(doc: Document, field: FieldPath): { node: YamlNode | undefined; key: YamlNode | undefined } {
  const { isMap } = yaml();
  let node = doc.contents as YamlNode | null;
  let key: YamlNode | undefined;
  for (const step of field) {
    if (isMap(node)) {
      const pair = node.items.find((p) => String((p.key as { value?: unknown } | null)?.value ?? p.key) === String(step));
      if (!pair) return { node, key: undefined };
      key = pair.key as YamlNode;
      node = (pair.value as YamlNode | null) ?? key;
    } else if (node && 'items' in node && Array.isArray(node.items) && typeof step === 'number' && node.items[step]) {
      key = undefined;
      node = node.items[step] as YamlNode;
    } else {
      return { node: node ?? undefined, key: undefined };
    }
  }
  return { node: node ?? undefined, key };
}
