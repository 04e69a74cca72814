/** `keymint clients …`: a thin front end over ClientService (the admin API uses the same service). */
import type { ParseArgsConfig } from 'node:util';
import type { ClientView, CreateClientInput, UpdateClientInput } from '../credentials/clients.ts';
import { ClientInputError } from '../credentials/clients.ts';
import { readFileSync } from 'node:fs';
import type { ClaimValue } from '../storage/types.ts';
import type { AuthSettingsInput } from '../credentials/client-auth-settings.ts';
import type { KeymintCore } from '../service.ts';
import type { Flags } from './flags.ts';

const out = (s: string) => process.stdout.write(s);

/** Flags of `clients create` and `clients update` beyond the shared ones (main.ts declares those). */
export const CLIENT_FLAGS: NonNullable<ParseArgsConfig['options']> = {
  id: { type: 'string' },
  secret: { type: 'string' },
  'secret-env': { type: 'string' },
  'secret-file': { type: 'string' },
  metadata: { type: 'string', multiple: true },
  'remove-metadata': { type: 'string', multiple: true },
  claim: { type: 'string', multiple: true },
  'claim-json': { type: 'string', multiple: true },
  'remove-claim': { type: 'string', multiple: true },
  'add-scope': { type: 'string', multiple: true },
  'remove-scope': { type: 'string', multiple: true },
  clear: { type: 'string', multiple: true },
  untrusted: { type: 'boolean' },
  'no-admin': { type: 'boolean' },
  'no-dpop-bound': { type: 'boolean' },
  'pkce-required': { type: 'boolean' },
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
const numberOrDefault = (v: Flags[string]): number | null | undefined => (typeof v !== 'string' ? undefined : v === 'default' ? null : Number(v));

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
  const method = flags['auth-method'];
  if (method !== undefined && method !== 'private_key_jwt' && method !== 'client_secret_basic') {
    throw new ClientInputError('auth-method', 'auth-method is client_secret_basic or private_key_jwt');
  }
  let jwks: unknown;
  if (typeof flags['jwks-file'] === 'string') {
    try {
      jwks = JSON.parse(readFileSync(flags['jwks-file'], 'utf8'));
    } catch {
      throw new ClientInputError('jwks-file', 'jwks-file must name a readable file holding a JSON Web Key Set');
    }
  }
  return {
    ...(method === 'private_key_jwt' ? { authMethod: 'private_key_jwt' as const } : {}),
    ...(jwks === undefined ? {} : { jwks }),
    ...(typeof flags['jwks-uri'] === 'string' ? { jwksUri: flags['jwks-uri'] } : {}),
    ...(flags['dpop-bound'] === true ? { dpopBound: true } : {}),
    ...(list(flags['exchange-audience']) ? { exchangeAudiences: list(flags['exchange-audience']) } : {}),
    ...(list(flags['exchange-scope']) ? { exchangeScopes: list(flags['exchange-scope']) } : {}),
  };
}
const list = (v: Flags[string]): string[] | undefined => (Array.isArray(v) ? v : undefined);

export async function clientsCommand(core: KeymintCore, args: string[], flags: Flags): Promise<number> {
  const [sub, id] = args;
  const asJson = flags.json === true;
  const needId = (): string => {
    if (!id) throw new ClientInputError('client_id', 'a client id is required');
    return id;
  };
  switch (sub) {
    case 'create': {
      const ttl = typeof flags.ttl === 'string' ? Number(flags.ttl) : undefined;
      const input: CreateClientInput = {
        name: typeof flags.name === 'string' ? flags.name : '',
        mode: flags.mode as CreateClientInput['mode'],
        type: flags.type as CreateClientInput['type'],
        scopes: list(flags.scope),
        grants: list(flags.grant),
        audiences: list(flags['allow-audience']),
        dialects: list(flags['allow-dialect']),
        redirectUris: list(flags['redirect-uri']),
        trusted: flags.trusted === true,
        ...(flags['pkce-optional'] === true ? { pkceRequired: false } : {}),
        admin: flags.admin === true,
        ttl,
        ...(typeof flags['rate-limit'] === 'string' ? { rateLimit: Number(flags['rate-limit']) } : {}),
        ...(flags.metadata === undefined ? {} : { metadata: Object.fromEntries(pairs(flags.metadata, 'metadata')) }),
        ...(flags.claim === undefined && flags['claim-json'] === undefined ? {} : { claims: Object.fromEntries(claimFlags(flags)) }),
        ...(typeof flags.id === 'string' ? { clientId: flags.id } : {}),
        ...optional('clientSecret', chosenSecret(flags)),
        ...authFlags(flags),
      };
      const { client, clientSecret } = await core.clients.create(input, 'cli');
      // A secret the operator chose is not echoed: they have it, and output ends up in logs.
      const shown = input.clientSecret === undefined ? clientSecret : null;
      if (asJson) out(`${JSON.stringify({ ...client, client_secret: shown }, null, 2)}\n`);
      else {
        out(`client_id:     ${client.client_id}\n`);
        if (shown) out(`client_secret: ${shown}\n\nThe secret is shown only now; Keymint stores only its digest.\n`);
        else if (clientSecret) out('client_secret: (the one given; Keymint stores only its digest)\n');
      }
      return 0;
    }
    case 'update': {
      const clientId = needId();
      for (const fixed of ['mode', 'type', 'id'] as const) {
        if (flags[fixed] !== undefined) throw new ClientInputError(fixed, `a client's ${fixed} cannot change: create a new client instead`);
      }
      const patch = updateFlags(flags, await core.clients.show(clientId));
      if (Object.keys(patch).length === 0) throw new ClientInputError('update', 'nothing to change: give at least one setting (see keymint --help)');
      print(await core.clients.update(clientId, patch, 'cli'), asJson);
      return 0;
    }
    case 'list': {
      const clients = await core.clients.list();
      if (asJson) out(`${JSON.stringify(clients, null, 2)}\n`);
      else for (const c of clients) out(`${c.client_id}  ${c.status.padEnd(8)}  ${c.mode.padEnd(7)}  ${c.name}\n`);
      return 0;
    }
    case 'show':
      print(await core.clients.show(needId()), asJson);
      return 0;
    case 'rotate-secret': {
      const overlap = typeof flags['expire-old-in'] === 'string' ? Number(flags['expire-old-in']) : 86_400;
      const chosen = chosenSecret(flags);
      const { client, clientSecret } = await core.clients.rotateSecret(needId(), overlap, 'cli', chosen);
      const shown = chosen === undefined ? clientSecret : null;
      if (asJson) out(`${JSON.stringify({ ...client, client_secret: shown }, null, 2)}\n`);
      else out(`${shown ? `client_secret: ${shown}\n\nThe new secret is shown only now.` : 'The given secret is now live.'} Older live secrets: ${client.secrets.length - 1}.\n`);
      return 0;
    }
    case 'disable':
    case 'enable':
      print(await core.clients.setStatus(needId(), sub === 'disable' ? 'disabled' : 'active', 'cli'), asJson);
      return 0;
    case 'delete':
      await core.clients.delete(needId(), 'cli');
      if (!asJson) out(`deleted ${id}\n`);
      return 0;
    default:
      process.stderr.write('keymint clients: expected create, list, show, update, rotate-secret, disable, enable or delete\n');
      return 2;
  }
}

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
