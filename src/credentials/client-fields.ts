/**
 * A client's settings, each declared once: its meaning, the kind of value it holds, its default, and
 * its name and wording on every surface that sets it — the admin API and the rules' errors,
 * `keymint clients create/update` (flags and their help), configuration as code (`keymint apply`),
 * and the console's client form (control, label, hint). ClientService's input types
 * (client-inputs.ts) and each surface's tables derive from this one (admin/routes.ts, cli/clients.ts,
 * apply/spec.ts, console/pages/client-form.ts); test/credentials/client-fields.test.ts checks that
 * each surface exposes every field given to it here (`null`: the surface deliberately lacks it) and
 * that the rules name each field as `rule` says. The orders a user sees are the surfaces' own: the
 * table's is that of `clients create --help`; apply/spec.ts lists the plan's and the form page
 * lays out its controls.
 */
import type { ClaimValue, ClientMode, ClientRecord, ClientType, SecretlessAuthMethod } from '../storage/types.ts';
import { OTHER_SIGNING_ALGS, SIGNING_ALGS } from '../config/types.ts';

/** The kinds of value a setting holds, and the value each stands for. */
export interface KindValue {
  text: string;
  mode: ClientMode;
  clientType: ClientType;
  authMethod: 'client_secret_basic' | SecretlessAuthMethod;
  list: readonly string[];
  flag: boolean;
  /** A whole number, or null for the deployment's default. */
  count: number | null;
  labels: Readonly<Record<string, string>>;
  claims: Readonly<Record<string, ClaimValue>>;
  /** A JSON Web Key Set, checked by client-keys.ts. */
  jwks: unknown;
  uri: string | undefined;
  /** A client secret: never echoed, never logged. */
  secret: string;
}
export type FieldKind = keyof KindValue;

/** One flag of `keymint clients create` or `update`: its help line on each (absent: not a flag of that command). */
export interface FieldFlag {
  readonly flag: string;
  /** The value's placeholder; none for a switch. */
  readonly value?: string;
  /** A switch that sets the field to this (`--untrusted` sets trusted to false). */
  readonly sets?: boolean;
  /** Repeatable: each use adds one value. */
  readonly repeat?: boolean;
  readonly choices?: readonly string[];
  /** For a count: the range `clients create` accepts (update also takes `default`). */
  readonly min?: number;
  readonly max?: number;
  /** `clients create` refuses to run without it. */
  readonly required?: true;
  readonly create?: string;
  readonly update?: string;
}

/** How the CLI sets a field; `clear` names what `clients update --clear NAME` empties or resets. */
export interface FieldCli {
  readonly flags: readonly FieldFlag[];
  readonly clear?: string;
}

/** How configuration as code declares a field: its key in the file (absent, the field has its default). */
export interface FieldApply {
  readonly key: string;
}

/** The kinds of control the console's form reads a field with. */
export type FormControl = 'input' | 'select' | 'words' | 'lines' | 'checkboxes' | 'number' | 'checkbox' | 'json' | 'pairs' | 'jwks';

export interface FieldForm {
  readonly control: string;
  readonly kind: FormControl;
  readonly label: string;
  readonly hint?: string;
  /** A checkbox that, checked, sets the field to false (`pkce_optional`). */
  readonly inverted?: true;
  /**
   * The authentication methods the control is for (`jwks`: private_key_jwt and
   * self_signed_tls_client_auth): shown only for them, and read only when one of them is chosen.
   */
  readonly methods?: readonly string[];
}

export interface ClientField {
  /** What the setting means, in one line. */
  readonly doc: string;
  readonly kind: FieldKind;
  /** Its name in the admin API and the client view (`redirect_uris`). */
  readonly api: string;
  /** The field a ClientInputError about it names (`redirect_uri`), when not `api`. */
  readonly rule?: string;
  /** Its key in ClientRecord, when not the field's own name (`accessTokenTtl`). */
  readonly record?: keyof ClientRecord;
  /** What a client has when it is made without it (`name` has none: it is required; apply uses the client's key). */
  readonly default: unknown;
  /** Set when the client is made, never by an update: an id, mode and type never change (they are spelled in the id and decide how it authenticates); a secret changes by rotation. */
  readonly createOnly?: true;
  /** An update may give null: the deployment's default (ttl, rate limit) or none (maps, keys, the exchange policy, the manager). */
  readonly nullable?: true;
  readonly cli: FieldCli | null;
  readonly apply: FieldApply | null;
  readonly form: FieldForm | null;
}

