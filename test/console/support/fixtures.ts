/**
 * Fixed views for rendering every console page without a server: a few clients (one with markup in
 * its name), keys in each state, audit events and a traffic window. Times are fixed, so renderings
 * are stable.
 */
import { toView } from '../../../src/credentials/clients.ts';
import type { AuditEvent, ClientRecord } from '../../../src/storage/types.ts';
import type { ConsoleClient, KeyDescription, PageContext, SandboxView, TrafficView } from '../../../src/console/pages/index.ts';

export const NOW = Date.parse('2026-12-01T16:00:00Z');

export const admin: PageContext = { user: { name: 'ada', role: 'admin' }, csrf: 'csrf-token-fixture', sandbox: false };
export const viewer: PageContext = { user: { name: 'vic', role: 'viewer' }, csrf: 'csrf-token-viewer', sandbox: false };
export const anonymous: PageContext = { user: null, csrf: 'csrf-token-anon', sandbox: false };

/** A client view as ClientService shows one (through `toView`, so new view fields follow), changed by `over`. */
export function client(over: Partial<ConsoleClient> = {}): ConsoleClient {
  const record: ClientRecord = {
    id: 'sk_test_live_4eC39HqLyjWDarjtT1zdp7dc',
    name: 'Acme Payments',
    mode: 'live',
    environment: 'test',
    type: 'confidential',
    status: 'active',
    grants: ['client_credentials'],
    scopes: ['payments:read', 'payments:write'],
    audiences: ['https://api.example.com'],
    dialects: ['orum'],
    redirectUris: [],
    trusted: false,
    accessTokenTtl: 900,
    rateLimit: 600,
    secrets: [{ id: 'sec_a1b2c3d4e5', pepperKid: 'p1', digest: '0'.repeat(64), createdAt: NOW - 86_400_000, expiresAt: null, lastUsedAt: NOW - 60_000 }],
    createdAt: NOW - 7 * 86_400_000,
    updatedAt: NOW - 86_400_000,
  };
  return { ...toView(record, NOW), metadata: { team: 'payments', ticket: 'OPS-1234' }, claims: { org_id: 'acme' }, ...over };
}

export const clients: ConsoleClient[] = [
  client(),
  client({ client_id: 'sk_test_sdbx_9pQ7rS2tU4vW6xY8zA1bC3dE', name: 'Reports <script>alert(1)</script>', mode: 'sandbox', dialects: [], scopes: ['reports:read'] }),
  client({ client_id: 'sk_test_live_Zz9Yy8Xx7Ww6Vv5Uu4Tt3Ss2', name: 'Legacy batch', status: 'disabled', dialects: ['polar', 'fuuffy'], rate_limit: null, access_token_ttl: null }),
  client({ client_id: 'sk_test_live_Pp1Qq2Rr3Ss4Tt5Uu6Vv7Ww8', name: 'Mobile app', type: 'public', grants: ['authorization_code', 'refresh_token'], redirect_uris: ['com.example.app:/callback'], secrets: [], token_endpoint_auth_method: 'none' }),
];

/** Secretless clients (not in `clients`, whose list and filter figures are fixed): one with keys, one with a certificate name. */
export const keyedClient = client({
  client_id: 'sk_test_live_Kk1Ll2Mm3Nn4Oo5Pp6Qq7Rr8', name: 'Keyed service', token_endpoint_auth_method: 'private_key_jwt', secrets: [],
  jwks: { keys: [{ kty: 'EC', crv: 'P-256', x: 'f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU', y: 'x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0', kid: 'svc-2026' }] },
  dpop_bound_access_tokens: true, security_profile: 'fapi2', refresh_token_rotation: false, exchange_audiences: ['https://ledger.example.com'], exchange_scopes: ['ledger:read'],
});
export const certificateClient = client({
  client_id: 'sk_test_live_Tt1Uu2Vv3Ww4Xx5Yy6Zz7Aa8', name: 'mTLS batch', token_endpoint_auth_method: 'tls_client_auth', secrets: [],
  tls_client_auth_subject_dn: 'CN=batch,O=Acme', tls_client_certificate_bound_access_tokens: true,
});

export const dialects = ['oauth2', 'orum', 'polar', 'fuuffy', 'tradevest', 'polygon-oms'];
export const grants = ['client_credentials', 'authorization_code', 'refresh_token', 'web', 'urn:ietf:params:oauth:grant-type:token-exchange'];

const key = (kid: string, alg: string, state: KeyDescription['state'], age: number, extra: Partial<KeyDescription> = {}): KeyDescription => ({
  kid, use: 'sig', alg, state, publicJwk: '{}', createdAt: NOW - age, activatedAt: state === 'next' ? null : NOW - age + 1000, retiredAt: null, publishUntil: null, ...extra,
});

