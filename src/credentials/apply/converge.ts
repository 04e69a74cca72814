/**
 * Carries out an apply plan through ClientService (so every change is checked by the same rules and
 * audited like any other, with actor `apply`). Every step is checked first, and nothing is written
 * when one fails: a bad value the schema could not see (an unknown dialect, a ttl above
 * --max-token-ttl, a reserved claim) refuses the whole run before the first change.
 */
import { authSettings, AuthSettingsError, TLS_NAME_FIELDS, type AuthSettingsInput } from '../client-auth-settings.ts';
import { fieldsOn, ruleField } from '../client-fields.ts';
import { checkImportedId, checkImportedSecret, checkSettings, ClientInputError, settingsOf, type ClientSettings } from '../client-rules.ts';
import type { ClientService, ClientServiceSettings } from '../clients.ts';
import type { CreateClientInput, UpdateClientInput } from '../client-inputs.ts';
import type { ClientRecord } from '../../storage/types.ts';
import type { CreateStep, DeleteStep, Step, UpdateStep } from './plan.ts';
import { specInput, specRecord, storedSpec, type ClientSpec } from './spec.ts';

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
  const input = {
    ...specInput(step.spec, { defaults: false }),
    mode: step.mode,
    type: step.type,
    ...(step.id === undefined ? {} : { clientId: step.id }),
    ...(step.secret === undefined ? {} : { clientSecret: step.secret.value }),
    managedBy: step.managedBy,
  } as CreateClientInput;
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

const KEY_FIELDS: ReadonlySet<string> = new Set(['authMethod', 'jwks', 'jwksUri', ...TLS_NAME_FIELDS]);

async function update(step: UpdateStep, clients: ClientService, options: ConvergeOptions): Promise<void> {
  // The method and its key source go together: a change to either sends both as the file wants them.
  const changed = Object.entries(step.patch);
  const keysChanged = changed.some(([f]) => KEY_FIELDS.has(f));
  const want = step.spec;
  const patch = {
    ...specInput(Object.fromEntries(changed.filter(([f]) => !KEY_FIELDS.has(f))), { defaults: true }),
    ...(keysChanged
      ? {
          authMethod: want.authMethod,
          ...(want.jwks !== undefined ? { jwks: want.jwks } : want.jwksUri !== undefined ? { jwksUri: want.jwksUri } : {}),
          ...Object.fromEntries(TLS_NAME_FIELDS.map((f) => [f, want[f] ?? null])),
        }
      : {}),
    ...(step.managedBy === undefined ? {} : { managedBy: step.managedBy }),
  } as UpdateClientInput;
  if (Object.keys(patch).length > 0) await clients.update(step.id, patch, options.actor);
  if (step.secret !== undefined) await clients.rotateSecret(step.id, options.overlapSeconds, options.actor, step.secret.value);
  if (step.status !== undefined) await clients.setStatus(step.id, step.status, options.actor);
}

async function remove(step: DeleteStep, clients: ClientService, options: ConvergeOptions): Promise<void> {
  await clients.delete(step.id, options.actor);
}

/** The file's settings of a client; token reuse is not part of the file, so it stays as the client has it. */
const settingsFrom = (s: ClientSpec, mode: ClientSettings['mode'], type: ClientSettings['type']) => ({ ...specRecord(s), mode, type }) as unknown as Omit<ClientSettings, 'tokenReuse'>;

/** The file's authentication settings, as a new client asks for them. */
const authInput = (s: ClientSpec): AuthSettingsInput => specInput(s, { defaults: false });
