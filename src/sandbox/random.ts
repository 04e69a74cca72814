/**
 * Repeatable randomness for the sandbox: a fraction of requests faulted, or a jittered latency, is
 * drawn from a generator seeded by the sandbox's seed and the fault's id, so the same file and the
 * same requests give the same faults on every run (and after `reset()`).
 */
import { createHash } from 'node:crypto';

/** A generator of numbers in [0, 1): sfc32 over a 128-bit state taken from SHA-256 of the seed. */
export type Draw = () => number;

export function seeded(seed: string): Draw {
  const h = createHash('sha256').update(seed).digest();
  let a = h.readUInt32LE(0);
  let b = h.readUInt32LE(4);
  let c = h.readUInt32LE(8);
  let d = h.readUInt32LE(12);
  return () => {
    a >>>= 0;
    b >>>= 0;
    c >>>= 0;
    d >>>= 0;
    let t = (a + b) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    d = (d + 1) | 0;
    t = (t + d) | 0;
    c = (c + t) | 0;
    return (t >>> 0) / 4294967296;
  };
}
