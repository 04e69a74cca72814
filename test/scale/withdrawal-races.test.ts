/**
 * CON-05 RACE-03 against a withdrawal: a user holds several refresh families of one app, each being
 * refreshed in a loop (over two nodes on one SQLite file; over one PostgreSQL server with a pool of
 * connections) while the admin API withdraws the app for that user. Whatever order the writes land
 * in, once the withdrawal has answered 204 and the loops have stopped, no token any refresh returned
 * is active and no family refreshes: a rotation either landed before the withdrawal, which revoked
 * its tokens, or failed. 10 trials on each store.
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { test, type TestContext } from 'node:test';
import { answerConsent, authorizeGet, basic, pkce, startGrantServer, type GrantServer } from '../grants/support.ts';
import { tempDir } from '../support/harness.ts';
import { DATABASE_URL, dropSchema, needService, uniqueName } from '../support/services.ts';

const TRIALS = 10;
const FAMILIES = 6;
/** A loop stops here if nothing ends it: a family the withdrawal missed then shows as alive. */
const MAX_ROTATIONS = 60;
const CB = 'https://app.example/cb';

type App = { id: string; secret: string };

const tokenCall = async (node: GrantServer, form: Record<string, string>, app: App) => {
  for (let tries = 1; ; tries++) {
    const res = await node.postForm('/oauth2/token', form, { authorization: basic(app.id, app.secret) });
    const body = (await res.json()) as Record<string, unknown>;
    // A 503 did not complete (a loaded machine): sent again after Retry-After, as a client would.
    if (res.status !== 503 || tries === 4) return { status: res.status, body };
    await new Promise((resolve) => setTimeout(resolve, Number(res.headers.get('retry-after')) * 1000));
  }
};

/** The user approves `app` once on the page, then gets FAMILIES codes (the later ones silently) and redeems them. */
async function families(node: GrantServer, app: App, cookie: string): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < FAMILIES; i++) {
    const { verifier, challenge } = pkce();
    let res = await authorizeGet(node, { response_type: 'code', client_id: app.id, redirect_uri: CB, code_challenge: challenge, code_challenge_method: 'S256', scope: 'read', state: 's' }, cookie);
    if (i === 0) {
      assert.equal(res.status, 200, 'the consent page');
      res = await answerConsent(node, res, cookie);
    }
    assert.equal(res.status, 302);
    const code = String(new URL(String(res.headers.get('location'))).searchParams.get('code'));
    const redeemed = await tokenCall(node, { grant_type: 'authorization_code', code, redirect_uri: CB, code_verifier: verifier }, app);
    assert.equal(redeemed.status, 200, JSON.stringify(redeemed.body));
    out.push(String(redeemed.body.refresh_token));
  }
  return out;
}

async function runTrials(t: TestContext, nodes: readonly GrantServer[], backend: string): Promise<void> {
  const app = await nodes[0]!.client({ grants: ['authorization_code', 'refresh_token'], scopes: ['read'], redirectUris: [CB], name: 'racer' });
  let landed = 0;
  for (let trial = 0; trial < TRIALS; trial++) {
    const subject = `racer-${trial}-${Date.now()}`;
    const session = await nodes[0]!.session({ subject });
    const starts = await families(nodes[trial % nodes.length]!, app, `keymint_session=${session.session_token}`);
    const issued: Array<Record<string, unknown>> = [];
    let rotations = 0;
    let withdrawn: Promise<Response> | undefined;
    const loop = async (token: string, i: number) => {
      for (let n = 0; n < MAX_ROTATIONS; n++) {
        const node = nodes[(i + n) % nodes.length]!;
        const answer = await tokenCall(node, { grant_type: 'refresh_token', refresh_token: token }, app);
        if (answer.status !== 200) {
          assert.deepEqual([answer.status, answer.body.error], [400, 'invalid_grant'], JSON.stringify(answer.body));
          return token;
        }
        issued.push(answer.body);
        token = String(answer.body.refresh_token);
        // The withdrawal goes out while every loop is running, after the first few rotations.
        if (++rotations === FAMILIES) withdrawn = nodes[trial % nodes.length]!.admin('DELETE', `/consents/${app.id}?subject=${subject}`);
      }
      return token;
    };
    const last = await Promise.all(starts.map(loop));
    assert.ok(withdrawn, `${backend} trial ${trial}: the withdrawal was sent`);
    assert.equal((await withdrawn).status, 204);
    landed += issued.length;
    for (const token of last) {
      const again = await tokenCall(nodes[0]!, { grant_type: 'refresh_token', refresh_token: token }, app);
      assert.deepEqual([again.status, again.body.error], [400, 'invalid_grant'], `${backend} trial ${trial}: a family still refreshes`);
    }
    for (const body of issued) {
      for (const token of [body.access_token, body.refresh_token]) {
        const seen = (await (await nodes[1 % nodes.length]!.postForm('/oauth2/introspect', { token: String(token) }, { authorization: basic(app.id, app.secret) })).json()) as { active: boolean };
        assert.equal(seen.active, false, `${backend} trial ${trial}: a token issued during the withdrawal is still active`);
      }
    }
    const listed = (await (await nodes[0]!.admin('GET', `/consents?subject=${subject}`)).json()) as { consents: unknown[] };
    assert.deepEqual(listed.consents, []);
  }
  t.diagnostic(`${backend}: ${TRIALS} trials of ${FAMILIES} families refreshed in loops during a withdrawal; ${landed} rotations answered 200, none left a token active`);
}

test('CON-05 RACE-03 SQLite, two nodes on one file: refreshes racing a withdrawal leave no family alive (10 trials)', async (t) => {
  const dataDir = tempDir();
  t.after(() => rmSync(dataDir, { recursive: true, force: true }));
  const a = await startGrantServer({}, { dataDir });
  t.after(() => a.close());
  const b = await startGrantServer({}, { dataDir });
  t.after(() => b.close());
  await runTrials(t, [a, b], 'SQLite');
});

test('CON-05 RACE-03 PostgreSQL, a pool of 16: refreshes racing a withdrawal leave no family alive (10 trials)', async (t) => {
  if (!(await needService(t, 'PostgreSQL'))) return;
  const schema = uniqueName('kmw');
  const s = await startGrantServer({ databaseUrl: DATABASE_URL, databaseSchema: schema, dbPoolSize: '16' });
  t.after(async () => {
    await s.close();
    await dropSchema(schema);
  });
  await runTrials(t, [s], 'PostgreSQL');
});
