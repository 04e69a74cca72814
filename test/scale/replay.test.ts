/**
 * One-time use across nodes (PJ-01, DP-01): two nodes on one PostgreSQL schema (with Redis, and without) refuse
 * the second presentation of a client assertion or a DPoP proof, whichever node saw the first, and
 * of many concurrent presentations spread over both nodes exactly one passes.
 */
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { cluster, type Node } from '../support/cluster.ts';
import { needService } from '../support/services.ts';
import { assertion, dpopProof, JWT_BEARER, keyPair, privateKeyJwtClient } from '../support/sender.ts';

const ISSUER = 'http://localhost:8080';
const TOKEN_URL = `${ISSUER}/oauth2/token`;

for (const redis of [true, false]) {
  const guard = redis ? 'Redis SET NX PXAT' : 'the PostgreSQL replays table';
  test(`PJ-01 DP-01 through ${guard}: an assertion or a proof used on one node is refused on the other; of 20 concurrent presentations on both nodes one passes`, async (t) => {
    if (!(await needService(t, 'PostgreSQL')) || (redis && !(await needService(t, 'Redis')))) return;
    await replayAcrossNodes(t, redis);
  });
}

async function replayAcrossNodes(t: TestContext, redis: boolean): Promise<void> {
  // One issuer for the deployment, as behind a load balancer: assertions and proofs name it, not a node.
  const c = cluster({ issuer: ISSUER, lockoutThreshold: '1000', ...(redis ? {} : { redisUrl: undefined }) });
  t.after(() => c.close());
  const a = await c.start();
  const b = await c.start();
  const key = await keyPair('ES256', 'k1');
  const proofKey = await keyPair('ES256');
  const clientId = await privateKeyJwtClient(a.keymint, { keys: [key] });
  const form = (clientAssertion: string) => ({ grant_type: 'client_credentials', client_assertion_type: JWT_BEARER, client_assertion: clientAssertion });
  const post = async (node: Node, body: Record<string, string>, headers: Record<string, string> = {}) => {
    const res = await fetch(`${node.url}/oauth2/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body: new URLSearchParams(body) });
    return [res.status, ((await res.json()) as { error?: string }).error ?? 'ok'] as const;
  };
  const fresh = () => assertion(key, { clientId, aud: ISSUER });

  const once = await fresh();
  assert.deepEqual(await post(a, form(once)), [200, 'ok']);
  assert.deepEqual(await post(b, form(once)), [401, 'invalid_client'], 'the assertion jti, seen by the other node');

  const proof = await dpopProof(proofKey, { htu: TOKEN_URL });
  assert.deepEqual(await post(b, form(await fresh()), { dpop: proof }), [200, 'ok']);
  assert.deepEqual(await post(a, form(await fresh()), { dpop: proof }), [400, 'invalid_dpop_proof'], 'the proof, seen by the other node');

  const shared = await fresh();
  const outcomes = await Promise.all(Array.from({ length: 20 }, (_, i) => post(i % 2 === 0 ? a : b, form(shared))));
  assert.equal(outcomes.filter(([status]) => status === 200).length, 1, JSON.stringify(outcomes));
  const sharedProof = await dpopProof(proofKey, { htu: TOKEN_URL });
  const forms = await Promise.all(Array.from({ length: 20 }, () => fresh()));
  const proofOutcomes = await Promise.all(forms.map((f, i) => post(i % 2 === 0 ? a : b, form(f), { dpop: sharedProof })));
  assert.equal(proofOutcomes.filter(([status]) => status === 200).length, 1, JSON.stringify(proofOutcomes));
  assert.ok(proofOutcomes.every(([status, error]) => status === 200 || error === 'invalid_dpop_proof'));
}
