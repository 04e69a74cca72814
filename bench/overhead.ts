/**
 * Keymint's own cost per token, without HTTP: `node bench/overhead.ts [ALG] [TOKENS] [ROUNDS]` runs
 * this checkout's service in-process (in-memory store, limits on but never reached, signing inline) and
 * dispatches client_credentials requests straight to the router, 64 at a time, measuring CPU time per
 * token; in alternating rounds it measures signing the same claims alone. The difference is what
 * parsing, authentication, limits, claims, encoding and metrics cost per token. CPU time, not wall
 * time, so a busy machine slows both alike; for an exact count of instructions run it under
 * `valgrind --tool=callgrind` with a small TOKENS.
 */
import { loadConfig } from '../src/config/index.ts';
import { createKeymint } from '../src/service.ts';
import { signJwt } from '../src/tokens/jwt.ts';
import type { HttpRequest } from '../src/wire/http.ts';

const [alg = 'EdDSA', tokensArg = '20000', roundsArg = '5'] = process.argv.slice(2);
const tokens = Number(tokensArg);
const rounds = Number(roundsArg);
const keymint = await createKeymint(loadConfig({ dataDir: ':memory:', port: '0', alg, logLevel: 'warn', signing: 'inline', maxEventLoopDelayMs: '0', rateLimitClient: '100000000', rateLimitIp: '100000000' }, {}));
const { client, clientSecret } = await keymint.clients.create({ name: 'overhead' }, 'bench');
const request: HttpRequest = {
  method: 'POST',
  path: '/oauth2/token',
  query: '',
  headers: { host: '127.0.0.1', authorization: `Basic ${Buffer.from(`${client.client_id}:${clientSecret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded', 'content-length': '29' },
  get headersDistinct() {
    return Object.fromEntries(Object.entries(this.headers).map(([k, v]) => [k, [String(v)]]));
  },
  get rawHeaders() {
    return Object.entries(this.headers).flatMap(([k, v]) => [k, String(v)]);
  },
  body: Buffer.from('grant_type=client_credentials'),
  ip: '127.0.0.1',
};

async function viaRouter(n: number): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next++ < n) {
      const res = await keymint.router.dispatch(request);
      if (res.status !== 200) throw new Error(`status ${res.status}: ${String(res.body)}`);
    }
  };
  await Promise.all(Array.from({ length: 64 }, lane));
}

function signOnly(n: number): void {
  const signer = keymint.keyring.signer(alg as 'EdDSA');
  for (let i = 0; i < n; i++) {
    const iat = Math.floor(Date.now() / 1000);
    signJwt(signer, 'at+jwt', { iss: keymint.config.issuer, sub: client.client_id, aud: keymint.config.issuer, exp: iat + 3600, iat, jti: `j${i}xxxxxxxxxxxxxxxxxxxx`, client_id: client.client_id, mode: 'live', env: 'prod' });
  }
}

const cpu = async (run: () => unknown): Promise<number> => {
  const before = process.cpuUsage();
  await run();
  const d = process.cpuUsage(before);
  return (d.user + d.system) / tokens;
};

await viaRouter(Math.min(tokens, 2000));
signOnly(Math.min(tokens, 2000));
const full: number[] = [];
const sign: number[] = [];
for (let r = 0; r < rounds; r++) {
  full.push(await cpu(() => viaRouter(tokens)));
  sign.push(await cpu(() => signOnly(tokens)));
}
const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor((v.length - 1) / 2)]!;
const over = full.map((f, i) => f - sign[i]!);
process.stdout.write(
  `${alg}: ${median(full).toFixed(1)} CPU-µs per token through the router, ${median(sign).toFixed(1)} signing alone, overhead ${median(over).toFixed(1)} µs (rounds ${over.map((x) => x.toFixed(1)).join(', ')})\n`,
);
await keymint.close();
