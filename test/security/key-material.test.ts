/**
 * Key material at rest: the seal's tag length is pinned, and a key row is trusted only as far as the
 * KEK vouches for it. The planting tests edit a real server's SQLite file by SQL, as someone with
 * write access to the database but without the KEK would.
 */
import assert from 'node:assert/strict';
import { createCipheriv, generateKeyPairSync, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { test } from 'node:test';
import { SignJWT, type JWK } from 'jose';
import type { KeyRecord } from '../../src/storage/types.ts';
import { seal, unseal } from '../../src/tokens/seal.ts';
import { createLogger } from '../../src/util/log.ts';
import { startServer } from '../support/harness.ts';

const b64 = (b: Buffer) => b.toString('base64url');

test('KEY-01 unseal accepts only the full 16-byte GCM tag', () => {
  const kek = randomBytes(32);
  assert.deepEqual(unseal(kek, seal(kek, Buffer.from('material'), 'aad'), 'aad'), Buffer.from('material'));
  // A genuine AES-GCM encryption under the right KEK, but with a 4-byte tag (as GCM allows): the
  // blob is only the tag, so reading "the last 16 bytes" would have taken exactly those 4.
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', kek, iv, { authTagLength: 4 });
  cipher.setAAD(Buffer.from('aad'));
  const body = Buffer.concat([cipher.update(Buffer.alloc(0)), cipher.final(), cipher.getAuthTag()]);
  assert.equal(body.length, 4);
  for (const version of ['v1', 'v2']) {
    assert.throws(() => unseal(kek, `${version}.${b64(iv)}.${b64(body)}`, 'aad'), /unknown format/);
  }
  // 15 bytes (a truncated tag) and a 16-byte IV are refused before any decryption.
  const good = seal(kek, Buffer.alloc(0), 'aad');
  const [v, ivText, tag] = good.split('.');
  assert.throws(() => unseal(kek, `${v}.${ivText}.${b64(Buffer.from(tag!, 'base64url').subarray(1))}`, 'aad'), /unknown format/);
  assert.throws(() => unseal(kek, `${v}.${b64(randomBytes(16))}.${tag}`, 'aad'), /unknown format/);
  assert.equal(unseal(kek, good, 'aad').length, 0);
});

/** A server on SQLite, its database opened beside it, an admin client, and its warnings. */
async function plantingBench(t: { after(fn: () => unknown): void }) {
  const warnings: Array<Record<string, unknown>> = [];
  const log = createLogger('warn', (line) => warnings.push(JSON.parse(line) as Record<string, unknown>));
  const server = await startServer({ issuer: 'http://localhost:8080', keyringRefreshMs: '600000' }, { log });
  t.after(() => server.close());
  const db = new DatabaseSync(join(server.dataDir, 'keymint.db'), { timeout: 5000 }); // waits out the server's own writes and checkpoints, as the server does
  t.after(() => db.close());
  const rows = () => (db.prepare('SELECT doc FROM keys').all() as Array<{ doc: string }>).map((r) => JSON.parse(r.doc) as KeyRecord);
  const write = (k: KeyRecord) => {
    db.prepare('INSERT INTO keys (kid, doc) VALUES (?, ?) ON CONFLICT (kid) DO UPDATE SET doc = excluded.doc').run(k.kid, JSON.stringify(k));
    db.prepare('UPDATE keyring_version SET version = version + 1').run();
  };
  const admin = await server.client({ admin: true });
  const adminCall = (token: string) => fetch(`${server.url}/admin/v1/clients`, { headers: { authorization: `Bearer ${token}` } });
  const jwksKids = async () => ((await (await fetch(`${server.url}/oauth2/jwks`)).json()) as { keys: JWK[] }).keys.map((k) => k.kid);
  const signingKid = async () => {
    const token = String((await server.token(admin.id, admin.secret, { scope: 'keymint:admin' })).access_token);
    return (JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString()) as { kid: string }).kid;
  };
  return { server, db, rows, write, admin, adminCall, jwksKids, signingKid, warnings };
}

/** The attacker's own RSA key pair, and an admin token signed with it for `clientId`. */
async function attackerKey(kid: string, clientId: string) {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const publicJwk = JSON.stringify({ ...(publicKey.export({ format: 'jwk' }) as JWK), kid, alg: 'RS256', use: 'sig' });
  const forged = await new SignJWT({ client_id: clientId, scope: 'keymint:admin', jti: 'forged' })
    .setProtectedHeader({ alg: 'RS256', typ: 'at+jwt', kid })
    .setIssuer('http://localhost:8080')
    .setSubject(clientId)
    .setAudience('http://localhost:8080')
    .setIssuedAt()
    .setExpirationTime('1h')
    .sign(privateKey);
  return { publicJwk, forged, privateDer: privateKey.export({ format: 'der', type: 'pkcs8' }) };
}

