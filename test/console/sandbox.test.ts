/**
 * The console's sandbox panel over HTTP against `startSandbox({ sandbox: { console: true } })`: the
 * first sign-in through the link the sandbox makes; a fault added from the form (the next token
 * request answered with it, in the dialect's shape), refused input shown beside its field (400, never
 * a 5xx), one removed and all removed; the clock advanced and reset; the record listed and cleared;
 * every change audited under the console user; a viewer who sees no form and whose POSTs are refused
 * (CO-03), a POST without the CSRF token refused; and `keymint serve --console`, where none of the
 * panel's paths exist (404) and no page links it.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { describeSandbox } from '../../src/cli/sandbox.ts';
import { startSandbox, type Sandbox } from '../../src/start-sandbox.ts';
import { basic, startServer } from '../support/harness.ts';
import { Browser, PASSWORD, signedIn } from './support.ts';

let sb: Sandbox;
let admin: Browser;
before(async () => {
  sb = await startSandbox({ clients: { app: { dialects: ['orum', 'oauth2'] } }, sandbox: { console: true } });
  admin = new Browser(sb.url);
  const token = new URL(sb.console!.link).searchParams.get('token')!;
  const res = await admin.redeem(token);
  assert.equal(res.status, 303);
});
after(() => sb?.close());

const orumToken = () => fetch(`${sb.url}/oauth/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ client_id: sb.clients.app!.id, client_secret: sb.clients.app!.secret }) });

/** The panel as `b` sees it, asserted to be no error page. */
async function panel(b: Browser, query = ''): Promise<string> {
  const res = await b.get(`/console/sandbox${query}`);
  const body = await res.text();
  assert.equal(res.status, 200, body.slice(0, 300));
  assert.doesNotMatch(body, /data-error=/);
  return body;
}

const audited = async (action: string) => (await sb.keymint.store.audit.query({ action }, 10)).events.map((e) => `${e.actor} ${e.action} ${e.target}`);

test('the sandbox prints a one-time link for the console admin it created; the link works once', async () => {
  assert.equal(sb.console!.url, `${sb.issuer}/console/`);
  assert.match(sb.console!.link, new RegExp(`^${sb.issuer}/console/link\\?token=kml_[A-Za-z0-9]{43}$`));
  assert.ok(Date.parse(sb.console!.linkExpiresAt) > Date.now() + 50 * 60_000);
  // What keymint sandbox --console prints.
  assert.ok(
    describeSandbox(sb, new Set()).endsWith(
      `console: ${sb.issuer}/console/ (its Sandbox page shows and changes the faults and the clock)\n  first sign-in as admin, once, until ${sb.console!.linkExpiresAt}:\n  ${sb.console!.link}\nCtrl-C stops it.\n`,
    ),
  );
  const again = new Browser(sb.url);
  const res = await again.redeem(new URL(sb.console!.link).searchParams.get('token')!);
  assert.equal(res.status, 400, 'spent already');
  const fresh = await sb.console!.newLink();
  assert.notEqual(fresh, sb.console!.link);
  assert.equal((await new Browser(sb.url).redeem(new URL(fresh).searchParams.get('token')!, PASSWORD)).status, 303);
  assert.deepEqual((await sb.keymint.store.consoleUsers.list()).map((u) => `${u.name}:${u.role}`), ['admin:admin']);
});

test('the nav links the Sandbox page; it shows the clock, no faults and the empty record', async () => {
  const clients = await (await admin.get('/console/clients')).text();
  assert.match(clients, /<a href="\/console\/sandbox">Sandbox<\/a>/);
  assert.match(clients, /class="sandbox-banner"/);
  const body = await panel(admin);
  assert.match(body, /<a href="\/console\/sandbox" aria-current="page">Sandbox<\/a>/);
  assert.match(body, /<dd data-sandbox="offset">0 /);
  assert.match(body, /No faults: every request is answered as it would be\./);
  assert.match(body, /No requests recorded\./);
  assert.match(body, /<option value="orum">orum<\/option>/);
  assert.match(body, /<option value="429">429<\/option>/);
});

