/**
 * Sign-in, and the password a user sets after a one-time link. Messages never say whether a user
 * exists or which half of the pair was wrong (the server decides; this page only shows its words).
 */
import { csrfField, layout, type PageContext } from './layout.ts';
import { errorSummary, input, type FormErrors } from './forms.ts';
import { html } from './html.ts';
import { paths } from './paths.ts';

export interface SignInView {
  readonly username?: string;
  /** One line from the server, e.g. "Wrong username or password." or a lockout. */
  readonly error?: string;
  /** Where to go after signing in (a console path). */
  readonly next?: string;
}

export function signInPage(ctx: PageContext, view: SignInView = {}): string {
  const body = html`<div class="card narrow">
<h1>Sign in</h1>
${view.error && html`<div class="notice notice-error" role="alert">${view.error}</div>`}
<form method="post" action="${paths.signIn}">
${csrfField(ctx)}
${view.next && html`<input type="hidden" name="next" value="${view.next}">`}
${input({ name: 'username', label: 'Username', value: view.username ?? '', autocomplete: 'username', required: true, spellcheck: false })}
${input({ name: 'password', label: 'Password', type: 'password', autocomplete: 'current-password', required: true })}
<div class="actions"><button type="submit" class="primary">Sign in</button></div>
</form>
<p class="hint">No account yet? An operator prints a one-time sign-in link with <code>keymint console link</code>.</p>
</div>`;
  return layout(ctx, { title: 'Sign in', section: 'none', body });
}

export interface SetPasswordView {
  /** The form's target (the one-time link's path, or the account page). */
  readonly action: string;
  readonly errors?: FormErrors;
  /** Hidden fields the target needs (the link's token). */
  readonly fields?: Readonly<Record<string, string>>;
}

/** First sign-in through a one-time link: the user chooses a password. */
export function setPasswordPage(ctx: PageContext, view: SetPasswordView): string {
  const body = html`<div class="card narrow">
<h1>Choose a password</h1>
<p>Welcome${ctx.user && html`, <strong>${ctx.user.name}</strong>`}. This link works once; choose the password you will sign in with from now on.</p>
${errorSummary(view.errors, { password: 'New password', confirm: 'Repeat the password' })}
<form method="post" action="${view.action}">
${csrfField(ctx)}
${Object.entries(view.fields ?? {}).map(([k, v]) => html`<input type="hidden" name="${k}" value="${v}">`)}
${ctx.user && html`<input type="text" name="username" value="${ctx.user.name}" autocomplete="username" hidden>`}
${input({ name: 'password', label: 'New password', type: 'password', autocomplete: 'new-password', required: true, hint: 'At least 12 characters.', errors: view.errors })}
${input({ name: 'confirm', label: 'Repeat the password', type: 'password', autocomplete: 'new-password', required: true, errors: view.errors })}
<div class="actions"><button type="submit" class="primary">Save and continue</button></div>
</form>
</div>`;
  return layout(ctx, { title: 'Choose a password', section: 'none', body });
}
