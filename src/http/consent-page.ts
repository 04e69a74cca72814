/**
 * The consent page and the authorization error page: server-rendered, self-contained HTML (no
 * external assets, no script), accessible (landmarks, headings, labelled controls, visible focus,
 * contrast ≥ 4.5:1). Every interpolated value is HTML-escaped.
 */
const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
export const escapeHtml = (value: string): string => value.replace(/[&<>"']/g, (c) => ESCAPES[c]!);

/**
 * What a scope lets the application do, in words; unknown scopes are shown by name. A Map: scope
 * names are the client's, and `toString` or `__proto__` must not find Object.prototype's members.
 */
const SCOPE_TEXT: ReadonlyMap<string, string> = new Map([
  ['openid', 'Confirm who you are'],
  ['profile', 'See your basic profile'],
  ['email', 'See your email address'],
]);

const STYLE = `
  :root { color-scheme: light; font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
  body { margin: 0; background: #f4f5f7; color: #1b1f24; }
  main { max-width: 28rem; margin: 4rem auto; background: #fff; border: 1px solid #d0d4da; border-radius: 12px; padding: 2rem; }
  h1 { font-size: 1.35rem; margin: 0 0 1rem; }
  p { line-height: 1.5; }
  ul { padding-left: 1.25rem; }
  li { margin: .35rem 0; }
  code { background: #eef0f3; padding: 0 .25rem; border-radius: 4px; }
  .actions { display: flex; gap: .75rem; margin-top: 1.5rem; }
  button { font: inherit; padding: .6rem 1.2rem; border-radius: 8px; cursor: pointer; border: 1px solid #1b1f24; }
  button[value=approve], button[value=logout] { background: #1547c0; color: #fff; border-color: #1547c0; }
  button[value=deny], button[value=stay] { background: #fff; color: #1b1f24; }
  input { font: inherit; font-size: 1.25rem; letter-spacing: .1em; padding: .5rem; border: 1px solid #4a515b; border-radius: 6px; width: 12rem; }
  input:focus-visible { outline: 3px solid #f0a000; outline-offset: 2px; }
  button:focus-visible { outline: 3px solid #f0a000; outline-offset: 2px; }
  .fine { font-size: .9rem; color: #4a515b; }
`;

const page = (title: string, body: string): string => `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${escapeHtml(title)}</title>
<style>${STYLE}</style>
</head>
<body>
<main>
${body}
</main>
</body>
</html>
`;

/** A form's hidden inputs: the request it carries and its CSRF token. */
const hiddenFields = (fields: Readonly<Record<string, string>>): string =>
  Object.entries(fields).map(([k, val]) => `<input type="hidden" name="${escapeHtml(k)}" value="${escapeHtml(val)}">`).join('\n');

export interface ConsentView {
  readonly action: string;
  readonly clientName: string;
  readonly scopes: readonly string[];
  /** Where the user is sent back (the code flow); absent for a device's request. */
  readonly redirectOrigin?: string;
  /** The user code of a device's request (RFC 8628 §5.4: the user checks it against the device's). */
  readonly userCode?: string;
  /** Hidden form fields: the authorization request and the CSRF token. */
  readonly fields: Readonly<Record<string, string>>;
}

export function consentPage(v: ConsentView): string {
  const items = v.scopes.length === 0
    ? '<li>No additional permissions</li>'
    : v.scopes.map((s) => {
        const text = SCOPE_TEXT.get(s);
        return `<li>${text ? `${escapeHtml(text)} (<code>${escapeHtml(s)}</code>)` : `<code>${escapeHtml(s)}</code>`}</li>`;
      }).join('\n');
  const hidden = hiddenFields(v.fields);
  return page(
    `Authorize ${v.clientName}`,
    `<h1 id="title">Authorize <strong>${escapeHtml(v.clientName)}</strong>?</h1>
${v.userCode === undefined ? '' : `<p>A device is asking to sign in with the code <strong id="user-code">${escapeHtml(v.userCode)}</strong>. Allow it only if this code is the one your own device shows you right now.</p>\n`}<p><strong>${escapeHtml(v.clientName)}</strong> is asking for permission to:</p>
<ul aria-labelledby="title">
${items}
</ul>
<form method="post" action="${escapeHtml(v.action)}">
${hidden}
<div class="actions">
<button type="submit" name="decision" value="approve">Allow</button>
<button type="submit" name="decision" value="deny">Deny</button>
</div>
</form>
${v.redirectOrigin === undefined ? '<p class="fine">The device gets access once you allow it; you can close this page afterwards.</p>' : `<p class="fine">You will be sent back to <code>${escapeHtml(v.redirectOrigin)}</code>.</p>`}`,
  );
}

/** The device verification page (RFC 8628 §3.3): a form for the user code, with a message above it when there is one. */
export function userCodePage(v: { readonly action: string; readonly message?: string; readonly value?: string }): string {
  return page(
    'Connect a device',
    `<h1>Connect a device</h1>
${v.message === undefined ? '' : `<p role="alert">${escapeHtml(v.message)}</p>\n`}<form method="get" action="${escapeHtml(v.action)}">
<p><label for="user_code">Enter the code shown on your device</label></p>
<p><input id="user_code" name="user_code" autocomplete="off" autocapitalize="characters" spellcheck="false" maxlength="32" placeholder="XXXX-XXXX" value="${escapeHtml(v.value ?? '')}"></p>
<div class="actions">
<button type="submit" value="approve">Continue</button>
</div>
</form>`,
  );
}

/**
 * The logout confirmation (OIDC RP-Initiated Logout §2: without a valid id_token_hint the OP asks the
 * user): sign out, or stay signed in; `clientName` is the application that asked, when known.
 */
export function logoutPage(v: { readonly action: string; readonly clientName?: string; readonly fields: Readonly<Record<string, string>> }): string {
  const hidden = hiddenFields(v.fields);
  const asker = v.clientName === undefined ? 'An application' : `<strong>${escapeHtml(v.clientName)}</strong>`;
  return page(
    'Sign out?',
    `<h1>Sign out?</h1>
<p>${asker} is asking to sign you out. You will need to sign in again to use the applications you connected.</p>
<form method="post" action="${escapeHtml(v.action)}">
${hidden}
<div class="actions">
<button type="submit" name="decision" value="logout">Sign out</button>
<button type="submit" name="decision" value="stay">Stay signed in</button>
</div>
</form>`,
  );
}

/** A page that only says something (the outcome of a device's request, a finished logout). */
export function messagePage(title: string, text: string): string {
  return page(title, `<h1>${escapeHtml(title)}</h1>\n<p role="status">${escapeHtml(text)}</p>`);
}

export function errorPage(description: string): string {
  return page('Authorization error', `<h1>This request cannot be completed</h1>\n<p role="alert">${escapeHtml(description)}</p>`);
}
