/**
 * Carries out an apply plan through ClientService (so every change is checked by the same rules and
 * audited like any other, with actor `apply`). Every step is checked first, and nothing is written
 * when one fails: a bad value the schema could not see (an unknown dialect, a ttl above
 * --max-token-ttl, a reserved claim) refuses the whole run before the first change.
 */
import { authSettings, AuthSettingsError } from '../client-auth-settings.ts';
import { fieldsOn, ruleField } from '../client-fields.ts';
import { checkImportedId, checkImportedSecret, checkSettings, ClientInputError, settingsOf, type ClientSettings } from '../client-rules.ts';
import type { ClientService, ClientServiceSettings } from '../clients.ts';
import type { CreateClientInput, UpdateClientInput } from '../client-inputs.ts';
import type { ClientRecord } from '../../storage/types.ts';
import type { CreateStep, DeleteStep, Step, UpdateStep } from './plan.ts';
import { storedSpec, type ClientSpec } from './spec.ts';

export interface ConvergeOptions {
  /** The audit trail's actor. */
  readonly actor: string;
  /** How long a replaced secret keeps working, seconds. */
  readonly overlapSeconds: number;
  /** Called before a client with a generated secret is created (the caller writes the secret out). */
  readonly beforeCreate?: (step: CreateStep) => Promise<void> | void;
  /** Called when that creation failed after `beforeCreate` (the caller removes what it wrote). */
  readonly createFailed?: (step: CreateStep) => Promise<void> | void;
  /** Told about each step once it is done. */
  readonly done?: (step: Step) => void;
}

/** A step the client rules refuse; `field` is the file's name for the field at fault. */
export class StepError extends Error {
  readonly key: string;
  readonly field: string | undefined;
  constructor(key: string, field: string | undefined, message: string) {
    super(message);
    this.name = 'StepError';
    this.key = key;
    this.field = field;
  }
}

/** The rules' field names (those of the admin API) → the file's. */
const FILE_FIELDS: ReadonlyMap<string, string> = new Map(fieldsOn('apply').map(([name, apply]) => [ruleField(name), apply.key]));

function refused(key: string, err: unknown): never {
  if (err instanceof ClientInputError || err instanceof AuthSettingsError) throw new StepError(key, FILE_FIELDS.get(err.field), err.message);
  throw err;
}

/**
 * Checks every step against the client rules without writing (`clients` are the stored ones the plan
 * was made from); throws StepError at the first refusal.
 */
export function checkSteps(steps: readonly Step[], clients: readonly ClientRecord[], settings: ClientServiceSettings): void {
  const byId = new Map(clients.map((c) => [c.id, c]));
  for (const step of steps) {
    try {
      if (step.action === 'create') {
        checkSettings({ ...settingsFrom(step.spec, step.mode, step.type), tokenReuse: false }, settings);
        authSettings(authInput(step.spec), { type: step.type, allowHttpJwksUri: settings.jwksUriAllowHttp === true });
        if (step.id !== undefined) checkImportedId(step.id, step.mode, settings);
        if (step.secret !== undefined) checkImportedSecret(step.secret.value, settings.sandbox === true);
      } else if (step.action === 'update') {
        const current = byId.get(step.id)!;
        const merged = { ...settingsOf(current), ...settingsFrom({ ...storedSpec(current), ...step.patch } as ClientSpec, current.mode, current.type) };
        checkSettings(merged, settings);
        authSettings(authInput({ ...storedSpec(current), ...step.patch } as ClientSpec), { type: current.type, allowHttpJwksUri: settings.jwksUriAllowHttp === true });
        if (step.secret !== undefined) checkImportedSecret(step.secret.value, settings.sandbox === true);
      }
    } catch (err) {
      refused(step.key, err);
    }
  }
}

/** Runs the steps in order (creates, updates, deletes as planned); resolves to how many of each ran. */
export async function converge(steps: readonly Step[], clients: ClientService, options: ConvergeOptions): Promise<Record<Step['action'], number>> {
  const counts = { create: 0, update: 0, delete: 0 };
  for (const step of steps) {
    try {
      if (step.action === 'create') await create(step, clients, options);
      else if (step.action === 'update') await update(step, clients, options);
      else await remove(step, clients, options);
    } catch (err) {
      refused(step.key, err);
    }
    counts[step.action]++;
    options.done?.(step);
  }
  return counts;
}

