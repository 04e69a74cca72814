// Keymint driven by the Go ecosystem's OAuth clients, as a Go service would use them:
// golang.org/x/oauth2 (clientcredentials, and oauth2.Config for the code flow) and
// github.com/coreos/go-oidc v2 (discovery, ID token and JWT access token verification through the JWKS).
//
// Built and run by ../go-oauth2.test.ts: `keymint-go-interop <scenario> '<json input>'` prints one
// JSON object. Only the libraries' own requests, client authentication, parsing and checks are used;
// the test asserts what they return. Token endpoint errors are printed as {"error", "status"}.
package main

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"time"

	oidc "github.com/coreos/go-oidc"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

type input struct {
	Issuer       string   `json:"issuer"`
	ClientID     string   `json:"client_id"`
	ClientSecret string   `json:"client_secret"`
	AuthStyle    string   `json:"auth_style"` // auto (the zero value: header, then params on failure), header, params
	Scopes       []string `json:"scopes"`
	Resources    []string `json:"resources"` // RFC 8707 `resource`, sent through EndpointParams
	Calls        int      `json:"calls"`     // how many times to ask the one TokenSource
	RedirectURI  string   `json:"redirect_uri"`
	SessionToken string   `json:"session_token"` // the user's browser: Keymint's session cookie
	BadVerifier  bool     `json:"bad_verifier"`  // redeem the code with a wrong code_verifier first
	Tokens       []string `json:"tokens"`        // for the resource server to check
	Audience     string   `json:"audience"`      // the resource server's own identifier ("" skips the aud check)
	Algs         []string `json:"algs"`          // the resource server's SupportedSigningAlgs (go-oidc's default: RS256)
}

type object = map[string]interface{}

var authStyles = map[string]oauth2.AuthStyle{"auto": oauth2.AuthStyleAutoDetect, "header": oauth2.AuthStyleInHeader, "params": oauth2.AuthStyleInParams}

// tokenResult is what a Token call gave: the token's fields, or the token endpoint's error.
func tokenResult(tok *oauth2.Token, err error) object {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		var body struct {
			Error string `json:"error"`
		}
		_ = json.Unmarshal(re.Body, &body)
		return object{"error": body.Error, "status": re.Response.StatusCode}
	}
	if err != nil {
		return object{"failed": err.Error()}
	}
	return object{
		"access_token": tok.AccessToken, "token_type": tok.Type(), "refresh_token": tok.RefreshToken,
		"scope": tok.Extra("scope"), "expires_in": tok.Extra("expires_in"), "id_token": tok.Extra("id_token"),
	}
}

// clientCredentials asks one clientcredentials TokenSource `calls` times (it reuses a valid token).
func clientCredentials(ctx context.Context, in input) (object, error) {
	provider, err := oidc.NewProvider(ctx, in.Issuer)
	if err != nil {
		return nil, err
	}
	style, ok := authStyles[in.AuthStyle]
	if !ok {
		return nil, fmt.Errorf("unknown auth_style %q", in.AuthStyle)
	}
	cfg := clientcredentials.Config{ClientID: in.ClientID, ClientSecret: in.ClientSecret, TokenURL: provider.Endpoint().TokenURL, Scopes: in.Scopes, AuthStyle: style}
	if len(in.Resources) > 0 {
		cfg.EndpointParams = url.Values{"resource": in.Resources}
	}
	source := cfg.TokenSource(ctx)
	calls := []object{}
	for i := 0; i < in.Calls; i++ {
		calls = append(calls, tokenResult(source.Token()))
	}
	return object{"calls": calls}, nil
}

// resourceServer checks bearer JWTs as a Go API would: go-oidc's remote key set (the JWKS named by
// discovery) and its verifier (signature, iss, exp, and aud when the API names itself).
func resourceServer(ctx context.Context, in input) (object, error) {
	provider, err := oidc.NewProvider(ctx, in.Issuer)
	if err != nil {
		return nil, err
	}
	var meta struct {
		JWKSURI string `json:"jwks_uri"`
	}
	if err := provider.Claims(&meta); err != nil {
		return nil, err
	}
	verifier := oidc.NewVerifier(in.Issuer, oidc.NewRemoteKeySet(ctx, meta.JWKSURI), &oidc.Config{ClientID: in.Audience, SkipClientIDCheck: in.Audience == "", SupportedSigningAlgs: in.Algs})
	results := []object{}
	for _, raw := range in.Tokens {
		tok, err := verifier.Verify(ctx, raw)
		if err != nil {
			results = append(results, object{"rejected": err.Error()})
			continue
		}
		var claims object
		if err := tok.Claims(&claims); err != nil {
			return nil, err
		}
		results = append(results, object{"claims": claims})
	}
	return object{"jwks_uri": meta.JWKSURI, "results": results}, nil
}

