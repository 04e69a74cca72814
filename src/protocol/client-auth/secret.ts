/**
 * `client_secret_basic` and `client_secret_post` — RFC 6749 §2.3.1. The same check behind both: the
 * secret is verified in constant time whether or not the client exists (SECURITY A-10), and a public
 * client presenting a secret is refused.
 */
import { andThen } from '../../util/maybe.ts';
import type { ClientAuthMethod } from './types.ts';

const verify: ClientAuthMethod['authenticate'] = (presented, verifier) => {
  if (!('clientSecret' in presented)) return undefined;
  return andThen(verifier.verifySecret(presented.clientId, presented.clientSecret), (match) =>
    match?.client.type === 'confidential' ? { client: match.client, credentialId: match.secretId } : undefined,
  );
};

export const clientSecretBasic = { name: 'client_secret_basic', confidential: true, authenticate: verify } as const satisfies ClientAuthMethod;

export const clientSecretPost = { name: 'client_secret_post', confidential: true, authenticate: verify } as const satisfies ClientAuthMethod;
