/**
 * `keymint consents list` and `consents revoke` by the real CLI, on the data directory of a running
 * server where a user approved an app on the consent page: the same list as the admin API, the
 * withdrawal the server sees at once (the refresh token refused, the consent page shown again), the
 * audit event, and the operator's errors (one line, exit code).
 */
import assert from 'node:assert/strict';
import { existsSync, rmSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { authorizeGet, basic, obtainCode, startGrantServer, USER, type GrantServer } from './grants/support.ts';
import { tempDir } from './support/harness.ts';
import { cli } from './support/process.ts';

const data = tempDir('keymint-cli-consents-');
const CB = 'https://app.example/cb';
let s: GrantServer;
let app: { id: string; secret: string };
let refreshToken: string;
before(async () => {
  s = await startGrantServer({}, { dataDir: data });
  app = await s.client({ name: 'Acme Reports', grants: ['authorization_code', 'refresh_token'], scopes: ['openid', 'read'], redirectUris: [CB] });
  const { code, verifier } = await obtainCode(s, app, { scope: 'openid read' });
  const res = await s.postForm('/oauth2/token', { grant_type: 'authorization_code', code, redirect_uri: CB, code_verifier: verifier }, { authorization: basic(app.id, app.secret) });
  assert.equal(res.status, 200);
  refreshToken = String(((await res.json()) as { refresh_token: string }).refresh_token);
});
after(async () => {
  await s.close();
  rmSync(data, { recursive: true, force: true });
});

const consents = (...args: string[]) => cli(['consents', ...args, '--data', data]);
const refresh = () => s.postForm('/oauth2/token', { grant_type: 'refresh_token', refresh_token: refreshToken }, { authorization: basic(app.id, app.secret) });

test('consents list --json is the admin API\'s list; the text lists one app a line', async () => {
  const r = await consents('list', '--subject', USER, '--json');
  assert.deepEqual([r.code, r.stderr], [0, '']);
  const listed = JSON.parse(r.stdout) as { consents: Array<{ granted_at: string }> };
  const admin = await s.admin('GET', `/consents?subject=${USER}&subject_type=user`);
  assert.deepEqual(listed, await admin.json());
  const grantedAt = listed.consents[0]!.granted_at;
  assert.deepEqual(listed, { subject: USER, subject_type: 'user', consents: [{ client_id: app.id, client_name: 'Acme Reports', scope: 'openid read', granted_at: grantedAt, live_grants: true }] });
  const text = await consents('list', '--subject', USER);
  assert.deepEqual([text.code, text.stdout, text.stderr], [0, `${app.id}  ${grantedAt}  live  openid read  Acme Reports\n`, '']);
});

test('consents revoke: exit 0, the consent and the grant end on the running server at once, audited consent.revoke by cli; again: exit 1', async () => {
  assert.equal((await refresh()).status, 200, 'the grant is live before');
  const r = await consents('revoke', app.id, '--subject', USER, '--json');
  assert.deepEqual([r.code, r.stderr], [0, '']);
  const ended = JSON.parse(r.stdout) as { tokens_revoked: number };
  assert.ok(ended.tokens_revoked >= 1);
  assert.deepEqual(ended, { client_id: app.id, subject: USER, subject_type: 'user', consent: true, tokens_revoked: ended.tokens_revoked });

  const refused = await refresh();
  assert.equal(refused.status, 400);
  assert.equal(((await refused.json()) as { error: string }).error, 'invalid_grant');
  const cookie = `keymint_session=${(await s.session()).session_token}`;
  const page = await authorizeGet(s, { response_type: 'code', client_id: app.id, redirect_uri: CB, scope: 'openid read', state: 'st', code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256' }, cookie);
  assert.equal(page.status, 200, 'the consent page is shown again');

  const audit = JSON.parse((await cli(['audit', '--data', data, '--json'])).stdout) as Array<{ actor: string; action: string; target: string; detail: unknown }>;
  const event = audit.find((e) => e.action === 'consent.revoke');
  assert.deepEqual(event && { actor: event.actor, target: event.target, detail: event.detail }, { actor: 'cli', target: app.id, detail: { subject: USER, subject_type: 'user', consent: true, tokens_revoked: ended.tokens_revoked } });

  const again = await consents('revoke', app.id, '--subject', USER);
  assert.deepEqual([again.code, again.stdout, again.stderr], [1, '', `keymint: user ${USER} has no consent or live grant for the client ${app.id}; keymint consents list --subject ${USER} shows them\n`]);
  const none = await consents('list', '--subject', USER);
  assert.deepEqual([none.code, none.stdout], [0, `user ${USER} has no connected apps\n`]);
  assert.deepEqual(JSON.parse((await consents('list', '--subject', USER, '--json')).stdout), { subject: USER, subject_type: 'user', consents: [] });
});

test('consents revoke in text: one line saying what ended', async () => {
  const other = await s.client({ name: 'Second', grants: ['authorization_code', 'refresh_token'], scopes: ['read'], redirectUris: [CB] });
  const { code, verifier } = await obtainCode(s, other, { scope: 'read' });
  assert.equal((await s.postForm('/oauth2/token', { grant_type: 'authorization_code', code, redirect_uri: CB, code_verifier: verifier }, { authorization: basic(other.id, other.secret) })).status, 200);
  const r = await consents('revoke', other.id, '--subject', USER);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`^revoked ${other.id} for user ${USER}: consent withdrawn, [1-9]\\d* tokens? revoked\\n$`));
});

test('operator errors: one line and the exit code, nothing written', async () => {
  const cases: Array<[string[], number, string]> = [
    [['list'], 2, 'keymint consents list: --subject SUBJECT is required (the user (or organization) whose consents these are, as its sessions name it); see keymint consents list --help\n'],
    [['list', '--subject', 'a b'], 2, 'keymint: subject: subject must be 1–255 characters of [A-Za-z0-9._:@-] (a UUID for an organization)\n'],
    [['list', '--subject', 'acme', '--subject-type', 'organization'], 2, 'keymint: subject: subject must be 1–255 characters of [A-Za-z0-9._:@-] (a UUID for an organization)\n'],
    [['revoke', '--subject', USER], 2, 'keymint consents revoke: missing CLIENT_ID (the client, as keymint consents list shows it); see keymint consents revoke --help\n'],
    [['list', '--subject', USER, '--subject-type', 'group'], 2, 'keymint consents list: --subject-type must be one of user, organization, got "group"; see keymint consents list --help\n'],
  ];
  for (const [args, exit, stderr] of cases) {
    const r = await consents(...args);
    assert.deepEqual([r.code, r.stdout, r.stderr], [exit, '', stderr], args.join(' '));
  }
  const nowhere = `${data}-none`;
  const missing = await cli(['consents', 'list', '--subject', USER, '--data', nowhere]);
  assert.deepEqual([missing.code, missing.stdout, missing.stderr], [6, '', `keymint: no Keymint store at ${nowhere}: the directory does not exist; check --data (or KEYMINT_DATA), or create the store with keymint serve --data ${nowhere}\n`]);
  assert.equal(existsSync(nowhere), false, 'a read command makes no store');
});
