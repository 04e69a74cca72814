import { hash, randomBytes } from 'node:crypto';
import type { ClientRecord, SecretRecord } from '../storage/types.ts';

/**
 * Secrets that were proven against one client record, so that a client presenting the same secret
 * again costs one SHA-256 instead of the peppered HMAC and its comparisons. Keyed by the record
 * object itself: records are immutable, and the client cache hands out a new one after any change
 * (a rotation, a status change, an update, the cache's lifetime), so whatever was proven against an
 * older record is never consulted again and is collected with it. An entry is the secret's own
 * record, whose expiry is checked at every use.
 *
 * What it keeps: a salted SHA-256 of each proven secret (the salt random per process), never the
 * secret. Only the right secret can find an entry, so a wrong one still costs the full constant-time
 * check (SECURITY A-10); every call hashes the presented secret once, whether or not the client exists.
 */
export class VerifiedSecrets {
  readonly #salt = randomBytes(16).toString('base64');
  readonly #byRecord = new WeakMap<ClientRecord, Map<string, SecretRecord>>();

  #key(secret: string): string {
    return hash('sha256', this.#salt + secret, 'base64url');
  }

  find(client: ClientRecord | undefined, secret: string): SecretRecord | undefined {
    const key = this.#key(secret);
    return client === undefined ? undefined : this.#byRecord.get(client)?.get(key);
  }

  remember(client: ClientRecord, secret: string, proven: SecretRecord): void {
    let secrets = this.#byRecord.get(client);
    if (!secrets) this.#byRecord.set(client, (secrets = new Map()));
    // At most MAX_LIVE_SECRETS proven secrets per record: only its own secrets can be proven.
    secrets.set(this.#key(secret), proven);
  }
}
