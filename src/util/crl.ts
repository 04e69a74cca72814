/**
 * X.509 certificate revocation lists (RFC 5280 §5.1), read just enough to refuse a revoked client
 * certificate: the serial numbers listed, and the signature that says which CA listed them. DER only
 * (PEM is unwrapped by the caller); no extensions are read (no delta or indirect CRLs).
 */
import { verify, X509Certificate } from 'node:crypto';

/** One DER element: its tag, where its content starts and ends. */
interface Tlv {
  readonly tag: number;
  /** Where the element (its tag) begins. */
  readonly at: number;
  readonly start: number;
  readonly end: number;
}

function tlv(der: Buffer, at: number, limit: number): Tlv {
  if (at + 2 > limit) throw new Error('truncated');
  const tag = der[at]!;
  let length = der[at + 1]!;
  let start = at + 2;
  if (length & 0x80) {
    const n = length & 0x7f;
    if (n === 0 || n > 4 || start + n > limit) throw new Error('bad length');
    length = 0;
    for (let i = 0; i < n; i++) length = length * 256 + der[start + i]!;
    start += n;
  }
  if (start + length > limit) throw new Error('truncated');
  return { tag, at, start, end: start + length };
}

/** The elements inside a constructed one. */
function children(der: Buffer, parent: Tlv): Tlv[] {
  const out: Tlv[] = [];
  for (let at = parent.start; at < parent.end; ) {
    const child = tlv(der, at, parent.end);
    out.push(child);
    at = child.end;
  }
  return out;
}

const SEQUENCE = 0x30;
const INTEGER = 0x02;
/** Signature algorithms by the hex of their OID's DER content: the digest `crypto.verify` takes (null: EdDSA). */
const SIGNATURE_ALGS: Readonly<Record<string, string | null>> = {
  '2a864886f70d01010b': 'sha256', // sha256WithRSAEncryption
  '2a864886f70d01010c': 'sha384',
  '2a864886f70d01010d': 'sha512',
  '2a8648ce3d040302': 'sha256', // ecdsa-with-SHA256
  '2a8648ce3d040303': 'sha384',
  '2a8648ce3d040304': 'sha512',
  '2b6570': null, // Ed25519
};

export interface Crl {
  /** The signed part, its signature algorithm's digest and its signature. */
  readonly tbs: Buffer;
  readonly digest: string | null;
  readonly signature: Buffer;
  /** Serial numbers of the revoked certificates, hex, upper case, no leading zeros. */
  readonly serials: ReadonlySet<string>;
}

export const serialKey = (hex: string): string => hex.toUpperCase().replace(/^0+(?=.)/, '');

/** An X.509 CRL (RFC 5280 §5.1) in DER; throws on anything else. */
export function parseCrl(der: Buffer): Crl {
  const outer = tlv(der, 0, der.length);
  if (outer.tag !== SEQUENCE || outer.end !== der.length) throw new Error('not a sequence');
  const [tbs, alg, sig] = children(der, outer);
  if (!tbs || !alg || !sig || tbs.tag !== SEQUENCE || alg.tag !== SEQUENCE || sig.tag !== 0x03) throw new Error('not a CRL');
  const oid = children(der, alg)[0];
  if (oid?.tag !== 0x06) throw new Error('no algorithm');
  const name = der.subarray(oid.start, oid.end).toString('hex');
  if (!(name in SIGNATURE_ALGS)) throw new Error(`unsupported signature algorithm ${name}`);
  const fields = children(der, tbs);
  let i = fields[0]?.tag === INTEGER ? 1 : 0; // version
  i += 3; // signature, issuer, thisUpdate
  if (fields[i] && (fields[i]!.tag === 0x17 || fields[i]!.tag === 0x18)) i++; // nextUpdate
  const serials = new Set<string>();
  if (fields[i]?.tag === SEQUENCE) {
    for (const entry of children(der, fields[i]!)) {
      const serial = children(der, entry)[0];
      if (serial?.tag !== INTEGER) throw new Error('bad entry');
      serials.add(serialKey(der.subarray(serial.start, serial.end).toString('hex')));
    }
  }
  return { tbs: der.subarray(tbs.at, tbs.end), digest: SIGNATURE_ALGS[name]!, signature: der.subarray(sig.start + 1, sig.end), serials };
}

/** Whether `crl` is signed by `ca`'s key. */
export function signedBy(crl: Crl, ca: X509Certificate): boolean {
  try {
    return verify(crl.digest, crl.tbs, ca.publicKey, crl.signature);
  } catch {
    return false;
  }
}