/** The methods that prove a client with its registered keys (jwks or jwks_uri). */
const KEYED_METHODS = ['private_key_jwt', 'self_signed_tls_client_auth'] as const;

/**
 * One of the names a `tls_client_auth` client's certificate must carry (RFC 8705 §2.1.2: a subject DN
 * or one subjectAltName of a kind): the same setting but for its names. The form shows the five
 * for tls_client_auth only; the rules take exactly one.
 */
const tlsName = <K extends string, C extends string>(key: K, api: string, flag: string, value: string, doc: string, help: string, control: C, label: string) =>
  ({
    doc: `tls_client_auth: ${doc}`,
    kind: 'uri',
    api,
    cli: { flags: [{ flag, value, create: `tls_client_auth: ${help}`, update: `tls_client_auth: ${help}` }] },
    apply: { key },
    default: undefined,
    nullable: true,
    form: { control, kind: 'input', label, methods: ['tls_client_auth'] },
  }) as const;

/**
 * What the server signs for the client with (its ID tokens, JARM responses, RFC 9701 introspection
 * answers): RS256 by default, or the deployment's `--alg`; the form offers just those two.
 */
const signedResponseAlg = <K extends string, C extends string>(key: K, spec: string, api: string, flag: string, what: string, control: C, label: string) =>
  ({
    doc: `${spec} \`${api}\`: what ${what} are signed with, RS256 (the default) or the deployment's \`--alg\` (${OTHER_SIGNING_ALGS.join(', ')})`,
    kind: 'text',
    api,
    cli: { flags: [{ flag, value: 'ALG', choices: SIGNING_ALGS, create: `What ${what} are signed with: RS256 (default) or the server's --alg`, update: "RS256, or the server's --alg" }] },
    apply: { key },
    default: 'RS256',
    form: { control, kind: 'select', label },
  }) as const;

/**
 * Every setting of a client, keyed by its name in ClientService's input (CreateClientInput,
 * UpdateClientInput), in the order `keymint clients create --help` lists their flags.
 */
