/**
 * The HTTP request and response as plain data: what the HTTP server builds, and what dialects, the
 * admin API and every route read and write. Nothing here knows node:http's objects.
 */
import type { IncomingHttpHeaders } from 'node:http';

export interface HttpRequest {
  readonly method: string;
  /** Path without the query string, percent-encoding untouched. */
  readonly path: string;
  /** Raw query string without `?` ('' when absent). */
  readonly query: string;
  readonly headers: IncomingHttpHeaders;
  /** Every value of every header, duplicates included (Node keeps only the first in `headers`). */
  readonly headersDistinct: Readonly<Record<string, string[] | undefined>>;
  /** Header names and values as they came, alternating (Node's `rawHeaders`): read by `headerValues`. */
  readonly rawHeaders: readonly string[];
  readonly body: Buffer;
  /** Client address as seen by the socket. */
  readonly ip: string;
  /**
   * The DER certificate the client presented over TLS (RFC 8705), or that a trusted TLS-terminating
   * proxy passed on in `Client-Cert` (RFC 9440); absent: none.
   */
  readonly clientCertificate?: Buffer | undefined;
}

export interface HttpResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string | Buffer;
}

/**
 * Every value of the header `name` (lower-case) in the order sent, undefined when it was not sent:
 * `headersDistinct[name]`, read from the raw list. Node builds `headersDistinct` whole at its first
 * use, lower-casing every header's name, where the token endpoint reads two or three headers.
 */
export function headerValues(req: Pick<HttpRequest, 'rawHeaders'>, name: string): string[] | undefined {
  const raw = req.rawHeaders;
  let values: string[] | undefined;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const field = raw[i]!;
    if (field.length === name.length && field.toLowerCase() === name) (values ??= []).push(raw[i + 1]!);
  }
  return values;
}

export const NO_STORE = { 'Cache-Control': 'no-store', Pragma: 'no-cache' } as const;

/** JSON response, `application/json;charset=UTF-8` (RFC 6749 §5.1). */
export function json(status: number, body: unknown, headers: Readonly<Record<string, string>> = {}): HttpResponse {
  return {
    status,
    headers: { 'Content-Type': 'application/json;charset=UTF-8', ...headers },
    body: JSON.stringify(body),
  };
}