test('KEY-02 a key row planted by SQL without the KEK is neither published nor used, and is reported', async (t) => {
  const b = await plantingBench(t);
  const genuine = await b.signingKid();
  const template = b.rows().find((k) => k.use === 'sig' && k.alg === 'RS256' && k.state === 'next')!;

  // 1. A new row with the attacker's public key and a blob sealed under another KEK, as `next`;
  // 2. another promoted straight to `active`, to be picked for signing.
  const next = await attackerKey('rs256-plantednext00', b.admin.id);
  b.write({ ...template, kid: 'rs256-plantednext00', publicJwk: next.publicJwk, sealed: seal(randomBytes(32), next.privateDer, 'rs256-plantednext00') });
  const active = await attackerKey('rs256-plantedactive', b.admin.id);
  b.write({ ...template, kid: 'rs256-plantedactive', state: 'active', activatedAt: Date.now(), publicJwk: active.publicJwk, sealed: seal(randomBytes(32), active.privateDer, 'rs256-plantedactive') });
  assert.equal(await b.server.keymint.keyring.refresh(), true, 'the keyring read the edited rows');

  const kids = await b.jwksKids();
  assert.ok(!kids.includes('rs256-plantednext00') && !kids.includes('rs256-plantedactive'), 'not published');
  assert.ok(kids.includes(genuine) && kids.includes(template.kid), 'the genuine keys still are');
  assert.equal((await b.adminCall(next.forged)).status, 401, 'a token signed with a planted key is refused');
  assert.equal((await b.adminCall(active.forged)).status, 401);
  assert.equal(await b.signingKid(), genuine, 'tokens are still signed by the genuine active key');
  assert.deepEqual(
    b.warnings.filter((w) => w.msg === 'key row refused: not published, not used').map((w) => w.kid).sort(),
    ['rs256-plantedactive', 'rs256-plantednext00'],
  );
  assert.ok(b.warnings.every((w) => !JSON.stringify(w).includes(next.publicJwk.slice(20, 60))));

  // 3. The genuine `next` row with its public key swapped for the attacker's: the sealed half opens
  // but does not match, so the row is refused rather than publishing the attacker's key.
  const swapped = await attackerKey(template.kid, b.admin.id);
  b.write({ ...template, publicJwk: swapped.publicJwk });
  await b.server.keymint.keyring.refresh();
  assert.ok(!(await b.jwksKids()).includes(template.kid));
  assert.equal((await b.adminCall(swapped.forged)).status, 401);
  assert.equal(b.warnings.filter((w) => w.kid === template.kid).length, 1);

  // A rotation promotes no refused row: it makes a new key, and the service keeps answering.
  await b.server.keymint.keyring.rotate();
  const now = await b.signingKid();
  assert.ok(![genuine, template.kid, 'rs256-plantednext00', 'rs256-plantedactive'].includes(now));
  assert.ok((await b.jwksKids()).includes(now));
});

test('KEY-03 the seal binds kid, use and alg: a row re-labelled by SQL is refused', async (t) => {
  const b = await plantingBench(t);
  const genuine = await b.signingKid();
  const rows = b.rows();
  const next = rows.find((k) => k.use === 'sig' && k.alg === 'RS256' && k.state === 'next')!;
  const pepper = rows.find((k) => k.use === 'hmac')!;
  const ecNext = rows.find((k) => k.use === 'sig' && k.alg === 'ES256');
  assert.equal(ecNext, undefined, 'only RS256 here, so a re-labelled row cannot hide behind a genuine one');

  b.write({ ...next, alg: 'ES256' });
  b.write({ ...pepper, kid: 'pplanted', state: 'active', createdAt: pepper.createdAt + 1 });
  await b.server.keymint.keyring.refresh();
  assert.ok(!(await b.jwksKids()).includes(next.kid), 'RS256 material under an ES256 label is not published');
  assert.ok(!b.server.keymint.keyring.peppers().some((p) => p.kid === 'pplanted'), 'a pepper blob copied to another kid does not open');
  assert.equal(b.server.keymint.keyring.pepper().kid, pepper.kid);
  assert.equal(await b.signingKid(), genuine);
  assert.deepEqual(b.warnings.filter((w) => w.msg === 'key row refused: not published, not used').map((w) => w.kid).sort(), [next.kid, 'pplanted'].sort());
});