export const CLIENT_FIELDS = {
  name: {
    doc: 'Display name, 1–200 printable characters',
    kind: 'text', api: 'name',
    cli: { flags: [{ flag: 'name', value: 'NAME', required: true, create: 'Display name, 1–200 printable characters', update: 'New display name' }] },
    apply: { key: 'name' },
    default: undefined,
    form: { control: 'name', kind: 'input', label: 'Name' },
  },
  scopes: {
    doc: 'The scopes the client may request',
    kind: 'list', api: 'scopes', rule: 'scope',
    cli: {
      flags: [
        { flag: 'scope', value: 'SCOPE', repeat: true, create: 'A scope the client may request', update: 'The scopes, replacing the list' },
        { flag: 'add-scope', value: 'SCOPE', repeat: true, update: 'Add a scope' },
        { flag: 'remove-scope', value: 'SCOPE', repeat: true, update: 'Remove a scope' },
      ],
      clear: 'scope',
    },
    apply: { key: 'scopes' },
    default: [],
    form: { control: 'scopes', kind: 'words', label: 'Scopes', hint: 'One per line or separated by spaces.' },
  },
  grants: {
    doc: 'The grants the client may use (default client_credentials)',
    kind: 'list', api: 'grants', rule: 'grant',
    cli: { flags: [{ flag: 'grant', value: 'GRANT', repeat: true, create: 'A grant it may use (default client_credentials)', update: 'The grants, replacing the list' }], clear: 'grant' },
    apply: { key: 'grants' },
    default: ['client_credentials'],
    form: { control: 'grants', kind: 'checkboxes', label: 'Grants' },
  },
  mode: {
    doc: 'live (sk_live_ id) or sandbox (sk_sdbx_ id), fixed at creation',
    kind: 'mode', api: 'mode',
    cli: { flags: [{ flag: 'mode', value: 'MODE', choices: ['live', 'sandbox'], create: 'live (sk_live_ id) or sandbox (sk_sdbx_ id); default live' }] },
    apply: { key: 'mode' },
    default: 'live',
    createOnly: true,
    form: { control: 'mode', kind: 'select', label: 'Mode', hint: 'Fixed at creation: it is part of the client id.' },
  },
  type: {
    doc: 'confidential (authenticates with a secret, keys or a certificate) or public (no credential), fixed at creation',
    kind: 'clientType', api: 'type',
    cli: { flags: [{ flag: 'type', value: 'TYPE', choices: ['confidential', 'public'], create: 'Client type; default confidential' }] },
    apply: { key: 'type' },
    default: 'confidential',
    createOnly: true,
    form: { control: 'type', kind: 'select', label: 'Type' },
  },
  ttl: {
    doc: 'Access-token lifetime in seconds; null: the deployment default',
    kind: 'count', api: 'access_token_ttl', rule: 'ttl', record: 'accessTokenTtl',
    cli: { flags: [{ flag: 'ttl', value: 'SECONDS', min: 1, create: 'Its access-token lifetime (at most --max-token-ttl)', update: 'Its access-token lifetime, or default' }], clear: 'ttl' },
    apply: { key: 'tokenTtl' },
    default: null,
    nullable: true,
    form: { control: 'ttl', kind: 'number', label: 'Access-token lifetime (seconds)', hint: 'Empty: the deployment default.' },
  },
  rateLimit: {
    doc: "Token requests per minute for this client; null: the deployment's `--rate-limit-client`",
    kind: 'count', api: 'rate_limit',
    cli: { flags: [{ flag: 'rate-limit', value: 'PER_MINUTE', min: 1, max: 100_000_000, create: 'Its token requests per minute', update: 'Its token requests per minute, or default' }], clear: 'rate-limit' },
    apply: { key: 'rateLimit' },
    default: null,
    nullable: true,
    form: { control: 'rate_limit', kind: 'number', label: 'Rate limit (requests per minute)', hint: 'Empty: the deployment default.' },
  },
  admin: {
    doc: 'Holds the `keymint:admin` scope: the client may call the admin API',
    kind: 'flag', api: 'admin',
    cli: { flags: [{ flag: 'admin', sets: true, create: 'May call the admin API', update: 'May call the admin API' }, { flag: 'no-admin', sets: false, update: 'May no longer call the admin API' }] },
    apply: null, // a file lists keymint:admin among the scopes
    default: false,
    form: null, // the form lists it among the scopes
  },
  trusted: {
    doc: 'First-party: the authorization endpoint skips the consent page',
    kind: 'flag', api: 'trusted',
    cli: {
      flags: [
        { flag: 'trusted', sets: true, create: 'First-party: the authorization endpoint skips the consent page', update: 'First-party: skips the consent page' },
        { flag: 'untrusted', sets: false, update: 'Meets the consent page again' },
      ],
    },
    apply: { key: 'trusted' },
    default: false,
    form: { control: 'trusted', kind: 'checkbox', label: 'Trusted: skip the consent page' },
  },
  tokenReuse: {
    doc: 'client_credentials requests may get a still-valid earlier token back (docs/performance.md); default false',
    kind: 'flag', api: 'token_reuse',
    cli: {
      flags: [
        { flag: 'token-reuse', sets: true, create: 'A client_credentials request may get a still-valid earlier token back instead of a new one (see docs/performance.md)', update: 'A client_credentials request may get a still-valid earlier token back' },
        { flag: 'no-token-reuse', sets: false, update: 'Every client_credentials request gets a new token (the default)' },
      ],
    },
    apply: null, // a deployment's performance choice, left as each client has it
    default: false,
    form: { control: 'token_reuse', kind: 'checkbox', label: 'Token reuse: a client_credentials request may get a still-valid earlier token back', hint: 'Instead of a new token each time (see the performance guide); off by default.' },
  },
  pkceRequired: {
    doc: 'false: a confidential client may use the code flow without PKCE (SECURITY P-08); default true',
    kind: 'flag', api: 'pkce_required',
    cli: {
      flags: [
        { flag: 'pkce-optional', sets: false, create: 'A confidential client may redeem an authorization code without PKCE (as Polar allows); public clients always need it', update: 'A confidential client may redeem a code without PKCE' },
        { flag: 'pkce-required', sets: true, update: 'PKCE required again (the default)' },
      ],
    },
    apply: { key: 'pkceRequired' },
    default: true,
    form: {
      control: 'pkce_optional', kind: 'checkbox', inverted: true,
      label: 'PKCE optional: this confidential client may redeem codes without a code_verifier',
      hint: 'Only for providers whose contract allows it (Polar); public clients always use PKCE.',
    },
  },
  requirePar: {
    doc: 'RFC 9126 §6 require_pushed_authorization_requests: the authorization endpoint takes its requests only through a pushed request (request_uri); default false',
    kind: 'flag', api: 'require_pushed_authorization_requests',
    cli: {
      flags: [
        { flag: 'require-par', sets: true, create: 'Its authorization requests must be pushed first (POST /oauth2/par, RFC 9126)', update: 'Its authorization requests must be pushed first (RFC 9126)' },
        { flag: 'no-require-par', sets: false, update: 'Its authorization requests may be sent directly again (the default)' },
      ],
    },
    apply: { key: 'requirePar' },
    default: false,
    form: { control: 'require_par', kind: 'checkbox', label: 'Require pushed authorization requests (PAR)', hint: 'The authorization endpoint then takes only a request_uri from POST /oauth2/par (RFC 9126).' },
  },
  requireSignedRequestObject: {
    doc: 'RFC 9101 §10.5 require_signed_request_object: its authorization requests (direct or pushed) are taken only as a request object signed with its registered keys; default false',
    kind: 'flag', api: 'require_signed_request_object',
    cli: {
      flags: [
        { flag: 'require-signed-request-object', sets: true, create: 'Its authorization requests must be signed request objects (RFC 9101; needs --jwks-file or --jwks-uri)', update: 'Its authorization requests must be signed request objects (RFC 9101)' },
        { flag: 'no-require-signed-request-object', sets: false, update: 'Its authorization requests may carry plain parameters again (the default)' },
      ],
    },
    apply: { key: 'requireSignedRequestObject' },
    default: false,
    form: { control: 'require_signed_request_object', kind: 'checkbox', label: 'Require signed request objects (JAR)', hint: 'The authorization endpoint and the PAR endpoint then take only a request parameter signed with the client\'s keys (RFC 9101).' },
  },
  refreshTokenRotation: {
    doc: 'false: a refresh keeps the refresh token (bound to the client\'s authentication, RFC 9700 §4.14.2) instead of rotating it; confidential clients only; default true (a fapi2 client never rotates)',
    kind: 'flag', api: 'refresh_token_rotation',
    cli: {
      flags: [
        { flag: 'no-refresh-token-rotation', sets: false, create: 'A refresh keeps the refresh token instead of rotating it (confidential clients only, RFC 9700 §4.14.2)', update: 'A refresh keeps the refresh token instead of rotating it' },
        { flag: 'refresh-token-rotation', sets: true, update: 'Each refresh rotates the refresh token again (the default)' },
      ],
    },
    apply: { key: 'refreshTokenRotation' },
    default: true,
    form: {
      control: 'refresh_token_rotation', kind: 'checkbox', label: 'Rotate refresh tokens: each refresh returns a new refresh token',
      hint: 'Unchecked, a refresh keeps the refresh token, bound to the client\'s authentication (confidential clients only). A fapi2 client never rotates.',
    },
  },
  securityProfile: {
    doc: 'FAPI 2.0 Security Profile (docs/fapi2.md): `fapi2` holds the client to its authorization-server rules (PAR, PKCE S256, private_key_jwt or mTLS, DPoP- or certificate-bound tokens, PS256/ES256/EdDSA); null or `none`: no profile (the default)',
    kind: 'text', api: 'security_profile',
    cli: {
      flags: [{
        flag: 'security-profile', value: 'PROFILE', choices: ['fapi2', 'none'],
        create: 'fapi2: hold it to the FAPI 2.0 Security Profile (needs private_key_jwt keys or mTLS; PAR, DPoP or certificate-bound tokens)',
        update: 'fapi2, or none to drop the profile',
      }],
    },
    apply: { key: 'securityProfile' },
    default: null,
    nullable: true,
    form: { control: 'security_profile', kind: 'select', label: 'Security profile', hint: 'fapi2 needs private_key_jwt or mTLS, PAR, PKCE and DPoP- or certificate-bound tokens.' },
  },
  idTokenAlg: signedResponseAlg('idTokenAlg', 'OIDC', 'id_token_signed_response_alg', 'id-token-alg', 'its ID tokens', 'id_token_alg', 'ID tokens signed with'),
  authorizationResponseAlg: signedResponseAlg('authorizationResponseAlg', 'JARM', 'authorization_signed_response_alg', 'authorization-response-alg', 'its JWT authorization responses (response_mode=jwt or query.jwt)', 'authorization_response_alg', 'JWT authorization responses signed with'),
  introspectionAlg: signedResponseAlg('introspectionAlg', 'RFC 9701', 'introspection_signed_response_alg', 'introspection-alg', 'its JWT introspection answers', 'introspection_alg', 'JWT introspection answers signed with'),
  redirectUris: {
    doc: 'The redirect URIs of the authorization-code grant',
    kind: 'list', api: 'redirect_uris', rule: 'redirect_uri',
    cli: { flags: [{ flag: 'redirect-uri', value: 'URI', repeat: true, create: 'A redirect URI (authorization_code)', update: 'The redirect URIs, replacing the list' }], clear: 'redirect-uri' },
    apply: { key: 'redirectUris' },
    default: [],
    form: { control: 'redirect_uris', kind: 'lines', label: 'Redirect URIs', hint: 'One per line; needed for the authorization-code grant.' },
  },
  postLogoutRedirectUris: {
    doc: 'OIDC RP-Initiated Logout `post_logout_redirect_uris`: where the end-session endpoint may send the browser back after logout (each checked as a redirect URI)',
    kind: 'list', api: 'post_logout_redirect_uris', rule: 'post_logout_redirect_uri',
    cli: { flags: [{ flag: 'post-logout-redirect-uri', value: 'URI', repeat: true, create: 'A URI the end-session endpoint may send the browser back to after logout', update: 'The post-logout redirect URIs, replacing the list' }], clear: 'post-logout-redirect-uri' },
    apply: { key: 'postLogoutRedirectUris' },
    default: [],
    form: { control: 'post_logout_redirect_uris', kind: 'lines', label: 'Post-logout redirect URIs', hint: 'One per line; where /oauth2/logout may send the user back after signing out.' },
  },
  backchannelLogoutUri: {
    doc: 'OIDC Back-Channel Logout `backchannel_logout_uri`: where Keymint POSTs a logout token when a session the client got an ID token in ends (https; http only where a redirect URI may be, and reached only under the `jwks_uri` fetch rules)',
    kind: 'uri', api: 'backchannel_logout_uri',
    cli: { flags: [{ flag: 'backchannel-logout-uri', value: 'URL', create: 'Where Keymint POSTs a logout token when a session it got an ID token in ends (OIDC Back-Channel Logout)', update: 'Where Keymint POSTs its logout tokens' }], clear: 'backchannel-logout-uri' },
    apply: { key: 'backchannelLogoutUri' },
    default: undefined,
    nullable: true,
    form: { control: 'backchannel_logout_uri', kind: 'input', label: 'Back-channel logout URI', hint: 'Empty: none. Keymint POSTs a logout token here when a session this client got an ID token in ends.' },
  },
  backchannelLogoutSessionRequired: {
    doc: 'OIDC Back-Channel Logout `backchannel_logout_session_required`: its logout tokens must carry `sid` (Keymint sends `sid` in every one); default false',
    kind: 'flag', api: 'backchannel_logout_session_required',
    cli: {
      flags: [
        { flag: 'backchannel-logout-session-required', sets: true, create: 'Its logout tokens must carry sid (Keymint always sends it)', update: 'Its logout tokens must carry sid' },
        { flag: 'no-backchannel-logout-session-required', sets: false, update: 'Its logout tokens need not carry sid (the default)' },
      ],
    },
    apply: { key: 'backchannelLogoutSessionRequired' },
    default: false,
    form: { control: 'backchannel_logout_session_required', kind: 'checkbox', label: 'Back-channel logout requires sid', hint: 'Keymint sends sid in every logout token; this records that the app needs it.' },
  },
  audiences: {
    doc: 'The audiences (resources) its tokens may be for; the first is its default',
    kind: 'list', api: 'audiences', rule: 'audience',
    cli: { flags: [{ flag: 'allow-audience', value: 'URI', repeat: true, create: 'An audience (resource) its tokens may be for; the first is its default', update: 'The audiences, replacing the list' }], clear: 'allow-audience' },
    apply: { key: 'audiences' },
    default: [],
    form: { control: 'audiences', kind: 'lines', label: 'Audiences', hint: 'Absolute URIs, one per line.' },
  },
  dialects: {
    doc: 'The dialects it may use (none: all)',
    kind: 'list', api: 'dialects', rule: 'dialect',
    cli: { flags: [{ flag: 'allow-dialect', value: 'NAME', repeat: true, create: 'A dialect it may use (default: all)', update: 'The dialects, replacing the list' }], clear: 'allow-dialect' },
    apply: { key: 'dialects' },
    default: [],
    form: { control: 'dialects', kind: 'checkboxes', label: 'Dialects', hint: 'None checked: every dialect.' },
  },
  authMethod: {
    doc: 'How it authenticates: client_secret_basic; private_key_jwt (no secret; needs jwks or jwksUri); tls_client_auth (a CA-issued certificate; needs one tls* name); self_signed_tls_client_auth (a certificate in jwks or jwksUri as x5c)',
    kind: 'authMethod', api: 'token_endpoint_auth_method',
    cli: { flags: [{ flag: 'auth-method', value: 'METHOD', choices: ['client_secret_basic', 'private_key_jwt', 'tls_client_auth', 'self_signed_tls_client_auth'], create: 'How it authenticates (the tls methods: docs/mtls.md)', update: 'How it authenticates (any but client_secret_basic ends its secrets)' }] },
    apply: { key: 'authMethod' },
    default: 'client_secret_basic',
    form: {
      control: 'auth_method', kind: 'select', label: 'Authentication method',
      hint: 'Any method but client_secret_basic holds no secret: switching to one ends the secrets at once; switching back leaves the client without a secret until one is rotated in.',
    },
  },
  jwks: {
    doc: 'Its JSON Web Key Set, for private_key_jwt and self_signed_tls_client_auth (setting it clears jwksUri)',
    kind: 'jwks', api: 'jwks',
    cli: { flags: [{ flag: 'jwks-file', value: 'FILE', create: 'Its JSON Web Key Set, for private_key_jwt and self_signed_tls_client_auth', update: 'Its JSON Web Key Set, for private_key_jwt and self_signed_tls_client_auth' }] },
    apply: { key: 'jwks' },
    default: undefined,
    form: { control: 'jwks', kind: 'jwks', label: 'JSON Web Key Set', hint: 'The client\'s public keys, pasted as {"keys": [ … ]}; or give a JWKS URL instead.', methods: KEYED_METHODS },
  },
  jwksUri: {
    doc: 'Where its JWKS is published, for private_key_jwt (setting it clears jwks)',
    kind: 'uri', api: 'jwks_uri',
    cli: { flags: [{ flag: 'jwks-uri', value: 'URL', create: 'Where its JWKS is published, for private_key_jwt', update: 'Where its JWKS is published, for private_key_jwt' }] },
    apply: { key: 'jwksUri' },
    default: undefined,
    nullable: true,
    form: { control: 'jwks_uri', kind: 'input', label: 'JWKS URL', hint: 'Where the client publishes its keys (https); or paste them above instead.', methods: KEYED_METHODS },
  },
  tlsSubjectDn: tlsName('tlsSubjectDn', 'tls_client_auth_subject_dn', 'tls-subject-dn', 'DN', 'the subject DN its certificate must have (RFC 4514, e.g. CN=billing,O=Acme)', 'the subject DN its certificate must have', 'tls_subject_dn', 'Certificate subject DN'),
  tlsSanDns: tlsName('tlsSanDns', 'tls_client_auth_san_dns', 'tls-san-dns', 'NAME', 'a dNSName its certificate must carry in subjectAltName', 'a DNS name its certificate must carry', 'tls_san_dns', 'Certificate DNS name'),
  tlsSanUri: tlsName('tlsSanUri', 'tls_client_auth_san_uri', 'tls-san-uri', 'URI', 'a uniformResourceIdentifier its certificate must carry in subjectAltName', 'a URI its certificate must carry', 'tls_san_uri', 'Certificate URI'),
  tlsSanIp: tlsName('tlsSanIp', 'tls_client_auth_san_ip', 'tls-san-ip', 'IP', 'an iPAddress its certificate must carry in subjectAltName', 'an IP address its certificate must carry', 'tls_san_ip', 'Certificate IP address'),
  tlsSanEmail: tlsName('tlsSanEmail', 'tls_client_auth_san_email', 'tls-san-email', 'EMAIL', 'an rfc822Name its certificate must carry in subjectAltName', 'an e-mail address its certificate must carry', 'tls_san_email', 'Certificate e-mail address'),
  dpopBound: {
    doc: 'Its tokens must be DPoP-bound (RFC 9449)',
    kind: 'flag', api: 'dpop_bound_access_tokens',
    cli: { flags: [{ flag: 'dpop-bound', sets: true, create: 'Its tokens must be DPoP-bound', update: 'Its tokens must be DPoP-bound' }, { flag: 'no-dpop-bound', sets: false, update: 'Its tokens need not be DPoP-bound' }] },
    apply: { key: 'dpopBound' },
    default: false,
    form: { control: 'dpop_bound', kind: 'checkbox', label: 'DPoP-bound tokens: every token request carries a DPoP proof (RFC 9449)' },
  },
  certBound: {
    doc: 'Its access tokens are bound to the certificate it presents (RFC 8705 §3: cnf x5t#S256)',
    kind: 'flag', api: 'tls_client_certificate_bound_access_tokens',
    cli: { flags: [{ flag: 'cert-bound', sets: true, create: 'Its tokens are bound to its TLS client certificate', update: 'Its tokens are bound to its TLS client certificate' }, { flag: 'no-cert-bound', sets: false, update: 'Its tokens are not bound to its certificate' }] },
    apply: { key: 'certBound' },
    default: false,
    form: { control: 'cert_bound', kind: 'checkbox', label: 'Certificate-bound tokens: bound to the TLS client certificate it presents (RFC 8705)' },
  },
  exchangeAudiences: {
    doc: 'The audiences token exchange (RFC 8693) may target for it',
    kind: 'list', api: 'exchange_audiences',
    cli: { flags: [{ flag: 'exchange-audience', value: 'URI', repeat: true, create: 'An audience token exchange may target', update: 'The token-exchange audiences, replacing the list' }], clear: 'exchange-audience' },
    apply: { key: 'exchangeAudiences' },
    default: [],
    nullable: true,
    form: { control: 'exchange_audiences', kind: 'lines', label: 'Token exchange audiences', hint: 'Absolute URIs, one per line: what token exchange (RFC 8693) may target for it.' },
  },
  exchangeScopes: {
    doc: 'The scopes token exchange (RFC 8693) may grant it',
    kind: 'list', api: 'exchange_scopes',
    cli: { flags: [{ flag: 'exchange-scope', value: 'SCOPE', repeat: true, create: 'A scope token exchange may grant', update: 'The token-exchange scopes, replacing the list' }], clear: 'exchange-scope' },
    apply: { key: 'exchangeScopes' },
    default: [],
    nullable: true,
    form: { control: 'exchange_scopes', kind: 'words', label: 'Token exchange scopes', hint: 'What token exchange may grant it; one per line or separated by spaces.' },
  },
  introspectionAudiences: {
    doc: 'Operator-only: the audiences it is a resource server for: introspection answers it about an active access token of any client whose `aud` includes one of them (never set by dynamic registration or a metadata document)',
    kind: 'list', api: 'introspection_audiences',
    cli: { flags: [{ flag: 'introspect-audience', value: 'URI', repeat: true, create: "An audience it serves: it may introspect other clients' access tokens for it", update: 'The introspection audiences, replacing the list' }], clear: 'introspect-audience' },
    apply: { key: 'introspectionAudiences' },
    default: [],
    nullable: true,
    form: { control: 'introspection_audiences', kind: 'lines', label: 'Introspection audiences (resource server)', hint: "Absolute URIs, one per line: introspection answers this client about other clients' access tokens for these audiences." },
  },
  metadata: {
    doc: 'Free-form labels for operators (see client-rules.ts for the limits); never put in tokens',
    kind: 'labels', api: 'metadata',
    cli: {
      flags: [
        { flag: 'metadata', value: 'KEY=VALUE', repeat: true, create: 'A label for operators (shown by show and list; never in tokens)', update: 'Set a label' },
        { flag: 'remove-metadata', value: 'KEY', repeat: true, update: 'Remove a label' },
      ],
      clear: 'metadata',
    },
    apply: { key: 'metadata' },
    default: {},
    nullable: true,
    form: { control: 'metadata', kind: 'pairs', label: 'Metadata', hint: 'key=value per line; shown here, never put in tokens.' },
  },
  claims: {
    doc: 'Static claims added to every access token (see client-rules.ts: reserved names, limits)',
    kind: 'claims', api: 'claims',
    cli: {
      flags: [
        { flag: 'claim', value: 'NAME=VALUE', repeat: true, create: 'A static claim added to its access tokens (a string)', update: 'Set a static claim (a string)' },
        { flag: 'claim-json', value: 'NAME=JSON', repeat: true, create: 'A static claim whose value is JSON (number, boolean, array)', update: 'Set a static claim whose value is JSON' },
        { flag: 'remove-claim', value: 'NAME', repeat: true, update: 'Remove a static claim' },
      ],
      clear: 'claim',
    },
    apply: { key: 'claims' },
    default: {},
    nullable: true,
    form: { control: 'claims', kind: 'json', label: 'Claims', hint: 'Static claims added to access tokens, as a JSON object.' },
  },
  clientId: {
    doc: "Import: the id, chosen by the caller; absent = generated in this deployment's shape",
    kind: 'text', api: 'client_id',
    cli: { flags: [{ flag: 'id', value: 'ID', create: 'Import: this client id instead of a generated one (1–256 printable ASCII, no spaces)' }] },
    apply: { key: 'id' },
    default: undefined,
    createOnly: true,
    form: null, // the console makes clients with generated ids
  },
  clientSecret: {
    doc: 'Import: the secret, chosen by the caller; absent = generated. Stored as a digest like any other',
    kind: 'secret', api: 'client_secret',
    cli: {
      flags: [
        { flag: 'secret-env', value: 'VAR', create: 'Use the secret held in this environment variable (chosen secret: at least 16 characters)' },
        { flag: 'secret-file', value: 'PATH', create: 'Use the secret held in this file (one trailing newline dropped)' },
        { flag: 'secret', value: 'SECRET', create: 'Use this secret (warns: the command line is visible to ps and kept in shell history)' },
      ],
    },
    apply: { key: 'secret' },
    default: undefined,
    createOnly: true,
    form: null, // as clientId
  },
  managedBy: {
    doc: 'The tool that manages the client (`apply:<key>`); absent = made by hand',
    kind: 'uri', api: 'managed_by',
    cli: null, // set by the tools themselves
    apply: null, // apply writes its own mark
    default: undefined,
    nullable: true,
    form: null,
  },
} as const satisfies Readonly<Record<string, ClientField>>;

export type ClientFieldName = keyof typeof CLIENT_FIELDS;
/** The value a field holds. */
export type FieldValue<N extends ClientFieldName> = KindValue[(typeof CLIENT_FIELDS)[N]['kind']];
export const CLIENT_FIELD_NAMES = Object.keys(CLIENT_FIELDS) as ClientFieldName[];

/** The field a ClientInputError or AuthSettingsError about a setting names. */
export const ruleField = (name: ClientFieldName): string => {
  const f: ClientField = CLIENT_FIELDS[name];
  return f.rule ?? f.api;
};

/** The fields present on a surface, in the table's order. */
export function fieldsOn<S extends 'cli' | 'apply' | 'form'>(surface: S): Array<[ClientFieldName, NonNullable<ClientField[S]>]> {
  return CLIENT_FIELD_NAMES.flatMap((name) => {
    const on = (CLIENT_FIELDS[name] as ClientField)[surface];
    return on === null ? [] : [[name, on as NonNullable<ClientField[S]>]];
  });
}
