/** `keymint clients …`: a thin front end over ClientService (the admin API uses the same service). */
import { readFileSync } from 'node:fs';
import type { AuthSettingsInput } from '../credentials/client-auth-settings.ts';
import { ClientInputError } from '../credentials/client-rules.ts';
import type { ClientView } from '../credentials/clients.ts';
import type { CreateClientInput, UpdateClientInput } from '../credentials/client-inputs.ts';
import type { ClaimValue } from '../storage/types.ts';
import type { Command, FlagSpec, Flags } from './command.ts';

const out = (s: string) => process.stdout.write(s);
const JSON_FLAG: FlagSpec = { type: 'boolean', doc: 'Print JSON instead of text' };
const ID = [{ name: 'ID', doc: 'The client id, as keymint clients list shows it', required: true }] as const;

/** Where a chosen secret comes from (import, rotation): never the command line without a warning. */
const SECRET_FLAGS: Readonly<Record<string, FlagSpec>> = {
  'secret-env': { type: 'string', value: 'VAR', doc: 'Use the secret held in this environment variable (chosen secret: at least 16 characters)' },
  'secret-file': { type: 'string', value: 'PATH', doc: 'Use the secret held in this file (one trailing newline dropped)' },
  secret: { type: 'string', value: 'SECRET', doc: 'Use this secret (warns: the command line is visible to ps and kept in shell history)' },
};

/** Lists `--clear NAME` resets, by the flag that sets them. */
const CLEARABLE = ['scope', 'grant', 'redirect-uri', 'allow-audience', 'allow-dialect', 'exchange-audience', 'exchange-scope', 'metadata', 'claim', 'ttl', 'rate-limit'] as const;

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

/** The change `clients update` asks for, given the client as it is (lists edited by add/remove flags). */
function updateFlags(flags: Flags, current: ClientView): UpdateClientInput {
  const clear = new Set(list(flags.clear) ?? []);
  for (const c of clear) {
    if (!(CLEARABLE as readonly string[]).includes(c)) throw new ClientInputError('clear', `--clear takes one of ${CLEARABLE.join(', ')}`);
  }
  const replaced = (flag: string): string[] | undefined => (clear.has(flag) ? [...(list(flags[flag]) ?? [])] : list(flags[flag]));
  const scopes = replaced('scope');
  const edited = <T>(flag: string, existing: Record<string, T>, given: Array<[string, T]>, removeFlag: string): Record<string, T> | undefined => {
    const removed = list(flags[removeFlag]) ?? [];
    if (!clear.has(flag) && given.length === 0 && removed.length === 0) return undefined;
    const next: Record<string, T> = clear.has(flag) ? {} : { ...existing };
    for (const [k, v] of given) next[k] = v;
    for (const k of removed) delete next[k];
    return next;
  };
  if (flags['pkce-optional'] === true && flags['pkce-required'] === true) throw new ClientInputError('pkce-optional', 'give one of --pkce-optional and --pkce-required');
  if (flags['token-reuse'] === true && flags['no-token-reuse'] === true) throw new ClientInputError('token-reuse', 'give one of --token-reuse and --no-token-reuse');
  if (flags.trusted === true && flags.untrusted === true) throw new ClientInputError('trusted', 'give one of --trusted and --untrusted');
  if (flags.admin === true && flags['no-admin'] === true) throw new ClientInputError('admin', 'give one of --admin and --no-admin');
  if (flags['dpop-bound'] === true && flags['no-dpop-bound'] === true) throw new ClientInputError('dpop-bound', 'give one of --dpop-bound and --no-dpop-bound');
  const auth = authFlags(flags);
  const method = flags['auth-method'];
  const patch: UpdateClientInput = {
    ...(typeof flags.name === 'string' ? { name: flags.name } : {}),
    ...(scopes === undefined ? {} : { scopes }),
    ...optional('addScopes', list(flags['add-scope'])),
    ...optional('removeScopes', list(flags['remove-scope'])),
    ...(flags.admin === true ? { admin: true } : flags['no-admin'] === true ? { admin: false } : {}),
    ...(replaced('grant') === undefined ? {} : { grants: replaced('grant') }),
    ...(replaced('redirect-uri') === undefined ? {} : { redirectUris: replaced('redirect-uri') }),
    ...(replaced('allow-audience') === undefined ? {} : { audiences: replaced('allow-audience') }),
    ...(replaced('allow-dialect') === undefined ? {} : { dialects: replaced('allow-dialect') }),
    ...(flags.trusted === true ? { trusted: true } : flags.untrusted === true ? { trusted: false } : {}),
    ...(flags['pkce-optional'] === true ? { pkceRequired: false } : flags['pkce-required'] === true ? { pkceRequired: true } : {}),
    ...(flags['token-reuse'] === true ? { tokenReuse: true } : flags['no-token-reuse'] === true ? { tokenReuse: false } : {}),
    ...(clear.has('ttl') ? { ttl: null } : flags.ttl === undefined ? {} : { ttl: numberOrDefault(flags.ttl) }),
    ...(clear.has('rate-limit') ? { rateLimit: null } : flags['rate-limit'] === undefined ? {} : { rateLimit: numberOrDefault(flags['rate-limit']) }),
    ...optional('metadata', edited('metadata', current.metadata, pairs(flags.metadata, 'metadata'), 'remove-metadata')),
    ...optional('claims', edited('claim', current.claims, claimFlags(flags), 'remove-claim')),
    ...(method === 'client_secret_basic' ? { authMethod: 'client_secret_basic' as const } : {}),
    ...(auth.authMethod === undefined ? {} : { authMethod: auth.authMethod }),
    ...(auth.jwks === undefined ? {} : { jwks: auth.jwks }),
    ...(auth.jwksUri === undefined ? {} : { jwksUri: auth.jwksUri }),
    ...(flags['dpop-bound'] === true ? { dpopBound: true } : flags['no-dpop-bound'] === true ? { dpopBound: false } : {}),
    ...(replaced('exchange-audience') === undefined ? {} : { exchangeAudiences: replaced('exchange-audience') }),
    ...(replaced('exchange-scope') === undefined ? {} : { exchangeScopes: replaced('exchange-scope') }),
  };
  return patch;
}
const optional = <K extends string, V>(k: K, v: V | undefined): Partial<Record<K, V>> => (v === undefined ? {} : ({ [k]: v } as Record<K, V>));


