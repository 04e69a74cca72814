/**
 * The console's static files (`src/console/assets/`, shipped in the package as `dist/console/assets/`),
 * read once at startup into memory: a request names a file by its exact name in that directory, so
 * no path reaches the file system. Nothing comes from a CDN.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface Asset {
  readonly type: string;
  readonly body: Buffer;
  readonly etag: string;
}

const TYPES: Readonly<Record<string, string>> = {
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.json': 'application/json; charset=utf-8',
};

export const ASSETS_DIR = fileURLToPath(new URL('./assets/', import.meta.url));

/** Every file of the assets directory (recursively) with a known type, by its relative path. */
export function loadAssets(dir: string = ASSETS_DIR): ReadonlyMap<string, Asset> {
  const out = new Map<string, Asset>();
  if (!existsSync(dir)) return out;
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    const type = TYPES[extname(e.name)];
    if (!e.isFile() || type === undefined) continue;
    const path = join(e.parentPath, e.name);
    const body = readFileSync(path);
    const name = path.slice(dir.length).replace(/^\/+/, '').split('\\').join('/');
    out.set(name, { type, body, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"` });
  }
  return out;
}
