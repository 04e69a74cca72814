/** The pages shown before sign-in, and the error page. */
import { html, type Html } from '../html.ts';
import { CSRF_FIELD } from '../http.ts';
import { publicLayout } from './layout.ts';

export function signInPage(v: { csrf: string; error?: string; name?: string }): Html {
  return publicLayout(
    'Sign in',
    html`${v.error ? html`<p role="alert" class="error">${v.error}</p>` : ''}
<form method="post" action="/console/sign-in">
<input type="hidden" name="${CSRF_FIELD}" value="${v.csrf}">
<label for="name">Name</label>
<input id="name" name="name" autocomplete="username" required value="${v.name ?? ''}">
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required>
<button type="submit">Sign in</button>
</form>`,
  );
}

/** The page a one-time link opens: one button, so a link preview that fetches it spends nothing. */
export function linkPage(v: { csrf: string; token: string }): Html {
  return publicLayout(
    'Sign in with a link',
    html`<p>This one-time link signs you in to the Keymint console. It works once.</p>
<form method="post" action="/console/link">
<input type="hidden" name="${CSRF_FIELD}" value="${v.csrf}">
<input type="hidden" name="token" value="${v.token}">
<button type="submit">Sign in</button>
</form>`,
  );
}

export function errorPage(title: string, text: string): Html {
  return publicLayout(title, html`<p role="alert" class="error">${text}</p>
<p><a href="/console/">Back to the console</a></p>`);
}
