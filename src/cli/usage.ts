import { defaultText, OPTIONS } from '../config/index.ts';

const configHelp = OPTIONS.filter((o) => !o.envOnly)
  .map((o) => `  --${o.flag}${o.boolean ? '' : ' VALUE'}`.padEnd(27) + ` ${o.doc}${defaultText(o) === undefined ? '' : ` (default ${defaultText(o)})`} [${o.env}]`)
  .join('\n');

export const USAGE = `Usage: keymint <command> [options]

Commands:
  serve                         Start the token service
  clients create --name NAME    Create a client; prints its secret once
        [--scope S]... [--grant G]... [--mode live|sandbox] [--type confidential|public]
        [--ttl SECONDS] [--rate-limit PER_MINUTE] [--admin] [--trusted] [--redirect-uri URI]...
        [--pkce-optional]
        [--allow-audience URI]... [--allow-dialect NAME]... [--json]
        [--auth-method private_key_jwt (--jwks-file FILE | --jwks-uri URL)] [--dpop-bound]
        [--exchange-audience URI]... [--exchange-scope S]...
  clients list [--json]         List clients (never secrets)
  clients show ID [--json]
  clients rotate-secret ID [--expire-old-in SECONDS]
                                New secret; the old one works SECONDS more (default 86400)
  clients disable ID | enable ID | delete ID
  keys list [--json]            Signing keys and peppers (public parts only)
  keys rotate                   Promote the published next key, retire the active one
  audit [--limit N] [--json]    Credential and key life-cycle events, newest first
  migrate                       Apply pending storage migrations
  sandbox [--file FILE] [--port N] [--data DIR] [--dialect NAME]...
                                A local stand-in for the providers, for integration tests
                                (its own flags only: keymint sandbox --help)

Options (every command; each has an environment twin):
${configHelp}
  KEYMINT_KEK (environment only) key-encryption key, base64 of 32 bytes
`;
