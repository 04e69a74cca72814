/**
 * Races that could leave a grant family alive, over HTTP against several nodes sharing one store:
 * ten simultaneous redemptions of one code, and ten simultaneous refreshes of one refresh token,
 * spread over the nodes. Whatever order the writes land in, a losing request revokes the family, so
 * after each trial nothing the winner received is still active (introspection says inactive, a
 * refresh with the winner's refresh token fails). 25 trials of each on SQLite (two nodes on one
 * file) and on PostgreSQL (three nodes on one schema, with Redis).
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { test, type TestContext } from 'node:test';
import { cluster } from '../support/cluster.ts';
import { basic, startServer, tempDir } from '../support/harness.ts';
import { needService } from '../support/services.ts';
import type { Keymint } from '../../src/service.ts';

const TRIALS = 25;
const PARALLEL = 10;
const REDIRECT = 'https://app.example/cb';

interface RaceNode {
  readonly url: string;
  readonly keymint: Keymint;
}

interface Client {
  readonly id: string;
  readonly secret: string;
}

const form = (node: RaceNode, path: string, body: Record<string, string>, client: Client) =>
  fetch(`${node.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(client.id, client.secret) },
    body: new URLSearchParams(body).toString(),
  });

/** A code for `client`, from the authorization endpoint of `node` (a trusted client: no consent page). */
async function obtainCode(node: RaceNode, client: Client): Promise<{ code: string; verifier: string }> {
  const verifier = randomBytes(32).toString('base64url');
  const challenge = createHash('sha256').update(verifier).digest('base64url');
  const { sessionToken } = await node.keymint.sessions.create({ subject: `user-${randomBytes(4).toString('hex')}` }, 'test');
  const query = new URLSearchParams({ response_type: 'code', client_id: client.id, redirect_uri: REDIRECT, code_challenge: challenge, code_challenge_method: 'S256', scope: 'read', state: 's' });
  const res = await fetch(`${node.url}/oauth2/authorize?${query}`, { redirect: 'manual', headers: { cookie: `keymint_session=${sessionToken}` } });
  assert.equal(res.status, 302, await res.text());
  const code = new URL(String(res.headers.get('location'))).searchParams.get('code');
  assert.ok(code);
  return { code, verifier };
}

/** Attempts a request makes while answered 503, the first included. */
const ATTEMPTS = 4;
let retried = 0;

/**
 * Fires `PARALLEL` identical token requests, spread over the nodes; resolves their final answers.
 * A 503 (a node shedding load, or the store not answering in time on a loaded machine) is not an
 * answer to the race: the request did not complete, so it may have revoked nothing. It must carry
 * Retry-After, and is sent again after that delay, as a client would; only 200 and 400
 * `invalid_grant` are final, and the retry is a redemption or refresh like any other.
 */
async function race(nodes: readonly RaceNode[], body: Record<string, string>, client: Client) {
  const attempt = async (node: RaceNode) => {
    for (let tries = 1; ; tries++) {
      const res = await form(node, '/oauth2/token', body, client);
      const answer = { status: res.status, body: (await res.json()) as Record<string, unknown> };
      if (answer.status !== 503 || tries === ATTEMPTS) return answer;
      const after = Number(res.headers.get('retry-after'));
      assert.ok(Number.isInteger(after) && after >= 0, `503 without a Retry-After: ${JSON.stringify(answer)}`);
      retried++;
      await new Promise((resolve) => setTimeout(resolve, after * 1000));
    }
  };
  const answers = await Promise.all(Array.from({ length: PARALLEL }, (_, i) => attempt(nodes[i % nodes.length]!)));
  for (const a of answers) assert.ok(a.status === 200 || (a.status === 400 && a.body.error === 'invalid_grant'), JSON.stringify(a));
  return answers;
}

