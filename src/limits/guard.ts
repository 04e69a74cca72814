/**
 * The limits around one secret-checking request (token, and later introspection and revocation:
 * SECURITY A-08 asks for every such endpoint): the address bucket and the (client id, address)
 * lockout are checked together before `run`, and a failed secret check inside `run` is counted.
 */
import { OAuthError } from '../wire/errors.ts';
import type { RequestLimiter } from './limiter.ts';

export async function guarded<T>(limiter: RequestLimiter | undefined, ip: string, clientId: string | undefined, run: () => Promise<T>): Promise<T> {
  if (!limiter) return run();
  // One round trip to Redis for both checks.
  await Promise.all([limiter.admitAddress(ip), clientId === undefined ? undefined : limiter.checkLockout(clientId, ip)]);
  try {
    return await run();
  } catch (err) {
    if (clientId !== undefined && err instanceof OAuthError && err.code === 'invalid_client' && err.reason === 'credentials') {
      await limiter.recordFailure(clientId, ip);
    }
    throw err;
  }
}