/** `--auth-method private_key_jwt` with `--jwks-file` (a JWKS in a file) or `--jwks-uri`; `--dpop-bound`; the exchange policy. */
function authFlags(flags: Flags): AuthSettingsInput {
  let jwks: unknown;
  if (typeof flags['jwks-file'] === 'string') {
    try {
      jwks = JSON.parse(readFileSync(flags['jwks-file'], 'utf8'));
    } catch {
      throw new ClientInputError('jwks-file', 'jwks-file must name a readable file holding a JSON Web Key Set');
    }
  }
  return {
    ...(flags['auth-method'] === 'private_key_jwt' ? { authMethod: 'private_key_jwt' as const } : {}),
    ...(jwks === undefined ? {} : { jwks }),
    ...(typeof flags['jwks-uri'] === 'string' ? { jwksUri: flags['jwks-uri'] } : {}),
    ...(flags['dpop-bound'] === true ? { dpopBound: true } : {}),
    ...(list(flags['exchange-audience']) ? { exchangeAudiences: list(flags['exchange-audience']) } : {}),
    ...(list(flags['exchange-scope']) ? { exchangeScopes: list(flags['exchange-scope']) } : {}),
  };
}
const list = (v: Flags[string]): string[] | undefined => (Array.isArray(v) ? v : undefined);
const num = (v: Flags[string]): number | undefined => (typeof v === 'number' ? v : undefined);

