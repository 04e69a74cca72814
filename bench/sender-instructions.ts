/**
 * Deterministic cost of the sender checks beyond the request plumbing: instructions per DPoP proof
 * (src/protocol/dpop.ts) or per `private_key_jwt` assertion (src/protocol/client-assertion.ts), each
 * claimed in a real SQLite store, counted by callgrind, for A/B comparisons of those paths where
 * time is noise: `node bench/sender-instructions.ts [--path dpop|assertion] [--from 1000 --to 3000]`.
 *
 * ES256 items are signed ahead, outside valgrind, on a fixed clock (the checks' `now` is that clock,
 * so no item ages under valgrind). The measured process checks WARMUP items, then FROM (and in a
 * second run TO) more, 16 at a time (so replay claims are group-committed as under load); the
 * difference of the two runs' counts over TO − FROM is the figure. It moves by a few k instructions
 * from run to run: compare builds in runs made side by side. It includes the ES256 verification itself (the `--path verify` figure, the signature check
 * alone, is the reference to subtract).
 */
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { clientKeys, CLIENT_KEY_ALGORITHMS } from '../src/credentials/client-keys.ts';
import { JWT_BEARER_ASSERTION_TYPE, verifyClientAssertion } from '../src/protocol/client-assertion.ts';
import { DPOP_ALGORITHMS, verifyDpopProof } from '../src/protocol/dpop.ts';
import { storeReplayGuard } from '../src/protocol/replay-guard.ts';
import { CLOCK_TOLERANCE_SECONDS, PROOF_MAX_AGE_SECONDS, ASSERTION_MAX_LIFETIME_SECONDS } from '../src/protocol/sender.ts';
import { openSqliteStore } from '../src/storage/sqlite/index.ts';
import { jwsVerifyKey, parseJwt } from '../src/tokens/jws-verify.ts';
import { NODE, removeTempDir, tempDir } from './procs.ts';

const { values } = parseArgs({
  options: {
    path: { type: 'string', default: 'dpop' },
    from: { type: 'string', default: '1000' },
    to: { type: 'string', default: '3000' },
    warmup: { type: 'string', default: '1000' },
    measure: { type: 'string' },
    count: { type: 'string' },
    keep: { type: 'boolean', default: false },
  },
});
const URL_ = 'https://auth.example.com/oauth2/token';
const ISSUER = 'https://auth.example.com';
const LANES = 16;

interface Items {
  readonly nowMs: number;
  readonly jwk: Record<string, unknown>;
  readonly items: readonly string[];
}

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
const es256 = (key: KeyObject, header: object, payload: object) => {
  const input = `${b64(header)}.${b64(payload)}`;
  return `${input}.${sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' }).toString('base64url')}`;
};

function generate(path: string, n: number): Items {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = publicKey.export({ format: 'jwk' }) as Record<string, unknown>;
  const nowMs = Date.now();
  const t = Math.floor(nowMs / 1000);
  const items = Array.from({ length: n }, () => {
    const jti = randomBytes(12).toString('base64url');
    return path === 'assertion'
      ? es256(privateKey, { alg: 'ES256', kid: 'k' }, { iss: 'c', sub: 'c', aud: ISSUER, jti, iat: t, exp: t + 60 })
      : es256(privateKey, { alg: 'ES256', typ: 'dpop+jwt', jwk }, { jti, htm: 'POST', htu: URL_, iat: t });
  });
  return { nowMs, jwk, items };
}

/** The measured process: checks `count` items after the warm-up ones, then exits. */
async function measure(file: string, count: number): Promise<void> {
  const { nowMs, jwk, items } = JSON.parse(readFileSync(file, 'utf8')) as Items;
  const dir = tempDir('sender-instructions-store');
  const store = openSqliteStore({ dir });
  const now = () => nowMs;
  const replay = storeReplayGuard(store.replays, now);
  const keys = clientKeys({ timeoutMs: 1, maxBytes: 1, allowPrivateAddresses: false, allowHttp: false, cacheTtlMs: 3_600_000, unknownKidCooldownMs: 1, now });
  const source = { jwks: { keys: [{ ...jwk, kid: 'k' }] } };
  const ownKey = jwsVerifyKey(jwk, 'ES256');
  const check: (item: string) => Promise<unknown> =
    values.path === 'assertion'
      ? (a) =>
          verifyClientAssertion({ clientId: 'c', assertionType: JWT_BEARER_ASSERTION_TYPE, assertion: a, secretPresented: false }, (_id, h) => keys.keyFor(source, h), {
            audiences: [ISSUER],
            algorithms: CLIENT_KEY_ALGORITHMS,
            maxLifetimeSeconds: ASSERTION_MAX_LIFETIME_SECONDS,
            clockToleranceSeconds: CLOCK_TOLERANCE_SECONDS,
            replay,
            now,
          })
      : values.path === 'verify'
        ? async (p) => {
            const jwt = parseJwt(p);
            if (!ownKey.verify(jwt.signingInput, jwt.signature)) throw new Error('bad signature');
          }
        : (p) =>
            verifyDpopProof({ method: 'POST', url: URL_, proof: p }, {
              algorithms: DPOP_ALGORITHMS,
              proofMaxAgeSeconds: PROOF_MAX_AGE_SECONDS,
              clockToleranceSeconds: CLOCK_TOLERANCE_SECONDS,
              nonces: undefined,
              replay,
              now,
            });
  // Start inside a setImmediate callback, so a path with no replay commit (`verify`) is counted too.
  await new Promise((resolve) => setImmediate(resolve));
  const total = Number(values.warmup) + count;
  let next = 0;
  const lane = async () => {
    while (next < total) {
      const item = items[next++]!;
      if ((await check(item)) === false) throw new Error('check failed');
    }
  };
  await Promise.all(Array.from({ length: LANES }, lane));
  await store.close();
  removeTempDir(dir);
}

function callgrindTotal(file: string, count: number, out: string): number {
  // Only what runs inside setImmediate callbacks is counted: the replay commits and the microtasks
  // they release (the checks, after each lane's first); start-up, loading the items and the
  // compiler threads are not.
  const toggles = ['--toggle-collect=*CheckImmediate*'];
  execFileSync('valgrind', ['--tool=callgrind', ...toggles, `--callgrind-out-file=${out}`, NODE, import.meta.filename, '--path', values.path!, '--warmup', values.warmup!, '--measure', file, '--count', String(count)], { stdio: ['ignore', 'ignore', 'pipe'] });
  const totals = /^(?:totals|summary): (\d+)/m.exec(readFileSync(out, 'utf8'));
  if (!totals) throw new Error(`no totals in ${out}`);
  return Number(totals[1]);
}

if (values.measure !== undefined) await measure(values.measure, Number(values.count));
else {
  const dir = tempDir('sender-instructions');
  try {
    const from = Number(values.from);
    const to = Number(values.to);
    const file = join(dir, 'items.json');
    writeFileSync(file, JSON.stringify(generate(values.path!, Number(values.warmup) + to)));
    const a = callgrindTotal(file, from, join(dir, 'a.out'));
    const b = callgrindTotal(file, to, join(dir, 'b.out'));
    process.stdout.write(`${values.path} ES256: ${from} items ${a} instructions, ${to} items ${b}; per item ${Math.round((b - a) / (to - from))}\n`);
  } finally {
    // --keep: leave the callgrind files (a.out, b.out) for callgrind_annotate.
    if (values.keep) process.stdout.write(`callgrind files in ${dir}\n`);
    else removeTempDir(dir);
  }
}
