package api

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/gin-gonic/gin"
)

// Pages: server-rendered HTML pages for people with a browser, outside
// /api/v1. A browser cannot be told to send a bearer token, but it asks
// for HTTP basic credentials when a page answers 401 with a Basic
// challenge: the password is a furrow token (the user name is ignored),
// checked by the same authenticator as /api/v1, so a token's subject and
// scopes are the same on a page as on the API. Dev mode lets loopback
// clients in without credentials, as on /api/v1.
//
// A browser sends remembered basic credentials (and is let in on loopback
// in dev mode) whichever site made it send the request, so every page
// request that changes something (POST, PUT, PATCH, DELETE) must also
// prove it comes from furrow's own page: its Origin (else Referer), when
// the browser sends one, names this host, Sec-Fetch-Site is not
// cross-site, and its form field csrf_token (or header X-CSRF-Token)
// equals the furrow_csrf cookie that CSRFToken set when the page was
// rendered (a SameSite=Strict cookie, which another site's form does not
// carry). A request failing any of these gets 403 and reaches no handler.

// CSRFCookie is the cookie holding a browser's CSRF token.
const CSRFCookie = "furrow_csrf"

// CSRFField is the form field (CSRFHeader the header) a page's forms send
// the token back in.
const (
	CSRFField  = "csrf_token"
	CSRFHeader = "X-CSRF-Token"
)

// csrfTokenBytes is the size of a CSRF token before base64.
const csrfTokenBytes = 32

// pageFormLimit bounds a page form's body: forms carry a few fields.
const pageFormLimit = 64 << 10

// Pages is the root-level group for server-rendered pages whose routes
// need one of scopes (or admin), with the credentials described above and
// CSRF protection on every state-changing method. Register pages on it
// before Start; forms on them put CSRFToken(c) in a hidden field named
// CSRFField.
func (s *Server) Pages(scopes ...Scope) *gin.RouterGroup {
	if len(scopes) == 0 {
		panic("api: a page group needs at least one scope")
	}
	key := "pages:" + Scopes(scopes).String()
	if g, ok := s.groups[key]; ok {
		return g
	}
	g := s.engine.Group("/", s.auth.pageMiddleware, needPageScope(scopes...), checkCSRF)
	s.groups[key] = g
	return g
}

// pageMiddleware is middleware for pages: a loopback client in dev mode,
// else a furrow token as the basic password or a bearer token; 401 with a
// Basic challenge otherwise, so that a browser asks for it.
func (a *authenticator) pageMiddleware(c *gin.Context) {
	if a.devMode && loopbackClient(c.Request.RemoteAddr) {
		c.Set(principalKey, devPrincipal)
		c.Next()
		return
	}
	var token string
	if _, pw, ok := c.Request.BasicAuth(); ok {
		token = pw
	} else if t, ok := bearer(c.GetHeader("Authorization")); ok {
		token = t
	}
	if token == "" {
		pageDenied(c, http.StatusUnauthorized, "furrow needs a token: sign in with any user name and a furrow API token as the password.")
		return
	}
	p, ok := a.lookup(token)
	if !ok && a.oidc != nil && looksLikeJWT(token) {
		if vp, err := a.oidc.verify(c.Request.Context(), token); err == nil {
			p, ok = vp, true
		}
	}
	if !ok {
		pageDenied(c, http.StatusUnauthorized, "That token is not valid: sign in again with a furrow API token as the password.")
		return
	}
	c.Set(principalKey, p)
	c.Next()
}

// pageDenied answers a page request that cannot go on, as plain text: a
// 401 carries the Basic challenge browsers answer with a login prompt.
func pageDenied(c *gin.Context, status int, msg string) {
	if status == http.StatusUnauthorized {
		c.Header("WWW-Authenticate", `Basic realm="furrow", charset="UTF-8"`)
	}
	c.Header("Cache-Control", "no-store")
	c.Data(status, "text/plain; charset=utf-8", []byte(msg+"\n"))
	c.Abort()
}