/** Nothing a 200 answer carried is still usable: access token inactive everywhere, refresh refused. */
async function assertFamilyDead(nodes: readonly RaceNode[], winners: ReadonlyArray<Record<string, unknown>>, client: Client, what: string) {
  for (const w of winners) {
    for (const node of nodes) {
      const seen = (await (await form(node, '/oauth2/introspect', { token: String(w.access_token) }, client)).json()) as { active: boolean };
      assert.equal(seen.active, false, `${what}: the winner's access token is still active`);
      const refresh = (await (await form(node, '/oauth2/introspect', { token: String(w.refresh_token) }, client)).json()) as { active: boolean };
      assert.equal(refresh.active, false, `${what}: the winner's refresh token is still active`);
    }
    const again = await form(nodes[0]!, '/oauth2/token', { grant_type: 'refresh_token', refresh_token: String(w.refresh_token) }, client);
    assert.equal(again.status, 400, `${what}: the winner's refresh token still refreshes`);
  }
}

async function runTrials(t: TestContext, nodes: readonly RaceNode[], backend: string): Promise<void> {
  const { client, clientSecret } = await nodes[0]!.keymint.clients.create(
    { name: 'racer', grants: ['authorization_code', 'refresh_token'], scopes: ['read'], redirectUris: [REDIRECT], trusted: true },
    'test',
  );
  const app = { id: client.client_id, secret: clientSecret! };
  let codeWins = 0;
  let refreshWins = 0;
  for (let trial = 0; trial < TRIALS; trial++) {
    // RACE-01: ten redemptions of one code.
    const { code, verifier } = await obtainCode(nodes[trial % nodes.length]!, app);
    const redemptions = await race(nodes, { grant_type: 'authorization_code', code, redirect_uri: REDIRECT, code_verifier: verifier }, app);
    const redeemed = redemptions.filter((a) => a.status === 200).map((a) => a.body);
    assert.ok(redeemed.length <= 1, `${backend} trial ${trial}: ${redeemed.length} redemptions succeeded`);
    codeWins += redeemed.length;
    await assertFamilyDead(nodes, redeemed, app, `${backend} code trial ${trial}`);

    // RACE-02: ten refreshes of one refresh token (a fresh family from an unraced redemption).
    const fresh = await obtainCode(nodes[0]!, app);
    const start = await form(nodes[0]!, '/oauth2/token', { grant_type: 'authorization_code', code: fresh.code, redirect_uri: REDIRECT, code_verifier: fresh.verifier }, app);
    assert.equal(start.status, 200);
    const { refresh_token: refreshToken } = (await start.json()) as { refresh_token: string };
    const refreshes = await race(nodes, { grant_type: 'refresh_token', refresh_token: refreshToken }, app);
    const rotated = refreshes.filter((a) => a.status === 200).map((a) => a.body);
    assert.ok(rotated.length <= 1, `${backend} trial ${trial}: ${rotated.length} refreshes succeeded`);
    refreshWins += rotated.length;
    await assertFamilyDead(nodes, rotated, app, `${backend} refresh trial ${trial}`);
  }
  t.diagnostic(`${backend}: ${TRIALS} trials each; a redemption won in ${codeWins}, a refresh in ${refreshWins}; no family alive after any; ${retried} requests retried after a 503 so far`);
}

test('RACE-01 RACE-02 SQLite, two nodes on one file: after 10 parallel redemptions or refreshes no token of the family is active (25 trials each)', async (t) => {
  const dataDir = tempDir();
  t.after(() => rmSync(dataDir, { recursive: true, force: true }));
  const a = await startServer({ dialects: ['oauth2'] }, { dataDir });
  t.after(() => a.close());
  const b = await startServer({ dialects: ['oauth2'] }, { dataDir });
  t.after(() => b.close());
  await runTrials(t, [a, b], 'SQLite');
});

test('RACE-01 RACE-02 PostgreSQL, three nodes: after 10 parallel redemptions or refreshes no token of the family is active (25 trials each)', async (t) => {
  if (!(await needService(t, 'PostgreSQL')) || !(await needService(t, 'Redis'))) return;
  const c = cluster({ dialects: ['oauth2'], dbPoolSize: '8' });
  t.after(() => c.close());
  const nodes = [await c.start(), await c.start(), await c.start()];
  await runTrials(t, nodes, 'PostgreSQL');
});