// codeFlow: PKCE S256 by hand (x/oauth2 0.3.0 has no helpers), state and nonce; the ID token
// verified by go-oidc (JWKS signature, iss, aud, exp; nonce and at_hash here); userinfo; then a
// refresh through the TokenSource once the token is made to look expired.
func codeFlow(ctx context.Context, in input) (object, error) {
	provider, err := oidc.NewProvider(ctx, in.Issuer)
	if err != nil {
		return nil, err
	}
	cfg := oauth2.Config{ClientID: in.ClientID, ClientSecret: in.ClientSecret, Endpoint: provider.Endpoint(), RedirectURL: in.RedirectURI, Scopes: []string{oidc.ScopeOpenID, "read"}}
	verifier := "go-x-oauth2-pkce-verifier-0123456789abcdefghijklmnopqrstuvwxyz"
	sum := sha256.Sum256([]byte(verifier))
	state, nonce := "go-state-8wYr", "n-go-0S6_WzA2Mj"
	authURL := cfg.AuthCodeURL(state, oidc.Nonce(nonce),
		oauth2.SetAuthURLParam("code_challenge", base64.RawURLEncoding.EncodeToString(sum[:])), oauth2.SetAuthURLParam("code_challenge_method", "S256"))

	browser := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, authURL, nil)
	if err != nil {
		return nil, err
	}
	req.AddCookie(&http.Cookie{Name: "keymint_session", Value: in.SessionToken})
	answer, err := browser.Do(req)
	if err != nil {
		return nil, err
	}
	answer.Body.Close()
	location, err := answer.Location()
	if err != nil {
		return nil, fmt.Errorf("authorize answered %d without a Location: %v", answer.StatusCode, err)
	}
	if got := location.Query().Get("state"); got != state {
		return nil, fmt.Errorf("state came back as %q", got)
	}

	code := location.Query().Get("code")
	if in.BadVerifier {
		wrong := tokenResult(cfg.Exchange(ctx, code, oauth2.SetAuthURLParam("code_verifier", verifier+"-wrong")))
		return object{"bad_verifier": wrong, "then_right_verifier": tokenResult(cfg.Exchange(ctx, code, oauth2.SetAuthURLParam("code_verifier", verifier)))}, nil
	}
	tok, err := cfg.Exchange(ctx, code, oauth2.SetAuthURLParam("code_verifier", verifier))
	if err != nil {
		return object{"authorize_url": authURL, "location": location.String(), "exchange": tokenResult(nil, err)}, nil
	}
	idVerifier := provider.Verifier(&oidc.Config{ClientID: in.ClientID})
	rawID, _ := tok.Extra("id_token").(string)
	idTok, err := idVerifier.Verify(ctx, rawID)
	if err != nil {
		return nil, err
	}
	if idTok.Nonce != nonce {
		return nil, fmt.Errorf("nonce came back as %q", idTok.Nonce)
	}
	var idClaims object
	if err := idTok.Claims(&idClaims); err != nil {
		return nil, err
	}
	atHash := "ok"
	if err := idTok.VerifyAccessToken(tok.AccessToken); err != nil {
		atHash = err.Error()
	}
	userinfo, err := provider.UserInfo(ctx, oauth2.StaticTokenSource(tok))
	if err != nil {
		return nil, err
	}

	// The TokenSource refreshes only an expired token: make this one look expired.
	stale := *tok
	stale.Expiry = time.Now().Add(-time.Minute)
	source := cfg.TokenSource(ctx, &stale)
	refreshed, err := source.Token()
	out := object{
		"authorize_url": authURL, "redirect_status": answer.StatusCode, "location": location.String(),
		"token": tokenResult(tok, nil), "id_token": idClaims, "at_hash": atHash, "userinfo_subject": userinfo.Subject,
		"refreshed": tokenResult(refreshed, err),
	}
	if err == nil {
		again, err := source.Token()
		out["reused"] = err == nil && again.AccessToken == refreshed.AccessToken
		if rawID, ok := refreshed.Extra("id_token").(string); ok {
			refreshedID, err := idVerifier.Verify(ctx, rawID)
			if err != nil {
				return nil, err
			}
			out["refreshed_id_token_subject"] = refreshedID.Subject
		}
	}
	return out, nil
}

func main() {
	var in input
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: keymint-go-interop <scenario> '<json input>'")
		os.Exit(2)
	}
	if err := json.Unmarshal([]byte(os.Args[2]), &in); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	scenarios := map[string]func(context.Context, input) (object, error){
		"client_credentials": clientCredentials, "code_flow": codeFlow, "resource_server": resourceServer,
	}
	run, ok := scenarios[os.Args[1]]
	if !ok {
		fmt.Fprintf(os.Stderr, "unknown scenario %q\n", os.Args[1])
		os.Exit(2)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := run(ctx, in)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if err := json.NewEncoder(os.Stdout).Encode(out); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
