/** `keymint clients …`: a thin front end over ClientService (the admin API uses the same service). */
import { readFileSync } from 'node:fs';
import { CLIENT_FIELDS, fieldsOn, type ClientFieldName, type FieldCli, type FieldFlag, type FieldKind } from '../credentials/client-fields.ts';
import { ClientInputError } from '../credentials/client-rules.ts';
import { MAX_SECRET_OVERLAP_SECONDS, type ClientView } from '../credentials/clients.ts';
import type { CreateClientInput, UpdateClientInput } from '../credentials/client-inputs.ts';
import type { ClaimValue } from '../storage/types.ts';
import type { Command, FlagSpec, Flags } from './command.ts';

const out = (s: string) => process.stdout.write(s);
/** What a client created without a secret proves itself with, by its authentication method. */
const SECRETLESS: Readonly<Record<string, string>> = {
  private_key_jwt: 'private_key_jwt: it signs assertions with its keys',
  none: 'a public client: its authorization codes are bound to it with PKCE',
};
const JSON_FLAG: FlagSpec = { type: 'boolean', doc: 'Print JSON instead of text' };
const ID = [{ name: 'ID', doc: 'The client id, as keymint clients list shows it', required: true }] as const;

/** Where a chosen secret comes from (import, rotation): never the command line without a warning. */
const SECRET_FLAGS = fieldFlags('create', ['clientSecret']);

/** What `--clear NAME` empties (lists and maps), then what it resets (ttl, rate limit), by the flag that sets them. */
const cleared = fieldsOn('cli').filter(([, cli]) => cli.clear !== undefined);
const isCount = ([name]: (typeof cleared)[number]) => CLIENT_FIELDS[name].kind === 'count';
const CLEARABLE = [...cleared.filter((f) => !isCount(f)), ...cleared.filter(isCount)].map(([, cli]) => cli.clear!);

/** The flags of `clients create` or `update` that set the given fields (default all), as the field table words them. */
function fieldFlags(command: 'create' | 'update', only?: readonly ClientFieldName[]): Record<string, FlagSpec> {
  const specs: Record<string, FlagSpec> = {};
  for (const [name, cli] of fieldsOn('cli')) {
    if (only !== undefined && !only.includes(name)) continue;
    for (const f of cli.flags) {
      const doc = f[command];
      if (doc !== undefined) specs[f.flag] = flagSpec(f, CLIENT_FIELDS[name].kind, command, doc);
    }
  }
  return specs;
}

/** A count takes a checked integer on create and `N|default` on update; a switch no value. */
function flagSpec(f: FieldFlag, kind: FieldKind, command: 'create' | 'update', doc: string): FlagSpec {
  if (f.sets !== undefined) return { type: 'boolean', doc };
  if (kind === 'count') {
    return command === 'create' ? { type: 'integer', value: f.value, ...(f.min === undefined ? {} : { min: f.min }), ...(f.max === undefined ? {} : { max: f.max }), doc } : { type: 'string', value: `${f.value}|default`, doc };
  }
  return { type: f.repeat ? 'list' : 'string', value: f.value, ...(f.required && command === 'create' ? { required: true } : {}), ...(f.choices ? { choices: f.choices } : {}), doc };
}

/**
 * A secret chosen by the operator: from an environment variable or a file (one trailing newline
 * dropped); `--secret VALUE` works but warns, since the command line is visible to `ps` and shells'
 * history. Undefined when none was given.
 */
function chosenSecret(flags: Flags): string | undefined {
  const sources = ['secret', 'secret-env', 'secret-file'].filter((k) => flags[k] !== undefined);
  if (sources.length > 1) throw new ClientInputError(sources[1]!, 'give one of --secret-env, --secret-file and --secret');
  if (typeof flags['secret-env'] === 'string') {
    const v = process.env[flags['secret-env']];
    if (v === undefined || v === '') throw new ClientInputError('secret-env', `the environment variable ${flags['secret-env']} is not set`);
    return v;
  }
  if (typeof flags['secret-file'] === 'string') {
    try {
      return readFileSync(flags['secret-file'], 'utf8').replace(/\r?\n$/, '');
    } catch {
      throw new ClientInputError('secret-file', 'secret-file must name a readable file holding the secret');
    }
  }
  if (typeof flags.secret === 'string') {
    process.stderr.write('keymint: warning: --secret puts the secret on the command line, where ps and shell history keep it; use --secret-env VAR or --secret-file PATH\n');
    return flags.secret;
  }
  return undefined;
}

