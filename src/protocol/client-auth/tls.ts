/**
 * `tls_client_auth` and `self_signed_tls_client_auth` — RFC 8705 §2: the client proves itself with
 * the certificate of its TLS connection (or, behind a trusted proxy, of the proxy's `Client-Cert`).
 * Both read the same presentation (the certificate and `client_id`); the client's registered
 * method decides which check applies, and a client registered for one never passes by the other.
 *
 * - §2.1 PKI: the certificate is within its validity period and issued and signed by a CA of
 *   `--tls-client-ca` (that CA within its own), and carries the one name the client registered
 *   (§2.1.2: subject DN, or a dNSName, URI, iPAddress or rfc822Name subjectAltName); a CRL of
 *   `--tls-client-crl` signed by that CA does not list it.
 * - §2.2 self-signed: its SHA-256 thumbprint equals that of a certificate registered as `x5c[0]` of
 *   a key in the client's `jwks` or `jwks_uri` (validity is not checked: the registration is the trust).
 *
 * Not checked: OCSP, revocation without a CRL given, intermediate CAs outside the bundle
 * (a certificate must be issued by one in it), key usages. Status and environment are checked by the
 * registry, as for every method.
 */
import { createHash, X509Certificate } from 'node:crypto';
import type { ClientRecord } from '../../storage/types.ts';
import type { AuthenticatedClient, ClientAuthMethod, ClientVerifier, PresentedClient } from './types.ts';

/** base64url SHA-256 of a DER certificate: RFC 8705 `x5t#S256`. */
export const certificateThumbprint = (der: Buffer): string => createHash('sha256').update(der).digest('base64url');

async function authenticate(presented: PresentedClient & { readonly clientId: string }, verifier: ClientVerifier): Promise<AuthenticatedClient | undefined> {
  if (presented.method !== 'tls_client_auth') return undefined;
  const client = await verifier.find(presented.clientId);
  if (client?.type !== 'confidential') return undefined;
  const der = presented.certificate;
  const thumbprint = certificateThumbprint(der);
  // The credential is the certificate (tokens record it; the admin API honours secrets only, ADM-01).
  const proven = { client, credentialId: `cert:${thumbprint}` };
  if (client.authMethod === 'self_signed_tls_client_auth') return (await verifier.certificateThumbprints(client)).includes(thumbprint) ? proven : undefined;
  if (client.authMethod !== 'tls_client_auth') return undefined;
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(der);
  } catch {
    return undefined;
  }
  const now = verifier.assertions.now();
  return issuedByTrustedCa(cert, verifier, now) && namesClient(cert, client) ? proven : undefined;
}

const within = (c: X509Certificate, now: number) => Date.parse(c.validFrom) <= now && now <= Date.parse(c.validTo);

/** Valid now, issued and signed by a CA of the bundle, and not listed by a CRL of that CA. */
function issuedByTrustedCa(cert: X509Certificate, { clientCas, revoked }: Pick<ClientVerifier, 'clientCas' | 'revoked'>, now: number): boolean {
  if (!within(cert, now)) return false;
  return clientCas.some((ca) => ca.ca && within(ca, now) && cert.checkIssued(ca) && cert.verify(ca.publicKey) && revoked?.(cert, ca) !== true);
}

/** RFC 8705 §2.1.2: the one name registered, compared as its kind is (DNs per RDN, case-insensitively; DNS names and e-mail case-insensitively; IPs by value; URIs exactly). */
export function namesClient(cert: X509Certificate, client: Pick<ClientRecord, 'tlsSubjectDn' | 'tlsSanDns' | 'tlsSanUri' | 'tlsSanIp' | 'tlsSanEmail'>): boolean {
  if (client.tlsSubjectDn !== undefined) {
    // Node lists the subject in certificate (ASN.1) order, one RDN a line; RFC 4514 strings list it reversed.
    const presented = cert.subject.split('\n').reverse().join(',');
    return sameDn(presented, client.tlsSubjectDn);
  }
  const sans = subjectAltNames(cert.subjectAltName);
  if (client.tlsSanDns !== undefined) return sans.some(([k, v]) => k === 'DNS' && v.toLowerCase() === client.tlsSanDns!.toLowerCase());
  if (client.tlsSanUri !== undefined) return sans.some(([k, v]) => k === 'URI' && v === client.tlsSanUri);
  if (client.tlsSanEmail !== undefined) return sans.some(([k, v]) => k === 'email' && v.toLowerCase() === client.tlsSanEmail!.toLowerCase());
  if (client.tlsSanIp !== undefined) {
    const want = canonicalIp(client.tlsSanIp);
    return want !== undefined && sans.some(([k, v]) => k === 'IP Address' && canonicalIp(v) === want);
  }
  return false;
}

/** Node's `subjectAltName`: `DNS:a, URI:b, IP Address:c, email:d`, a value with special characters JSON-quoted. */
function subjectAltNames(text: string | undefined): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const m of (text ?? '').matchAll(/(?:^|, )([A-Za-z ]+):("(?:[^"\\]|\\.)*"|[^,]*)/g)) {
    let value = m[2]!;
    if (value.startsWith('"')) {
      try {
        value = JSON.parse(value) as string;
      } catch {
        continue;
      }
    }
    out.push([m[1]!, value]);
  }
  return out;
}

function canonicalIp(ip: string): string | undefined {
  return URL.parse(`http://${ip.includes(':') ? `[${ip}]` : ip}/`)?.hostname;
}

/** RDNs split at unescaped commas; attribute types and values compared case-insensitively, spaces around them ignored. */
function sameDn(a: string, b: string): boolean {
  const rdns = (dn: string) =>
    dn.split(/(?<!\\),/).map((rdn) => {
      const eq = rdn.indexOf('=');
      return `${rdn.slice(0, eq).trim().toUpperCase()}=${rdn.slice(eq + 1).trim().replace(/\s+/g, ' ').toLowerCase()}`;
    });
  const x = rdns(a);
  const y = rdns(b);
  return x.length === y.length && x.every((r, i) => r === y[i]);
}

export const tlsClientAuth = { name: 'tls_client_auth' as const, confidential: true, authenticate } satisfies ClientAuthMethod;

export const selfSignedTlsClientAuth = { name: 'self_signed_tls_client_auth' as const, confidential: true, authenticate } satisfies ClientAuthMethod;
