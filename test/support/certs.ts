/**
 * Certificates for mutual-TLS tests, made with the openssl CLI in a temporary directory: a CA, a
 * server certificate for 127.0.0.1 and localhost, client certificates issued by the CA (with a chosen
 * subject and SANs) and self-signed ones. P-256 keys: quick to make.
 */
import { execFileSync } from 'node:child_process';
import { createHash, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, fetch as ufetch } from 'undici';

export interface Issued {
  /** PEM files. */
  readonly certFile: string;
  readonly keyFile: string;
  readonly cert: string;
  readonly key: string;
  readonly der: Buffer;
  /** base64url SHA-256 of the DER (RFC 8705 `x5t#S256`). */
  readonly thumbprint: string;
  /** The certificate as a JWK `x5c` entry (base64 DER) with its public key, for a client's `jwks`. */
  jwk(): Record<string, unknown>;
}

export interface CertKit {
  readonly dir: string;
  readonly ca: Issued;
  readonly server: Issued;
  /** A client certificate issued by the CA. `san`: openssl subjectAltName text, e.g. `DNS:a.example,URI:https://x`. */
  client(name: string, options?: { subject?: string; san?: string; ca?: Issued }): Issued;
  /** A self-signed client certificate. */
  selfSigned(name: string, subject?: string): Issued;
  /** Another CA, not the one the server trusts. */
  otherCa(name: string): Issued;
  /** A PEM CRL file, signed by `ca` (default: the CA), listing `revoked` (RFC 5280 §5; `openssl ca -gencrl`). */
  crl(name: string, revoked: readonly Issued[], ca?: Issued): string;
  /** An undici Agent trusting the CA, presenting `cert` when given; closed by `close()`. */
  agent(cert?: Issued): Agent;
  /** A form POST to `url` over TLS, presenting `cert` when given: the status and the JSON body. */
  postForm(url: string, form: Record<string, string>, cert?: Issued, headers?: Record<string, string>): Promise<{ status: number; body: Record<string, any> }>;
  /** Closes the agents and removes the files. */
  close(): Promise<void>;
}

const openssl = (args: string[], cwd: string) => execFileSync('openssl', args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });

function load(dir: string, name: string): Issued {
  const certFile = join(dir, `${name}.pem`);
  const keyFile = join(dir, `${name}.key`);
  const cert = readFileSync(certFile, 'utf8');
  const x = new X509Certificate(cert);
  const der = x.raw;
  return {
    certFile,
    keyFile,
    cert,
    key: readFileSync(keyFile, 'utf8'),
    der,
    thumbprint: createHash('sha256').update(der).digest('base64url'),
    jwk: () => ({ ...x.publicKey.export({ format: 'jwk' }), x5c: [der.toString('base64')] }),
  };
}

export function makeCerts(): CertKit {
  const dir = mkdtempSync(join(tmpdir(), 'keymint-certs-'));
  const key = (name: string) => openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', `${name}.key`], dir);
  const selfSign = (name: string, subject: string, ext: string[] = []) => {
    key(name);
    openssl(['req', '-x509', '-new', '-key', `${name}.key`, '-subj', subject, '-days', '2', '-out', `${name}.pem`, ...ext], dir);
    return load(dir, name);
  };
  const issue = (name: string, subject: string, ca: Issued, ext: string) => {
    key(name);
    openssl(['req', '-new', '-key', `${name}.key`, '-subj', subject, '-out', `${name}.csr`], dir);
    writeFileSync(join(dir, `${name}.ext`), ext);
    openssl(['x509', '-req', '-in', `${name}.csr`, '-CA', ca.certFile, '-CAkey', ca.keyFile, '-CAcreateserial', '-days', '2', '-extfile', `${name}.ext`, '-out', `${name}.pem`], dir);
    return load(dir, name);
  };
  const caExt = ['-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'];
  const ca = selfSign('ca', '/CN=Keymint Test CA', caExt);
  const server = issue('server', '/CN=localhost', ca, 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
  const agents: Agent[] = [];
  const agent = (cert?: Issued) => {
    const a = new Agent({ connect: { ca: ca.cert, ...(cert ? { cert: cert.cert, key: cert.key } : {}) } });
    agents.push(a);
    return a;
  };
  return {
    dir,
    ca,
    server,
    agent,
    postForm: async (url, form, cert, headers = {}) => {
      const res = await ufetch(url, { dispatcher: agent(cert), method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body: new URLSearchParams(form).toString() });
      return { status: res.status, body: (await res.json()) as Record<string, any> };
    },
    client: (name, options = {}) =>
      issue(name, options.subject ?? `/CN=${name}`, options.ca ?? ca, `extendedKeyUsage=clientAuth\n${options.san ? `subjectAltName=${options.san}\n` : ''}`),
    selfSigned: (name, subject) => selfSign(name, subject ?? `/CN=${name}`),
    crl: (name, revoked, by = ca) => {
      // openssl ca keeps what it revoked in a database of its own: one per list.
      writeFileSync(join(dir, `${name}.cnf`), `[ca]\ndefault_ca = d\n[d]\ndatabase = ${name}.index\ncrlnumber = ${name}.crlnumber\ndefault_md = sha256\ndefault_crl_days = 2\n`);
      writeFileSync(join(dir, `${name}.index`), '');
      writeFileSync(join(dir, `${name}.crlnumber`), '01\n');
      const signer = ['-config', `${name}.cnf`, '-keyfile', by.keyFile, '-cert', by.certFile];
      for (const r of revoked) openssl(['ca', ...signer, '-revoke', r.certFile], dir);
      openssl(['ca', ...signer, '-gencrl', '-out', `${name}.crl.pem`], dir);
      return join(dir, `${name}.crl.pem`);
    },
    otherCa: (name) => selfSign(name, `/CN=${name}`, caExt),
    close: async () => {
      await Promise.all(agents.map((a) => (a.destroyed || a.closed ? undefined : a.close())));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
