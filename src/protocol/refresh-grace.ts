/**
 * The refresh-reuse grace window (SECURITY RACE-04), off unless `--refresh-reuse-grace` is set. A
 * client whose refresh answer was lost (a timeout, a dropped connection) retries with the token it
 * still holds; within the window that retry gets a new access token and the successor refresh token
 * the first use produced, instead of revoking the family (RT-04).
 *
 * To hand the same successor out again it must be kept, and a refresh token is a bearer credential
 * the store must never hold usable (S-01). So the winning rotation stores it sealed with AES-256-GCM
 * under a key derived from the KEK, bound to the consumed token's digest, the successor's digest and
 * the window's end, in the same write that consumes the token; it is deleted when the window closes
 * (a timer here, and the purge for a process that died first) and is refused after it regardless.
 * Someone holding the database without the KEK cannot open it.
 *
 * Not checked here: whether the successor is still live; `issue()` looks it up before handing it out.
 */
import type { SealedSuccessor, TokenRepo } from '../storage/types.ts';
import { seal, unseal } from '../tokens/seal.ts';

export interface RefreshGrace {
  /** Length of the window, seconds (> 0). */
  readonly seconds: number;
  /** The KEK-derived key successors are sealed under. */
  readonly key: Buffer;
}

const aad = (consumed: string, successor: string, expiresAt: number) => `keymint refresh-successor ${consumed} ${successor} ${expiresAt}`;

export function sealSuccessor(grace: RefreshGrace, consumed: string, successor: { readonly token: string; readonly digest: string }, now: number): SealedSuccessor {
  const expiresAt = now + grace.seconds * 1000;
  return { digest: successor.digest, expiresAt, sealed: seal(grace.key, Buffer.from(successor.token), aad(consumed, successor.digest, expiresAt)) };
}

/** The successor token, or undefined when the seal does not open (another KEK, an edited row). */
export function openSuccessor(grace: RefreshGrace, consumed: string, s: SealedSuccessor): string | undefined {
  try {
    return unseal(grace.key, s.sealed, aad(consumed, s.digest, s.expiresAt)).toString();
  } catch {
    return undefined;
  }
}

/** Deletes the sealed successor when its window closes (best effort: the purge takes what is left). */
export function forgetWhenClosed(tokens: Pick<TokenRepo, 'forgetSuccessor'>, consumed: string, grace: RefreshGrace): void {
  setTimeout(() => tokens.forgetSuccessor(consumed).catch(() => undefined), grace.seconds * 1000).unref();
}
