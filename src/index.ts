/** Keymint's public API. Everything else under src/ is internal. */
export { createKeymint, openKeymint } from './service.ts';
export type { Keymint, KeymintCore, OpenOptions } from './service.ts';
export { loadConfig, ConfigError, OPTIONS as CONFIG_OPTIONS } from './config/index.ts';
export type { Config, DialectMount } from './config/index.ts';
export { OAuthError } from './wire/errors.ts';
export type { OAuthErrorCode, ErrorReason } from './wire/errors.ts';
export type { TokenRequest, TokenResult } from './protocol/token-request.ts';
export type { Dialect, DialectContract } from './dialects/types.ts';
export { DIALECTS } from './dialects/index.ts';
export { createMemoryStore } from './storage/memory/index.ts';
// The SQLite and PostgreSQL stores are reached through `openStore`, which imports the chosen backend
// only when called: importing this module loads neither `node:sqlite` nor `pg`.
export { openStore } from './storage/open.ts';
export type { StoreConfig } from './storage/open.ts';
export type * from './storage/types.ts';
export type { ClientView } from './credentials/clients.ts';
export type { CreateClientInput } from './credentials/client-inputs.ts';
