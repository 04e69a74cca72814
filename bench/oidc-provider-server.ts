/**
 * Reference (b): `oidc-provider` v9 in a minimal client_credentials configuration issuing JWT access
 * tokens with the same algorithm as Keymint. `node bench/oidc-provider-server.ts ALG PORT` listens on
 * 127.0.0.1:PORT with one confidential client (`bench` / BENCH_OIDC_SECRET, client_secret_basic).
 *
 * A resource indicator makes the access token a JWT: every request defaults to RESOURCE, whose
 * resource-server info asks for `accessTokenFormat: 'jwt'` signed with ALG; the provider's JWKS holds
 * one key of that algorithm (RSA 2048, P-256 or Ed25519, as Keymint generates).
 */
import { generateKeyPairSync } from 'node:crypto';
import Provider from 'oidc-provider';

const [alg = 'RS256', portArg = '0'] = process.argv.slice(2);
const port = Number(portArg);
const RESOURCE = 'https://api.bench.example';
const secret = process.env.BENCH_OIDC_SECRET ?? 'bench-secret-bench-secret-bench-secret';

function privateJwk(): Record<string, unknown> {
  const pair =
    alg === 'RS256'
      ? generateKeyPairSync('rsa', { modulusLength: 2048 })
      : alg === 'ES256'
        ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
        : generateKeyPairSync('ed25519');
  return { ...pair.privateKey.export({ format: 'jwk' }), alg, use: 'sig', kid: `bench-${alg}` };
}

const provider = new Provider(`http://127.0.0.1:${port}`, {
  clients: [
    {
      client_id: 'bench',
      client_secret: secret,
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
      token_endpoint_auth_method: 'client_secret_basic',
      id_token_signed_response_alg: alg,
    },
  ],
  jwks: { keys: [privateJwk()] },
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => RESOURCE,
      useGrantedResource: () => true,
      getResourceServerInfo: (_ctx: unknown, resource: string) => {
        if (resource !== RESOURCE) throw new Error('unknown resource');
        return { scope: 'payments:read', audience: RESOURCE, accessTokenTTL: 3600, accessTokenFormat: 'jwt', jwt: { sign: { alg } } };
      },
    },
  },
});

const server = provider.listen(port, '127.0.0.1');
const shutdown = () => server.close(() => process.exit(0));
process.once('SIGTERM', shutdown);
process.once('SIGINT', shutdown);
