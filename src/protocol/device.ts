/**
 * The device authorization grant — RFC 8628 — as pure logic: the device authorization request
 * (§3.1–3.2: a device code and a user code, both stored by digest only), finding a request by the
 * code the user types (§3.3, §6.1: short, case-insensitive, dash ignored, an alphabet without vowels
 * or look-alikes), and the user's decision. No HTTP here: `http/device.ts` serves the endpoint and the
 * verification page; `grants/device-code.ts` is the token endpoint's side (§3.4–3.5).
 */
import { randomBytes } from 'node:crypto';
import { candidateDigests, storedDigest } from '../tokens/digest.ts';
import type { Keyring } from '../tokens/keyring.ts';
import { opaqueFormat } from '../tokens/opaque.ts';
import { randomBase62 } from '../tokens/random.ts';
import { ConflictError, type ClientRecord, type DeviceCodeRecord, type SessionRecord, type Store } from '../storage/types.ts';
import { grantUserScopes, parseScope } from './scope.ts';

export const DEVICE_CODE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

/** `km_dc_` + 37 base62 characters (≈ 220 bits) + a checksum: a typo is refused without a lookup. */
export const deviceCodeFormat = opaqueFormat({ kind: 'checksummed', prefix: 'km_dc_' });

/** RFC 8628 §6.1: 20 consonants, no vowels (no words), no look-alikes (0/O, 1/I/L stay apart). */
export const USER_CODE_ALPHABET = 'BCDFGHJKLMNPQRSTVWXZ';
/** 8 characters of 20: 20^8 ≈ 2.6 × 10^10 codes (≈ 34.5 bits), shown as XXXX-XXXX. */
export const USER_CODE_LENGTH = 8;
/** How long a device authorization request lives (RFC 8628 §3.2 `expires_in`), seconds. */
export const DEVICE_CODE_TTL_S = 600;
/** The least time between polls the client is told (RFC 8628 §3.2 `interval`), seconds. */
export const DEVICE_POLL_INTERVAL_S = 5;

export interface DeviceDeps {
  readonly store: Pick<Store, 'deviceCodes'>;
  readonly keyring: Pick<Keyring, 'pepper' | 'peppers'>;
}

/** A fresh user code, undashed: uniform over the alphabet (rejection sampling, no modulo bias). */
export function mintUserCode(): string {
  let code = '';
  while (code.length < USER_CODE_LENGTH) {
    for (const b of randomBytes(16)) {
      // 240 = 12 × 20: bytes above it would favour the first letters.
      if (b < 240 && code.length < USER_CODE_LENGTH) code += USER_CODE_ALPHABET[b % 20];
    }
  }
  return code;
}

/** What the user typed, as stored: upper case, dashes and spaces dropped; undefined when it cannot be a code. */
export function normaliseUserCode(input: string): string | undefined {
  const code = input.replace(/[\s-]/g, '').toUpperCase();
  if (code.length !== USER_CODE_LENGTH) return undefined;
  for (const c of code) if (!USER_CODE_ALPHABET.includes(c)) return undefined;
  return code;
}

/** `BCDF-GHJK`: how a code is shown and sent. */
export const displayUserCode = (code: string): string => `${code.slice(0, 4)}-${code.slice(4)}`;

export interface DeviceAuthorization {
  readonly deviceCode: string;
  /** As displayed, `XXXX-XXXX`. */
  readonly userCode: string;
  readonly expiresIn: number;
  readonly interval: number;
}

/**
 * §3.1–3.2: a new request of `client` for `scope` (the client's user scopes when none: ADM-02 keeps
 * privileged scopes out). Only the digests of the two codes are stored. A user code already in use is
 * drawn again.
 */
export async function startDeviceAuthorization(client: ClientRecord, scope: string | undefined, now: number, deps: DeviceDeps): Promise<DeviceAuthorization> {
  const scopes = grantUserScopes(parseScope(scope), client.scopes);
  const deviceCode = deviceCodeFormat.mint();
  const pepper = deps.keyring.pepper();
  for (let attempt = 0; ; attempt++) {
    const userCode = mintUserCode();
    const record: DeviceCodeRecord = {
      digest: storedDigest(pepper, deviceCode),
      userCode: storedDigest(pepper, userCode),
      clientId: client.id,
      scope: scopes.join(' '),
      issuedAt: now,
      expiresAt: now + DEVICE_CODE_TTL_S * 1000,
      interval: DEVICE_POLL_INTERVAL_S,
      polledAt: null,
      status: 'pending',
      subject: null,
      subjectType: null,
      authTime: null,
      decidedAt: null,
      sessionId: null,
      familyId: `fam_${randomBase62(22)}`,
    };
    try {
      await deps.store.deviceCodes.insert(record);
      return { deviceCode, userCode: displayUserCode(userCode), expiresIn: DEVICE_CODE_TTL_S, interval: DEVICE_POLL_INTERVAL_S };
    } catch (err) {
      if (!(err instanceof ConflictError) || attempt >= 4) throw err;
    }
  }
}

/** The request a presented device code names (any state), or undefined; a malformed code costs no lookup. */
export async function findDeviceCode(code: string, deps: { store: Pick<Store, 'deviceCodes'>; keyring: Pick<Keyring, 'peppers'> }): Promise<DeviceCodeRecord | undefined> {
  if (!deviceCodeFormat.recognises(code)) return undefined;
  return deps.store.deviceCodes.find(candidateDigests(deps.keyring.peppers(), code));
}

/** The request a typed user code names (any state), or undefined; a code outside the alphabet costs no lookup. */
export async function findUserCode(input: string, deps: DeviceDeps): Promise<DeviceCodeRecord | undefined> {
  const code = normaliseUserCode(input);
  if (code === undefined) return undefined;
  return deps.store.deviceCodes.findByUserCode(candidateDigests(deps.keyring.peppers(), code));
}

/**
 * The user's answer (§3.3): approved for the session's subject, or denied; audited (`device.approve`,
 * `device.deny` by `session:<id>`). True when it was still pending.
 */
export async function decideDevice(record: DeviceCodeRecord, session: SessionRecord, approve: boolean, now: number, deps: { store: Pick<Store, 'deviceCodes' | 'audit'> }): Promise<boolean> {
  const decided = await deps.store.deviceCodes.decide(record.digest, now, approve ? { subject: session.subject, subjectType: session.subjectType, authTime: Math.floor(session.createdAt / 1000), sessionId: session.id } : undefined);
  if (decided) {
    await deps.store.audit.append({
      at: now, actor: `session:${session.id}`, action: approve ? 'device.approve' : 'device.deny', target: record.clientId,
      detail: { subject: session.subject, subject_type: session.subjectType, scope: record.scope },
    });
  }
  return decided;
}
