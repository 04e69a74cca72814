/**
 * node:http and node:https, loaded with require rather than import. Importing node:http as an ES
 * module builds its ESM facade, which reads every export; on Node 24 those include the lazy
 * WebSocket, CloseEvent and MessageEvent getters, which load undici: some 80 ms of CPU at every
 * start for classes the server never uses. node:https (TLS, some 30 ms more) is loaded on first
 * use: only fetching an https `jwks_uri` or metadata document needs it.
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

export const http: typeof import('node:http') = require('node:http');

export function https(): typeof import('node:https') {
  return require('node:https');
}
