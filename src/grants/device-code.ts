/**
 * urn:ietf:params:oauth:grant-type:device_code — RFC 8628 §3.4–3.5. The device code is bound to its
 * client; while the user has not answered, `authorization_pending`, or `slow_down` to a poll sooner
 * than the interval (which then grows by 5 s, kept with the request); `access_denied` once denied,
 * `expired_token` once expired. An approved request is redeemed by one atomic write that also stores
 * the tokens issued from it (`redeemsDevice`, done by issue()), so however many polls race, one
 * issues and the others get `invalid_grant`, as does any later use. A refresh token when the client
 * may use the refresh_token grant, an ID token with `openid` (as the code grant). For a client that is
 * not `trusted`, the same write finds the user's consent (given on the verification page) covering
 * the scopes, or nothing is issued (CON-06). Public clients send client_id.
 */
import { resolveAudience, scopesForAudience, type AudienceSettings } from '../protocol/audience.ts';
import { DEVICE_CODE_GRANT, findDeviceCode } from '../protocol/device.ts';
import { OAuthError } from '../wire/errors.ts';
import type { Store, SubjectType } from '../storage/types.ts';
import type { Keyring } from '../tokens/keyring.ts';
import type { GrantHandler } from '../protocol/grant.ts';

export interface DeviceCodeDeps {
  readonly store: Pick<Store, 'deviceCodes'>;
  readonly keyring: Pick<Keyring, 'peppers'>;
  readonly settings: AudienceSettings;
}

const invalidGrant = () => new OAuthError('invalid_grant', 'The device code is invalid, expired or already used.', { field: 'device_code' });
const denied = () => new OAuthError('access_denied', 'The user denied the request.', { status: 400 });

export const deviceCode = {
  type: DEVICE_CODE_GRANT,
  parameters: ['device_code'],
  allowsPublicClients: true,
  async handle({ request, client, now }, deps: DeviceCodeDeps) {
    const presented = request.params.device_code;
    if (presented === undefined) throw new OAuthError('invalid_request', 'The device_code parameter is required.', { field: 'device_code', reason: 'missing' });
    const found = await findDeviceCode(presented, deps);
    if (!found || found.clientId !== client.id || found.status === 'redeemed') throw invalidGrant();
    if (found.expiresAt <= now) throw new OAuthError('expired_token', 'The device code has expired; start again.', { field: 'device_code' });
    if (found.status === 'denied') throw denied();
    const polled = await deps.store.deviceCodes.poll(found.digest, now);
    if (!polled) throw invalidGrant();
    const rec = polled.record;
    if (rec.status === 'pending') {
      throw polled.tooFast
        ? new OAuthError('slow_down', `Polling too fast: wait at least ${rec.interval} seconds between requests.`)
        : new OAuthError('authorization_pending', 'The user has not yet approved the request.');
    }
    if (rec.status === 'denied') throw denied();
    if (rec.status !== 'approved' || rec.subject === null || rec.subjectType === null) throw invalidGrant();
    // CE-02: a scope withdrawn from the client since the request is not granted.
    const authorized = rec.scope.split(' ').filter(Boolean);
    const granted = authorized.filter((s) => client.scopes.includes(s));
    if (authorized.length > 0 && granted.length === 0) {
      throw new OAuthError('invalid_scope', 'None of the scopes authorized is still allowed for this client.', { field: 'scope' });
    }
    const audience = resolveAudience([], granted, client, deps.settings);
    const subjectType: SubjectType = rec.subjectType;
    return {
      subject: rec.subject,
      subjectType,
      ...(rec.authTime === null ? {} : { authTime: rec.authTime }),
      // LOGOUT-10: the browser session the user approved in, so the ID token's hint can end it (BCL-09).
      ...(rec.sessionId === null ? {} : { sid: rec.sessionId }),
      scopes: scopesForAudience(granted, false, audience, deps.settings),
      audience,
      refreshToken: client.grants.includes('refresh_token'),
      familyId: rec.familyId,
      redeemsDevice: rec.digest,
      ...(client.trusted ? {} : { redeemsWithConsent: { clientId: client.id, subjectType, subject: rec.subject, scopes: authorized } }),
    };
  },
} satisfies GrantHandler<DeviceCodeDeps>;
