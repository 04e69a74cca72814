/**
 * The frame of every console page: landmarks (header, nav, main), a skip link as the first focusable
 * element, the signed-in user and their role, and the one stylesheet. The script is linked only by
 * pages that need it (copy buttons, self-refreshing charts); nothing is inline, so the CSP can forbid
 * inline script and style alike.
 */
import { assetUrl } from '../assets/index.ts';
import { html, type Html } from './html.ts';
import { paths } from './paths.ts';

export type ConsoleRole = 'admin' | 'viewer';

export interface ConsoleUser {
  readonly name: string;
  readonly role: ConsoleRole;
}

/** What every page needs besides its own data; the route layer builds it per request. */
export interface PageContext {
  /** The signed-in user; null on the pages shown before sign-in. */
  readonly user: ConsoleUser | null;
  /** The session's CSRF token, put in every form. */
  readonly csrf: string;
  /** The deployment runs in sandbox mode: the sandbox panel is linked. */
  readonly sandbox: boolean;
  /** A one-line outcome of the previous action (after a redirect). */
  readonly notice?: Notice;
}

export interface Notice {
  readonly kind: 'ok' | 'error' | 'warn';
  readonly text: string;
}

export type Section = 'clients' | 'keys' | 'audit' | 'traffic' | 'sandbox' | 'none';

export interface LayoutOptions {
  readonly title: string;
  readonly section: Section;
  readonly body: Html;
  /** Link console.js (copy buttons, refreshing regions). */
  readonly script?: boolean;
}

export const canChange = (ctx: PageContext): boolean => ctx.user?.role === 'admin';

/** The hidden CSRF field every form carries. */
export const csrfField = (ctx: PageContext): Html => html`<input type="hidden" name="csrf" value="${ctx.csrf}">`;

const NAV: ReadonlyArray<readonly [Section, string, string]> = [
  ['clients', 'Clients', paths.clients],
  ['keys', 'Keys', paths.keys],
  ['audit', 'Audit log', paths.audit],
  ['traffic', 'Traffic', paths.traffic],
];

function header(ctx: PageContext, section: Section): Html {
  const user = ctx.user;
  const items = ctx.sandbox ? [...NAV, ['sandbox', 'Sandbox', paths.sandbox] as const] : NAV;
  return html`<header class="top">
<a class="brand" href="${paths.home}"><img src="${assetUrl('icon.svg')}" alt=""> Keymint console</a>
${user && html`<nav aria-label="Console sections"><ul>
${items.map(([id, label, href]) => html`<li><a href="${href}"${id === section ? html` aria-current="page"` : ''}>${label}</a></li>`)}
</ul></nav>
<div class="who"><span>${user.name} <span class="badge badge-role">${user.role}</span></span>
<form method="post" action="${paths.signOut}">${csrfField(ctx)}<button type="submit" class="button">Sign out</button></form></div>`}
</header>
${ctx.sandbox && html`<div class="sandbox-banner" role="note">Sandbox mode: faults and the clock can be changed from the Sandbox page.</div>`}`;
}

export function notice(n: Notice | undefined): Html | '' {
  if (!n) return '';
  return html`<div class="notice notice-${n.kind}" role="${n.kind === 'error' ? 'alert' : 'status'}">${n.text}</div>`;
}

export function layout(ctx: PageContext, options: LayoutOptions): string {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="same-origin">
<title>${options.title} · Keymint console</title>
<link rel="icon" href="${assetUrl('icon.svg')}" type="image/svg+xml">
<link rel="stylesheet" href="${assetUrl('console.css')}">
${options.script && html`<script src="${assetUrl('console.js')}" defer></script>`}
</head>
<body>
<a class="skip" href="#main">Skip to main content</a>
${header(ctx, options.section)}
<main id="main" tabindex="-1">
${notice(ctx.notice)}
${options.body}
</main>
</body>
</html>
`.toString();
}
