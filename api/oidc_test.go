package api

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/go-jose/go-jose/v4"
	"github.com/stretchr/testify/require"
)

// issuer is a local OpenID Connect issuer the test starts: a discovery
// document, a JWKS, and tokens it signs.
type issuer struct {
	srv *httptest.Server
	key *rsa.PrivateKey
}

func newIssuer(t *testing.T) *issuer {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	is := &issuer{key: key}
	mux := http.NewServeMux()
	is.srv = httptest.NewServer(mux)
	t.Cleanup(is.srv.Close)
	mux.HandleFunc("/.well-known/openid-configuration", func(w http.ResponseWriter, _ *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]any{
			"issuer": is.srv.URL, "jwks_uri": is.srv.URL + "/keys", "authorization_endpoint": is.srv.URL + "/auth",
			"token_endpoint": is.srv.URL + "/token", "id_token_signing_alg_values_supported": []string{"RS256"},
		})
	})
	mux.HandleFunc("/keys", func(w http.ResponseWriter, _ *http.Request) {
		_ = json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: "k1", Algorithm: "RS256", Use: "sig"}}})
	})
	return is
}

func (is *issuer) sign(t *testing.T, key *rsa.PrivateKey, claims map[string]any) string {
	t.Helper()
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: key}, (&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", "k1"))
	require.NoError(t, err)
	payload, _ := json.Marshal(claims)
	obj, err := signer.Sign(payload)
	require.NoError(t, err)
	s, err := obj.CompactSerialize()
	require.NoError(t, err)
	return s
}

// TestOIDCBearers: a JWT from the company's identity provider, verified
// against its JWKS, audience and expiry; a claim names the employee, and
// the token's scopes (or the default ones) apply.
func TestOIDCBearers(t *testing.T) {
	is := newIssuer(t)
	s := newTestServer(t, func(c *Configuration, _ *Dependencies) {
		c.OIDC = DefaultOIDCConfiguration()
		c.OIDC.Issuer, c.OIDC.Audience, c.OIDC.SubjectClaim = is.srv.URL, "furrow", "employee_id"
	})
	var who Principal
	s.Group(ScopeRead).GET("/whoami", func(c *gin.Context) { who = RequestPrincipal(c); c.String(http.StatusOK, "ok") })
	s.Group(ScopeWrite).POST("/write", func(c *gin.Context) { c.String(http.StatusOK, "ok") })
	now := time.Now()
	claims := func(extra map[string]any) map[string]any {
		m := map[string]any{"iss": is.srv.URL, "aud": "furrow", "sub": "00u1abc", "employee_id": "E1001",
			"iat": now.Unix(), "exp": now.Add(time.Hour).Unix()}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	other, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)

	r := s.do(t, request{target: "/api/v1/whoami", token: is.sign(t, is.key, claims(nil))})
	require.Equal(t, http.StatusOK, r.Code, r.Body.String())
	require.Equal(t, "E1001", who.Subject)
	require.Equal(t, Scopes{ScopeRead, ScopeWrite}, who.Scopes)

	readOnly := is.sign(t, is.key, claims(map[string]any{"furrow_scopes": []string{"read"}}))
	require.Equal(t, http.StatusOK, s.do(t, request{target: "/api/v1/whoami", token: readOnly}).Code)
	require.Equal(t, http.StatusForbidden, s.do(t, request{method: "POST", target: "/api/v1/write", token: readOnly}).Code)

	for name, tok := range map[string]string{
		"expired":        is.sign(t, is.key, claims(map[string]any{"exp": now.Add(-time.Hour).Unix()})),
		"other audience": is.sign(t, is.key, claims(map[string]any{"aud": "someone-else"})),
		"other key":      is.sign(t, other, claims(nil)),
		"other issuer":   is.sign(t, is.key, claims(map[string]any{"iss": "https://evil.example"})),
		"no employee":    is.sign(t, is.key, claims(map[string]any{"employee_id": ""})),
	} {
		r := s.do(t, request{target: "/api/v1/whoami", token: tok})
		require.Equal(t, http.StatusUnauthorized, r.Code, name)
		require.NotContains(t, r.Body.String(), tok, "the token never comes back")
	}
	require.NotContains(t, s.logs.String(), "eyJ", "tokens never reach the logs")
}
