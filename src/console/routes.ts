/**
 * The console's page routes: each reads what it shows from ConsoleData, renders it with a page of
 * pages/ and answers; each change is a POST for admins that answers with a redirect (303) to the
 * page showing the result, or, where a secret is shown once, with that page itself.
 */
import { ClientInputError, ClientNotFoundError, type ClientView } from '../credentials/clients.ts';
import type { HttpResponse } from '../wire/http.ts';
import type { ConsoleData } from './data.ts';
import { htmlResponse, jsonResponse, redirect, route, type ConsoleRequest, type ConsoleRoute } from './http.ts';
import * as p from './pages/index.ts';
import { SANDBOX_DONE } from './sandbox-routes.ts';
import { chartView } from './traffic-view.ts';

/** What a redirect's `done` parameter tells the next page. */
const DONE: Readonly<Record<string, p.Notice>> = {
  disabled: { kind: 'ok', text: 'The client is disabled; its tokens were revoked.' },
  enabled: { kind: 'ok', text: 'The client is enabled.' },
  deleted: { kind: 'ok', text: 'The client was deleted; its tokens were revoked.' },
  updated: { kind: 'ok', text: 'The client was saved.' },
  created: { kind: 'ok', text: 'The client was created. It authenticates without a secret, so none was made.' },
  'auth-changed': { kind: 'ok', text: 'The client was saved. It authenticates another way now: it holds no secret, and its tokens were revoked.' },
  'secret-needed': { kind: 'warn', text: 'The client was saved and its tokens were revoked. It authenticates with a secret now but holds none: rotate its secret to issue one.' },
  'keys-rotated': { kind: 'ok', text: 'The signing keys were rotated: the next key signs now.' },
  ...SANDBOX_DONE,
};

export const pageContext = (req: ConsoleRequest): p.PageContext => {
  // Own members only (OBJ-01): ?done=toString is no notice, not Object.prototype's function rendered as one.
  const done = req.query.get('done') ?? '';
  const notice = Object.hasOwn(DONE, done) ? DONE[done] : undefined;
  return { user: req.user, csrf: req.csrf, sandbox: req.sandbox, ...(notice ? { notice } : {}) };
};

const clientPath = (id: string, done?: string) => `/clients/${encodeURIComponent(id)}${done ? `?done=${done}` : ''}`;
const notFound = (req: ConsoleRequest) => htmlResponse(404, p.errorPage(pageContext(req), 404, 'There is no such client (it may have been deleted).'));

/** Runs `fn`; a client that does not exist is a 404 page. */
async function withClient(req: ConsoleRequest, fn: () => Promise<HttpResponse>): Promise<HttpResponse> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof ClientNotFoundError) return notFound(req);
    throw err;
  }
}

