/**
 * Counts store round-trips: every call of a repository method (one statement or one transaction)
 * increments `keymint_store_round_trips_total{repo, op}`. Sits below the client cache, so a cache
 * hit counts nothing. Repositories are found by shape (own object-valued properties), so repositories
 * added to a backend later are counted without touching this file.
 */
import type { Store } from '../storage/types.ts';
import type { Counter } from './registry.ts';

export function countingStore(base: Store, counter: Counter): Store {
  const props: PropertyDescriptorMap = { close: { value: () => base.close() } };
  for (const [name, repo] of Object.entries(base)) {
    if (repo === null || typeof repo !== 'object') continue;
    props[name] = { value: countingRepo(name, repo as object, counter), enumerable: true };
  }
  return Object.create(base, props) as Store;
}

function countingRepo<T extends object>(repo: string, target: T, counter: Counter): T {
  // Keyed by the method itself, so a method replaced at run time (tests do) is wrapped anew.
  const wrapped = new WeakMap<object, unknown>();
  return new Proxy(target, {
    get(t, prop, receiver) {
      const value = Reflect.get(t, prop, receiver) as unknown;
      if (typeof value !== 'function') return value;
      let fn = wrapped.get(value);
      if (!fn) {
        const labels = { repo, op: String(prop) };
        fn = (...args: unknown[]) => {
          counter.inc(labels);
          return (value as (...a: unknown[]) => unknown).apply(t, args);
        };
        wrapped.set(value, fn);
      }
      return fn;
    },
  });
}
