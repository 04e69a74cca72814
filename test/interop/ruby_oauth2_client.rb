# Keymint driven by the oauth2 gem (Debian's ruby-oauth2), the OAuth 2.0 client most Ruby services
# use (OmniAuth's OAuth 2.0 strategies are built on it), as ruby.test.ts runs it:
# `ruby ruby_oauth2_client.rb <scenario> '<json>'` prints one JSON object. Only the gem's own requests
# and response handling are used; the user's browser is a session cookie sent with Net::HTTP.
require 'json'
require 'net/http'
require 'oauth2'

def client(inp, auth_scheme = :basic_auth)
  OAuth2::Client.new(inp['client_id'], inp['client_secret'],
                     site: inp['issuer'], token_url: '/oauth2/token', authorize_url: '/oauth2/authorize',
                     auth_scheme: auth_scheme.to_sym)
end

def token_hash(token)
  { 'token' => token.token, 'refresh_token' => token.refresh_token, 'expires_in' => token.expires_in,
    'expires_at' => token.expires_at, 'params' => token.params }
end

# The JWT's claims, read without checking (the test checks the signature with the server's JWKS).
def claims(jwt)
  JSON.parse(Base64.urlsafe_decode64(jwt.split('.')[1] + '=' * ((4 - jwt.split('.')[1].length % 4) % 4)))
end

def scenario_client_credentials(inp)
  token = client(inp, inp['auth_scheme']).client_credentials.get_token('scope' => inp['scope'])
  { 'token' => token_hash(token), 'claims' => claims(token.token) }
end

def scenario_code_flow(inp)
  c = client(inp)
  url = c.auth_code.authorize_url(redirect_uri: inp['redirect_uri'], scope: 'openid read', state: 'ruby-state-1',
                                  code_challenge: inp['code_challenge'], code_challenge_method: 'S256')
  uri = URI(url)
  answer = Net::HTTP.start(uri.host, uri.port) do |http|
    http.get(uri.request_uri, 'Cookie' => "keymint_session=#{inp['session_token']}")
  end
  location = URI(answer['location'])
  query = URI.decode_www_form(location.query).to_h
  token = c.auth_code.get_token(query['code'], redirect_uri: inp['redirect_uri'], code_verifier: inp['code_verifier'])
  userinfo = token.get('/oauth2/userinfo').parsed
  refreshed = token.refresh!
  reused = nil
  begin
    OAuth2::AccessToken.from_hash(c, refresh_token: token.refresh_token).refresh! if inp['reuse']
  rescue OAuth2::Error => e
    reused = { 'code' => e.code, 'description' => e.description, 'status' => e.response.status }
  end
  { 'redirect_status' => answer.code.to_i, 'state' => query['state'], 'iss' => query['iss'], 'token' => token_hash(token),
    'userinfo' => userinfo, 'refreshed' => token_hash(refreshed), 'reused' => reused }
end

def scenario_bearer(inp)
  token = OAuth2::AccessToken.new(client(inp), inp['access_token'])
  begin
    { 'status' => token.get(inp['path']).status }
  rescue OAuth2::Error => e
    { 'status' => e.response.status, 'www_authenticate' => e.response.headers['www-authenticate'] }
  end
end

scenario, inp = ARGV[0], JSON.parse(ARGV[1])
begin
  out = send("scenario_#{scenario}", inp)
rescue OAuth2::Error => e
  out = { 'raised' => e.class.name, 'code' => e.code, 'description' => e.description, 'status' => e.response.status }
end
puts JSON.generate(out)
