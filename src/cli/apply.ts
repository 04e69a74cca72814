/**
 * `keymint apply -f FILE [--dry-run] [--prune]` and `keymint export [-o FILE]`: clients as code.
 * The file is parsed, its secrets resolved and the whole plan checked before the store is opened
 * for writing; a refusal anywhere changes nothing. Secrets are never printed.
 */
import { accessSync, constants, existsSync, readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { ConfigFileError, loadConfigFile, type ParsedConfigFile } from '../config/file.ts';
import { yaml } from '../config/yaml.ts';
import { checkSteps, converge, StepError } from '../credentials/apply/converge.ts';
import { exportFile } from '../credentials/apply/export.ts';
import { plan, PlanError, type Plan, type ResolvedSecret, type Step } from '../credentials/apply/plan.ts';
import { holdsSecret } from '../credentials/apply/secrets.ts';
import { MAX_SECRET_OVERLAP_SECONDS } from '../credentials/clients.ts';
import { newClientSecret } from '../credentials/secrets.ts';
import type { KeymintCore } from '../core.ts';
import { CliError, type Command } from './command.ts';

const out = (s: string) => process.stdout.write(s);

/** The secrets the file names, read now (before anything is written); generated ones are made, not yet written. */
export function resolveSecrets(parsed: ParsedConfigFile, base: string, env: NodeJS.ProcessEnv): Map<string, ResolvedSecret> {
  const secrets = new Map<string, ResolvedSecret>();
  for (const [key, client] of Object.entries(parsed.file.clients)) {
    const source = client.secret;
    if (source === undefined) continue;
    const at = (field: string, message: string) => parsed.error(['clients', key, 'secret', field], message);
    if (source.env !== undefined) {
      const value = env[source.env];
      if (value === undefined || value === '') throw at('env', `the environment variable ${source.env} is not set (or empty)`);
      secrets.set(key, { value, from: `env ${source.env}` });
    } else if (source.file !== undefined) {
      const path = resolve(base, source.file);
      let text: string | undefined;
      try {
        text = readFileSync(path, 'utf8');
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code !== 'ENOENT') throw at('file', `${path} cannot be read (${code}); make it readable by this user`);
        if (source.generate !== true) throw at('file', `${path} does not exist; create it, or add generate: true to have apply write a new secret there`);
      }
      if (text === undefined) {
        checkWritable(path, (m) => at('file', m));
        secrets.set(key, { value: newClientSecret(), from: `generated into ${source.file} (0600)`, writeTo: path });
        continue;
      }
      const value = text.replace(/\r?\n$/, '');
      if (value === '' || /[\r\n]/.test(value)) throw at('file', `${path} must hold the secret on one line`);
      if ((statSync(path).mode & 0o077) !== 0) process.stderr.write(`keymint: warning: ${path} is readable by other users; chmod 600 it\n`);
      secrets.set(key, { value, from: `file ${source.file}` });
    } else if (source.value !== undefined) {
      secrets.set(key, { value: source.value, from: 'the file' });
    }
  }
  return secrets;
}

