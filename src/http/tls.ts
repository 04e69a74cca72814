/**
 * TLS for `serve` (RFC 8705 mutual TLS): the certificate, key and client CA files read and checked
 * once, before anything is created, and where a request's client certificate comes from: the TLS
 * connection, or the RFC 9440 `Client-Cert` header of a TLS-terminating proxy when the operator says
 * that proxy is trusted. What the certificate proves is decided by client authentication, not here.
 */
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { TLSSocket } from 'node:tls';
import type { Config } from '../config/index.ts';
import { ConfigError } from '../config/parse.ts';
import { parseCrl, serialKey, signedBy } from '../util/crl.ts';

/** A TLS flag's refusal, named as the operator gives it (`--tls-cert: …`), as every option's is. */
const flagError = (flag: string, reason: string): ConfigError => new ConfigError(flag, reason, `--${flag}`);

export interface TlsMaterial {
  readonly cert: Buffer;
  readonly key: Buffer;
}

type TlsConfig = Pick<Config, 'tlsCert' | 'tlsKey' | 'tlsClientCa' | 'tlsClientCrl' | 'port' | 'mtlsPort' | 'mtlsUrl' | 'clientCertHeader'>;

function read(key: string, file: string, what: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'a directory' : code;
    throw flagError(key, `cannot read the ${what} ${file} (${why}); point --${key} at a readable PEM file`);
  }
}

/** Every certificate of a PEM bundle; a file without one is refused naming `key`. */
export function pemCertificates(key: string, file: string, pem: Buffer, what: string): X509Certificate[] {
  const blocks = pem.toString('latin1').match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g) ?? [];
  try {
    const certs = blocks.map((b) => new X509Certificate(b));
    if (certs.length > 0) return certs;
  } catch {
    // Named below.
  }
  throw flagError(key, `the ${what} ${file} holds no PEM certificate that can be read`);
}

/**
 * The server's certificate and key, or undefined when TLS is off; refuses a half-given pair, unreadable
 * files, a key of another certificate, and a mutual-TLS listener that could receive no certificate.
 */
export function loadTls(config: TlsConfig): TlsMaterial | undefined {
  const { tlsCert, tlsKey } = config;
  if (config.tlsClientCa !== undefined) loadClientCas(config);
  loadRevocations(config);
  checkMtlsListener(config);
  if (tlsCert === undefined && tlsKey === undefined) return undefined;
  if (tlsCert === undefined) throw flagError('tls-cert', 'is needed with --tls-key; give both (or neither, for plain HTTP)');
  if (tlsKey === undefined) throw flagError('tls-key', 'is needed with --tls-cert; give both (or neither, for plain HTTP)');
  const cert = read('tls-cert', tlsCert, 'certificate');
  const key = read('tls-key', tlsKey, 'private key');
  const [leaf] = pemCertificates('tls-cert', tlsCert, cert, 'certificate');
  let privateKey;
  try {
    privateKey = createPrivateKey(key);
  } catch {
    throw flagError('tls-key', `${tlsKey} holds no PEM private key that can be read (an encrypted key is not supported)`);
  }
  if (!leaf!.checkPrivateKey(privateKey)) throw flagError('tls-key', `${tlsKey} is not the private key of the certificate ${tlsCert}; give the key it was issued for`);
  return { cert, key };
}

/** `--mtls-port` needs a way for certificates to arrive, a port of its own; `--mtls-url` names where that listener is. */
function checkMtlsListener(config: TlsConfig): void {
  if (config.mtlsPort === undefined) {
    if (config.mtlsUrl !== undefined) throw flagError('mtls-url', 'names where the --mtls-port listener is reached; give --mtls-port too');
    return;
  }
  if (config.tlsCert === undefined && config.tlsKey === undefined && !config.clientCertHeader) {
    throw flagError('mtls-port', 'needs --tls-cert and --tls-key (Keymint ends TLS) or --client-cert-header (a proxy ends it): otherwise no certificate can arrive there');
  }
  if (config.mtlsPort !== 0 && config.mtlsPort === config.port) throw flagError('mtls-port', `is the port of the main listener (--port ${config.port}); give the mutual-TLS listener a port of its own`);
}

