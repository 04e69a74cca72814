/**
 * The key-encryption key that seals private keys and peppers at rest: from `KEYMINT_KEK`, or
 * `<data>/kek`, created 0600 on first start (the data directory 0700). An in-memory store gets a
 * fresh random KEK: nothing it seals outlives the process anyway.
 */
import { hkdfSync, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, linkSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '../config/parse.ts';
import type { Config } from '../config/types.ts';
import type { KeyRepo } from '../storage/types.ts';
import { Keyring, type KeyringOptions } from './keyring.ts';
import { makeDir } from '../util/make-dir.ts';

/**
 * The KEK, generating `<data>/kek` only for a store that holds no sealed keys yet: a missing file
 * beside sealed keys is refused (a new KEK could never open them, and replacing it would hide the loss).
 */
export function loadKek(config: Pick<Config, 'kek' | 'dataDir'>, storeHasKeys = false): Buffer {
  if (config.kek !== undefined) return Buffer.from(config.kek, 'base64');
  if (config.dataDir === ':memory:') return randomBytes(32);
  const file = join(config.dataDir, 'kek');
  if (!existsSync(file) && storeHasKeys) {
    throw new ConfigError('kek', `${file} is missing but the store holds keys sealed with it; restore the file from a backup (or set KEYMINT_KEK): a new KEK cannot open those keys`);
  }
  makeDir(config.dataDir, 0o700);
  chmodSync(config.dataDir, 0o700);
  if (!existsSync(file)) {
    // Write a private temp file, then link it into place: a concurrent first start (server and CLI)
    // either wins the link or reads the winner's complete file, never a half-written one.
    const temp = `${file}.${process.pid}.tmp`;
    writeFileSync(temp, randomBytes(32).toString('base64'), { mode: 0o600 });
    try {
      linkSync(temp, file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    } finally {
      unlinkSync(temp);
    }
  }
  const kek = Buffer.from(readKekFile(file).trim(), 'base64');
  if (kek.length !== 32) throw new ConfigError('kek', `${file} does not hold base64 of 32 bytes`);
  return kek;
}

function readKekFile(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EISDIR') throw new ConfigError('kek', `${file} is a directory, not the key file; restore the file holding the base64 key (or set KEYMINT_KEK)`);
    if (code === 'EACCES') throw new ConfigError('kek', `cannot read ${file} (permission denied); run Keymint as its owner (the file should be mode 600)`);
    throw err;
  }
}

/**
 * A 32-byte key for one purpose, derived from the KEK with HKDF-SHA256 (RFC 5869), so every node
 * holding the KEK derives the same key and nothing more needs distributing. Keys for different
 * purposes are independent; none reveals the KEK.
 */
export function deriveKey(kek: Uint8Array, purpose: 'dpop-nonce' | 'refresh-grace' | 'console'): Buffer {
  return Buffer.from(hkdfSync('sha256', kek, 'keymint', `keymint ${purpose} v1`, 32));
}

/** Opens the keyring sealed under the KEK; a store sealed under another KEK is a ConfigError saying what to fix. */
export async function openKeyring(repo: KeyRepo, options: KeyringOptions): Promise<Keyring> {
  // Warnings about single key rows wait until the open succeeds: under a wrong KEK every row is
  // refused, and the one error saying so is all the operator needs to read.
  const held: Array<Parameters<NonNullable<KeyringOptions['log']>['warn']>> = [];
  let holding = true;
  const log = options.log && { warn: (...args: (typeof held)[number]) => (holding ? held.push(args) : options.log!.warn(...args)) };
  try {
    const ring = await Keyring.open(repo, { ...options, log });
    holding = false;
    for (const args of held) options.log!.warn(...args);
    return ring;
  } catch (err) {
    // AES-GCM refuses to open key material sealed under another KEK.
    if (err instanceof Error && /unable to authenticate data/.test(err.message)) {
      throw new ConfigError('kek', 'the keys in the store were sealed with another key-encryption key; every node and the CLI need the same KEYMINT_KEK');
    }
    throw err;
  }
}