export const keys: KeyDescription[] = [
  key('es256-2026-12-a', 'ES256', 'active', 3 * 86_400_000),
  key('es256-2026-12-b', 'ES256', 'next', 3 * 86_400_000),
  key('es256-2026-11-z', 'ES256', 'retired', 30 * 86_400_000, { retiredAt: NOW - 3 * 86_400_000, publishUntil: NOW + 3_600_000 }),
  key('rs256-2026-12-a', 'RS256', 'active', 3 * 86_400_000),
  key('rs256-2026-12-b', 'RS256', 'next', 3 * 86_400_000),
  { kid: 'pepper-1', use: 'hmac', alg: 'HS256', state: 'active', publicJwk: null, createdAt: NOW - 30 * 86_400_000, activatedAt: NOW - 30 * 86_400_000, retiredAt: null, publishUntil: null },
];

export const events: AuditEvent[] = [
  { at: NOW - 60_000, actor: 'console:ada', action: 'client.update', target: clients[0]!.client_id, detail: { scopes_before: 'payments:read', scopes_after: 'payments:read payments:write' } },
  { at: NOW - 120_000, actor: 'console:ada', action: 'client.rotate_secret', target: clients[0]!.client_id, detail: { overlap_seconds: 3600, tokens_revoked: 4 } },
  { at: NOW - 3_600_000, actor: 'cli', action: 'client.create', target: clients[0]!.client_id, detail: { mode: 'live', type: 'confidential', admin: false } },
  { at: NOW - 7_200_000, actor: 'admin:sk_test_live_Admin', action: 'key.rotate', target: 'signing', detail: {} },
];

const wave = (n: number, base: number, amp: number, phase: number) => Array.from({ length: n }, (_, i) => Math.max(0, base + amp * Math.sin(i / 5 + phase)));

export const traffic: TrafficView = {
  stepSeconds: 2,
  nodes: 1,
  tokensByDialect: [
    { name: 'oauth2', values: wave(60, 40, 12, 0) },
    { name: 'orum', values: wave(60, 22, 8, 1) },
    { name: 'polar', values: wave(60, 6, 3, 2) },
  ],
  topClients: clients.slice(0, 3).map((c, i) => ({ clientId: c.client_id, name: c.name, tokens: 5000 - i * 1700 })),
  refusals: [
    { reason: 'invalid_client', count: 31 },
    { reason: 'rate_limited', count: 12 },
    { reason: 'invalid_scope', count: 3 },
  ],
  throttled: wave(60, 0.4, 0.4, 0),
  shed: wave(60, 0.05, 0.05, 3),
  latency: { p50: wave(60, 2.1, 0.3, 0), p99: wave(60, 9, 3, 1) },
};

const at = (ms: number) => new Date(NOW + ms).toISOString();

/** The sandbox panel: a clock two hours ahead, two faults (one spent), a few recorded requests, a refused form. */
export const sandbox: SandboxView = {
  clock: { offsetMs: 7_200_000, now: at(7_200_000) },
  startOffsetMs: 0,
  faults: [
    { dialect: 'orum', client: 'orum-app', endpoint: 'token', status: 429, retryAfter: 30, times: 1, id: 'f1', remaining: 0, fired: 1 } as SandboxView['faults'][number],
    { latencyMs: 250, jitterMs: 50, fraction: 0.5, id: 'f2', remaining: null, fired: 3 } as SandboxView['faults'][number],
  ],
  requests: [
    { at: at(7_200_000), method: 'POST', path: '/oauth/token', dialect: 'orum', endpoint: 'token', clientId: 'sk_live_YsMKgKC8HUjYmfhN8AR95PHC', client: 'orum-app', grant: 'client_credentials', status: 200, outcome: 'ok', faults: ['f2'] },
    { at: at(7_100_000), method: 'POST', path: '/oauth2/introspect', dialect: 'oauth2', endpoint: 'introspect', clientId: 'sk_live_YsMKgKC8HUjYmfhN8AR95PHC', client: 'orum-app', grant: null, status: 200, outcome: 'ok', faults: [] },
    { at: at(60_000), method: 'POST', path: '/oauth/token', dialect: 'orum', endpoint: 'token', clientId: 'sk_live_YsMKgKC8HUjYmfhN8AR95PHC', client: 'orum-app', grant: 'client_credentials', status: 429, outcome: 'rate_limited', faults: ['f1'] },
    { at: at(0), method: 'POST', path: '/oauth/token', dialect: 'orum', endpoint: 'token', clientId: null, client: null, grant: null, status: 0, outcome: 'dropped', faults: ['f3'] },
  ],
  recorded: 4,
  dialects: ['oauth2', 'orum'],
  statuses: [400, 401, 403, 404, 429, 500, 503],
  endpoints: ['token', 'introspect', 'revoke', 'revocations'],
  fault: { dialect: 'orum', client: '', endpoint: '', times: '', fraction: '', status: '418', error: '', retryAfter: '', latencyMs: '', jitterMs: '', drop: '', tokenTtl: '' },
  faultErrors: { status: 'must be one of 400, 401, 403, 404, 429, 500, 503' },
};