export const clientsCreate: Command = {
  name: 'clients create',
  summary: 'Create a client; prints its secret once',
  description: 'Works while a server runs on the same data; the server sees the client at once.',
  store: 'create',
  flags: {
    name: { type: 'string', value: 'NAME', required: true, doc: 'Display name, 1–200 printable characters' },
    scope: { type: 'list', value: 'SCOPE', doc: 'A scope the client may request' },
    grant: { type: 'list', value: 'GRANT', doc: 'A grant it may use (default client_credentials)' },
    mode: { type: 'string', value: 'MODE', choices: ['live', 'sandbox'], doc: 'live (sk_live_ id) or sandbox (sk_sdbx_ id); default live' },
    type: { type: 'string', value: 'TYPE', choices: ['confidential', 'public'], doc: 'Client type; default confidential' },
    ttl: { type: 'integer', value: 'SECONDS', min: 1, doc: 'Its access-token lifetime (at most --max-token-ttl)' },
    'rate-limit': { type: 'integer', value: 'PER_MINUTE', min: 1, max: 100_000_000, doc: 'Its token requests per minute' },
    admin: { type: 'boolean', doc: 'May call the admin API' },
    trusted: { type: 'boolean', doc: 'First-party: the authorization endpoint skips the consent page' },
    'token-reuse': { type: 'boolean', doc: 'A client_credentials request may get a still-valid earlier token back instead of a new one (see docs/performance.md)' },
    'pkce-optional': { type: 'boolean', doc: 'A confidential client may redeem an authorization code without PKCE (as Polar allows); public clients always need it' },
    'redirect-uri': { type: 'list', value: 'URI', doc: 'A redirect URI (authorization_code)' },
    'allow-audience': { type: 'list', value: 'URI', doc: 'An audience (resource) its tokens may be for; the first is its default' },
    'allow-dialect': { type: 'list', value: 'NAME', doc: 'A dialect it may use (default: all)' },
    'auth-method': { type: 'string', value: 'METHOD', choices: ['client_secret_basic', 'private_key_jwt'], doc: 'How it authenticates' },
    'jwks-file': { type: 'string', value: 'FILE', doc: 'Its JSON Web Key Set, for private_key_jwt' },
    'jwks-uri': { type: 'string', value: 'URL', doc: 'Where its JWKS is published, for private_key_jwt' },
    'dpop-bound': { type: 'boolean', doc: 'Its tokens must be DPoP-bound' },
    'exchange-audience': { type: 'list', value: 'URI', doc: 'An audience token exchange may target' },
    'exchange-scope': { type: 'list', value: 'SCOPE', doc: 'A scope token exchange may grant' },
    metadata: { type: 'list', value: 'KEY=VALUE', doc: 'A label for operators (shown by show and list; never in tokens)' },
    claim: { type: 'list', value: 'NAME=VALUE', doc: 'A static claim added to its access tokens (a string)' },
    'claim-json': { type: 'list', value: 'NAME=JSON', doc: 'A static claim whose value is JSON (number, boolean, array)' },
    id: { type: 'string', value: 'ID', doc: 'Import: this client id instead of a generated one (1–256 printable ASCII, no spaces)' },
    ...SECRET_FLAGS,
    json: JSON_FLAG,
  },
  examples: [
    'clients create --name billing --scope payments:read --scope payments:write',
    'clients create --name acme --id acme-billing --secret-env ACME_SECRET --claim tenant=acme',
    'clients create --name web-app --type public --grant authorization_code --redirect-uri https://app.example/cb',
    'clients create --name partner --mode sandbox --ttl 600 --rate-limit 120 --json',
  ],
  async run({ flags, withCore }) {
    const input: CreateClientInput = {
      name: flags.name as string,
      mode: flags.mode as CreateClientInput['mode'],
      type: flags.type as CreateClientInput['type'],
      scopes: list(flags.scope),
      grants: list(flags.grant),
      audiences: list(flags['allow-audience']),
      dialects: list(flags['allow-dialect']),
      redirectUris: list(flags['redirect-uri']),
      trusted: flags.trusted === true,
      ...(flags['pkce-optional'] === true ? { pkceRequired: false } : {}),
      ...(flags['token-reuse'] === true ? { tokenReuse: true } : {}),
      admin: flags.admin === true,
      ttl: num(flags.ttl),
      ...(num(flags['rate-limit']) !== undefined ? { rateLimit: num(flags['rate-limit']) } : {}),
      ...(flags.metadata === undefined ? {} : { metadata: Object.fromEntries(pairs(flags.metadata, 'metadata')) }),
      ...(flags.claim === undefined && flags['claim-json'] === undefined ? {} : { claims: Object.fromEntries(claimFlags(flags)) }),
      ...(typeof flags.id === 'string' ? { clientId: flags.id } : {}),
      ...optional('clientSecret', chosenSecret(flags)),
      ...authFlags(flags),
    };
    const { client, clientSecret } = await withCore((core) => core.clients.create(input, 'cli'));
    // A secret the operator chose is not echoed: they have it, and output ends up in logs.
    const shown = input.clientSecret === undefined ? clientSecret : null;
    if (flags.json === true) out(`${JSON.stringify({ ...client, client_secret: shown }, null, 2)}\n`);
    else {
      out(`client_id:     ${client.client_id}\n`);
      if (shown) out(`client_secret: ${shown}\n\nThe secret is shown only now; Keymint stores only its digest.\n`);
      else if (clientSecret) out('client_secret: (the one given; Keymint stores only its digest)\n');
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
    else for (const c of clients) out(`${c.client_id}  ${c.status.padEnd(8)}  ${c.mode.padEnd(7)}  ${c.name}\n`);
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
    name: { type: 'string', value: 'NAME', doc: 'New display name' },
    scope: { type: 'list', value: 'SCOPE', doc: 'The scopes, replacing the list' },
    'add-scope': { type: 'list', value: 'SCOPE', doc: 'Add a scope' },
    'remove-scope': { type: 'list', value: 'SCOPE', doc: 'Remove a scope' },
    grant: { type: 'list', value: 'GRANT', doc: 'The grants, replacing the list' },
    ttl: { type: 'string', value: 'SECONDS|default', doc: 'Its access-token lifetime, or default' },
    'rate-limit': { type: 'string', value: 'PER_MINUTE|default', doc: 'Its token requests per minute, or default' },
    admin: { type: 'boolean', doc: 'May call the admin API' },
    'no-admin': { type: 'boolean', doc: 'May no longer call the admin API' },
    trusted: { type: 'boolean', doc: 'First-party: skips the consent page' },
    untrusted: { type: 'boolean', doc: 'Meets the consent page again' },
    'pkce-optional': { type: 'boolean', doc: 'A confidential client may redeem a code without PKCE' },
    'pkce-required': { type: 'boolean', doc: 'PKCE required again (the default)' },
    'token-reuse': { type: 'boolean', doc: 'A client_credentials request may get a still-valid earlier token back' },
    'no-token-reuse': { type: 'boolean', doc: 'Every client_credentials request gets a new token (the default)' },
    'redirect-uri': { type: 'list', value: 'URI', doc: 'The redirect URIs, replacing the list' },
    'allow-audience': { type: 'list', value: 'URI', doc: 'The audiences, replacing the list' },
    'allow-dialect': { type: 'list', value: 'NAME', doc: 'The dialects, replacing the list' },
    'auth-method': { type: 'string', value: 'METHOD', choices: ['client_secret_basic', 'private_key_jwt'], doc: 'How it authenticates (private_key_jwt ends its secrets)' },
    'jwks-file': { type: 'string', value: 'FILE', doc: 'Its JSON Web Key Set, for private_key_jwt' },
    'jwks-uri': { type: 'string', value: 'URL', doc: 'Where its JWKS is published, for private_key_jwt' },
    'dpop-bound': { type: 'boolean', doc: 'Its tokens must be DPoP-bound' },
    'no-dpop-bound': { type: 'boolean', doc: 'Its tokens need not be DPoP-bound' },
    'exchange-audience': { type: 'list', value: 'URI', doc: 'The token-exchange audiences, replacing the list' },
    'exchange-scope': { type: 'list', value: 'SCOPE', doc: 'The token-exchange scopes, replacing the list' },
    metadata: { type: 'list', value: 'KEY=VALUE', doc: 'Set a label' },
    'remove-metadata': { type: 'list', value: 'KEY', doc: 'Remove a label' },
    claim: { type: 'list', value: 'NAME=VALUE', doc: 'Set a static claim (a string)' },
    'claim-json': { type: 'list', value: 'NAME=JSON', doc: 'Set a static claim whose value is JSON' },
    'remove-claim': { type: 'list', value: 'NAME', doc: 'Remove a static claim' },
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
    'expire-old-in': { type: 'integer', value: 'SECONDS', min: 0, doc: 'How long the old secret keeps working (default 86400; 0 ends it now)' },
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
  for (const [k, v] of Object.entries(c)) {
    const text = Array.isArray(v)
      ? v.length ? v.map((x) => (typeof x === 'string' ? x : JSON.stringify(x))).join(', ') : '-'
      : typeof v === 'object' && v !== null ? (Object.keys(v).length ? JSON.stringify(v) : '-') : String(v);
    out(`${k.padEnd(18)} ${text}\n`);
  }
}