test('a fault added from the form answers the next token request in the dialect\u2019s shape; its counters show; removed', async (t) => {
  t.after(() => sb.reset());
  const csrf = await admin.csrf('/console/sandbox');
  const res = await admin.post('/console/sandbox/faults', { csrf, dialect: 'orum', client: 'app', endpoint: 'token', status: '429', retryAfter: '30', times: '1', fraction: '', error: '', latencyMs: '', jitterMs: '', tokenTtl: '' });
  assert.equal(res.status, 303);
  assert.equal(res.headers.get('location'), '/console/sandbox?done=fault-added');
  assert.deepEqual(sb.faults(), [{ dialect: 'orum', client: 'app', endpoint: 'token', status: 429, retryAfter: 30, times: 1, id: 'f1', remaining: 1, fired: 0 }]);

  const limited = await orumToken();
  assert.equal(limited.status, 429);
  assert.equal(limited.headers.get('retry-after'), '30');
  assert.equal(limited.headers.get('x-retry-in'), '30000');
  assert.equal((await orumToken()).status, 200, 'times: 1');

  const body = await panel(admin, '?done=fault-added');
  assert.match(body, /The fault is in force\./);
  assert.match(body, /<tr data-fault="f1"><td class="nowrap"><code>f1<\/code><\/td><td><code>dialect: orum<\/code>, <code>client: app<\/code>, <code>endpoint: token<\/code>, <code>times: 1<\/code>, <code>status: 429<\/code>, <code>retryAfter: 30<\/code><\/td><td class="num">1<\/td><td class="num">0<\/td>/);
  // The record: newest first, the faulted request naming its fault.
  assert.match(body, /<td class="num">200<\/td><td class="nowrap"><code>ok<\/code><\/td><td>—<\/td><\/tr><tr>.*<td class="num">429<\/td><td class="nowrap"><code>rate_limited<\/code><\/td><td>f1<\/td>/s);
  assert.deepEqual(await audited('sandbox.fault_add'), ['console:admin sandbox.fault_add f1']);

  const removed = await admin.post('/console/sandbox/faults/f1/remove', { csrf });
  assert.equal(removed.headers.get('location'), '/console/sandbox?done=fault-removed');
  assert.deepEqual(sb.faults(), []);
  assert.equal((await admin.post('/console/sandbox/faults/f1/remove', { csrf })).headers.get('location'), '/console/sandbox?done=fault-gone');
  sb.fault({ status: 503 });
  sb.fault({ latencyMs: 1 });
  assert.equal((await admin.post('/console/sandbox/faults/clear', { csrf })).headers.get('location'), '/console/sandbox?done=faults-cleared');
  assert.deepEqual(sb.faults(), []);
  assert.deepEqual(await audited('sandbox.fault_remove'), ['console:admin sandbox.fault_remove f1']);
  assert.deepEqual(await audited('sandbox.faults_clear'), ['console:admin sandbox.faults_clear faults']);
});

