/**
 * CON-06: redeeming a code of a client that is not trusted also finds the user's consent, in the
 * write that consumes the code. The race it closes, made deterministic: an authorization request
 * checks the remembered consent, a withdrawal's transaction deletes the consent and revokes every
 * code it can see, and only then is the request's code stored, so the withdrawal never saw it. Here
 * the code is issued first and the store is driven to delete only the consent, which is what that
 * interleaving leaves behind. Exact answers in both dialects, on memory, SQLite and PostgreSQL; the
 * ordinary flows (consent page, remembered consent, trusted client) still end in tokens.
 */
import assert from 'node:assert/strict';
import { describe, test, type TestContext } from 'node:test';
import { answerConsent, authorizeGet, basic, pkce, startGrantServer, type GrantServer } from './support.ts';
import { DATABASE_URL, dropSchema, needService, uniqueName } from '../support/services.ts';

const CB = 'https://app.example/cb';
const WITHDRAWN = { error: 'invalid_grant', error_description: 'The user has withdrawn the approval of this application.' };
const SPENT = { error: 'invalid_grant', error_description: 'The authorization code is invalid, expired or already used.' };

type App = { id: string; secret: string };

const backends: Array<[string, (t: TestContext) => Promise<GrantServer | undefined>]> = [
  ['memory', async () => startGrantServer({ dataDir: ':memory:' })],
  ['SQLite', async () => startGrantServer()],
  ['PostgreSQL', async (t) => {
    if (!(await needService(t, 'PostgreSQL'))) return undefined;
    const schema = uniqueName('kmc');
    const s = await startGrantServer({ databaseUrl: DATABASE_URL, databaseSchema: schema });
    t.after(() => dropSchema(schema));
    return s;
  }],
];

for (const [backend, start] of backends) {
  describe(`consent found at redemption, ${backend} (CON-06)`, () => {
    /** A server, an app of the code flow, and a fresh signed-in user. */
    const setup = async (t: TestContext, over: Record<string, unknown> = {}) => {
      const s = await start(t);
      if (!s) return undefined;
      t.after(() => s.close());
      const app = await s.client({ grants: ['authorization_code', 'refresh_token'], scopes: ['openid', 'read'], redirectUris: [CB], name: 'Acme Reports', ...over });
      const subject = `user-${Date.now()}`;
      const cookie = `keymint_session=${(await s.session({ subject })).session_token}`;
      return { s, app, subject, cookie };
    };
    /** The authorization request (approved on the page when it is shown, with `approve`): resolves the code. */
    const authorize = async (s: GrantServer, app: App, cookie: string, options: { approve?: boolean; prompt?: string; path?: string } = {}) => {
      const { verifier, challenge } = pkce();
      const path = options.path ?? '/oauth2/authorize';
      const query = { response_type: 'code', client_id: app.id, redirect_uri: CB, code_challenge: challenge, code_challenge_method: 'S256', scope: 'openid read', state: 'st', ...(options.prompt ? { prompt: options.prompt } : {}) };
      let res = await authorizeGet(s, query, cookie, path);
      if (options.approve) {
        assert.equal(res.status, 200, 'the consent page');
        res = await answerConsent(s, res, cookie, 'approve', path);
      }
      assert.equal(res.status, 302);
      const code = new URL(String(res.headers.get('location'))).searchParams.get('code');
      assert.ok(code, String(res.headers.get('location')));
      return { code, verifier };
    };
    const redeem = (s: GrantServer, app: App, grant: { code: string; verifier: string }, path = '/oauth2/token') =>
      s.postForm(path, { grant_type: 'authorization_code', code: grant.code, redirect_uri: CB, code_verifier: grant.verifier }, { authorization: basic(app.id, app.secret) });
    const issued = async (s: GrantServer, res: Response) => {
      const body = await s.json(res);
      assert.equal(res.status, 200, JSON.stringify(body));
      assert.equal(typeof body.access_token, 'string');
      assert.equal(typeof body.refresh_token, 'string');
      assert.equal(body.scope, 'openid read');
    };
    const refused = async (s: GrantServer, res: Response, expected: Record<string, unknown>) => {
      assert.equal(res.status, 400);
      assert.equal(res.headers.get('cache-control'), 'no-store');
      assert.deepEqual(await s.json(res), expected);
    };

    test(`CON-06 ${backend}: consent page → code → tokens, and remembered consent → code → tokens`, async (t) => {
      const env = await setup(t);
      if (!env) return;
      const { s, app, cookie } = env;
      await issued(s, await redeem(s, app, await authorize(s, app, cookie, { approve: true })));
      await issued(s, await redeem(s, app, await authorize(s, app, cookie, { prompt: 'none' })));
    });

    test(`CON-06 ${backend}: a code stored after the withdrawal deleted the consent is refused at redemption, in both dialects, and spent`, async (t) => {
      const env = await setup(t);
      if (!env) return;
      const { s, app, subject, cookie } = env;
      const store = s.keymint.store;
      await issued(s, await redeem(s, app, await authorize(s, app, cookie, { approve: true })));
      const late = await authorize(s, app, cookie, { prompt: 'none' });
      // The withdrawal whose transaction the code missed: the consent is gone, the code is not revoked.
      assert.equal(await store.consents.revoke(app.id, 'user', subject), true);
      await refused(s, await redeem(s, app, late), WITHDRAWN);
      // Nothing was issued, and the code is spent: approved again, it still gives nothing.
      assert.deepEqual((await s.json(await s.admin('GET', `/consents?subject=${subject}`))).consents, []);
      await store.consents.grant(app.id, 'user', subject, ['openid', 'read'], Date.now());
      await refused(s, await redeem(s, app, late), SPENT);
      // Polar's mount: the same refusal in its shape.
      const polar = await authorize(s, app, cookie, { prompt: 'none', path: '/v1/oauth2/authorize' });
      assert.equal(await store.consents.revoke(app.id, 'user', subject), true);
      await refused(s, await redeem(s, app, polar, '/v1/oauth2/token'), WITHDRAWN);
    });

    test(`CON-06 ${backend}: a consent narrower than the code's scopes is not enough`, async (t) => {
      const env = await setup(t);
      if (!env) return;
      const { s, app, subject, cookie } = env;
      const grant = await authorize(s, app, cookie, { approve: true });
      // Withdrawn and approved again for less before the redemption.
      await s.keymint.store.consents.revoke(app.id, 'user', subject);
      await s.keymint.store.consents.grant(app.id, 'user', subject, ['openid'], Date.now());
      await refused(s, await redeem(s, app, grant), WITHDRAWN);
    });

    test(`CON-06 ${backend}: a trusted client needs no consent; made untrusted before its code is redeemed, it needs one`, async (t) => {
      const env = await setup(t, { trusted: true });
      if (!env) return;
      const { s, app, subject, cookie } = env;
      await issued(s, await redeem(s, app, await authorize(s, app, cookie)));
      assert.equal(await s.keymint.store.consents.get(app.id, 'user', subject), undefined, 'a trusted client is never asked');
      const pending = await authorize(s, app, cookie);
      const patched = await s.admin('PATCH', `/clients/${app.id}`, { trusted: false });
      assert.equal(patched.status, 200);
      await refused(s, await redeem(s, app, pending), WITHDRAWN);
    });
  });
}
