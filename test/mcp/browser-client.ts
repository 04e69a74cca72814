/**
 * The script of an MCP client running in a web page (test/mcp/mcp-browser.test.ts bundles it for
 * the browser): the official MCP SDK's `auth()` with an OAuthClientProvider that keeps its state
 * in localStorage, as a page must, since the browser leaves the page for the consent screen and
 * comes back to the redirect URI. `start` runs discovery, registration and PKCE and resolves to
 * the authorization URL; `finish`, on the redirect URI, exchanges the code in the page's address.
 */
import { auth, type OAuthClientProvider } from '@modelcontextprotocol/sdk/client/auth.js';
import type { OAuthClientInformationMixed, OAuthTokens } from '@modelcontextprotocol/sdk/shared/auth.js';

/** What the page uses of the DOM (the project's types are Node's). */
interface Page {
  readonly location: { readonly origin: string; readonly href: string };
  readonly localStorage: { getItem(key: string): string | null; setItem(key: string, value: string): void };
  keymintMcp?: unknown;
}
const page = globalThis as unknown as Page;

const load = <T>(key: string): T | undefined => {
  const value = page.localStorage.getItem(key);
  return value === null ? undefined : (JSON.parse(value) as T);
};
const store = (key: string, value: unknown): void => page.localStorage.setItem(key, JSON.stringify(value));

const redirectUrl = `${page.location.origin}/callback`;

const provider: OAuthClientProvider = {
  redirectUrl,
  clientMetadata: { client_name: 'MCP web client', redirect_uris: [redirectUrl], grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'], token_endpoint_auth_method: 'none' },
  clientInformation: () => load<OAuthClientInformationMixed>('client'),
  saveClientInformation: (info) => store('client', info),
  tokens: () => load<OAuthTokens>('tokens'),
  saveTokens: (tokens) => store('tokens', tokens),
  // A real page would assign location; the test navigates there itself, with the user's cookie.
  redirectToAuthorization: (url) => store('authorizationUrl', url.href),
  saveCodeVerifier: (verifier) => store('verifier', verifier),
  codeVerifier: () => load<string>('verifier') ?? '',
};

page.keymintMcp = {
  async start(serverUrl: string): Promise<{ result: string; authorizationUrl?: string; client?: OAuthClientInformationMixed }> {
    const result = await auth(provider, { serverUrl });
    return { result, authorizationUrl: load<string>('authorizationUrl'), client: load<OAuthClientInformationMixed>('client') };
  },
  async finish(serverUrl: string): Promise<{ result: string; tokens?: OAuthTokens }> {
    const code = new URL(page.location.href).searchParams.get('code') ?? '';
    const result = await auth(provider, { serverUrl, authorizationCode: code });
    return { result, tokens: load<OAuthTokens>('tokens') };
  },
};
