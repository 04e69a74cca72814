/**
 * A token endpoint made of the sender-constraining protocol modules alone (client assertions, DPoP
 * proofs, nonces, one replay guard), on node:http: what the real token endpoint will call, so that
 * client libraries can be run against those modules before they are wired into Keymint. It answers
 * `client_credentials` with an RS256 `at+jwt`, bound with `cnf.jkt` when a proof came.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type JSONWebKeySet } from 'jose';
import { clientKeys, CLIENT_KEY_ALGORITHMS } from '../../src/credentials/client-keys.ts';
import { verifyClientAssertion } from '../../src/protocol/client-assertion.ts';
import { dpopNonces } from '../../src/protocol/dpop-nonce.ts';
import { DPOP_ALGORITHMS, UseDpopNonceError, verifyDpopProof } from '../../src/protocol/dpop.ts';
import { memoryReplayGuard } from '../../src/protocol/replay-guard.ts';
import { OAuthError, toOAuthError } from '../../src/wire/errors.ts';

export interface SenderEndpoint {
  /** The issuer identifier, which is also the server's origin. */
  readonly issuer: string;
  readonly tokenUrl: string;
  /** The JWKS of the access tokens it signs. */
  readonly jwks: JSONWebKeySet;
  /** Each token request's outcome: the OAuth error code, or 'ok'. */
  readonly outcomes: string[];
  close(): Promise<void>;
}

export async function startSenderEndpoint(clients: ReadonlyMap<string, JSONWebKeySet>, options: { nonces?: boolean } = {}): Promise<SenderEndpoint> {
  const signing = await generateKeyPair('RS256', { extractable: true });
  const jwks = { keys: [{ ...(await exportJWK(signing.publicKey)), kid: 'at-1', alg: 'RS256', use: 'sig' }] };
  const keys = clientKeys({ timeoutMs: 1000, maxBytes: 65_536, allowPrivateAddresses: false, allowHttp: false, cacheTtlMs: 60_000, unknownKidCooldownMs: 60_000, now: Date.now });
  const replay = memoryReplayGuard();
  const nonces = options.nonces ? dpopNonces({ keys: [randomBytes(32)] }) : undefined;
  const outcomes: string[] = [];
  let issuer = '';

  async function handle(req: IncomingMessage, raw: string) {
    const form = new URLSearchParams(raw);
    const tokenUrl = `${issuer}/token`;
    const client = await verifyClientAssertion(
      {
        clientId: form.get('client_id') ?? undefined,
        assertionType: form.get('client_assertion_type') ?? undefined,
        assertion: form.get('client_assertion') ?? undefined,
        secretPresented: req.headers.authorization !== undefined || form.has('client_secret'),
      },
      async (id, header) => {
        const set = clients.get(id);
        return set ? keys.keyFor({ jwks: set }, header) : undefined;
      },
      { audiences: [issuer, tokenUrl], algorithms: CLIENT_KEY_ALGORITHMS, maxLifetimeSeconds: 300, clockToleranceSeconds: 5, replay, now: Date.now },
    );
    if (form.get('grant_type') !== 'client_credentials') throw new OAuthError('unsupported_grant_type', 'Only client_credentials here.');
    const proof = await verifyDpopProof(
      { method: req.method!, url: tokenUrl, proof: req.headersDistinct.dpop },
      { algorithms: DPOP_ALGORITHMS, proofMaxAgeSeconds: 60, clockToleranceSeconds: 5, nonces, replay, now: Date.now },
    );
    const iat = Math.floor(Date.now() / 1000);
    const claims = { iss: issuer, aud: 'https://api.example.com', sub: client.clientId, client_id: client.clientId, jti: randomBytes(8).toString('hex'), iat, exp: iat + 300, scope: 'read' };
    const accessToken = await new SignJWT(proof ? { ...claims, cnf: { jkt: proof.jkt } } : claims)
      .setProtectedHeader({ alg: 'RS256', typ: 'at+jwt', kid: 'at-1' })
      .sign(signing.privateKey);
    const body = { access_token: accessToken, token_type: proof ? 'DPoP' : 'Bearer', expires_in: 300, scope: 'read' };
    return { body, nonce: proof?.freshNonce };
  }

  const server = createServer(async (req, res) => {
    let raw = '';
    for await (const chunk of req) raw += chunk;
    const headers: Record<string, string> = { 'content-type': 'application/json', 'cache-control': 'no-store' };
    try {
      const { body, nonce } = await handle(req, raw);
      if (nonce) headers['dpop-nonce'] = nonce;
      outcomes.push('ok');
      res.writeHead(200, headers).end(JSON.stringify(body));
    } catch (thrown) {
      const error = toOAuthError(thrown);
      if (error instanceof UseDpopNonceError) headers['dpop-nonce'] = error.nonce;
      outcomes.push(error.code);
      res.writeHead(error.status, headers).end(JSON.stringify({ error: error.code, error_description: error.description }));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    issuer,
    tokenUrl: `${issuer}/token`,
    jwks,
    outcomes,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
