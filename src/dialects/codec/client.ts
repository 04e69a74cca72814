/** Client authentication as presented on the wire, for dialects that take Basic, body credentials or assertions. */
import { OAuthError } from '../../wire/errors.ts';
import { assertionSubject, presentsAssertion } from '../../protocol/client-assertion.ts';
import type { PresentedClient } from '../../protocol/token-request.ts';
import type { HttpRequest } from '../../wire/http.ts';
import { basicCredentials } from './params.ts';

const oneMethodOnly = (field: string) =>
  new OAuthError('invalid_request', 'Only one client authentication method may be used.', { field, reason: 'duplicate' });

/**
 * Exactly one authentication method per request (RFC 6749 §2.3, SECURITY, PJ-04).
 * `assertions`: the dialect accepts JWT client assertions (RFC 7523 §2.2) in `client_assertion`;
 * `certificates`: a request with neither a secret nor an assertion presents its TLS client
 * certificate, when it has one (RFC 8705 §2: the certificate is the credential, `client_id` names the client).
 */
export function presentedClient(req: HttpRequest, fields: Readonly<Record<string, string>>, options: { assertions?: boolean; certificates?: boolean } = {}): PresentedClient {
  const basic = basicCredentials(req);
  const assertion = options.assertions === true && presentsAssertion({ assertion: fields.client_assertion, assertionType: fields.client_assertion_type });
  if (basic) {
    if (fields.client_secret !== undefined) throw oneMethodOnly('client_secret');
    if (assertion) throw oneMethodOnly('client_assertion');
    if (fields.client_id !== undefined && fields.client_id !== basic.clientId) {
      throw new OAuthError('invalid_request', 'The client_id does not match the authenticated client.', { field: 'client_id', reason: 'malformed' });
    }
    return { method: 'client_secret_basic', clientId: basic.clientId, clientSecret: basic.clientSecret };
  }
  if (assertion) {
    if (fields.client_secret !== undefined) throw oneMethodOnly('client_secret');
    // RFC 7523 §3.1: client_id is optional; the assertion's `sub` names the client (checked once verified).
    return {
      method: 'private_key_jwt',
      clientId: fields.client_id ?? assertionSubject(fields.client_assertion),
      assertionType: fields.client_assertion_type,
      assertion: fields.client_assertion,
    };
  }
  if (fields.client_secret !== undefined) return { method: 'client_secret_post', clientId: fields.client_id, clientSecret: fields.client_secret };
  const certificate = options.certificates === true ? req.clientCertificate : undefined;
  if (certificate !== undefined) return { method: 'tls_client_auth', clientId: fields.client_id, certificate };
  return { method: 'none', clientId: fields.client_id };
}
