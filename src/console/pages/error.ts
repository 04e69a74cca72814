/**
 * The console's error page: the status, one sentence, and a way back. Never a stack trace or a
 * cause; the route layer logs those. Marked with data-error so browser tests can tell an error
 * page from a working one.
 */
import { layout, type PageContext } from './layout.ts';
import { html } from './html.ts';
import { paths } from './paths.ts';

const TITLES: Readonly<Record<number, string>> = {
  400: 'Bad request', 403: 'Not allowed', 404: 'Not found', 405: 'Method not allowed', 409: 'Conflict', 413: 'Too large', 429: 'Too many requests', 503: 'Unavailable',
};

export function errorPage(ctx: PageContext, status: number, message: string): string {
  const title = TITLES[status] ?? 'Something went wrong';
  const body = html`<div class="card narrow" data-error="${status}">
<h1>${title}</h1>
<p>${message}</p>
<p><a href="${ctx.user ? paths.clients : paths.signIn}">${ctx.user ? 'Back to the clients' : 'Sign in'}</a></p>
</div>`;
  return layout(ctx, { title, section: 'none', body });
}
