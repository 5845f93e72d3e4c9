package api

import (
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"net"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
)

// authenticator checks bearer tokens and the scopes of the routes. Tokens
// are kept as SHA-256 digests: comparing digests takes the same time
// whatever the token's length, and the clear tokens are not kept around.
type authenticator struct {
	digests   [][sha256.Size]byte
	principal []Principal // principal[i] holds the token of digests[i]
	devMode   bool
	oidc      *oidcVerifier // nil: OIDC bearers off
}

// Principal is who made a request: the subject of its token and the
// token's scopes. It never holds the token.
type Principal struct {
	Subject string
	Scopes  Scopes
}

// devPrincipal is a loopback client in dev mode.
var devPrincipal = Principal{Subject: "dev-loopback", Scopes: Scopes{ScopeAdmin}}

// principalKey is the gin context key of the request's Principal.
const principalKey = "furrow.principal"

func newAuthenticator(tokens []Token, devMode bool) *authenticator {
	a := &authenticator{devMode: devMode}
	for _, t := range tokens {
		a.digests = append(a.digests, sha256.Sum256([]byte(t.Secret)))
		a.principal = append(a.principal, Principal{Subject: t.Subject, Scopes: t.Scopes})
	}
	return a
}

// middleware lets a request through with a valid token, or from a loopback
// client in dev mode, and records who made it (see RequestPrincipal). The
// client is the TCP peer (RemoteAddr), never a forwarded header that any
// client can set.
func (a *authenticator) middleware(c *gin.Context) {
	if a.devMode && loopbackClient(c.Request.RemoteAddr) {
		c.Set(principalKey, devPrincipal)
		c.Next()
		return
	}
	token, ok := bearer(c.GetHeader("Authorization"))
	if !ok {
		c.Header("WWW-Authenticate", `Bearer realm="furrow"`)
		abortJSON(c, http.StatusUnauthorized, "missing bearer token: send Authorization: Bearer <token>", nil)
		return
	}
	p, ok := a.lookup(token)
	if !ok && a.oidc != nil && looksLikeJWT(token) {
		var err error
		if p, err = a.oidc.verify(c.Request.Context(), token); err == nil {
			ok = true
		} else {
			// The reason (expired, wrong audience, bad signature) helps the
			// client; it never holds the token.
			c.Header("WWW-Authenticate", `Bearer realm="furrow", error="invalid_token"`)
			abortJSON(c, http.StatusUnauthorized, "invalid bearer token: "+err.Error(), nil)
			return
		}
	}
	if !ok {
		c.Header("WWW-Authenticate", `Bearer realm="furrow", error="invalid_token"`)
		abortJSON(c, http.StatusUnauthorized, "invalid bearer token", nil)
		return
	}
	c.Set(principalKey, p)
	c.Next()
}

// lookup compares the token with every known one, without stopping at
// the first match, so the time taken does not tell which one matched.
func (a *authenticator) lookup(token string) (Principal, bool) {
	d := sha256.Sum256([]byte(token))
	found := -1
	for i := range a.digests {
		eq := subtle.ConstantTimeCompare(d[:], a.digests[i][:])
		found = subtle.ConstantTimeSelect(eq, i, found)
	}
	if found < 0 {
		return Principal{}, false
	}
	return a.principal[found], true
}

// needScope refuses, with 403, a request whose token has none of scopes.
// It runs after middleware.
func needScope(scopes ...Scope) gin.HandlerFunc {
	want := Scopes(scopes)
	return func(c *gin.Context) {
		p := RequestPrincipal(c)
		for _, s := range scopes {
			if p.Scopes.Has(s) {
				c.Next()
				return
			}
		}
		abortJSON(c, http.StatusForbidden, fmt.Sprintf("the token of %s has scopes %s; this route needs %s: use a token with one of them or admin (a line \"SUBJECT SCOPES TOKEN\" of the server's http.tokens_file)", p.Subject, orNone(p.Scopes), strings.ReplaceAll(want.String(), ",", " or ")), nil)
	}
}

func orNone(ss Scopes) string {
	if len(ss) == 0 {
		return "none"
	}
	return ss.String()
}

// RequestPrincipal is who made the request, as the authentication
// middleware recorded it; the zero Principal (no scopes) outside /api/v1
// and /metrics.
func RequestPrincipal(c *gin.Context) Principal {
	if v, ok := c.Get(principalKey); ok {
		if p, ok := v.(Principal); ok {
			return p
		}
	}
	return Principal{}
}

// bearer extracts the token of an "Authorization: Bearer <token>" header.
func bearer(header string) (string, bool) {
	scheme, token, ok := strings.Cut(strings.TrimSpace(header), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	return token, token != ""
}

// loopbackClient reports whether a RemoteAddr ("host:port") is loopback.
func loopbackClient(remoteAddr string) bool {
	host, _, err := net.SplitHostPort(remoteAddr)
	if err != nil {
		host = remoteAddr
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// clientHost is the TCP peer's address without the port, for logs.
func clientHost(remoteAddr string) string {
	if host, _, err := net.SplitHostPort(remoteAddr); err == nil {
		return host
	}
	return remoteAddr
}