/** `--metadata KEY=VALUE`…: the entries given, in order (a later one for the same key wins). */
function pairs(v: Flags[string], flag: string): Array<[string, string]> {
  return (list(v) ?? []).map((entry) => {
    const at = entry.indexOf('=');
    if (at < 1) throw new ClientInputError(flag, `--${flag} takes NAME=VALUE`);
    return [entry.slice(0, at), entry.slice(at + 1)];
  });
}

/** `--claim NAME=STRING` and `--claim-json NAME=JSON` (numbers, booleans, arrays). */
function claimFlags(flags: Flags): Array<[string, ClaimValue]> {
  const json = pairs(flags['claim-json'], 'claim-json').map(([k, v]): [string, ClaimValue] => {
    try {
      return [k, JSON.parse(v) as ClaimValue];
    } catch {
      throw new ClientInputError('claim-json', `--claim-json ${k}=… is not JSON`);
    }
  });
  return [...pairs(flags.claim, 'claim'), ...json];
}

/** A whole number of seconds or requests, or `default` (the deployment's). */
const numberOrDefault = (v: Flags[string]): number | null | undefined => (typeof v === 'number' ? v : typeof v !== 'string' ? undefined : v === 'default' ? null : Number(v));

/** The flags of one command line, and for `clients update` what `--clear` names and the client as it is. */
interface FlagContext {
  readonly flags: Flags;
  readonly update?: { readonly clear: ReadonlySet<string>; readonly current: ClientView };
}

/** A switch's value: `--trusted` sets true, `--untrusted` false; both at once is refused. */
function switchValue(cli: FieldCli, flags: Flags): boolean | undefined {
  const given = cli.flags.filter((f) => f.sets !== undefined && flags[f.flag] === true);
  if (given.length > 1) throw new ClientInputError(cli.flags[0]!.flag, `give one of ${cli.flags.map((f) => `--${f.flag}`).join(' and ')}`);
  return given[0]?.sets;
}

/** What the flags set a field to, by its kind; undefined when they leave it alone. */
function fieldValue(name: ClientFieldName, cli: FieldCli, { flags, update }: FlagContext): unknown {
  const flag = cli.flags[0]!.flag;
  const v = flags[flag];
  const cleared = update !== undefined && cli.clear !== undefined && update.clear.has(cli.clear);
  const removeFlag = cli.flags.find((f) => f.flag.startsWith('remove-'))?.flag;
  switch (CLIENT_FIELDS[name].kind) {
    case 'flag':
      return switchValue(cli, flags);
    case 'list':
      return cleared ? [...(list(v) ?? [])] : list(v);
    case 'count':
      return update === undefined ? num(v) : cleared ? null : numberOrDefault(v);
    case 'labels':
      return update === undefined ? (v === undefined ? undefined : Object.fromEntries(pairs(v, flag))) : edited(pairs(v, flag), update.current.metadata, cleared, list(flags[removeFlag!]));
    case 'claims':
      if (update !== undefined) return edited(claimFlags(flags), update.current.claims, cleared, list(flags[removeFlag!]));
      return flags.claim === undefined && flags['claim-json'] === undefined ? undefined : Object.fromEntries(claimFlags(flags));
    case 'authMethod':
      // client_secret_basic is what a new client has: only a change of method is asked for.
      return update === undefined && v === 'client_secret_basic' ? undefined : v;
    case 'jwks':
      return jwksFile(v);
    case 'secret':
      return chosenSecret(flags);
    default:
      // A setting `--clear` empties (a URL): none.
      return cleared ? null : typeof v === 'string' ? v : undefined;
  }
}

/** A map edited by `--metadata K=V`/`--remove-metadata K` (or the claim flags), or undefined when none was given. */
function edited<T>(given: Array<[string, T]>, existing: Readonly<Record<string, T>>, cleared: boolean, removed: readonly string[] = []): Record<string, T> | undefined {
  if (!cleared && given.length === 0 && removed.length === 0) return undefined;
  // A Map, then fromEntries, so every key is the map's own (OBJ-01): `next.__proto__ = v` was a prototype assignment, the key lost.
  const next = new Map<string, T>(cleared ? [] : Object.entries(existing));
  for (const [k, v] of given) next.set(k, v);
  for (const k of removed) next.delete(k);
  return Object.fromEntries(next);
}

/** The input the flags of `clients create` or `update` give, field by field as the field table lists them. */
function fieldInput(context: FlagContext): Record<string, unknown> {
  const command = context.update === undefined ? 'create' : 'update';
  const input: Record<string, unknown> = {};
  for (const [name, cli] of fieldsOn('cli')) {
    if (!cli.flags.some((f) => f[command] !== undefined)) continue;
    const value = fieldValue(name, cli, context);
    if (value !== undefined) input[name] = value;
  }
  return input;
}

