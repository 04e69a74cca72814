/** Random malformed requests to every seed dialect: a 4xx in the dialect's shape, never a 5xx or a token. */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import fc from 'fast-check';
import { startServer, type TestServer } from '../support/harness.ts';
import { ALL_DIALECTS, expectAnswer, PATHS } from './support/dialects.ts';

const SEED_DIALECTS = ['polygon-oms', 'orum', 'tradevest', 'fuuffy'] as const;
const FIELDS = ['apiKey', 'apiSecret', 'client_id', 'client_secret', 'grant_type', 'scope', '__proto__', 'constructor'];

let server: TestServer;
let id: string;
before(async () => {
  server = await startServer({ dialects: ALL_DIALECTS });
  ({ id } = await server.client());
});
after(() => server.close());

const value = fc.oneof(fc.string(), fc.constantFrom('', '%', '%zz', '\ud800', 'client_credentials'), fc.constant(null), fc.integer(), fc.boolean());
const fieldBag = fc.dictionary(fc.oneof(fc.constantFrom(...FIELDS), fc.string({ maxLength: 8 })), value, { maxKeys: 5 });
const body = fc.oneof(
  fieldBag.map((o) => JSON.stringify(o)),
  fieldBag.map((o) => new URLSearchParams(Object.entries(o).map(([k, v]): [string, string] => [k, String(v)])).toString()),
  fc.string({ maxLength: 80 }),
  fc.constantFrom('{"client_id":1,"client_id":2}', 'client_id=x&client_id=y', '[]', 'null', '{', '{"apiKey":"<id>","apiSecret":"%"}', 'client_id=<id>&client_secret=%25'),
);
const contentType = fc.constantFrom(undefined, 'application/json', 'application/x-www-form-urlencoded', 'text/plain', 'application/json; charset=latin1', 'multipart/form-data', '');

test('S-08 random malformed input gets a 4xx in the dialect\'s shape, never a 5xx, a crash or a token', async () => {
  await fc.assert(
    fc.asyncProperty(fc.constantFrom(...SEED_DIALECTS), body, contentType, async (dialect, raw, type) => {
      const headers: Record<string, string> = type === undefined ? {} : { 'content-type': type };
      const res = await fetch(server.url + PATHS[dialect], { method: 'POST', headers, body: raw.split('<id>').join(id) });
      assert.ok(res.status >= 400 && res.status < 500, `${dialect} answered ${res.status} to ${JSON.stringify(raw)} (${type})`);
      await expectAnswer(dialect, res, { status: res.status });
    }),
    { numRuns: 120, seed: 20261123 },
  );
});