function checkWritable(path: string, fail: (message: string) => Error): void {
  const dir = dirname(path);
  try {
    if (!statSync(dir).isDirectory()) throw fail(`${dir} is not a directory; the generated secret is written into an existing directory`);
    accessSync(dir, constants.W_OK);
  } catch (err) {
    if (err instanceof ConfigFileError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    throw fail(code === 'ENOENT' ? `the directory ${dir} does not exist; create it first` : `the directory ${dir} is not writable (${code})`);
  }
}

/** The plan as text: one line per step, its changes beneath, a summary last. */
export function describePlan(p: Plan, fileName: string): string {
  const lines: string[] = [];
  const counts = { create: 0, update: 0, delete: 0 };
  for (const step of p.steps) {
    counts[step.action]++;
    lines.push(stepLine(step));
    if (step.action === 'update') for (const c of step.changes) lines.push(`      ${c.field}: ${c.from} → ${c.to}`);
  }
  for (const k of p.kept) lines.push(`  ! ${k.key} ${k.id}: created by apply and no longer in the file; kept (--prune deletes it)`);
  if (p.steps.length === 0) {
    lines.push(`No changes: the store matches ${fileName} (${p.unchanged.length} client${p.unchanged.length === 1 ? '' : 's'}).`);
  } else {
    lines.push(`Plan: ${counts.create} to create, ${counts.update} to update, ${counts.delete} to delete, ${p.unchanged.length} unchanged.`);
  }
  return `${lines.join('\n')}\n`;
}

function stepLine(step: Step): string {
  switch (step.action) {
    case 'create': {
      const secret = step.secret === undefined ? '' : `, secret: ${step.secret.from}`;
      return `  + ${step.key}${step.id === undefined ? '' : ` ${step.id}`}: create (${step.type}, ${step.mode}${step.status === 'disabled' ? ', disabled' : ''}${secret})`;
    }
    case 'update':
      return `  ~ ${step.key} ${step.id}: update`;
    case 'delete':
      return `  - ${step.key} ${step.id}: delete (created by apply, no longer in the file)`;
  }
}

/** The plan as JSON: the same facts, secrets as their source only. */
export function planJson(p: Plan, applied: boolean) {
  return {
    changes: p.steps.length > 0,
    applied,
    steps: p.steps.map((s) => (s.action === 'delete' ? s : { ...s, secret: s.secret === undefined ? undefined : { from: s.secret.from } })),
    unchanged: p.unchanged,
    kept: p.kept,
    unmanaged: p.unmanaged,
  };
}

async function runApply(core: KeymintCore, parsed: ParsedConfigFile, secrets: Map<string, ResolvedSecret>, opts: { dryRun: boolean; prune: boolean; json: boolean; path: string; overlap: number; quiet?: boolean }): Promise<number> {
  const stored = await core.store.clients.list();
  let p: Plan;
  try {
    p = plan({ file: parsed.file, clients: stored, secrets, holds: (c, s) => holdsSecret(c, s, core.keyring.peppers(), Date.now()), prune: opts.prune });
    checkSteps(p.steps, stored, core.clients.settings);
  } catch (err) {
    if (err instanceof PlanError) throw new CliError('usage', parsed.error(err.field, err.message).message);
    if (err instanceof StepError) throw new CliError('usage', parsed.error(['clients', err.key, ...(err.field === undefined ? [] : [err.field])], err.message).message);
    throw err;
  }
  if (opts.quiet === true) return 0;
  if (!opts.json) out(describePlan(p, opts.path));
  if (opts.dryRun || p.steps.length === 0) {
    if (opts.json) out(`${JSON.stringify(planJson(p, false), null, 2)}\n`);
    else if (opts.dryRun && p.steps.length > 0) out('Dry run: nothing was changed.\n');
    return 0;
  }
  const counts = await converge(p.steps, core.clients, {
    actor: 'apply',
    overlapSeconds: opts.overlap,
    beforeCreate: (step) => writeFileSync(step.secret!.writeTo!, `${step.secret!.value}\n`, { mode: 0o600, flag: 'wx' }),
    createFailed: (step) => unlinkSync(step.secret!.writeTo!),
  });
  if (opts.json) out(`${JSON.stringify(planJson(p, true), null, 2)}\n`);
  else out(`Applied: ${counts.create} created, ${counts.update} updated, ${counts.delete} deleted.\n`);
  return 0;
}

export const apply: Command = {
  name: 'apply',
  summary: 'Converge the clients to a configuration file (YAML or JSON)',
  description:
    'Prints the plan (creates, updates, deletes), then carries it out. Secrets come from environment variables or files the file names, or are generated into a file (0600) when a client is created; they are never printed. See docs/apply.md.',
  store: 'create',
  flags: {
    file: { type: 'string', short: 'f', value: 'FILE', required: true, doc: 'The configuration file (keymint.yaml or .json)' },
    'dry-run': { type: 'boolean', doc: 'Print the plan and change nothing' },
    prune: { type: 'boolean', doc: 'Delete clients apply created that the file no longer names (never others)' },
    'expire-old-in': { type: 'integer', value: 'SECONDS', min: 0, max: MAX_SECRET_OVERLAP_SECONDS, doc: 'How long a replaced secret keeps working (default 86400)' },
    json: { type: 'boolean', doc: 'Print the plan as JSON' },
  },
  examples: ['apply -f keymint.yaml --dry-run', 'apply -f keymint.yaml', 'apply -f keymint.yaml --prune --database-url postgres://keymint@db.internal/keymint'],
  async run({ flags, config, withCore }) {
    const path = flags.file as string;
    const parsed = fileOrUsage(path);
    const secrets = fileOrUsage(path, () => resolveSecrets(parsed, dirname(resolve(path)), process.env));
    const opts = { dryRun: flags['dry-run'] === true, prune: flags.prune === true, json: flags.json === true, path, overlap: typeof flags['expire-old-in'] === 'number' ? flags['expire-old-in'] : 86_400 };
    if (config.databaseUrl === undefined && !existsSync(join(config.dataDir, 'keymint.db'))) {
      // No store yet: plan against an empty one in memory, so a refused file (or a dry run) creates none.
      const { openKeymint } = await import('../core.ts');
      const empty = await openKeymint({ ...config, dataDir: ':memory:', logLevel: 'error' });
      try {
        if (opts.dryRun) return await runApply(empty, parsed, secrets, opts);
        await runApply(empty, parsed, secrets, { ...opts, dryRun: true, quiet: true });
      } finally {
        await empty.close();
      }
    }
    return withCore((core) => runApply(core, parsed, secrets, opts));
  },
};

function fileOrUsage(path: string): ParsedConfigFile;
function fileOrUsage<T>(path: string, read: () => T): T;
function fileOrUsage<T>(path: string, read?: () => T): T | ParsedConfigFile {
  try {
    return read ? read() : loadConfigFile(path);
  } catch (err) {
    if (err instanceof ConfigFileError) throw new CliError('usage', `keymint: ${err.message}`);
    throw err;
  }
}

export const exportCommand: Command = {
  name: 'export',
  summary: 'Write the clients as a configuration file (no secrets)',
  description: 'What `apply` reads back as no change. Each client is written with its id; secrets and their sources are not.',
  store: 'existing',
  flags: {
    output: { type: 'string', short: 'o', value: 'FILE', doc: 'Write here instead of standard output' },
    json: { type: 'boolean', doc: 'JSON instead of YAML' },
  },
  examples: ['export', 'export -o keymint.yaml', 'export -o keymint.json --json'],
  async run({ flags, withCore }) {
    const file = exportFile(await withCore((core) => core.store.clients.list()));
    const text = flags.json === true ? `${JSON.stringify(file, null, 2)}\n` : exportYaml(file);
    if (typeof flags.output === 'string') writeFileSync(flags.output, text);
    else out(text);
    return 0;
  },
};

/** YAML with short lists inline (`scopes: [a, b]`), no line folding. */
export function exportYaml(file: ReturnType<typeof exportFile>): string {
  // Loaded here, not imported: every command's module is loaded at start, and `keymint sandbox` has no use for it.
  const { Document, isScalar, visit } = yaml();
  const doc = new Document(file);
  visit(doc, {
    Seq(_key, node) {
      if (node.items.every((i) => isScalar(i))) node.flow = true;
    },
  });
  doc.commentBefore = ' keymint export: apply reads this back as no change. No secrets are written: an entry without\n secret leaves the client\'s secrets alone.';
  return doc.toString({ lineWidth: 0, flowCollectionPadding: false });
}
