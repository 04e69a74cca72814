/**
 * RFC 9440 `Client-Cert`: the certificate a TLS-terminating proxy received from the client, sent on
 * as one RFC 8941 byte sequence (`:` base64 of the DER `:`). A resource server believes it only when
 * its operator says the proxy removes the header from every client's request (`clientCertHeader`),
 * since otherwise a caller could name any certificate. A malformed or repeated header is no
 * certificate; the thumbprint comparison decides the rest. (The server reads the same header in
 * src/http/tls.ts; keymint/verify imports nothing of the server, so the few lines are its own.)
 */
const BYTE_SEQUENCE = /^[ ]*:([A-Za-z0-9+/]+={0,2}):[ ]*$/;

export function certificateFromHeader(value: string | readonly string[] | null | undefined): Uint8Array | undefined {
  const one = typeof value === 'string' ? value : value?.length === 1 ? value[0] : undefined;
  const base64 = one === undefined ? undefined : BYTE_SEQUENCE.exec(one)?.[1];
  if (base64 === undefined || base64.length % 4 !== 0) return undefined;
  return Buffer.from(base64, 'base64');
}
