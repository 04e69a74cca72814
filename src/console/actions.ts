/**
 * The console's state-changing actions that answer with a redirect (303, then the page shows the
 * new state): disable, enable and delete a client, rotate the signing keys. Admin only, each audited
 * under the user's name by the service it calls. Actions that must show something once (a new
 * client's secret, a rotated secret) render their own page in pages/.
 */
import { ClientNotFoundError } from '../credentials/clients.ts';
import type { ConsoleData } from './data.ts';
import { htmlResponse, redirect, route, type ConsoleRoute } from './http.ts';
import { errorPage } from './pages/public.ts';

const clientPath = (id: string) => `/clients/${encodeURIComponent(id)}`;
const notFound = () => htmlResponse(404, errorPage('No such client', 'The client does not exist (it may have been deleted).'));

export function actionRoutes(data: ConsoleData): ConsoleRoute[] {
  const onClient = (fn: (id: string) => Promise<unknown>, to: (id: string) => string) => async (id: string) => {
    try {
      await fn(id);
    } catch (err) {
      if (err instanceof ClientNotFoundError) return notFound();
      throw err;
    }
    return redirect(to(id));
  };
  return [
    route('POST', '/clients/:id/disable', 'admin', (req) => onClient((id) => data.setStatus(id, 'disabled', req.user), clientPath)(req.params.id!)),
    route('POST', '/clients/:id/enable', 'admin', (req) => onClient((id) => data.setStatus(id, 'active', req.user), clientPath)(req.params.id!)),
    route('POST', '/clients/:id/delete', 'admin', (req) => onClient((id) => data.deleteClient(id, req.user), () => '/clients')(req.params.id!)),
    route('POST', '/keys/rotate', 'admin', async (req) => {
      await data.rotateKeys(req.user);
      return redirect('/keys');
    }),
  ];
}