/** The change `clients update` asks for, given the client as it is (lists edited by add/remove flags). */
function updateFlags(flags: Flags, current: ClientView): UpdateClientInput {
  const clear = new Set(list(flags.clear) ?? []);
  for (const c of clear) {
    if (!CLEARABLE.includes(c)) throw new ClientInputError('clear', `--clear takes one of ${CLEARABLE.join(', ')}`);
  }
  return {
    ...fieldInput({ flags, update: { clear, current } }),
    ...optional('addScopes', list(flags['add-scope'])),
    ...optional('removeScopes', list(flags['remove-scope'])),
  };
}
const optional = <K extends string, V>(k: K, v: V | undefined): Partial<Record<K, V>> => (v === undefined ? {} : ({ [k]: v } as Record<K, V>));

/** `--jwks-file`: a JSON Web Key Set in a file, for private_key_jwt. */
function jwksFile(path: Flags[string]): unknown {
  if (typeof path !== 'string') return undefined;
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    throw new ClientInputError('jwks-file', 'jwks-file must name a readable file holding a JSON Web Key Set');
  }
}
const list = (v: Flags[string]): string[] | undefined => (Array.isArray(v) ? v : undefined);
const num = (v: Flags[string]): number | undefined => (typeof v === 'number' ? v : undefined);

export const clientsCreate: Command = {
  name: 'clients create',
  summary: 'Create a client; prints its secret once',
  description: 'Works while a server runs on the same data; the server sees the client at once.',
  store: 'create',
  flags: {
    ...fieldFlags('create'),
    json: JSON_FLAG,
  },
  examples: [
    'clients create --name billing --scope payments:read --scope payments:write',
    'clients create --name acme --id acme-billing --secret-env ACME_SECRET --claim tenant=acme',
    'clients create --name web-app --type public --grant authorization_code --redirect-uri https://app.example/cb',
    'clients create --name partner --mode sandbox --ttl 600 --rate-limit 120 --json',
  ],
  async run({ flags, withCore }) {
    const input = fieldInput({ flags }) as unknown as CreateClientInput;
    const { client, clientSecret } = await withCore((core) => core.clients.create(input, 'cli'));
    // A secret the operator chose is not echoed: they have it, and output ends up in logs.
    const shown = input.clientSecret === undefined ? clientSecret : null;
    if (flags.json === true) out(`${JSON.stringify({ ...client, client_secret: shown }, null, 2)}\n`);
    else {
      out(`client_id:     ${client.client_id}\n`);
      if (shown) out(`client_secret: ${shown}\n\nThe secret is shown only now; Keymint stores only its digest.\n`);
      else if (clientSecret) out('client_secret: (the one given; Keymint stores only its digest)\n');
      else out(`client_secret: none (${SECRETLESS[client.token_endpoint_auth_method] ?? client.token_endpoint_auth_method})\n`);
    }
    return 0;
  },
};

export const clientsList: Command = {
  name: 'clients list',
  summary: 'List clients (never secrets)',
  store: 'existing',
  flags: { json: JSON_FLAG },
  examples: ['clients list', 'clients list --data /var/lib/keymint --json'],
  async run({ flags, withCore }) {
    const clients = await withCore((core) => core.clients.list());
    if (flags.json === true) out(`${JSON.stringify(clients, null, 2)}\n`);
    else {
      // Ids differ in length (an imported id is anything up to 256 characters): pad to the longest, so columns line up.
      const width = clients.reduce((w, c) => Math.max(w, c.client_id.length), 0);
      for (const c of clients) out(`${c.client_id.padEnd(width)}  ${c.status.padEnd(8)}  ${c.mode.padEnd(7)}  ${c.name}\n`);
    }
    return 0;
  },
};

export const clientsShow: Command = {
  name: 'clients show',
  summary: 'Show one client (never its secret)',
  store: 'existing',
  args: ID,
  flags: { json: JSON_FLAG },
  examples: ['clients show sk_live_4eC39HqLyjWDarjtT1zdp7dc', 'clients show sk_live_4eC39HqLyjWDarjtT1zdp7dc --json'],
  async run({ args, flags, withCore }) {
    print(await withCore((core) => core.clients.show(args[0]!)), flags.json === true);
    return 0;
  },
};

