"""Keymint driven by Authlib, Python's OAuth 2.0 and OpenID Connect library, as a Python service would.

Run by python.test.ts: `python3 authlib_client.py <scenario> '<json input>'` prints one JSON object.
Only Authlib's own requests, client authentication, response parsing and validation are used; the
test asserts what they return. Failures Authlib raises are printed as {"raised": ..., "error": ...}.
"""
import json
import sys

import requests
from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.requests_client import OAuth2Session
from authlib.jose import JsonWebKey, jwt
from authlib.oauth2.rfc7523 import PrivateKeyJWT
from authlib.oauth2.rfc8414 import AuthorizationServerMetadata
from authlib.oidc.core import CodeIDToken
from authlib.oidc.discovery import OpenIDProviderMetadata


class ProviderMetadata(OpenIDProviderMetadata):
    """Authlib 1.2 (Debian 12's) refuses a provider that does not offer unsigned (`none`) request
    objects, reading OIDC Discovery's SHOULD as a MUST; Authlib 1.6 fixed that (authlib/authlib#731).
    Keymint never accepts unsigned request objects (RFC 9101 §10.2), so that one check is the later
    Authlib's: the value is a list."""

    def validate_request_object_signing_alg_values_supported(self):
        values = self.get('request_object_signing_alg_values_supported')
        if values is not None and not isinstance(values, list):
            raise ValueError('"request_object_signing_alg_values_supported" MUST be JSON array')


def discover(issuer):
    """RFC 8414 and OIDC Discovery documents, each checked by Authlib's own validator."""
    oauth = AuthorizationServerMetadata(requests.get(issuer + '/.well-known/oauth-authorization-server', timeout=10).json())
    oauth.validate()
    oidc = ProviderMetadata(requests.get(issuer + '/.well-known/openid-configuration', timeout=10).json())
    oidc.validate()
    return oauth, oidc


def key_set(meta):
    return JsonWebKey.import_key_set(requests.get(meta['jwks_uri'], timeout=10).json())


def access_claims(meta, token):
    """The JWT access token verified with the JWKS (signature, iss, exp)."""
    claims = jwt.decode(token, key_set(meta), claims_options={'iss': {'essential': True, 'value': meta['issuer']}})
    claims.validate(leeway=5)
    return dict(claims)


def scenario_metadata(inp):
    oauth, oidc = discover(inp['issuer'])
    return {'issuer': oauth['issuer'], 'oidc_issuer': oidc['issuer'], 'token_endpoint': oauth['token_endpoint']}


def scenario_client_credentials(inp):
    meta, _ = discover(inp['issuer'])
    session = OAuth2Session(inp['client_id'], inp['client_secret'], token_endpoint_auth_method=inp['method'], scope=inp.get('scope'))
    token = session.fetch_token(meta['token_endpoint'], grant_type='client_credentials')
    return {'token': dict(token), 'claims': access_claims(meta, token['access_token'])}


def scenario_private_key_jwt(inp):
    meta, _ = discover(inp['issuer'])
    session = OAuth2Session(inp['client_id'], inp['private_key_pem'], token_endpoint_auth_method='private_key_jwt', scope=inp.get('scope'))
    session.register_client_auth_method(PrivateKeyJWT(meta['token_endpoint'], alg=inp['alg']))
    token = session.fetch_token(meta['token_endpoint'], grant_type='client_credentials')
    return {'token': dict(token), 'claims': access_claims(meta, token['access_token'])}


def scenario_code_flow(inp):
    """PKCE S256 with state and nonce; the user's browser is a cookie; then refresh, introspect, revoke."""
    meta, oidc = discover(inp['issuer'])
    session = OAuth2Session(inp['client_id'], inp['client_secret'], token_endpoint_auth_method='client_secret_basic',
                            scope='openid read', redirect_uri=inp['redirect_uri'], code_challenge_method='S256')
    verifier = 'v' * 20 + 'authlib-pkce-verifier-of-43-chars-or-more'
    url, state = session.create_authorization_url(meta['authorization_endpoint'], code_verifier=verifier, nonce='n-0S6_WzA2Mj')
    answer = requests.get(url, cookies={'keymint_session': inp['session_token']}, allow_redirects=False, timeout=10)
    location = answer.headers['Location']
    token = session.fetch_token(meta['token_endpoint'], authorization_response=location, code_verifier=verifier, state=state)
    id_token = jwt.decode(token['id_token'], key_set(meta), claims_cls=CodeIDToken,
                          claims_options={'iss': {'value': oidc['issuer']}, 'aud': {'value': inp['client_id']}},
                          claims_params={'nonce': 'n-0S6_WzA2Mj', 'client_id': inp['client_id'], 'access_token': token['access_token']})
    id_token.validate(leeway=5)
    refreshed = session.refresh_token(meta['token_endpoint'], refresh_token=token['refresh_token'])
    seen = session.introspect_token(meta['introspection_endpoint'], token=refreshed['access_token']).json()
    revoked = session.revoke_token(meta['revocation_endpoint'], token=refreshed['refresh_token'], token_type_hint='refresh_token')
    after = session.introspect_token(meta['introspection_endpoint'], token=refreshed['refresh_token']).json()
    refused = None
    try:
        session.refresh_token(meta['token_endpoint'], refresh_token=refreshed['refresh_token'])
    except OAuthError as err:
        refused = err.error
    return {
        'redirect_status': answer.status_code, 'location': location,
        'token': dict(token), 'id_token': dict(id_token), 'refreshed': dict(refreshed),
        'introspected': seen, 'revoke_status': revoked.status_code, 'after_revocation': after, 'refresh_after_revocation': refused,
    }


def main():
    scenario, inp = sys.argv[1], json.loads(sys.argv[2])
    try:
        out = globals()['scenario_' + scenario](inp)
    except OAuthError as err:
        out = {'raised': type(err).__name__, 'error': err.error, 'description': err.description}
    print(json.dumps(out))


if __name__ == '__main__':
    main()
