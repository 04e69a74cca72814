/**
 * Server-provided DPoP nonces (RFC 9449 §8) that need no shared state.
 *
 * Time is cut into epochs of `lifetimeSeconds`. The nonce of epoch `e` is
 *
 *   base64url( e as 6 bytes, big-endian ‖ first 16 bytes of HMAC-SHA256(key, "keymint-dpop-nonce" ‖ e) )
 *
 * so every node holding the same key computes the same nonce for the same epoch and accepts the
 * nonces of the others without asking anyone: no table, no Redis round trip, nothing to replicate.
 * Without the key, the nonce of a later epoch cannot be predicted (§11.2: a proof cannot be made
 * ahead of time), which is all a nonce has to do; replay within its life is the `jti` guard's job.
 *
 * A nonce is accepted in its own epoch, the one after it (so it lives between one and two
 * lifetimes: "rotation") and the one before it (a node whose clock runs behind accepts what a node
 * ahead of it issued). `keys[0]` issues; later keys are only accepted, so a key rolls over without a
 * flag day: add the new key second everywhere, then move it first, then drop the old one.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export interface DpopNonceOptions {
  /** HMAC keys, at least 32 bytes each; the first issues, every one is accepted. */
  readonly keys: readonly Uint8Array[];
  /** Length of an epoch, seconds (default 300). */
  readonly lifetimeSeconds?: number;
  readonly now?: () => number;
}

export type NonceVerdict =
  /** The nonce of the current epoch (or of the next one, issued by a node ahead of this one). */
  | 'current'
  /** Still accepted, but a fresh nonce should be sent back (RFC 9449 §8.2). */
  | 'stale'
  | 'invalid';

export interface DpopNonces {
  /** The nonce to send now in `DPoP-Nonce`. */
  current(): string;
  check(nonce: string): NonceVerdict;
}

const LABEL = Buffer.from('keymint-dpop-nonce');
const EPOCH_BYTES = 6;
const MAC_BYTES = 16;
/** 22 bytes in base64url, no padding. */
const NONCE = /^[A-Za-z0-9_-]{30}$/;

export function dpopNonces(options: DpopNonceOptions): DpopNonces {
  if (options.keys.length === 0) throw new TypeError('dpopNonces: at least one key');
  for (const key of options.keys) if (key.byteLength < 32) throw new TypeError('dpopNonces: keys of at least 32 bytes');
  const lifetime = options.lifetimeSeconds ?? 300;
  if (!Number.isInteger(lifetime) || lifetime < 1) throw new TypeError('dpopNonces: lifetimeSeconds is a positive integer');
  const now = options.now ?? Date.now;
  const epochNow = () => Math.floor(now() / 1000 / lifetime);
  let cached: { epoch: number; nonce: string } | undefined;

  const mac = (key: Uint8Array, epochBytes: Buffer): Buffer =>
    createHmac('sha256', key).update(LABEL).update(epochBytes).digest().subarray(0, MAC_BYTES);

  return {
    current() {
      const epoch = epochNow();
      if (cached?.epoch !== epoch) {
        const e = Buffer.alloc(EPOCH_BYTES);
        e.writeUIntBE(epoch, 0, EPOCH_BYTES);
        cached = { epoch, nonce: Buffer.concat([e, mac(options.keys[0]!, e)]).toString('base64url') };
      }
      return cached.nonce;
    },
    check(nonce) {
      if (!NONCE.test(nonce)) return 'invalid';
      const raw = Buffer.from(nonce, 'base64url');
      const e = raw.subarray(0, EPOCH_BYTES);
      const given = raw.subarray(EPOCH_BYTES);
      const age = epochNow() - e.readUIntBE(0, EPOCH_BYTES);
      if (age < -1 || age > 1) return 'invalid';
      let valid = false;
      for (const key of options.keys) valid = timingSafeEqual(mac(key, e), given) || valid;
      if (!valid) return 'invalid';
      return age === 1 ? 'stale' : 'current';
    },
  };
}
