/**
 * Hostile input on the sandbox's control API (`/_sandbox/…`, docs/sandbox.md), one property test
 * (fast-check, fixed seed, bounded runs): faults, clock, claims, requests and reset with hostile
 * bodies, content types, methods and path segments. Each answer is a 2xx or a 4xx
 * `{ error, error_description }`, never a 5xx; the sandbox answers afterwards; an error changes no
 * fault, clock offset or claims.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import fc from 'fast-check';
import { startSandbox, type Sandbox } from '../../src/start-sandbox.ts';
import { assertAlive, assertAllowOn405, assertErrorShape, assertNoSecret, assertNot5xx, hostileBody, hostileBag, hostileContentType, hostileMethod, hostileNumber, hostileSegment, hostileValue, parseJson, send } from '../support/hostile.ts';

let sb: Sandbox;
before(async () => {
  sb = await startSandbox({ clients: { app: { scopes: ['read'], claims: { tenant: 'acme' } } }, sandbox: { dialects: ['oauth2', 'orum'] } });
});
after(() => sb.close());

/** What the control API can change: faults, the clock's offset, the declared client's claims. */
const state = async () => {
  const clock = (await (await fetch(`${sb.url}/_sandbox/clock`)).json()) as { offsetMs: number };
  const claims = await (await fetch(`${sb.url}/_sandbox/clients/app/claims`)).text();
  return JSON.stringify({ faults: sb.faults(), offset: clock.offsetMs, claims });
};

const FAULT_FIELDS = ['dialect', 'endpoint', 'client', 'status', 'error', 'times', 'after', 'fraction', 'latencyMs', 'jitterMs', 'drop', 'retryAfter', 'tokenTtl', 'advanceMs', 'offsetMs'];

test('S-08 the sandbox control API: hostile faults, clock moves, claims, methods and paths are a 4xx in its shape that changes nothing', async () => {
  let before = await state();
  const path = fc.oneof(
    fc.constantFrom('/_sandbox', '/_sandbox/faults', '/_sandbox/clock', '/_sandbox/requests', '/_sandbox/clients/app/claims', '/_sandbox/faults/x', '/_sandbox/nope', '/_sandbox//faults'),
    hostileSegment.map((s) => `/_sandbox/clients/${s}/claims`),
    hostileSegment.map((s) => `/_sandbox/faults/${s}`),
  );
  const shallow = fc.record({
    path,
    method: hostileMethod,
    body: fc.oneof(fc.constant(undefined), hostileBody(hostileBag(FAULT_FIELDS))),
    type: fc.oneof({ arbitrary: fc.constant('application/json'), weight: 3 }, hostileContentType),
  });
  // A JSON object of the endpoint's own fields with hostile values: past parsing, into the checks.
  const deep = fc
    .record({
      target: fc.constantFrom('POST /_sandbox/faults', 'POST /_sandbox/clock', 'PUT /_sandbox/clients/app/claims'),
      bag: fc.dictionary(fc.constantFrom(...FAULT_FIELDS, 'tenant', 'iss', 'exp', '__proto__'), fc.oneof(hostileValue, { arbitrary: hostileNumber, weight: 2 }, fc.constantFrom('orum', 'token', 429, 503, 'invalid_client', true)), { minKeys: 1, maxKeys: 4 }),
    })
    .map(({ target, bag }) => {
      const [method, p] = target.split(' ') as [string, string];
      return { path: p, method, body: JSON.stringify(bag) as string | Buffer | undefined, type: 'application/json' as string | undefined };
    });
  await fc.assert(
    fc.asyncProperty(fc.oneof(shallow, { arbitrary: deep, weight: 2 }), async ({ path, method: asked, body, type }) => {
      const method = asked.toUpperCase();
      const res = await send(sb.url + path, { method, headers: { 'content-type': type }, body });
      const what = `${method} ${path.slice(0, 100)} ${JSON.stringify(String(body ?? '').slice(0, 200))} (${type})`;
      assertNot5xx(res.status, what);
      assertAllowOn405(res, what);
      assertNoSecret(res.text, res.headers, [sb.clients.app!.secret!], what);
      if (res.status < 300) {
        before = await state();
        return;
      }
      assert.ok(res.status >= 400, `${what} → ${res.status}`);
      if (method !== 'HEAD') assertErrorShape(parseJson(res.text, what), what, [], true);
      assert.equal(await state(), before, `${what}: an error changed the sandbox`);
    }),
    { numRuns: 200, seed: 20261211 },
  );
  await assertAlive(sb.url);
});
