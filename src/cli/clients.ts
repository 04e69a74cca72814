/** `keymint clients …`: a thin front end over ClientService (the admin API uses the same service). */
import { readFileSync } from 'node:fs';
import type { AuthSettingsInput } from '../credentials/client-auth-settings.ts';
import { ClientInputError, type ClientView, type CreateClientInput } from '../credentials/clients.ts';
import type { Command, FlagSpec, Flags } from './command.ts';

const out = (s: string) => process.stdout.write(s);
const JSON_FLAG: FlagSpec = { type: 'boolean', doc: 'Print JSON instead of text' };
const ID = [{ name: 'ID', doc: 'The client id, as keymint clients list shows it', required: true }] as const;

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
    json: JSON_FLAG,
  },
  examples: [
    'clients create --name billing --scope payments:read --scope payments:write',
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
      ...authFlags(flags),
    };
    const { client, clientSecret } = await withCore((core) => core.clients.create(input, 'cli'));
    if (flags.json === true) out(`${JSON.stringify({ ...client, client_secret: clientSecret }, null, 2)}\n`);
    else {
      out(`client_id:     ${client.client_id}\n`);
      if (clientSecret) out(`client_secret: ${clientSecret}\n\nThe secret is shown only now; Keymint stores only its digest.\n`);
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

export const clientsRotateSecret: Command = {
  name: 'clients rotate-secret',
  summary: 'Issue a new secret; the old one keeps working for the overlap',
  store: 'existing',
  args: ID,
  flags: {
    'expire-old-in': { type: 'integer', value: 'SECONDS', min: 0, doc: 'How long the old secret keeps working (default 86400; 0 ends it now)' },
    json: JSON_FLAG,
  },
  examples: ['clients rotate-secret sk_live_4eC39HqLyjWDarjtT1zdp7dc', 'clients rotate-secret sk_live_4eC39HqLyjWDarjtT1zdp7dc --expire-old-in 0 --json'],
  async run({ args, flags, withCore }) {
    const overlap = num(flags['expire-old-in']) ?? 86_400;
    const { client, clientSecret } = await withCore((core) => core.clients.rotateSecret(args[0]!, overlap, 'cli'));
    if (flags.json === true) out(`${JSON.stringify({ ...client, client_secret: clientSecret }, null, 2)}\n`);
    else out(`client_secret: ${clientSecret}\n\nThe new secret is shown only now. Older live secrets: ${client.secrets.length - 1}.\n`);
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
    out(`${k.padEnd(18)} ${Array.isArray(v) ? (v.length ? v.map((x) => (typeof x === 'string' ? x : JSON.stringify(x))).join(', ') : '-') : String(v)}\n`);
  }
}
