/**
 * The console's static files (stylesheet, script, icon), read once, on first use, from this folder and
 * served by Keymint itself: no CDN, nothing remote, so the Content-Security-Policy can say `'self'`.
 * Each URL carries a digest of the file's content, so a response may be cached for a year and a
 * changed file gets a new URL.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { HttpResponse } from '../../wire/http.ts';

const PREFIX = '/console/assets/';

const TYPES = {
  'console.css': 'text/css;charset=utf-8',
  'console.js': 'text/javascript;charset=utf-8',
  'icon.svg': 'image/svg+xml',
} as const;

export type AssetName = keyof typeof TYPES;

interface Asset {
  readonly body: Buffer;
  readonly type: string;
  readonly version: string;
}

let loaded: Map<string, Asset> | undefined;

/** Read on first use, so importing Keymint without the console (the sandbox, the library) reads no file. */
function assets(): Map<string, Asset> {
  loaded ??= new Map(
    (Object.keys(TYPES) as AssetName[]).map((name) => {
      const body = readFileSync(new URL(`./${name}`, import.meta.url));
      const version = createHash('sha256').update(body).digest('base64url').slice(0, 12);
      return [name, { body, type: TYPES[name], version }];
    }),
  );
  return loaded;
}

/** The versioned URL of an asset: `/console/assets/console.css?v=<digest>`. */
export function assetUrl(name: AssetName): string {
  return `${PREFIX}${name}?v=${assets().get(name)!.version}`;
}

/** Total bytes of every asset, for the page-weight budget. */
export function assetBytes(): number {
  let total = 0;
  for (const a of assets().values()) total += a.body.length;
  return total;
}

/**
 * The response for a GET under /console/assets/, or undefined when no such file exists. A request
 * naming the current version is cached as immutable; any other is revalidated.
 */
export function assetResponse(path: string, query: string): HttpResponse | undefined {
  if (!path.startsWith(PREFIX)) return undefined;
  const asset = assets().get(path.slice(PREFIX.length));
  if (!asset) return undefined;
  const current = new URLSearchParams(query).get('v') === asset.version;
  return {
    status: 200,
    headers: {
      'Content-Type': asset.type,
      'Cache-Control': current ? 'public, max-age=31536000, immutable' : 'no-cache',
      ETag: `"${asset.version}"`,
      'X-Content-Type-Options': 'nosniff',
    },
    body: asset.body,
  };
}
