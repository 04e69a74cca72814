/**
 * A store with some repositories replaced (a cache, a publisher) and the rest delegated by
 * prototype, so repositories a backend adds later are reached without touching this function.
 */
import type { Store } from './types.ts';

export function withRepos(base: Store, over: Partial<Omit<Store, 'kind' | 'close' | 'changeMarker'>>): Store {
  const props: PropertyDescriptorMap = { close: { value: () => base.close() } };
  for (const [name, repo] of Object.entries(over)) props[name] = { value: repo, enumerable: true };
  return Object.create(base, props) as Store;
}