// needPageScope is needScope for pages: 403 as text.
func needPageScope(scopes ...Scope) gin.HandlerFunc {
	want := Scopes(scopes)
	return func(c *gin.Context) {
		p := RequestPrincipal(c)
		for _, s := range scopes {
			if p.Scopes.Has(s) {
				c.Next()
				return
			}
		}
		pageDenied(c, http.StatusForbidden, fmt.Sprintf("The token of %s has scopes %s; this page needs %s.", p.Subject, orNone(p.Scopes), strings.ReplaceAll(want.String(), ",", " or ")))
	}
}

// safeMethod reports whether a method only reads.
func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

// checkCSRF refuses, with 403, a state-changing request that another site
// could have made a browser send (see the comment at the top of this file).
func checkCSRF(c *gin.Context) {
	if safeMethod(c.Request.Method) {
		c.Next()
		return
	}
	if why := csrfFailure(c); why != "" {
		pageDenied(c, http.StatusForbidden, "Refused: "+why+". Reload the page and use its buttons.")
		return
	}
	c.Next()
}

// csrfFailure says why the request is not provably from furrow's own page,
// "" when it is.
func csrfFailure(c *gin.Context) string {
	r := c.Request
	if site := r.Header.Get("Sec-Fetch-Site"); site == "cross-site" {
		return "the request came from another site"
	}
	if o := r.Header.Get("Origin"); o != "" {
		if !sameHost(o, r.Host) {
			return "the request came from another origin"
		}
	} else if ref := r.Header.Get("Referer"); ref != "" && !sameHost(ref, r.Host) {
		return "the request came from another page's site"
	}
	cookie, err := r.Cookie(CSRFCookie)
	if err != nil || !validCSRFToken(cookie.Value) {
		return "no CSRF cookie (the page was not loaded from this server, or cookies are off)"
	}
	sent := r.Header.Get(CSRFHeader)
	if sent == "" {
		r.Body = http.MaxBytesReader(c.Writer, r.Body, pageFormLimit)
		if err := r.ParseForm(); err != nil {
			return "the form could not be read"
		}
		sent = r.PostForm.Get(CSRFField)
	}
	if subtle.ConstantTimeCompare([]byte(sent), []byte(cookie.Value)) != 1 {
		return "the form's CSRF token does not match this browser's"
	}
	return ""
}

// sameHost reports whether the URL u (an Origin or a Referer) names host,
// the request's Host. The scheme is not compared: behind a proxy ending
// TLS, the page is https while the server sees http.
func sameHost(u, host string) bool {
	p, err := url.Parse(u)
	if err != nil || p.Host == "" {
		return false // "null" (a sandboxed or file: page), garbage
	}
	return strings.EqualFold(p.Host, host)
}

// validCSRFToken reports whether v has the shape of a token CSRFToken
// makes.
func validCSRFToken(v string) bool {
	b, err := base64.RawURLEncoding.DecodeString(v)
	return err == nil && len(b) == csrfTokenBytes
}

// CSRFToken is the browser's CSRF token, for a page's forms (hidden field
// CSRFField): the furrow_csrf cookie's, or a new random one set as that
// cookie (SameSite=Strict, HttpOnly, Secure over TLS) when the browser has
// none.
func CSRFToken(c *gin.Context) string {
	if ck, err := c.Request.Cookie(CSRFCookie); err == nil && validCSRFToken(ck.Value) {
		return ck.Value
	}
	b := make([]byte, csrfTokenBytes)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (it panics instead)
	tok := base64.RawURLEncoding.EncodeToString(b)
	http.SetCookie(c.Writer, &http.Cookie{Name: CSRFCookie, Value: tok, Path: "/", HttpOnly: true,
		Secure: c.Request.TLS != nil, SameSite: http.SameSiteStrictMode})
	return tok
}
