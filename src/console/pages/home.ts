/** The home page: who is signed in. */
import { html } from '../html.ts';
import { htmlResponse, route, type ConsoleRoute } from '../http.ts';
import { layout } from './layout.ts';

export const homeRoutes: ConsoleRoute[] = [
  route('GET', '/', 'viewer', (req) =>
    htmlResponse(200, layout(req, 'Overview', html`<p>Signed in as <strong>${req.user.name}</strong>, role <strong>${req.user.role}</strong>.</p>`)),
  ),
];