async function create(step: CreateStep, clients: ClientService, options: ConvergeOptions): Promise<void> {
  const s = step.spec;
  const input: CreateClientInput = {
    name: s.name,
    mode: step.mode,
    type: step.type,
    scopes: s.scopes,
    grants: s.grants,
    audiences: s.audiences,
    dialects: s.dialects,
    redirectUris: s.redirectUris,
    trusted: s.trusted,
    ttl: s.tokenTtl,
    rateLimit: s.rateLimit,
    ...(s.pkceRequired ? {} : { pkceRequired: false }),
    metadata: s.metadata,
    claims: s.claims,
    ...authInput(s),
    ...(step.id === undefined ? {} : { clientId: step.id }),
    ...(step.secret === undefined ? {} : { clientSecret: step.secret.value }),
    managedBy: step.managedBy,
  };
  if (step.secret?.writeTo !== undefined) await options.beforeCreate?.(step);
  let id: string;
  try {
    id = (await clients.create(input, options.actor)).client.client_id;
  } catch (err) {
    if (step.secret?.writeTo !== undefined) await options.createFailed?.(step);
    throw err;
  }
  if (step.status === 'disabled') await clients.setStatus(id, 'disabled', options.actor);
}

async function update(step: UpdateStep, clients: ClientService, options: ConvergeOptions): Promise<void> {
  const p = step.patch;
  const keysChanged = p.authMethod !== undefined || 'jwks' in p || 'jwksUri' in p;
  const want = step.spec;
  const patch: UpdateClientInput = {
    ...(p.name === undefined ? {} : { name: p.name }),
    ...(p.scopes === undefined ? {} : { scopes: p.scopes }),
    ...(p.grants === undefined ? {} : { grants: p.grants }),
    ...(p.audiences === undefined ? {} : { audiences: p.audiences }),
    ...(p.dialects === undefined ? {} : { dialects: p.dialects }),
    ...(p.redirectUris === undefined ? {} : { redirectUris: p.redirectUris }),
    ...(p.trusted === undefined ? {} : { trusted: p.trusted }),
    ...('tokenTtl' in p ? { ttl: p.tokenTtl ?? null } : {}),
    ...('rateLimit' in p ? { rateLimit: p.rateLimit ?? null } : {}),
    ...(p.pkceRequired === undefined ? {} : { pkceRequired: p.pkceRequired }),
    ...(p.metadata === undefined ? {} : { metadata: p.metadata }),
    ...(p.claims === undefined ? {} : { claims: p.claims }),
    ...(keysChanged
      ? { authMethod: want.authMethod, ...(want.jwks !== undefined ? { jwks: want.jwks } : want.jwksUri !== undefined ? { jwksUri: want.jwksUri } : {}) }
      : {}),
    ...(p.dpopBound === undefined ? {} : { dpopBound: p.dpopBound }),
    ...(p.exchangeAudiences === undefined ? {} : { exchangeAudiences: p.exchangeAudiences }),
    ...(p.exchangeScopes === undefined ? {} : { exchangeScopes: p.exchangeScopes }),
    ...(step.managedBy === undefined ? {} : { managedBy: step.managedBy }),
  };
  if (Object.keys(patch).length > 0) await clients.update(step.id, patch, options.actor);
  if (step.secret !== undefined) await clients.rotateSecret(step.id, options.overlapSeconds, options.actor, step.secret.value);
  if (step.status !== undefined) await clients.setStatus(step.id, step.status, options.actor);
}

async function remove(step: DeleteStep, clients: ClientService, options: ConvergeOptions): Promise<void> {
  await clients.delete(step.id, options.actor);
}

/** The file's settings of a client; token reuse is not part of the file, so it stays as the client has it. */
function settingsFrom(s: ClientSpec, mode: ClientSettings['mode'], type: ClientSettings['type']): Omit<ClientSettings, 'tokenReuse'> {
  return {
    name: s.name,
    mode,
    type,
    scopes: s.scopes,
    grants: s.grants,
    audiences: s.audiences,
    dialects: s.dialects,
    redirectUris: s.redirectUris,
    trusted: s.trusted,
    pkceRequired: s.pkceRequired,
    accessTokenTtl: s.tokenTtl,
    rateLimit: s.rateLimit,
    metadata: s.metadata,
    claims: s.claims,
  };
}

function authInput(s: ClientSpec) {
  return {
    ...(s.authMethod === 'private_key_jwt' ? { authMethod: 'private_key_jwt' as const } : {}),
    ...(s.jwks === undefined ? {} : { jwks: s.jwks }),
    ...(s.jwksUri === undefined ? {} : { jwksUri: s.jwksUri }),
    ...(s.dpopBound ? { dpopBound: true } : {}),
    ...(s.exchangeAudiences.length ? { exchangeAudiences: s.exchangeAudiences } : {}),
    ...(s.exchangeScopes.length ? { exchangeScopes: s.exchangeScopes } : {}),
  };
}