export const clientsUpdate: Command = {
  name: 'clients update',
  summary: "Change a client's settings (not its id, mode or type)",
  description: [
    'A repeatable flag replaces the whole list; --add-scope/--remove-scope edit it. --clear NAME empties a',
    'list or map, or resets ttl/rate-limit to the deployment default. Takes effect on every node within',
    'the propagation bound; audited with the fields changed, before and after.',
  ].join('\n'),
  store: 'existing',
  args: ID,
  flags: {
    ...fieldFlags('update'),
    clear: { type: 'list', value: 'NAME', choices: CLEARABLE, doc: `Empty or reset: ${CLEARABLE.join(', ')}` },
    json: JSON_FLAG,
  },
  examples: [
    'clients update sk_live_4eC39HqLyjWDarjtT1zdp7dc --add-scope payments:write --rate-limit 600',
    'clients update sk_live_4eC39HqLyjWDarjtT1zdp7dc --scope read --clear redirect-uri --ttl default',
    'clients update sk_live_4eC39HqLyjWDarjtT1zdp7dc --metadata owner=payments --claim tenant=acme --json',
  ],
  async run({ args, flags, withCore }) {
    const id = args[0]!;
    const view = await withCore(async (core) => {
      const patch = updateFlags(flags, await core.clients.show(id));
      if (Object.keys(patch).length === 0) throw new ClientInputError('update', 'nothing to change: give at least one setting (keymint clients update --help lists them)');
      return core.clients.update(id, patch, 'cli');
    });
    print(view, flags.json === true);
    return 0;
  },
};

export const clientsRotateSecret: Command = {
  name: 'clients rotate-secret',
  summary: 'Issue a new secret; the old one keeps working for the overlap',
  store: 'existing',
  args: ID,
  flags: {
    'expire-old-in': { type: 'integer', value: 'SECONDS', min: 0, max: MAX_SECRET_OVERLAP_SECONDS, doc: 'How long the old secret keeps working (default 86400; 0 ends it now)' },
    ...SECRET_FLAGS,
    json: JSON_FLAG,
  },
  examples: ['clients rotate-secret sk_live_4eC39HqLyjWDarjtT1zdp7dc', 'clients rotate-secret sk_live_4eC39HqLyjWDarjtT1zdp7dc --expire-old-in 0 --json'],
  async run({ args, flags, withCore }) {
    const overlap = num(flags['expire-old-in']) ?? 86_400;
    const chosen = chosenSecret(flags);
    const { client, clientSecret } = await withCore((core) => core.clients.rotateSecret(args[0]!, overlap, 'cli', chosen));
    const shown = chosen === undefined ? clientSecret : null;
    if (flags.json === true) out(`${JSON.stringify({ ...client, client_secret: shown }, null, 2)}\n`);
    else out(`${shown ? `client_secret: ${shown}\n\nThe new secret is shown only now.` : 'The given secret is now live.'} Older live secrets: ${client.secrets.length - 1}.\n`);
    return 0;
  },
};

function statusCommand(sub: 'disable' | 'enable'): Command {
  return {
    name: `clients ${sub}`,
    summary: sub === 'disable' ? 'Disable a client: its tokens stop being issued at once' : 'Enable a disabled client',
    store: 'existing',
    args: ID,
    flags: { json: JSON_FLAG },
    examples: [`clients ${sub} sk_live_4eC39HqLyjWDarjtT1zdp7dc`],
    async run({ args, flags, withCore }) {
      print(await withCore((core) => core.clients.setStatus(args[0]!, sub === 'disable' ? 'disabled' : 'active', 'cli')), flags.json === true);
      return 0;
    },
  };
}
export const clientsDisable = statusCommand('disable');
export const clientsEnable = statusCommand('enable');

export const clientsDelete: Command = {
  name: 'clients delete',
  summary: 'Delete a client',
  store: 'existing',
  args: ID,
  flags: { json: JSON_FLAG },
  examples: ['clients delete sk_live_4eC39HqLyjWDarjtT1zdp7dc'],
  async run({ args, flags, withCore }) {
    await withCore((core) => core.clients.delete(args[0]!, 'cli'));
    if (flags.json === true) out(`${JSON.stringify({ deleted: args[0] })}\n`);
    else out(`deleted ${args[0]}\n`);
    return 0;
  },
};

function print(c: ClientView, asJson: boolean): void {
  if (asJson) {
    out(`${JSON.stringify(c, null, 2)}\n`);
    return;
  }
  const width = Math.max(...Object.keys(c).map((k) => k.length));
  for (const [k, v] of Object.entries(c)) {
    const text = Array.isArray(v)
      ? v.length ? v.map((x) => (typeof x === 'string' ? x : JSON.stringify(x))).join(', ') : '-'
      : typeof v === 'object' && v !== null ? (Object.keys(v).length ? JSON.stringify(v) : '-') : String(v);
    out(`${k.padEnd(width)}  ${text}\n`);
  }
}