/** The CAs of `--tls-client-ca`, or an empty list when unset. */
export function loadClientCas(config: Pick<Config, 'tlsClientCa'>): X509Certificate[] {
  const file = config.tlsClientCa;
  if (file === undefined) return [];
  return pemCertificates('tls-client-ca', file, read('tls-client-ca', file, 'client CA bundle'), 'client CA bundle');
}

/**
 * Whether a CRL of `--tls-client-crl` lists a certificate, by the CA that signed the list: undefined
 * when the option is unset. Refuses a file that is unreadable, holds no CRL, or one signed by no CA
 * of `--tls-client-ca`.
 */
export function loadRevocations(config: Pick<Config, 'tlsClientCa' | 'tlsClientCrl'>): ((cert: X509Certificate, ca: X509Certificate) => boolean) | undefined {
  const file = config.tlsClientCrl;
  if (file === undefined) return undefined;
  if (config.tlsClientCa === undefined) throw flagError('tls-client-crl', 'lists certificates revoked by the CAs of --tls-client-ca; give --tls-client-ca too');
  const pem = read('tls-client-crl', file, 'CRL file').toString('latin1');
  const blocks = pem.match(/-----BEGIN X509 CRL-----[^-]+-----END X509 CRL-----/g) ?? [];
  const crls = blocks.flatMap((b) => {
    try {
      return [parseCrl(Buffer.from(b.replace(/-----[^-]+-----/g, '').replace(/\s/g, ''), 'base64'))];
    } catch {
      return [];
    }
  });
  if (crls.length === 0 || crls.length < blocks.length) throw flagError('tls-client-crl', `the CRL file ${file} holds no PEM CRL (X509 CRL) that can be read`);
  const cas = loadClientCas(config);
  const signed = crls.map((crl) => ({ crl, ca: cas.find((ca) => signedBy(crl, ca))?.fingerprint256 }));
  if (signed.some((s) => s.ca === undefined)) throw flagError('tls-client-crl', `the CRL file ${file} holds a CRL signed by none of the CAs of --tls-client-ca`);
  return (cert, ca) => signed.some((s) => s.ca === ca.fingerprint256 && s.crl.serials.has(serialKey(cert.serialNumber)));
}

/**
 * The certificate the request's client presented, DER: from the TLS connection, or else, when
 * `header` is on, from RFC 9440 `Client-Cert` (one structured-field byte sequence, `:base64:`).
 * A malformed header is no certificate (the request goes on as if none was sent).
 */
export function clientCertificate(socket: unknown, headers: Readonly<Record<string, string | string[] | undefined>>, header: boolean): Buffer | undefined {
  const tls = socket as Partial<TLSSocket>;
  if (typeof tls.getPeerCertificate === 'function') {
    const peer = tls.getPeerCertificate(false);
    if (peer?.raw !== undefined && peer.raw.length > 0) return peer.raw;
  }
  if (!header) return undefined;
  return clientCertHeader(headers['client-cert']);
}

/** RFC 9440 §2.2 with RFC 8941 §3.3.5: `:` base64 `:`, nothing else; a repeated header is refused. */
export function clientCertHeader(value: string | string[] | undefined): Buffer | undefined {
  if (typeof value !== 'string') return undefined;
  const m = /^[ ]*:([A-Za-z0-9+/]*={0,2}):[ ]*$/.exec(value);
  if (!m || m[1]!.length % 4 !== 0 || m[1]!.length === 0) return undefined;
  const der = Buffer.from(m[1]!, 'base64');
  try {
    new X509Certificate(der);
  } catch {
    return undefined;
  }
  return der;
}
