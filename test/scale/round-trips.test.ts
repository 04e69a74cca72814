/**
 * The hot path of client_credentials with a JWT: once the client is cached, issuing a token makes
 * no store round-trip at all. Counted with a store that wraps every repository method.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createMemoryStore } from '../../src/storage/memory/index.ts';
import type { Store } from '../../src/storage/types.ts';
import { startServer } from '../support/harness.ts';

export function countingStore(base: Store): { store: Store; calls: string[] } {
  const calls: string[] = [];
  const wrap = <T extends object>(name: string, repo: T): T =>
    new Proxy(repo, {
      get(target, prop, receiver) {
        const value = Reflect.get(target, prop, receiver) as unknown;
        if (typeof value !== 'function') return value;
        return (...args: unknown[]) => {
          calls.push(`${name}.${String(prop)}`);
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    });
  const store: Store = {
    kind: `counting-${base.kind}`,
    clients: wrap('clients', base.clients),
    keys: wrap('keys', base.keys),
    tokens: wrap('tokens', base.tokens),
    audit: wrap('audit', base.audit),
    sessions: wrap('sessions', base.sessions),
    codes: wrap('codes', base.codes),
    pushedRequests: wrap('pushedRequests', base.pushedRequests),
    deviceCodes: wrap('deviceCodes', base.deviceCodes),
    consents: wrap('consents', base.consents),
    replays: wrap('replays', base.replays),
    consoleUsers: wrap('consoleUsers', base.consoleUsers),
    consoleSessions: wrap('consoleSessions', base.consoleSessions),
    consoleLinks: wrap('consoleLinks', base.consoleLinks),
    purge: wrap('purge', base.purge),
    close: () => base.close(),
  };
  return { store, calls };
}

test('client_credentials JWT: zero store round-trips per token once the client is cached', async (t) => {
  const { store, calls } = countingStore(createMemoryStore());
  // The keyring's poll of keys.version is time-driven, not per token: out of the window measured here.
  const server = await startServer({ clientCacheMs: '3600000', keyringRefreshMs: '3600000' }, { store });
  t.after(() => server.close());
  const c = await server.client();
  await server.token(c.id, c.secret); // first use: loads the client (and writes lastUsedAt once)
  const trips = async () => {
    const text = await (await fetch(`${server.url}/metrics`)).text();
    return [...text.matchAll(/^keymint_store_round_trips_total\{[^}]*\} (\d+)/gm)].reduce((n, m) => n + Number(m[1]), 0);
  };
  const before = await trips();
  assert.ok(before > 0, 'the metric counts store calls');
  calls.length = 0;
  for (let i = 0; i < 50; i++) await server.token(c.id, c.secret);
  assert.deepEqual(calls, []);
  assert.equal(await trips(), before, 'GET /metrics reports the same: no round-trip per token');
});

test('a change to the client through this node takes effect on the next request', async (t) => {
  const server = await startServer({ clientCacheMs: '3600000' });
  t.after(() => server.close());
  const c = await server.client();
  await server.token(c.id, c.secret);
  await server.keymint.clients.setStatus(c.id, 'disabled', 'test');
  await assert.rejects(server.token(c.id, c.secret), /401/);
});
