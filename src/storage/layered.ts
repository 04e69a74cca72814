/** A store seen through replacements of some of its repositories (caches, publishers, test wrappers). */
import type { Store } from './types.ts';

/** The repositories of a store, as opposed to what identifies and closes it. */
export type Repositories = Pick<Store, 'clients' | 'keys' | 'tokens' | 'sessions' | 'codes' | 'audit'>;

/**
 * `base` with the repositories in `over` replaced. Delegates by prototype, so everything else the
 * backend carries (`kind`, `changeMarker`, PostgreSQL's `poolStats`) is reached unchanged, and
 * closing it closes `base`.
 */
export function layered<S extends Store>(base: S, over: Partial<Repositories>): S {
  const replaced: PropertyDescriptorMap = { close: { value: () => base.close() } };
  for (const [name, repo] of Object.entries(over)) replaced[name] = { value: repo, enumerable: true };
  return Object.create(base, replaced) as S;
}
