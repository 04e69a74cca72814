/** The HTTP request and response as the routes, dialects and admin API see them. */
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
  readonly body: Buffer;
  /** Client address as seen by the socket. */
  readonly ip: string;
}

export interface HttpResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string | Buffer;
}

export type Handler = (req: HttpRequest) => Promise<HttpResponse> | HttpResponse;

export interface Route {
  readonly method: string;
  readonly path: string;
  readonly handler: Handler;
  /** Builds the 405 answer in the shape of whoever owns the path. */
  readonly methodNotAllowed?: (req: HttpRequest, allow: readonly string[]) => HttpResponse;
  /** Builds the 503 sent when the server sheds load, in the owner's shape (before the body is read). */
  readonly unavailable?: (req: HttpRequest, retryAfter: number) => HttpResponse;
  /** Name of the owner (a dialect, `core`, `admin`), for collision messages. */
  readonly owner: string;
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
