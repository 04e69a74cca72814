/**
 * The plan of `keymint apply`: a pure comparison of a configuration file with the stored clients,
 * deciding what to create, update and delete. Nothing here reads a file, the environment or the store.
 *
 * Matching: an entry with an `id` is the client with that id, whoever made it (an existing client is
 * adopted, not taken over: it is updated, never pruned). An entry without one is the client apply
 * created for its key (`managedBy: apply:<key>`). Deleting (`prune`) only ever touches clients apply
 * created whose key the file no longer names. A client's mode and type never change; a field the file
 * leaves out takes its default, except `status` (left as it is) and `secret` (left alone).
 */
import type { ClientDeclaration, FieldPath, KeymintFile } from '../../config/file.ts';
import type { ClientRecord } from '../../storage/types.ts';
import { declaredSpec, managedKey, MANAGED_PREFIX, sameField, shown, SPEC_FIELDS, storedSpec, type ClientSpec, type SpecField } from './spec.ts';

/** A secret the file names, resolved by the caller (never printed: only `from` is). */
export interface ResolvedSecret {
  readonly value: string;
  /** Where it came from, for the plan: `env BILLING_SECRET`, `file secrets/billing`, `generated into …`. */
  readonly from: string;
  /** Generated now: written to this path (0600) just before the client is created. */
  readonly writeTo?: string;
}

export interface PlanInput {
  readonly file: KeymintFile;
  readonly clients: readonly ClientRecord[];
  /** Secrets by client key, for the entries whose source could be read (or was generated). */
  readonly secrets: ReadonlyMap<string, ResolvedSecret>;
  /** Whether `secret` is one of the client's live secrets. */
  readonly holds: (client: ClientRecord, secret: string) => boolean;
  /** Delete clients apply created whose key the file no longer names. */
  readonly prune: boolean;
}

export interface Change {
  readonly field: SpecField | 'status' | 'secret' | 'key';
  readonly from: string;
  readonly to: string;
}

export interface CreateStep {
  readonly action: 'create';
  readonly key: string;
  readonly id: string | undefined;
  readonly mode: 'live' | 'sandbox';
  readonly type: 'confidential' | 'public';
  readonly spec: ClientSpec;
  readonly status: 'active' | 'disabled';
  readonly secret: ResolvedSecret | undefined;
  readonly managedBy: string;
}

export interface UpdateStep {
  readonly action: 'update';
  readonly key: string;
  readonly id: string;
  readonly changes: readonly Change[];
  /** The settings that differ, as the file wants them. */
  readonly patch: Partial<ClientSpec>;
  /** Every setting as the file wants it. */
  readonly spec: ClientSpec;
  readonly status: 'active' | 'disabled' | undefined;
  /** Rotate to this secret (the file's is not among the live ones). */
  readonly secret: ResolvedSecret | undefined;
  /** A new `managedBy` (an apply-made client whose entry now names it under another key). */
  readonly managedBy: string | undefined;
}

export interface DeleteStep {
  readonly action: 'delete';
  readonly key: string;
  readonly id: string;
  readonly name: string;
}

export type Step = CreateStep | UpdateStep | DeleteStep;

export interface Plan {
  readonly steps: readonly Step[];
  /** Entries whose client already matches. */
  readonly unchanged: ReadonlyArray<{ readonly key: string; readonly id: string }>;
  /** Clients apply created whose key the file no longer names, left because `prune` was not asked for. */
  readonly kept: ReadonlyArray<{ readonly key: string; readonly id: string; readonly name: string }>;
  /** Stored clients the file does not name and apply did not create: never touched. */
  readonly unmanaged: number;
}

/** A declaration that cannot be applied to the client it names; `field` is where in the file. */
export class PlanError extends Error {
  readonly field: FieldPath;
  constructor(field: FieldPath, message: string) {
    super(message);
    this.name = 'PlanError';
    this.field = field;
  }
}

