/** Whether a secret the file names is already one of a client's live secrets (so apply leaves it). */
import { digestsEqual, hmacHex } from '../../tokens/digest.ts';
import type { Pepper } from '../../tokens/keyring.ts';
import type { ClientRecord } from '../../storage/types.ts';

export function holdsSecret(client: ClientRecord, secret: string, peppers: readonly Pepper[], now: number): boolean {
  return client.secrets.some((s) => {
    if (s.expiresAt !== null && s.expiresAt <= now) return false;
    const pepper = peppers.find((p) => p.kid === s.pepperKid);
    return pepper !== undefined && digestsEqual(hmacHex(pepper, secret), s.digest);
  });
}
