/** What holds across the dialects: mounts, collisions, per-client dialect limits, OpenAPI, no echo. */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { ConfigError } from '../../src/config/index.ts';
import { DIALECTS } from '../../src/dialects/index.ts';
import { startServer, tempDir, type TestServer } from '../support/harness.ts';
import { ALL_DIALECTS, expectAnswer, PATHS, postJson, type DialectName } from './support/dialects.ts';

/** The credential-bearing request each dialect expects. */
function request(server: TestServer, dialect: DialectName, id: string, secret: string, path: string = PATHS[dialect]): Promise<Response> {
  switch (dialect) {
    case 'polygon-oms':
      return postJson(server.url, path, { apiKey: id, apiSecret: secret });
    case 'orum':
      return postJson(server.url, path, { client_id: id, client_secret: secret });
    case 'fuuffy':
      return server.postForm(path, { client_id: id, client_secret: secret });
    case 'oauth2':
    case 'tradevest':
      return server.postForm(path, { grant_type: 'client_credentials', client_id: id, client_secret: secret });
  }
}

const SEED_DIALECTS = ['polygon-oms', 'orum', 'tradevest', 'fuuffy'] as const;

describe('dialects together', () => {
  let server: TestServer;
  before(async () => {
    server = await startServer({ dialects: ALL_DIALECTS });
  });
  after(() => server.close());

  test('one registry serves every dialect: one client gets a token at each mount', async () => {
    const { id, secret } = await server.client();
    for (const dialect of Object.keys(PATHS) as DialectName[]) {
      assert.equal((await request(server, dialect, id, secret)).status, 200, dialect);
    }
  });

  test('R-03 every answer of every seed dialect, success and error, carries Cache-Control: no-store and Pragma: no-cache', async () => {
    const { id, secret } = await server.client();
    for (const dialect of SEED_DIALECTS) {
      for (const res of [await request(server, dialect, id, secret), await request(server, dialect, id, 'wrong'), await fetch(server.url + PATHS[dialect])]) {
        assert.equal(res.headers.get('cache-control'), 'no-store', dialect);
        assert.equal(res.headers.get('pragma'), 'no-cache', dialect);
        await res.arrayBuffer();
      }
    }
  });

  test('a client limited to orum is served there and refused elsewhere with unauthorized_client in each shape', async () => {
    const { id, secret } = await server.client({ dialects: ['orum'] });
    await expectAnswer('orum', await request(server, 'orum', id, secret), { status: 200 });
    const refused: Array<[DialectName, number, unknown]> = [
      ['oauth2', 400, { error: 'unauthorized_client', error_description: 'The client is not allowed to use this endpoint.' }],
      ['polygon-oms', 403, { error: 'PermissionDenied', code: 1001, msg: 'permission denied', status: 403 }],
      ['tradevest', 400, { error: 'unauthorized_client' }],
      ['fuuffy', 403, { error: { code: '403001', code_reason: 'forbidden', message: 'Access forbidden for this resource' } }],
    ];
    for (const [dialect, status, body] of refused) {
      const res = await request(server, dialect, id, secret);
      if (dialect === 'oauth2') {
        assert.equal(res.status, status);
        assert.deepEqual(await res.json(), body);
      } else await expectAnswer(dialect, res, { status, body });
    }
  });

  test('a key of another environment is refused by every seed dialect as a client failure', async () => {
    const { id, secret } = await server.client();
    const other = `sk_stg_live_${id.slice(-24)}`;
    const expected: Record<(typeof SEED_DIALECTS)[number], [number, unknown]> = {
      'polygon-oms': [401, { error: 'Unauthorized', code: 1000, msg: 'unauthorized access', cause: 'environment', status: 401 }],
      orum: [401, { error_code: 'unauthorized', message: 'invalid client credentials', details: null }],
      tradevest: [400, { error: 'invalid_client' }],
      fuuffy: [401, { error: { code: '401021', code_reason: 'invalid_client', message: 'Invalid client_id, client_secret, or session_key' } }],
    };
    for (const dialect of SEED_DIALECTS) {
      const [status, body] = expected[dialect];
      await expectAnswer(dialect, await request(server, dialect, other, secret), { status, body });
    }
  });

  test('R-05 no error body echoes request input', async () => {
    const marker = 'ECHO<script>"\u2028';
    for (const dialect of SEED_DIALECTS) {
      for (const [id, secret] of [[marker, marker], [`sk_live_${marker}`, 'x'], ['', marker]] as const) {
        const res = await request(server, dialect, id, secret);
        const text = await res.text();
        assert.ok(res.status >= 400 && res.status < 500, `${dialect}: ${res.status}`);
        assert.equal(text.includes('ECHO'), false, `${dialect} echoed input: ${text}`);
      }
    }
  });

  test('GET <mount>/openapi.json is the OpenAPI 3.1 document of that mount, generated from the codec', async () => {
    for (const dialect of SEED_DIALECTS) {
      const path = PATHS[dialect];
      const res = await fetch(`${server.url}${path}/openapi.json`);
      assert.equal(res.status, 200, dialect);
      assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
      const doc = (await res.json()) as any;
      const contract = DIALECTS.get(dialect)!.contract;
      assert.equal(doc.openapi, '3.1.0');
      assert.equal(typeof doc.info.title, 'string');
      assert.equal(typeof doc.info.version, 'string');
      assert.deepEqual(Object.keys(doc.paths), [path]);
      const op = doc.paths[path].post;
      assert.deepEqual(Object.keys(op.requestBody.content).sort(), Object.keys(contract.requestBodies).sort());
      assert.deepEqual(Object.keys(op.responses).sort(), ['200', ...Object.keys(contract.errorStatuses)].sort());
      assert.deepEqual(doc.components.schemas.TokenResponse, contract.success);
      assert.deepEqual(doc.components.schemas.Error, contract.error);
      for (const ref of JSON.stringify(doc).matchAll(/"\$ref":"#\/components\/schemas\/(\w+)"/g)) assert.ok(doc.components.schemas[ref[1]!], ref[1]);
      for (const h of contract.rateLimitHeaders ?? []) assert.ok(op.responses['429'].headers[h], `${dialect} 429 documents ${h}`);
      assert.ok(op.responses['429'].headers['Retry-After'] && op.responses['503'].headers['Retry-After']);
      const contentType = (op.parameters ?? []).find((p: { name: string }) => p.name === 'Content-Type');
      assert.equal(contentType?.required, dialect === 'tradevest' || dialect === 'fuuffy' ? true : undefined, `${dialect} Content-Type parameter`);
    }
  });
});

test('each seed dialect answers at its default path', async (t) => {
  const server = await startServer({ dialects: [...SEED_DIALECTS] });
  t.after(() => server.close());
  const { id, secret } = await server.client();
  for (const dialect of SEED_DIALECTS) {
    const path = DIALECTS.get(dialect)!.defaultPath;
    await expectAnswer(dialect, await request(server, dialect, id, secret, path), { status: 200 });
  }
  assert.equal(DIALECTS.get('tradevest')!.defaultPath, '/oauth2/token');
});

test('oauth2 and tradevest both at /oauth2/token: startup fails naming both dialects', async () => {
  const dataDir = tempDir();
  try {
    await assert.rejects(startServer({ dialects: ['oauth2', 'tradevest'] }, { dataDir }), (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.equal(err.message, 'config dialects: path /oauth2/token is claimed by both oauth2 and tradevest');
      return true;
    });
    await assert.rejects(startServer({ dialects: ['orum', 'fuuffy=/oauth/token'] }, { dataDir }), /claimed by both orum and fuuffy/);
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});
