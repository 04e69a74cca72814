/**
 * The page shell: one stylesheet and one script from the console's own assets, landmarks, and for a
 * signed-in user the navigation and the sign-out form. No inline script or style (the CSP forbids them).
 */
import { html, type Html } from '../html.ts';
import { csrfField, type ConsoleRequest } from '../http.ts';

const shell = (title: string, body: Html): Html => html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${title} · Keymint console</title>
<link rel="stylesheet" href="/console/assets/console.css">
</head>
<body>
${body}
</body>
</html>
`;

/** A page for a signed-in user. */
export function layout(req: ConsoleRequest, title: string, body: Html): Html {
  return shell(
    title,
    html`<header>
<nav aria-label="Console">
<a href="/console/">Keymint console</a>
</nav>
<form method="post" action="/console/sign-out">
${csrfField(req)}
<span>${req.user.name} (${req.user.role})</span>
<button type="submit">Sign out</button>
</form>
</header>
<main id="main">
<h1>${title}</h1>
${body}
</main>`,
  );
}

/** A page for anyone (sign-in, link, errors). */
export function publicLayout(title: string, body: Html): Html {
  return shell(title, html`<main id="main">
<h1>${title}</h1>
${body}
</main>`);
}
