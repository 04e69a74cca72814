/**
 * What a caller gives ClientService to create or change a client (CLI, admin API, console, apply,
 * sandbox): the settings of the field table (client-fields.ts, where each is documented), by the
 * kind of value each holds.
 */
import type { AuthSettingsInput } from './client-auth-settings.ts';
import type { CLIENT_FIELDS, ClientFieldName, FieldValue } from './client-fields.ts';

type Field<N extends ClientFieldName> = (typeof CLIENT_FIELDS)[N];

/**
 * A new client: `name`, and any other setting (absent: its default). The authentication settings
 * are AuthSettingsInput's: a new client asks for `private_key_jwt`, or has a secret.
 */
export type CreateClientInput = { readonly name: string } & {
  readonly [N in Exclude<ClientFieldName, 'name' | keyof AuthSettingsInput>]?: FieldValue<N>;
} & AuthSettingsInput;

/**
 * A change to a client: absent fields stay as they are; `null` resets a field to its default
 * (ttl, rate limit) or clears it. Lists, `metadata` and `claims` are replaced whole. What is set at
 * creation only (id, mode, type, secret) is not part of it.
 */
export type UpdateClientInput = {
  readonly [N in ClientFieldName as Field<N> extends { readonly createOnly: true } ? never : N]?: FieldValue<N> | (Field<N> extends { readonly nullable: true } ? null : never);
} & {
  /** Scopes added to (after `scopes`, if given) and removed from the client's, in the same atomic write. */
  readonly addScopes?: readonly string[];
  readonly removeScopes?: readonly string[];
};
