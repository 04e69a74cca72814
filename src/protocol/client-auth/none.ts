/**
 * `none` — a public client identified by its id alone (RFC 6749 §2.1, §3.2.1; RFC 8252 §8.4). Only
 * public clients, and only on grants that admit them (code and refresh: checked by the caller);
 * a confidential client never authenticates this way (SECURITY ).
 */
import type { ClientAuthMethod } from './types.ts';

export const none = {
  name: 'none' as const,
  confidential: false,
  async authenticate(presented, verifier) {
    const client = await verifier.find(presented.clientId);
    return client?.type === 'public' ? { client, credentialId: null } : undefined;
  },
} satisfies ClientAuthMethod;
