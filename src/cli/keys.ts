/** `keymint keys list|rotate` and `keymint audit`. */
import type { KeymintCore } from '../core.ts';
import type { Command, FlagSpec } from './command.ts';

const out = (s: string) => process.stdout.write(s);
const iso = (ms: number | null) => (ms === null ? '-' : new Date(ms).toISOString());
const JSON_FLAG: FlagSpec = { type: 'boolean', doc: 'Print JSON instead of text' };

function printKeys(core: KeymintCore, asJson: boolean): void {
  const keys = core.keyring.describe().map(({ publicJwk: _jwk, ...k }) => k);
  if (asJson) out(`${JSON.stringify(keys, null, 2)}\n`);
  else for (const k of keys) out(`${k.kid.padEnd(24)} ${k.use.padEnd(4)} ${k.alg.padEnd(6)} ${k.state.padEnd(8)} created ${iso(k.createdAt)} published-until ${iso(k.publishUntil)}\n`);
}

export const keysList: Command = {
  name: 'keys list',
  summary: 'Signing keys and peppers (public parts only)',
  store: 'existing',
  flags: { json: JSON_FLAG },
  examples: ['keys list', 'keys list --json'],
  async run({ flags, withCore }) {
    await withCore(async (core) => printKeys(core, flags.json === true));
    return 0;
  },
};

export const keysRotate: Command = {
  name: 'keys rotate',
  summary: 'Promote the published next key, retire the active one',
  description: 'Rotates RS256 and the --alg it is given (give the servers\' --alg, or set KEYMINT_ALG). Running servers sign with the promoted key within --keyring-refresh-ms; the retired key stays published for --max-token-ttl.',
  store: 'existing',
  flags: { json: JSON_FLAG },
  examples: ['keys rotate', 'keys rotate --alg PS256'],
  async run({ flags, withCore }) {
    await withCore(async (core) => {
      const activeBefore = activeSigningKeys(core);
      await core.keyring.rotate();
      warnUnrotated(activeBefore, activeSigningKeys(core));
      await core.store.audit.append({ at: Date.now(), actor: 'cli', action: 'key.rotate', target: 'signing', detail: {} });
      printKeys(core, flags.json === true);
    });
    return 0;
  },
};

const activeSigningKeys = (core: KeymintCore) => core.keyring.describe().filter((k) => k.use === 'sig' && k.state === 'active');

/**
 * A rotation run from the CLI rotates the algorithms of the `--alg` it is given (RS256 and that
 * one), not the servers': keys of another algorithm still active afterwards (servers run with
 * `--alg PS256`, this command without it) are named, so a rotation that missed them is not taken
 * for a complete one.
 */
function warnUnrotated(before: ReadonlyArray<{ kid: string; alg: string }>, after: ReadonlyArray<{ kid: string }>): void {
  const still = new Set(after.map((k) => k.kid));
  const algs = [...new Set(before.filter((k) => still.has(k.kid)).map((k) => k.alg))];
  for (const alg of algs) process.stderr.write(`keymint: the ${alg} keys were not rotated: run keys rotate with the servers' --alg ${alg} (or KEYMINT_ALG) to rotate them\n`);
}

export const audit: Command = {
  name: 'audit',
  summary: 'Credential and key life-cycle events, newest first',
  store: 'existing',
  flags: {
    limit: { type: 'integer', value: 'N', min: 1, max: 10_000, doc: 'How many events (default 50)' },
    json: JSON_FLAG,
  },
  examples: ['audit', 'audit --limit 200 --json'],
  async run({ flags, withCore }) {
    const limit = typeof flags.limit === 'number' ? flags.limit : 50;
    const events = await withCore((core) => core.store.audit.list(limit));
    if (flags.json === true) out(`${JSON.stringify(events, null, 2)}\n`);
    else for (const e of events) out(`${new Date(e.at).toISOString()}  ${e.actor.padEnd(30)} ${e.action.padEnd(22)} ${e.target} ${JSON.stringify(e.detail)}\n`);
    return 0;
  },
};
