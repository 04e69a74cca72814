/**
 * A preview server for the console's pages: every page rendered from the fixtures, served with the
 * console's assets and a strict Content-Security-Policy, so a real browser can check accessibility,
 * CSP compliance, keyboard use and weight without the rest of Keymint. `?as=viewer` renders a page
 * for the read-only role.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { assetResponse } from '../../../src/console/assets/index.ts';
import * as p from '../../../src/console/pages/index.ts';
import { admin, anonymous, certificateClient, clients, dialects, events, grants, keyedClient, keys, NOW, sandbox, traffic, viewer } from './fixtures.ts';

export const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

const c0 = clients[0]!;

/** Path → page, for the admin (or viewer) context. */
export const PAGES: Readonly<Record<string, (ctx: p.PageContext, query: string) => string>> = {
  '/console/sign-in': () => p.signInPage(anonymous, { error: 'Wrong username or password.', username: 'ada' }),
  '/console/welcome': () => p.setPasswordPage({ ...anonymous, user: { name: 'ada', role: 'admin' } }, { action: '/console/link', fields: { token: 'x' } }),
  '/console/clients': (ctx, q) => p.clientsListPage(ctx, { clients, filter: p.parseClientFilter(q), dialects }),
  '/console/clients/new': (ctx) => p.clientFormPage(ctx, { kind: 'create', values: p.emptyClientForm(), grants, dialects, extras: true, maxTtl: 86_400 }),
  [p.paths.client(c0.client_id)]: (ctx) => p.clientDetailPage(ctx, { client: c0, events }),
  [p.paths.client(clients[1]!.client_id)]: (ctx) => p.clientDetailPage(ctx, { client: clients[1]!, events: [] }),
  [p.paths.editClient(c0.client_id)]: (ctx, q) =>
    p.clientFormPage(ctx, {
      kind: 'edit', clientId: c0.client_id, values: p.clientFormValues(c0), grants, dialects, extras: true,
      ...(q.includes('errors') ? { errors: { scopes: 'a scope contains characters outside RFC 6749 §3.3', ttl: 'a whole number, or empty for the deployment default' } } : {}),
    }),
  [p.paths.client(keyedClient.client_id)]: (ctx) => p.clientDetailPage(ctx, { client: keyedClient, events: [] }),
  [p.paths.client(certificateClient.client_id)]: (ctx) => p.clientDetailPage(ctx, { client: certificateClient, events: [] }),
  [p.paths.editClient(keyedClient.client_id)]: (ctx) =>
    p.clientFormPage(ctx, {
      kind: 'edit', clientId: keyedClient.client_id, values: { ...p.clientFormValues(keyedClient), jwks: '{"keys": [{"kty": "oct", "k": "c2VjcmV0"}]}' }, grants, dialects, extras: true, algs: ['RS256', 'ES256'],
      errors: { jwks: 'the JWKS holds private or symmetric key material' },
    }),
  [p.paths.rotateSecret(c0.client_id)]: (ctx) => p.rotatePage(ctx, { client: c0, overlap: '3600' }),
  [p.paths.disableClient(c0.client_id)]: (ctx) => p.confirmPage(ctx, c0, 'disable'),
  [p.paths.deleteClient(c0.client_id)]: (ctx) => p.confirmPage(ctx, c0, 'delete'),
  '/console/secret': (ctx) => p.secretPage(ctx, { client: c0, secret: 'ks_test_Q2hhbmdlTWVJbW1lZGlhdGVseQ', reason: 'created' }),
  '/console/keys': (ctx) => p.keysPage(ctx, { keys, now: NOW, jwksUri: 'http://127.0.0.1/.well-known/jwks.json' }),
  '/console/audit': (ctx, q) => p.auditPage(ctx, { filter: p.parseAuditFilter(q), events: events.filter((e) => p.matchesAudit(e, p.parseAuditFilter(q))), hasNext: true }),
  '/console/traffic': (ctx) => p.trafficPage(ctx, traffic),
  '/console/sandbox': (ctx) => p.sandboxPage({ ...ctx, sandbox: true }, sandbox),
  '/console/missing': (ctx) => p.errorPage(ctx, 404, 'There is no such page in the console.'),
};

export async function startPreview(port = 0): Promise<{ url: string; server: Server; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const asset = assetResponse(url.pathname, url.search.slice(1));
    if (asset) {
      res.writeHead(asset.status, asset.headers).end(asset.body);
      return;
    }
    const page = PAGES[url.pathname];
    const ctx = url.searchParams.get('as') === 'viewer' ? viewer : admin;
    const status = page && url.pathname !== '/console/missing' ? 200 : 404;
    const body = page ? page(ctx, url.search.slice(1)) : p.errorPage(ctx, 404, 'There is no such page in the console.');
    res.writeHead(status, { 'Content-Type': 'text/html;charset=utf-8', 'Content-Security-Policy': CSP, 'Cache-Control': 'no-store', 'X-Content-Type-Options': 'nosniff' }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const { port: bound } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${bound}`, server, close: () => new Promise((resolve) => server.close(() => resolve())) };
}
