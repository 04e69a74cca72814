/**
 * `private_key_jwt` — RFC 7523 §2.2 and §3, OIDC Core §9: the client proves itself with a JWT signed
 * by one of its registered keys. Only clients registered for this method (`authMethod`) may use it,
 * and they may use nothing else (they hold no secret). The assertion rules are in
 * ../client-assertion.ts; status and environment are checked by the registry, as for every method.
 */
import type { ClientRecord } from '../../storage/types.ts';
import { verifyClientAssertion } from '../client-assertion.ts';
import { algorithmAllowed } from '../fapi2.ts';
import type { ClientAuthMethod } from './types.ts';

export const privateKeyJwt = {
  name: 'private_key_jwt' as const,
  confidential: true,
  async authenticate(presented, verifier) {
    if (presented.method !== 'private_key_jwt') return undefined;
    let client: ClientRecord | undefined;
    const { kid } = await verifyClientAssertion(
      // The dialect refuses a secret sent with an assertion (SECURITY PJ-04) before this is reached.
      { clientId: presented.clientId, assertionType: presented.assertionType, assertion: presented.assertion, secretPresented: false },
      async (clientId, header) => {
        const found = await verifier.find(clientId);
        if (found?.type !== 'confidential' || found.authMethod !== 'private_key_jwt') return undefined;
        // FAPI 2.0 §5.4.1 (FAPI-06): a fapi2 client's assertions are PS256, ES256 or EdDSA.
        if (!algorithmAllowed(found, header.alg)) return undefined;
        client = found;
        return verifier.assertionKey(found, header);
      },
      verifier.assertions,
    );
    // The credential is the key: `key:<kid>` (tokens record it; the admin API honours secrets only, ADM-01).
    return client && { client, credentialId: `key:${kid ?? ''}` };
  },
} satisfies ClientAuthMethod;
