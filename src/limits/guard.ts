/**
 * The limits around one secret-checking request (token, and later introspection and revocation:
 * SECURITY A-08 asks for every such endpoint): the address bucket and the (client id, address)
 * lockout are checked together before `run`, and a failed secret check inside `run` is counted.
 * With the local limiter both checks answer at once, and `run`'s answer comes back as it is (a value
 * when it did not wait: src/util/maybe.ts).
 */
import { recover, type Maybe } from '../util/maybe.ts';
import { OAuthError } from '../wire/errors.ts';
import type { RequestLimiter } from './limiter.ts';

export function guarded<T>(limiter: RequestLimiter | undefined, ip: string, clientId: string | undefined, run: () => Maybe<T>): Maybe<T> {
  if (!limiter) return run();
  const counted = () =>
    recover(run, (err) => {
      if (clientId !== undefined && err instanceof OAuthError && err.code === 'invalid_client' && err.reason === 'credentials') {
        return limiter.recordFailure(clientId, ip).then(() => Promise.reject(err));
      }
      throw err;
    });
  const address = limiter.admitAddress(ip);
  if (clientId === undefined) return address instanceof Promise ? address.then(counted) : counted();
  if (!(address instanceof Promise)) {
    const lockout = limiter.checkLockout(clientId, ip);
    return lockout instanceof Promise ? lockout.then(counted) : counted();
  }
  // A shared backend: both checks in one round trip to Redis (the lockout's refusal, even one
  // thrown at once, is a rejection here, so that neither is left unobserved).
  return Promise.all([address, (async () => limiter.checkLockout(clientId, ip))()]).then(counted);
}
