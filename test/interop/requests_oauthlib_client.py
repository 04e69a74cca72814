"""Keymint driven by requests-oauthlib (OAuthLib under Requests), the other OAuth 2.0 client Python
services use, as python.test.ts runs it: `python3 requests_oauthlib_client.py <scenario> '<json>'`
prints one JSON object. Only the library's own requests and response handling are used.
"""
import json
import os
import sys

# The test server speaks plain HTTP on 127.0.0.1; OAuthLib refuses http:// URLs without this.
os.environ['OAUTHLIB_INSECURE_TRANSPORT'] = '1'

import requests  # noqa: E402
from oauthlib.oauth2 import BackendApplicationClient, OAuth2Error  # noqa: E402
from requests.auth import HTTPBasicAuth  # noqa: E402
from requests_oauthlib import OAuth2Session  # noqa: E402


def scenario_client_credentials(inp):
    """The documented backend flow: Basic credentials made by Requests (not form-encoded first)."""
    session = OAuth2Session(client=BackendApplicationClient(client_id=inp['client_id'], scope=inp.get('scope')))
    token = session.fetch_token(token_url=inp['issuer'] + '/oauth2/token', client_id=inp['client_id'], client_secret=inp['client_secret'])
    return {'token': dict(token)}


def scenario_code_flow(inp):
    """The web application flow; requests-oauthlib 1.3 has no PKCE of its own, so the S256 challenge
    and the verifier go in as extra parameters, as its users do. Then a refresh with Basic credentials."""
    verifier = inp['code_verifier']
    session = OAuth2Session(inp['client_id'], redirect_uri=inp['redirect_uri'], scope=['openid', 'read'])
    url, state = session.authorization_url(inp['issuer'] + '/oauth2/authorize', code_challenge=inp['code_challenge'], code_challenge_method='S256')
    answer = requests.get(url, cookies={'keymint_session': inp['session_token']}, allow_redirects=False, timeout=10)
    auth = HTTPBasicAuth(inp['client_id'], inp['client_secret'])
    token = session.fetch_token(inp['issuer'] + '/oauth2/token', authorization_response=answer.headers['Location'], auth=auth, code_verifier=verifier)
    refreshed = session.refresh_token(inp['issuer'] + '/oauth2/token', auth=auth)
    reused = None
    try:
        session.refresh_token(inp['issuer'] + '/oauth2/token', refresh_token=token['refresh_token'], auth=auth)
    except OAuth2Error as err:
        reused = err.error
    return {'state_matched': state in answer.headers['Location'], 'token': dict(token), 'refreshed': dict(refreshed), 'reused_error': reused}


def main():
    scenario, inp = sys.argv[1], json.loads(sys.argv[2])
    try:
        out = globals()['scenario_' + scenario](inp)
    except OAuth2Error as err:
        out = {'raised': type(err).__name__, 'error': err.error, 'description': err.description}
    print(json.dumps(out))


if __name__ == '__main__':
    main()
