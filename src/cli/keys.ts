/** `keymint keys list|rotate` and `keymint audit`. */
import type { KeymintCore } from '../service.ts';
import type { Flags } from './flags.ts';

const out = (s: string) => process.stdout.write(s);
const iso = (ms: number | null) => (ms === null ? '-' : new Date(ms).toISOString());

export async function keysCommand(core: KeymintCore, args: string[], flags: Flags): Promise<number> {
  const [sub] = args;
  if (sub === 'rotate') {
    await core.keyring.rotate();
    await core.store.audit.append({ at: Date.now(), actor: 'cli', action: 'key.rotate', target: 'signing', detail: {} });
  } else if (sub !== 'list') {
    process.stderr.write('keymint keys: expected list or rotate\n');
    return 2;
  }
  const keys = core.keyring.describe().map(({ publicJwk: _jwk, ...k }) => k);
  if (flags.json === true) out(`${JSON.stringify(keys, null, 2)}\n`);
  else for (const k of keys) out(`${k.kid.padEnd(24)} ${k.use.padEnd(4)} ${k.alg.padEnd(6)} ${k.state.padEnd(8)} created ${iso(k.createdAt)} published-until ${iso(k.publishUntil)}\n`);
  return 0;
}

export async function auditCommand(core: KeymintCore, flags: Flags): Promise<number> {
  const limit = typeof flags.limit === 'string' ? Number(flags.limit) : 50;
  const events = await core.store.audit.list(Number.isInteger(limit) && limit > 0 ? limit : 50);
  if (flags.json === true) out(`${JSON.stringify(events, null, 2)}\n`);
  else for (const e of events) out(`${new Date(e.at).toISOString()}  ${e.actor.padEnd(30)} ${e.action.padEnd(22)} ${e.target} ${JSON.stringify(e.detail)}\n`);
  return 0;
}
