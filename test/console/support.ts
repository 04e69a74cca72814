/**
 * A browser-like HTTP client for the console: keeps cookies as a browser would (by name, deleted by
 * Max-Age=0), reads CSRF tokens out of forms, follows nothing by itself.
 */
import { ConsoleUsers } from '../../src/console/index.ts';
import type { ConsoleRole } from '../../src/storage/types.ts';
import type { TestServer } from '../support/harness.ts';

export class Browser {
  readonly jar = new Map<string, string>();
  readonly base: string;
  constructor(base: string) {
    this.base = base;
  }

  cookieHeader(): string {
    return [...this.jar].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  async get(path: string, headers: Record<string, string> = {}): Promise<Response> {
    return this.#keep(await fetch(this.base + path, { redirect: 'manual', headers: { cookie: this.cookieHeader(), ...headers } }));
  }

  async post(path: string, form: Record<string, string>, headers: Record<string, string> = {}): Promise<Response> {
    return this.#keep(
      await fetch(this.base + path, {
        method: 'POST',
        redirect: 'manual',
        headers: { cookie: this.cookieHeader(), 'content-type': 'application/x-www-form-urlencoded', ...headers },
        body: new URLSearchParams(form).toString(),
      }),
    );
  }

  /** The CSRF token of the first form of the page at `path`. */
  async csrf(path = '/console/clients'): Promise<string> {
    const res = await this.get(path);
    const m = /name="csrf" value="([^"]+)"/.exec(await res.text());
    if (!m) throw new Error(`no CSRF field at ${path} (status ${res.status})`);
    return m[1]!;
  }

  async signIn(name: string, password: string): Promise<Response> {
    const csrf = await this.csrf('/console/sign-in');
    return this.post('/console/sign-in', { csrf, username: name, password });
  }

  /** Redeems a one-time link in the browser: opens it, chooses `password`, submits. */
  async redeem(token: string, password = PASSWORD): Promise<Response> {
    const csrf = await this.csrf(`/console/link?token=${token}`);
    return this.post('/console/link', { csrf, token, password, confirm: password });
  }

  #keep(res: Response): Response {
    for (const line of res.headers.getSetCookie()) {
      const [pair, ...attrs] = line.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq).trim();
      if (attrs.some((a) => a.trim().toLowerCase() === 'max-age=0')) this.jar.delete(name);
      else this.jar.set(name, pair!.slice(eq + 1).trim());
    }
    return res;
  }
}

export const PASSWORD = 'correct horse battery staple';

/** Adds console users through the same service the CLI uses. */
export async function addUser(server: TestServer, name: string, role: ConsoleRole, password = PASSWORD): Promise<void> {
  await new ConsoleUsers({ store: server.keymint.store }).add(name, role, password, 'test');
}

/** A browser signed in as a new user of `role`. */
export async function signedIn(server: TestServer, name: string, role: ConsoleRole): Promise<Browser> {
  await addUser(server, name, role);
  const b = new Browser(server.url);
  const res = await b.signIn(name, PASSWORD);
  if (res.status !== 303) throw new Error(`sign-in failed: ${res.status}`);
  return b;
}
