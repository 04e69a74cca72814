/**
 * OpenID Connect Back-Channel Logout 1.0 (BCL-04..08): when a session ends, every client that got an
 * ID token in it (the session records them: `SessionRepo.addClient`, written when the token is issued)
 * and registered a `backchannel_logout_uri` is sent a logout token, server to server, so it can end
 * its own session of that user.
 *
 * The logout token (§2.4) is a JWT signed like the client's ID tokens (its
 * `id_token_signed_response_alg`), header `typ: logout+jwt`, claims `iss`, `aud` (the client id),
 * `iat`, `exp` (two minutes later), `jti`, `events` with the back-channel logout event, `sub` (the
 * session's user) and `sid` (the session id, as in its ID tokens); never a `nonce`. It is POSTed as
 * `logout_token=…` (application/x-www-form-urlencoded) under the rules of every URL a client names
 * (jwks-fetch.ts: no private or loopback address unless `--client-urls-allow-private`, no redirects,
 * one deadline: `--backchannel-logout-timeout-ms`). Each client once, all at once, never retried: a
 * 2xx is delivered, anything else failed. Nothing waits for it: the browser's logout goes on at once.
 * Each delivery is counted (`keymint_backchannel_logout_total`), audited
 * (`session.backchannel_logout`, the client as target) and, when it failed, logged at warn; the token
 * itself is never logged.
 */
import { idTokenAlgs, type SigningAlg } from '../config/types.ts';
import type { Metrics } from '../metrics/index.ts';
import type { ClientRecord, SessionRecord, Store } from '../storage/types.ts';
import { signJwt } from '../tokens/jwt.ts';
import type { Keyring } from '../tokens/keyring.ts';
import { randomBase62 } from '../tokens/random.ts';
import type { Logger } from '../util/log.ts';
import { JwksFetchError, postForm } from './jwks-fetch.ts';

/** §2.4: the member of `events` that makes a JWT a logout token. */
export const BACKCHANNEL_LOGOUT_EVENT = 'http://schemas.openid.net/event/backchannel-logout';
/** How long a logout token is valid: long enough for a slow receiver, short enough not to matter if leaked. */
export const LOGOUT_TOKEN_TTL_SECONDS = 120;

export interface BackchannelLogoutDeps {
  readonly store: Pick<Store, 'sessions' | 'audit'>;
  readonly keyring: Pick<Keyring, 'signer'>;
  /** The client an id names (a stored one, or a client ID metadata document's). */
  readonly findClient: (id: string) => Promise<ClientRecord | undefined>;
  readonly settings: { readonly issuer: string; readonly alg: SigningAlg; readonly clientUrlsAllowPrivate: boolean; readonly backchannelLogoutTimeoutMs: number };
  readonly metrics: Pick<Metrics, 'backchannelLogouts'>;
  readonly log: Logger;
  readonly now: () => number;
}

/** Why a delivery failed (a closed set: the metric's `reason` label). */
type FailureReason = 'status' | 'timeout' | 'unreachable' | 'alg';
type Outcome = { readonly result: 'delivered'; readonly status: number } | { readonly result: 'failed'; readonly reason: FailureReason; readonly status?: number };

/** The logout token for `client` about `session` (§2.4), signed with the client's ID token alg. */
export function logoutToken(keyring: Pick<Keyring, 'signer'>, issuer: string, client: ClientRecord, session: SessionRecord, alg: SigningAlg, now: number): string {
  const iat = Math.floor(now / 1000);
  return signJwt(keyring.signer(alg), 'logout+jwt', {
    iss: issuer,
    aud: client.id,
    iat,
    exp: iat + LOGOUT_TOKEN_TTL_SECONDS,
    jti: randomBase62(22),
    sub: session.subject,
    sid: session.id,
    events: { [BACKCHANNEL_LOGOUT_EVENT]: {} },
  });
}

/**
 * What to run when a session has ended (`SessionService.onEnded`): tells every client recorded for it.
 * Resolves when every delivery has succeeded or failed; never rejects.
 */
export function backchannelLogout(deps: BackchannelLogoutDeps): (session: SessionRecord, actor: string) => Promise<void> {
  return async (session, actor) => {
    try {
      const ids = await deps.store.sessions.clients(session.id);
      await Promise.all(ids.map((id) => tell(id, session, actor, deps)));
    } catch (err) {
      deps.log.warn('back-channel logout failed', { session: session.id, err });
    }
  };
}

/** One client: nothing when it is gone, inactive or registered no URI; else one delivery, counted, audited. */
async function tell(clientId: string, session: SessionRecord, actor: string, deps: BackchannelLogoutDeps): Promise<void> {
  const client = await deps.findClient(clientId).catch(() => undefined);
  const uri = client?.backchannelLogoutUri;
  if (client === undefined || uri === undefined || client.status !== 'active') return;
  const outcome = await deliver(client, uri, session, deps);
  deps.metrics.backchannelLogouts.inc(outcome.result === 'delivered' ? { result: 'delivered' } : { result: 'failed', reason: outcome.reason });
  const detail = { session: session.id, result: outcome.result, ...(outcome.result === 'failed' ? { reason: outcome.reason } : {}), ...(outcome.status === undefined ? {} : { status: outcome.status }) };
  if (outcome.result === 'failed') deps.log.warn('back-channel logout not delivered', { client_id: client.id, uri, ...detail });
  await deps.store.audit.append({ at: deps.now(), actor, action: 'session.backchannel_logout', target: client.id, detail });
}

async function deliver(client: ClientRecord, uri: string, session: SessionRecord, deps: BackchannelLogoutDeps): Promise<Outcome> {
  const alg = client.idTokenAlg ?? 'RS256';
  // As its ID tokens (IDT-03): never signed with another alg than the one the client registered.
  if (!idTokenAlgs(deps.settings.alg).includes(alg)) return { result: 'failed', reason: 'alg' };
  const form = new URLSearchParams({ logout_token: logoutToken(deps.keyring, deps.settings.issuer, client, session, alg, deps.now()) });
  try {
    const status = await postForm(uri, form, { timeoutMs: deps.settings.backchannelLogoutTimeoutMs, allowPrivateAddresses: deps.settings.clientUrlsAllowPrivate, allowHttp: true }, 'backchannel_logout_uri');
    return status >= 200 && status < 300 ? { result: 'delivered', status } : { result: 'failed', reason: 'status', status };
  } catch (err) {
    return { result: 'failed', reason: err instanceof JwksFetchError && err.timedOut ? 'timeout' : 'unreachable' };
  }
}