test('a fault the sandbox refuses comes back as typed with the field named (400), and nothing is added', async () => {
  const csrf = await admin.csrf('/console/sandbox');
  const cases: Array<[Record<string, string>, string, RegExp]> = [
    [{ status: '418' }, 'status', /must be one of 400, 401, 403, 404, 429, 500, 503/],
    [{ status: '429', times: 'often' }, 'times', /must be a whole number in 1\.\.1000000/],
    [{ status: '429', fraction: '2' }, 'fraction', /must be a number in \(0, 1\]/],
    [{ dialect: 'nope', status: '500' }, 'dialect', /unknown dialect; known: orum, oauth2/],
    [{ client: 'app' }, 'status', /a fault needs an action: status or error, latencyMs\/jitterMs, drop, or tokenTtl/],
    [{ drop: 'on', status: '503' }, 'drop', /a dropped connection has no answer/],
    [{ latencyMs: '60000', jitterMs: '1' }, 'jitterMs', /latency plus jitter must stay within 60000 ms/],
  ];
  for (const [form, field, message] of cases) {
    const res = await admin.post('/console/sandbox/faults', { csrf, ...form });
    const body = await res.text();
    assert.equal(res.status, 400, JSON.stringify(form));
    assert.match(body, new RegExp(`<li><a href="#f-${field}">[^<]+</a>: ${message.source}`), JSON.stringify(form));
    assert.match(body, new RegExp(`id="f-${field}"[^>]*aria-describedby="[^"]*f-${field}-error"[^>]*aria-invalid="true"|<p class="error-text" id="f-${field}-error">`));
    // As typed: the form keeps its values.
    if (form.client) assert.match(body, /name="client" value="app"/);
  }
  assert.deepEqual(sb.faults(), []);
});

test('the clock: advanced by hours (an earlier token then inactive at introspection), refused beyond ten years, reset', async (t) => {
  t.after(() => sb.reset());
  const csrf = await admin.csrf('/console/sandbox');
  const issued = (await (await orumToken()).json()) as { access_token: string };
  const introspect = async () => {
    const res = await fetch(`${sb.url}/oauth2/introspect`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(sb.clients.app!.id, sb.clients.app!.secret!) }, body: `token=${issued.access_token}` });
    return ((await res.json()) as { active: boolean }).active;
  };
  assert.equal(await introspect(), true);
  const res = await admin.post('/console/sandbox/clock/advance', { csrf, amount: '2', unit: 'hours' });
  assert.equal(res.headers.get('location'), '/console/sandbox?done=clock-advanced');
  assert.equal(await introspect(), false);
  const body = await panel(admin);
  assert.match(body, /<dd data-sandbox="offset">\+2 h <span class="hint">\(7200000 ms\)<\/span><\/dd>/);
  // Still signed in: console sessions keep to the machine's clock.
  assert.match(body, /Reset the clock to its start/);

  for (const [form, field] of [[{ amount: 'x', unit: 'hours' }, 'amount'], [{ amount: '1', unit: 'weeks' }, 'unit'], [{ amount: '4000', unit: 'days' }, 'amount'], [{ amount: '0', unit: 'days' }, 'amount'], [{ amount: '1', unit: 'toString' }, 'unit'], [{ amount: '1', unit: '__proto__' }, 'unit'], [{ amount: '1', unit: 'constructor' }, 'unit']] as const) {
    const refused = await admin.post('/console/sandbox/clock/advance', { csrf, ...form });
    assert.equal(refused.status, 400, JSON.stringify(form));
    assert.match(await refused.text(), new RegExp(`<a href="#f-${field}">`));
  }
  assert.equal(sb.now() - Date.now() > 7_100_000, true, 'the refused moves left the clock where it was');
  // A month ahead, and a purge pass on the moved clock: the console's session keeps to the machine's.
  assert.equal((await admin.post('/console/sandbox/clock/advance', { csrf, amount: '30', unit: 'days' })).status, 303);
  const purged = await sb.keymint.purger.run();
  assert.equal(purged.rows.console_sessions, 0);
  assert.match(await panel(admin), /<dd data-sandbox="offset">\+30 d 2 h /);
  assert.equal((await admin.post('/console/sandbox/clock/reset', { csrf })).headers.get('location'), '/console/sandbox?done=clock-reset');
  assert.match(await panel(admin), /<dd data-sandbox="offset">0 /);
  assert.deepEqual(await audited('sandbox.clock_advance'), ['console:admin sandbox.clock_advance clock', 'console:admin sandbox.clock_advance clock']);
  assert.deepEqual(await audited('sandbox.clock_reset'), ['console:admin sandbox.clock_reset clock']);
});

