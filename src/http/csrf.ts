/**
 * The CSRF token of Keymint's own forms (the consent page, the logout confirmation): an HMAC, under
 * the current pepper, over what the form is for, the session it was shown in and each named field
 * of the form, so a form of another session, another request or another page is refused. Checked
 * under every live pepper, so a rotation does not void a form just shown.
 */
import { createHmac, timingSafeEqual, type KeyObject } from 'node:crypto';
import type { Keyring } from '../tokens/keyring.ts';

export function formToken(key: KeyObject, purpose: string, sessionId: string, names: readonly string[], fields: Readonly<Record<string, string>>): string {
  const mac = createHmac('sha256', key).update(`${purpose}\0${sessionId}`);
  for (const f of names) mac.update(`\0${f}=${fields[f] ?? ''}`);
  return mac.digest('base64url');
}

/** Whether `presented` is the token of this form under any live pepper. */
export function formTokenValid(
  keyring: Pick<Keyring, 'peppers'>,
  presented: string,
  purpose: string,
  sessionId: string,
  names: readonly string[],
  fields: Readonly<Record<string, string>>,
): boolean {
  return keyring.peppers().some((p) => safeEqual(presented, formToken(p.key, purpose, sessionId, names, fields)));
}

export function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
