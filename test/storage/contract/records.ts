/** Records the contract suites store; each takes overrides. */
import type { ClientRecord, CodeRecord, KeyRecord, SessionRecord, TokenRecord } from '../../../src/storage/types.ts';

export const clientRecord = (id: string, over: Partial<ClientRecord> = {}): ClientRecord => ({
  id,
  name: 'contract',
  mode: 'live',
  environment: 'prod',
  type: 'confidential',
  status: 'active',
  grants: ['client_credentials'],
  scopes: ['a', 'b'],
  audiences: [],
  dialects: [],
  redirectUris: [],
  trusted: false,
  accessTokenTtl: null,
  secrets: [{ id: 'sec_1', pepperKid: 'p1', digest: 'ab'.repeat(32), createdAt: 1, expiresAt: null, lastUsedAt: null }],
  createdAt: 1000,
  updatedAt: 1000,
  ...over,
});

export const keyRecord = (kid: string, over: Partial<KeyRecord> = {}): KeyRecord => ({
  kid,
  use: 'sig',
  alg: 'RS256',
  state: 'next',
  publicJwk: '{"kty":"RSA"}',
  sealed: 'sealed',
  createdAt: 1,
  activatedAt: null,
  retiredAt: null,
  publishUntil: null,
  ...over,
});

export const tokenRecord = (digest: string, over: Partial<TokenRecord> = {}): TokenRecord => ({
  digest,
  kind: 'refresh_token',
  clientId: 'c1',
  subject: 'u1',
  scope: 'a b',
  audience: ['https://api.example'],
  issuedAt: 1000,
  expiresAt: 10_000_000,
  revokedAt: null,
  familyId: 'fam1',
  jti: `j-${digest}`,
  ...over,
});

export const sessionRecord = (id: string, over: Partial<SessionRecord> = {}): SessionRecord => ({
  id,
  digest: 'p1:aa',
  subject: 'u1',
  subjectType: 'user',
  organizations: ['o1'],
  createdAt: 1,
  expiresAt: 2,
  endedAt: null,
  ...over,
});

export const codeRecord = (digest: string, over: Partial<CodeRecord> = {}): CodeRecord => ({
  digest,
  clientId: 'c1',
  redirectUri: 'https://app/cb',
  scope: 'openid',
  codeChallenge: 'x'.repeat(43),
  codeChallengeMethod: 'S256',
  resource: null,
  dpopJkt: null,
  sessionId: null,
  nonce: 'n',
  subject: 'u1',
  subjectType: 'user',
  authTime: 1,
  issuedAt: 1000,
  expiresAt: 61_000,
  consumedAt: null,
  familyId: 'fam',
  ...over,
});
