/**
 * The layering of src/, checked on every `npm test` (test/architecture.test.ts). Dependencies point
 * one way, down the table in docs/architecture.md; each entry below lists everything a folder may
 * import besides itself. The bottom row (wire/, config/, util/) may be imported by every layer.
 */
const BOTTOM = ['wire', 'config', 'util'];
const BELOW_STORAGE = ['storage', ...BOTTOM];
const BELOW_TOKENS = ['tokens', 'feed', 'metrics', ...BELOW_STORAGE];
const BELOW_PROTOCOL = ['credentials', 'limits', ...BELOW_TOKENS];
const BELOW_GRANTS = ['protocol', ...BELOW_PROTOCOL];
const BELOW_HTTP = ['dialects', 'grants', ...BELOW_GRANTS];
const BELOW_FEATURES = ['http', ...BELOW_HTTP];
const BELOW_SERVICE = ['admin', 'console', 'sandbox', ...BELOW_FEATURES];

/** folder → folders it may import (its own folder is always allowed). */
const LAYERS = {
  cluster: ['service', ...BELOW_SERVICE],
  service: BELOW_SERVICE,
  admin: BELOW_FEATURES,
  console: BELOW_FEATURES,
  sandbox: BELOW_FEATURES,
  http: BELOW_HTTP,
  dialects: ['protocol', ...BOTTOM], // plus grants/ types, below
  grants: BELOW_GRANTS,
  protocol: ['credentials', 'limits', 'tokens', ...BOTTOM], // plus storage/types.ts, below
  credentials: BELOW_TOKENS,
  limits: BELOW_TOKENS,
  tokens: BELOW_STORAGE,
  feed: BELOW_STORAGE,
  metrics: ['feed', ...BELOW_STORAGE],
  storage: BOTTOM,
  wire: BOTTOM,
  config: BOTTOM,
  util: BOTTOM,
  verify: [],
  client: [],
};

// The composition roots: service.ts and core.ts, and start-sandbox.ts (`keymint/sandbox`), which wires the service with the sandbox's parts.
const folder = (name) => (name === 'service' ? '^src/(service|core|start-sandbox)\\.ts$' : `^src/${name}/`);
const allowed = (names) => names.map(folder);

const layerRules = Object.entries(LAYERS).map(([name, may]) => {
  const extra = name === 'protocol' ? ['^src/storage/types\\.ts$'] : [];
  return {
    name: `layer-${name}`,
    comment: `${name} may import only: ${[...may, ...(name === 'protocol' ? ['storage/types.ts'] : [])].join(', ') || 'jose and Node'}`,
    severity: 'error',
    from: { path: folder(name) },
    to: { path: '^src/', pathNot: [folder(name), ...allowed(may), ...extra] },
  };
});

module.exports = {
  forbidden: [
    { name: 'no-circular', severity: 'error', comment: 'No import loops.', from: {}, to: { circular: true } },
    ...layerRules.filter((r) => r.name !== 'layer-dialects'),
    {
      name: 'layer-dialects',
      comment: 'dialects/ may import protocol/, wire/, config/, util/, and grants/ for types only; never http/',
      severity: 'error',
      from: { path: '^src/dialects/' },
      to: { path: '^src/', pathNot: ['^src/dialects/', ...allowed(LAYERS.dialects)], dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'dialects-types-only',
      comment: 'dialects/ may see grants/ and storage/ types, nothing else of them, and never http/',
      severity: 'error',
      from: { path: '^src/dialects/' },
      to: { path: '^src/', pathNot: ['^src/(dialects|protocol|wire|config|util|grants)/', '^src/storage/types\\.ts$'] },
    },
    {
      name: 'node-sqlite-only-in-its-backend',
      comment: 'node:sqlite is loaded by the SQLite backend alone, so other entries run on Node 20',
      severity: 'error',
      from: { pathNot: ['^src/storage/sqlite/'] },
      to: { path: '^node:sqlite$|^sqlite$', dependencyTypesNot: ['type-only'] },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    includeOnly: ['^src/', '^node:sqlite$', '^sqlite$'],
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts'] },
  },
};
