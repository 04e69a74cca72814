/** Client authentication as presented on the wire, for dialects that take Basic or body credentials. */
import { OAuthError } from '../../wire/errors.ts';
import type { PresentedClient } from '../../protocol/token-request.ts';
import type { HttpRequest } from '../../wire/http.ts';
import { basicCredentials } from './params.ts';

/** Exactly one authentication method per request (RFC 6749 §2.3, SECURITY ). */
export function presentedClient(req: HttpRequest, fields: Readonly<Record<string, string>>): PresentedClient {
  const basic = basicCredentials(req);
  if (basic) {
    if (fields.client_secret !== undefined) {
      throw new OAuthError('invalid_request', 'Only one client authentication method may be used.', { field: 'client_secret', reason: 'duplicate' });
    }
    if (fields.client_id !== undefined && fields.client_id !== basic.clientId) {
      throw new OAuthError('invalid_request', 'The client_id does not match the authenticated client.', { field: 'client_id', reason: 'malformed' });
    }
    return { method: 'client_secret_basic', clientId: basic.clientId, clientSecret: basic.clientSecret };
  }
  if (fields.client_secret !== undefined) return { method: 'client_secret_post', clientId: fields.client_id, clientSecret: fields.client_secret };
  return { method: 'none', clientId: fields.client_id };
}
