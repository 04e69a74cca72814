/**
 * The shape of a client-authentication method (RFC 6749 §2.3, RFC 8414 `token_endpoint_auth_methods`).
 * A dialect decodes the wire (Basic header, body fields, an assertion) into a `PresentedClient` naming
 * its method; the method's `authenticate` proves who the client is. Adding a method is one file that
 * exports one `ClientAuthMethod` plus one line in the registry (./index.ts).
 */
import type { X509Certificate } from 'node:crypto';
import type { Maybe } from '../../util/maybe.ts';
import type { ClientRecord } from '../../storage/types.ts';
import type { JwsVerifyKey } from '../../tokens/jws-verify.ts';
import type { ClientAssertionSettings } from '../client-assertion.ts';

/** Client credentials as presented, by method. `clientId` is absent only when the request named no client. */
export type PresentedClient =
  | { readonly method: 'client_secret_basic' | 'client_secret_post'; readonly clientId: string | undefined; readonly clientSecret: string }
  | {
      readonly method: 'private_key_jwt';
      /** `client_id`, or else the assertion's unverified `sub` (the method checks they agree). */
      readonly clientId: string | undefined;
      readonly assertionType: string | undefined;
      readonly assertion: string | undefined;
    }
  | { readonly method: 'none'; readonly clientId: string | undefined }
  /** A TLS client certificate (RFC 8705 §2), DER, and the `client_id` it is for; the client's registration says which §2 method checks it. */
  | { readonly method: 'tls_client_auth'; readonly clientId: string | undefined; readonly certificate: Buffer };

export type ClientAuthMethodName = PresentedClient['method'] | 'self_signed_tls_client_auth';

/** A client whose presentation proved it, and which of its credentials did. */
export interface AuthenticatedClient {
  readonly client: ClientRecord;
  /**
   * Id of the credential that proved the client (a secret's `sec_…` id); null for `none`. Tokens
   * record it, so their authority can end with the credential's (SECURITY ADM-01).
   */
  readonly credentialId: string | null;
}

export interface ClientVerifier {
  /** The client and the id of the live secret `secret` matched; constant-time w.r.t. the client's existence. */
  verifySecret(clientId: string, secret: string): Maybe<{ readonly client: ClientRecord; readonly secretId: string } | undefined>;
  /** Looks up a client without a secret (public clients only). */
  find(clientId: string): Maybe<ClientRecord | undefined>;
  /** The client's registered key for an assertion's header, or undefined (no such key, an alg that does not fit it). */
  assertionKey(client: ClientRecord, header: { readonly kid: string | undefined; readonly alg: string }): Promise<JwsVerifyKey | undefined>;
  /** What client assertions are checked against (audiences, algorithms, lifetime, the replay guard, the clock). */
  readonly assertions: ClientAssertionSettings;
  /** base64url SHA-256 thumbprints of the certificates registered as `x5c[0]` in the client's keys (RFC 8705 §2.2). */
  certificateThumbprints(client: ClientRecord): Promise<readonly string[]>;
  /** The CAs `tls_client_auth` certificates must be issued by (`--tls-client-ca`; RFC 8705 §2.1). */
  readonly clientCas: readonly X509Certificate[];
  /** Whether a CRL signed by `ca` lists `cert` (`--tls-client-crl`; RFC 5280 §5); absent: none is revoked. */
  readonly revoked?: ((cert: X509Certificate, ca: X509Certificate) => boolean) | undefined;
}

export interface ClientAuthMethod {
  readonly name: ClientAuthMethodName;
  /** Whether the method proves possession of a credential (false: `none`, public clients). */
  readonly confidential: boolean;
  /**
   * The client this presentation proves, or undefined when it proves none (unknown client, wrong
   * credential, wrong client type): the caller answers `invalid_client` for every such case alike.
   */
  authenticate(presented: PresentedClient & { readonly clientId: string }, verifier: ClientVerifier): Maybe<AuthenticatedClient | undefined>;
}