test('the record is cleared, and the sandbox reset, from the panel; audited', async () => {
  const csrf = await admin.csrf('/console/sandbox');
  assert.equal((await orumToken()).status, 200);
  assert.ok(sb.requests().length > 0);
  assert.equal((await admin.post('/console/sandbox/requests/clear', { csrf })).headers.get('location'), '/console/sandbox?done=requests-cleared');
  assert.deepEqual(sb.requests(), []);
  sb.fault({ status: 500 });
  sb.advanceClock(60_000);
  assert.equal((await admin.post('/console/sandbox/reset', { csrf })).headers.get('location'), '/console/sandbox?done=reset');
  assert.deepEqual(sb.faults(), []);
  assert.ok(Math.abs(sb.now() - Date.now()) < 30_000);
  assert.deepEqual(await audited('sandbox.requests_clear'), ['console:admin sandbox.requests_clear requests']);
  assert.deepEqual(await audited('sandbox.reset'), ['console:admin sandbox.reset sandbox']);
});

test('CO-03 a viewer sees the panel without a form; their POSTs, and a POST without the CSRF token, are refused and audited', async () => {
  const vic = await signedIn({ keymint: sb.keymint, url: sb.url } as never, 'vic', 'viewer');
  sb.fault({ status: 503, times: 2 });
  try {
    const body = await panel(vic);
    assert.match(body, /<tr data-fault="f1">/);
    assert.deepEqual([...body.matchAll(/<form method="post" action="([^"]+)"/g)].map((m) => m[1]), ['/console/sign-out']);
    const csrf = await vic.csrf('/console/sandbox');
    for (const [path, form] of [['/console/sandbox/faults', { status: '429' }], ['/console/sandbox/faults/f1/remove', {}], ['/console/sandbox/faults/clear', {}], ['/console/sandbox/clock/advance', { amount: '1', unit: 'hours' }], ['/console/sandbox/reset', {}]] as const) {
      const res = await vic.post(path, { csrf, ...form });
      assert.equal(res.status, 403, path);
      assert.match(await res.text(), /This needs the admin role; you are signed in as a viewer\./);
    }
    assert.equal(sb.faults().length, 1);
    assert.ok(Math.abs(sb.now() - Date.now()) < 30_000);
    const forged = await admin.post('/console/sandbox/faults', { status: '429' });
    assert.equal(forged.status, 403);
    assert.equal(sb.faults().length, 1);
    const refused = await audited('console.refused');
    assert.ok(refused.includes('console:vic console.refused vic'), refused.join('\n'));
    assert.ok(refused.includes('console:admin console.refused admin'), refused.join('\n'));
  } finally {
    await sb.reset();
  }
});

test('SB-01 keymint serve --console: no Sandbox link, and every panel path is a 404', async (t) => {
  const server = await startServer({ console: 'true' });
  t.after(() => server.close());
  const ann = await signedIn(server, 'ann', 'admin');
  const clients = await (await ann.get('/console/clients')).text();
  assert.doesNotMatch(clients, /\/console\/sandbox|sandbox-banner/);
  const csrf = await ann.csrf('/console/clients');
  assert.equal((await ann.get('/console/sandbox')).status, 404);
  for (const path of ['/console/sandbox/faults', '/console/sandbox/faults/f1/remove', '/console/sandbox/faults/clear', '/console/sandbox/clock/advance', '/console/sandbox/clock/reset', '/console/sandbox/requests/clear', '/console/sandbox/reset']) {
    const res = await ann.post(path, { csrf, status: '429', amount: '1', unit: 'hours' });
    assert.equal(res.status, 404, path);
    assert.match(await res.text(), /data-error="404"/);
  }
  assert.equal((await fetch(`${server.url}/_sandbox`)).status, 404);
});

test('a sandbox without console: true serves no console', async (t) => {
  const plain = await startSandbox({});
  t.after(() => plain.close());
  assert.equal(plain.console, undefined);
  assert.equal((await fetch(`${plain.url}/console/sign-in`)).status, 404);
  assert.equal((await fetch(`${plain.url}/console/sandbox`)).status, 404);
});
