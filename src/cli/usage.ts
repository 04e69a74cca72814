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
  console users add NAME --role admin|viewer [--password-env VAR] [--json]
                                Add a console user; without --password-env a password is
                                generated and printed once
  console users list [--json] | console users remove NAME
  console link [--user NAME] [--ttl SECONDS] [--json]
                                Print a one-time sign-in link (default 900 s; with no users,
                                creates the admin user "admin")

Options (every command; each has an environment twin):
${configHelp}
  KEYMINT_KEK (environment only) key-encryption key, base64 of 32 bytes
`;