export function pageRoutes(data: ConsoleData): ConsoleRoute[] {
  const formView = { grants: data.grants, dialects: data.dialects, maxTtl: data.maxTokenTtl, extras: true, algs: data.signingAlgs };
  const status = (action: p.StatusAction): ConsoleRoute[] => [
    route('GET', `/clients/:id/${action}`, 'admin', (req) =>
      withClient(req, async () => htmlResponse(200, p.confirmPage(pageContext(req), await data.showClient(req.params.id!), action))),
    ),
    route('POST', `/clients/:id/${action}`, 'admin', (req) =>
      withClient(req, async () => {
        const id = req.params.id!;
        if (action === 'delete') {
          await data.deleteClient(id, req.user);
          return redirect('/clients?done=deleted');
        }
        await data.setStatus(id, action === 'disable' ? 'disabled' : 'active', req.user);
        return redirect(clientPath(id, action === 'disable' ? 'disabled' : 'enabled'));
      }),
    ),
  ];
  return [
    route('GET', '/', 'viewer', () => redirect('/clients')),
    route('GET', '/clients', 'viewer', async (req) =>
      htmlResponse(200, p.clientsListPage(pageContext(req), { clients: await data.listClients(), filter: p.parseClientFilter(req.http.query), dialects: data.dialects })),
    ),
    route('GET', '/clients/new', 'admin', (req) => htmlResponse(200, p.clientFormPage(pageContext(req), { kind: 'create', values: p.emptyClientForm(), ...formView }))),
    route('POST', '/clients/new', 'admin', async (req) => {
      const values = p.clientFormFromBody(req.form);
      const refused = (errors: p.FormErrors) => htmlResponse(400, p.clientFormPage(pageContext(req), { kind: 'create', values, errors, ...formView }));
      const parsed = p.parseClientForm(values, 'create');
      if ('errors' in parsed) return refused(parsed.errors);
      try {
        // The service checks everything (claims, keys, the method's names) and answers a ClientInputError naming the field.
        const { client, clientSecret } = await data.createClient(parsed.input, req.user);
        // A public client, or one authenticating with keys or a certificate: nothing to show once.
        if (clientSecret === null) return redirect(clientPath(client.client_id, 'created'));
        return htmlResponse(201, p.secretPage(pageContext(req), { client, secret: clientSecret, reason: 'created' }));
      } catch (err) {
        if (err instanceof ClientInputError) return refused({ [p.formFieldOf(err.field)]: err.message });
        throw err;
      }
    }),
    route('GET', '/clients/:id', 'viewer', (req) =>
      withClient(req, async () => {
        const client = await data.showClient(req.params.id!);
        const { events } = await data.audit({ target: client.client_id, limit: 20 });
        return htmlResponse(200, p.clientDetailPage(pageContext(req), { client, events }));
      }),
    ),
    route('GET', '/clients/:id/edit', 'admin', (req) =>
      withClient(req, async () => {
        const client = await data.showClient(req.params.id!);
        return htmlResponse(200, p.clientFormPage(pageContext(req), { kind: 'edit', clientId: client.client_id, values: p.clientFormValues(client), publicClient: client.type === 'public', ...formView }));
      }),
    ),
    route('POST', '/clients/:id/edit', 'admin', (req) =>
      withClient(req, async () => {
        const id = req.params.id!;
        const before = await data.showClient(id);
        const values = p.clientFormFromBody(req.form);
        const refused = (errors: p.FormErrors) => htmlResponse(400, p.clientFormPage(pageContext(req), { kind: 'edit', clientId: id, values, errors, publicClient: before.type === 'public', ...formView }));
        const parsed = p.parseClientForm(values, 'edit');
        if ('errors' in parsed) return refused(parsed.errors);
        let after: ClientView;
        try {
          after = await data.updateClient(id, parsed.input, req.user);
        } catch (err) {
          if (err instanceof ClientInputError) return refused({ [p.formFieldOf(err.field)]: err.message });
          throw err;
        }
        // As the admin API: a change of method ends the secrets and revokes the tokens; back to a secret, none until a rotation.
        if (after.token_endpoint_auth_method === before.token_endpoint_auth_method) return redirect(clientPath(id, 'updated'));
        return redirect(clientPath(id, p.hasSecret(after) && after.secrets.length === 0 ? 'secret-needed' : 'auth-changed'));
      }),
    ),
    route('GET', '/clients/:id/rotate', 'admin', (req) =>
      withClient(req, async () => htmlResponse(200, p.rotatePage(pageContext(req), { client: await data.showClient(req.params.id!), overlap: '86400' }))),
    ),
    route('POST', '/clients/:id/rotate', 'admin', (req) =>
      withClient(req, async () => {
        const id = req.params.id!;
        const overlap = (req.form.get('overlap') ?? '').trim();
        const refuse = async (message: string) => htmlResponse(400, p.rotatePage(pageContext(req), { client: await data.showClient(id), overlap, errors: { overlap: message } }));
        if (!/^\d{1,9}$/.test(overlap)) return refuse('The overlap is a whole number of seconds, 0 or more.');
        try {
          const { client, clientSecret } = await data.rotateSecret(id, Number(overlap), req.user);
          const previous = previousEnd(client);
          return htmlResponse(200, p.secretPage(pageContext(req), { client, secret: clientSecret, reason: 'rotated', previousEnds: previous }));
        } catch (err) {
          if (err instanceof ClientInputError) return refuse(err.message);
          throw err;
        }
      }),
    ),
    ...status('disable'),
    ...status('enable'),
    ...status('delete'),
    route('GET', '/keys', 'viewer', (req) => htmlResponse(200, p.keysPage(pageContext(req), { keys: data.keyDescriptions(), now: req.now, jwksUri: data.jwksUri }))),
    route('POST', '/keys/rotate', 'admin', async (req) => {
      await data.rotateKeys(req.user);
      return redirect('/keys?done=keys-rotated');
    }),
    route('GET', '/audit', 'viewer', async (req) => {
      const filter = p.parseAuditFilter(req.http.query);
      const { events, next } = await data.auditPageNumber({ target: filter.client, actor: filter.actor, action: filter.action }, filter.page, p.AUDIT_PAGE_SIZE);
      return htmlResponse(200, p.auditPage(pageContext(req), { filter, events, hasNext: next !== undefined }));
    }),
    route('GET', '/traffic', 'viewer', async (req) => htmlResponse(200, p.trafficPage(pageContext(req), await chartView(await data.traffic(), data)))),
    route('GET', '/api/traffic', 'viewer', async () => jsonResponse(200, await data.traffic())),
  ];
}

/** When the previous secret stops working after a rotation (ISO), or null when none is live. */
function previousEnd(c: ClientView): string | null {
  const older = c.secrets.slice(1).map((s) => s.expires_at).filter((e): e is string => e !== null);
  return older.length === 0 ? null : older.sort().at(-1)!;
}
