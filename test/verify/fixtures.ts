/**
 * Shared pieces of the verify suites: a real Keymint with a fixed issuer, and a fetch that reaches it
 * under that issuer's name while counting requests per path.
 */
import type { RawConfig } from '../../src/config/index.ts';
import { startServer, type TestServer } from '../support/harness.ts';

export const ISSUER = 'http://localhost:8080';

export interface CountingFetch {
  readonly fetch: typeof fetch;
  /** Requests made, by URL path. */
  count(path: string): number;
}

/** Rewrites `from` (an origin) to `to`, so discovery of ISSUER reaches the server bound on port 0. */
export function countingFetch(from: string, to: string): CountingFetch {
  const counts = new Map<string, number>();
  const wrapped = ((input: string | URL | Request, init?: RequestInit) => {
    const url = new URL(typeof input === 'string' || input instanceof URL ? input : input.url);
    counts.set(url.pathname, (counts.get(url.pathname) ?? 0) + 1);
    const target = url.origin === from ? `${to}${url.pathname}${url.search}` : url.toString();
    return fetch(target, init);
  }) as typeof fetch;
  return { fetch: wrapped, count: (path) => counts.get(path) ?? 0 };
}

export async function startIssuer(flags: RawConfig = {}): Promise<TestServer> {
  return startServer({ issuer: ISSUER, ...flags });
}

/** A controllable clock, ms. */
export function clock(start = Date.now()) {
  let t = start;
  return {
    now: () => t,
    advance(ms: number) {
      t += ms;
    },
    set(ms: number) {
      t = ms;
    },
  };
}
