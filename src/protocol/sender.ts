/**
 * The settings client assertions (`private_key_jwt`, RFC 7523) and DPoP proofs (RFC 9449) are
 * checked with, in one place: the fixed windows below, the replay guard and nonce key the
 * composition root chooses, and the accepted audiences of this deployment.
 */
import { clientKeys, CLIENT_KEY_ALGORITHMS, keySourceOf } from '../credentials/client-keys.ts';
import type { ClientAssertionSettings } from './client-assertion.ts';
import type { ClientVerifier } from './client-auth/types.ts';
import { dpopNonces } from './dpop-nonce.ts';
import { DPOP_ALGORITHMS, type DpopSettings } from './dpop.ts';
import type { ReplayGuard } from './replay-guard.ts';

/** How old a DPoP proof may be (RFC 9449 §11.1: a short window, the `jti` guard covers the rest). */
export const PROOF_MAX_AGE_SECONDS = 60;
/** Leeway for clients' clocks, on every time check of proofs and assertions. */
export const CLOCK_TOLERANCE_SECONDS = 10;
/**
 * Furthest an assertion's `exp` may lie ahead (RFC 7523 §3 item 4 leaves the window to the server).
 * An hour: Authlib, Python's most used OAuth library, signs every assertion with `exp` = `iat` + 3600
 * and offers no shorter default, and other servers take an hour too; the `jti` is kept that long.
 */
export const ASSERTION_MAX_LIFETIME_SECONDS = 3600;
/** Life of one DPoP nonce epoch: a nonce is good for one to two of them. */
export const NONCE_LIFETIME_SECONDS = 300;
/** `jwks_uri` fetches: whole-exchange deadline, byte limit, cache lifetime, refetch cooldown on an unknown `kid`. */
export const JWKS_URI = { timeoutMs: 2000, maxBytes: 65_536, cacheTtlMs: 300_000, unknownKidCooldownMs: 60_000 } as const;

export interface SenderOptions {
  /** Accepted assertion audiences: the issuer, then the URLs of the endpoints that take assertions. */
  readonly audiences: readonly string[];
  readonly replay: ReplayGuard;
  /** Key of the server nonces; undefined: DPoP proofs need no nonce. */
  readonly nonceKey: Uint8Array | undefined;
  readonly allowPrivateClientUrls: boolean;
  readonly allowHttpJwksUri: boolean;
  readonly now: () => number;
  /** Told of each failed `jwks_uri` fetch (the request then fails as "no such key"). */
  readonly onFetchError: (uri: string, error: unknown) => void;
}

export interface SenderChecks {
  readonly dpop: Omit<DpopSettings, 'now'>;
  readonly assertions: ClientAssertionSettings;
  readonly assertionKey: ClientVerifier['assertionKey'];
  readonly certificateThumbprints: ClientVerifier['certificateThumbprints'];
}

export function senderChecks(options: SenderOptions): SenderChecks {
  const { replay, now } = options;
  const keys = clientKeys({
    ...JWKS_URI,
    allowPrivateAddresses: options.allowPrivateClientUrls,
    allowHttp: options.allowHttpJwksUri,
    now,
    onFetchError: options.onFetchError,
  });
  return {
    dpop: {
      algorithms: DPOP_ALGORITHMS,
      proofMaxAgeSeconds: PROOF_MAX_AGE_SECONDS,
      clockToleranceSeconds: CLOCK_TOLERANCE_SECONDS,
      nonces: options.nonceKey === undefined ? undefined : dpopNonces({ keys: [options.nonceKey], lifetimeSeconds: NONCE_LIFETIME_SECONDS, now }),
      replay,
    },
    assertions: {
      audiences: options.audiences,
      algorithms: CLIENT_KEY_ALGORITHMS,
      maxLifetimeSeconds: ASSERTION_MAX_LIFETIME_SECONDS,
      clockToleranceSeconds: CLOCK_TOLERANCE_SECONDS,
      replay,
      now,
    },
    assertionKey: async (client, header) => {
      const source = keySourceOf(client);
      return source === undefined ? undefined : keys.keyFor(source, header);
    },
    certificateThumbprints: async (client) => {
      const source = keySourceOf(client);
      return source === undefined ? [] : keys.certificateThumbprints(source);
    },
  };
}
