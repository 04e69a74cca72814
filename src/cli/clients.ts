/** `keymint clients …`: a thin front end over ClientService (the admin API uses the same service). */
import type { ClientView, CreateClientInput } from '../credentials/clients.ts';
import { ClientInputError } from '../credentials/clients.ts';
import { readFileSync } from 'node:fs';
import type { AuthSettingsInput } from '../credentials/client-auth-settings.ts';
import type { KeymintCore } from '../service.ts';
import type { Flags } from './flags.ts';

const out = (s: string) => process.stdout.write(s);

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
        ...authFlags(flags),
      };
      const { client, clientSecret } = await core.clients.create(input, 'cli');
      if (asJson) out(`${JSON.stringify({ ...client, client_secret: clientSecret }, null, 2)}\n`);
      else {
        out(`client_id:     ${client.client_id}\n`);
        if (clientSecret) out(`client_secret: ${clientSecret}\n\nThe secret is shown only now; Keymint stores only its digest.\n`);
      }
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
      const { client, clientSecret } = await core.clients.rotateSecret(needId(), overlap, 'cli');
      if (asJson) out(`${JSON.stringify({ ...client, client_secret: clientSecret }, null, 2)}\n`);
      else out(`client_secret: ${clientSecret}\n\nThe new secret is shown only now. Older live secrets: ${client.secrets.length - 1}.\n`);
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
      process.stderr.write('keymint clients: expected create, list, show, rotate-secret, disable, enable or delete\n');
      return 2;
  }
}

function print(c: ClientView, asJson: boolean): void {
  if (asJson) {
    out(`${JSON.stringify(c, null, 2)}\n`);
    return;
  }
  for (const [k, v] of Object.entries(c)) {
    out(`${k.padEnd(18)} ${Array.isArray(v) ? (v.length ? v.map((x) => (typeof x === 'string' ? x : JSON.stringify(x))).join(', ') : '-') : String(v)}\n`);
  }
}
