/**
 * A value, or a promise of it: what a step on the request path returns when it can usually answer
 * from memory (a cached client, a secret already proven, the local rate limiter, an inline
 * signature) and only sometimes has to wait (a store, Redis, the threadpool). An `async` function
 * costs a promise, a suspended frame kept on the heap and a microtask per call even when it never
 * waits; such a step returns its value as it is, and a promise only when it did wait
 * (docs/performance.md, "Per-request overhead"). Like any function it may also throw at once: a
 * caller that must catch both uses `recover`.
 */
export type Maybe<T> = T | Promise<T>;

/** `next(value)` at once when `value` is there, else once it resolves (a rejection passes through). */
export function andThen<T, U>(value: Maybe<T>, next: (value: T) => Maybe<U>): Maybe<U> {
  return value instanceof Promise ? value.then(next) : next(value);
}

/** `run()`, with `onError` answering whatever it throws or rejects with. */
export function recover<T>(run: () => Maybe<T>, onError: (err: unknown) => Maybe<T>): Maybe<T> {
  let result: Maybe<T>;
  try {
    result = run();
  } catch (err) {
    return onError(err);
  }
  return result instanceof Promise ? result.catch(onError) : result;
}