export function plan(input: PlanInput): Plan {
  const byId = new Map(input.clients.map((c) => [c.id, c]));
  const byKey = new Map<string, ClientRecord>();
  for (const c of [...input.clients].sort((a, b) => a.createdAt - b.createdAt)) {
    const key = managedKey(c);
    if (key !== undefined && !byKey.has(key)) byKey.set(key, c);
  }
  const entries = Object.entries(input.file.clients);
  // Entries with ids claim their clients first, so a key match never takes a client an id names.
  const claimed = new Set(entries.flatMap(([, d]) => (d.id !== undefined && byId.has(d.id) ? [d.id] : [])));
  const steps: Step[] = [];
  const unchanged: Array<{ key: string; id: string }> = [];
  const matched = new Set<string>();
  for (const [key, d] of entries) {
    const keyed = byKey.get(key);
    const current = d.id !== undefined ? byId.get(d.id) : keyed !== undefined && !claimed.has(keyed.id) ? keyed : undefined;
    if (current === undefined) {
      steps.push(createStep(key, d, d.secret === undefined ? undefined : input.secrets.get(key)));
      continue;
    }
    matched.add(current.id);
    const step = updateStep(key, d, current, input);
    if (step === undefined) unchanged.push({ key, id: current.id });
    else steps.push(step);
  }
  const kept: Array<{ key: string; id: string; name: string }> = [];
  let unmanaged = 0;
  const gone = input.clients.filter((c) => !matched.has(c.id));
  for (const c of gone.sort((a, b) => (managedKey(a) ?? '').localeCompare(managedKey(b) ?? '') || a.id.localeCompare(b.id))) {
    const key = managedKey(c);
    if (key === undefined) unmanaged++;
    else if (input.prune) steps.push({ action: 'delete', key, id: c.id, name: c.name });
    else kept.push({ key, id: c.id, name: c.name });
  }
  return { steps, unchanged, kept, unmanaged };
}

function createStep(key: string, d: ClientDeclaration, secret: ResolvedSecret | undefined): CreateStep {
  const spec = declaredSpec(key, d);
  const type = d.type ?? 'confidential';
  checkSecretFits(key, d, type, spec);
  if (usesSecret(type, spec) && secret === undefined) {
    throw new PlanError(
      ['clients', key, ...(d.secret === undefined ? [] : ['secret'])],
      d.secret === undefined
        ? 'a new confidential client needs a secret: secret.env, secret.file, or secret.file with generate: true (apply never prints one)'
        : 'the secret source gave no secret',
    );
  }
  return { action: 'create', key, id: d.id, mode: d.mode ?? 'live', type, spec, status: d.status ?? 'active', secret, managedBy: `${MANAGED_PREFIX}${key}` };
}

function updateStep(key: string, d: ClientDeclaration, current: ClientRecord, input: PlanInput): UpdateStep | undefined {
  for (const field of ['mode', 'type'] as const) {
    if (d[field] !== undefined && d[field] !== current[field]) {
      throw new PlanError(['clients', key, field], `the client ${current.id} is ${current[field]} and a ${field} never changes; give the entry a new key (and no id) to create another client`);
    }
  }
  const want = declaredSpec(key, d);
  const have = storedSpec(current);
  checkSecretFits(key, d, current.type, want);
  const changes: Change[] = [];
  const patch: Partial<Record<SpecField, unknown>> = {};
  for (const field of SPEC_FIELDS) {
    if (sameField(field, want, have)) continue;
    changes.push({ field, from: shown(field, have[field]), to: shown(field, want[field]) });
    patch[field] = want[field];
  }
  const status = d.status !== undefined && d.status !== current.status ? d.status : undefined;
  if (status !== undefined) changes.push({ field: 'status', from: current.status, to: status });
  // A secret generated now only serves a client being created; an existing one keeps its secrets.
  const declared = d.secret === undefined ? undefined : input.secrets.get(key);
  const secret = declared !== undefined && declared.writeTo === undefined && usesSecret(current.type, want) && !input.holds(current, declared.value) ? declared : undefined;
  if (secret !== undefined) changes.push({ field: 'secret', from: 'another secret', to: secret.from });
  const was = managedKey(current);
  const managedBy = was !== undefined && was !== key ? `${MANAGED_PREFIX}${key}` : undefined;
  if (managedBy !== undefined) changes.push({ field: 'key', from: was!, to: key });
  if (changes.length === 0) return undefined;
  return { action: 'update', key, id: current.id, changes, patch: patch as Partial<ClientSpec>, spec: want, status, secret, managedBy };
}

const usesSecret = (type: 'confidential' | 'public', spec: ClientSpec): boolean => type === 'confidential' && spec.authMethod === 'client_secret_basic';

function checkSecretFits(key: string, d: ClientDeclaration, type: 'confidential' | 'public', spec: ClientSpec): void {
  if (d.secret !== undefined && !usesSecret(type, spec)) {
    throw new PlanError(['clients', key, 'secret'], type === 'public' ? 'a public client has no secret' : `a ${spec.authMethod} client has no secret`);
  }
}
