package api

import (
	"crypto/sha256"
	"crypto/subtle"
	"net"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
)

// authenticator checks bearer tokens. Tokens are kept as SHA-256 digests:
// comparing digests takes the same time whatever the token's length, and
// the clear tokens are not kept around.
type authenticator struct {
	digests [][sha256.Size]byte
	devMode bool
}

func newAuthenticator(tokens []Secret, devMode bool) *authenticator {
	a := &authenticator{devMode: devMode}
	for _, t := range tokens {
		a.digests = append(a.digests, sha256.Sum256([]byte(t)))
	}
	return a
}

// middleware lets a request through with a valid token, or from a loopback
// client in dev mode. The client is the TCP peer (RemoteAddr), never a
// forwarded header that any client can set.
func (a *authenticator) middleware(c *gin.Context) {
	if a.devMode && loopbackClient(c.Request.RemoteAddr) {
		c.Next()
		return
	}
	token, ok := bearer(c.GetHeader("Authorization"))
	if !ok {
		c.Header("WWW-Authenticate", `Bearer realm="furrow"`)
		abortJSON(c, http.StatusUnauthorized, "missing bearer token: send Authorization: Bearer <token>", nil)
		return
	}
	if !a.valid(token) {
		c.Header("WWW-Authenticate", `Bearer realm="furrow", error="invalid_token"`)
		abortJSON(c, http.StatusUnauthorized, "invalid bearer token", nil)
		return
	}
	c.Next()
}

func (a *authenticator) valid(token string) bool {
	d := sha256.Sum256([]byte(token))
	match := 0
	for i := range a.digests {
		match |= subtle.ConstantTimeCompare(d[:], a.digests[i][:])
	}
	return match == 1
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
