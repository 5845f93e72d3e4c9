package api

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/require"
)

const (
	pageWriteToken = "page-writer-token-0123456789"
	pageReadToken  = "page-reader-token-0123456789"
	pageHost       = "furrow.example:8080"
)

// pageServer is a test server with a reader and a writer token, a page
// that renders a form with the CSRF token, and a form target that counts
// the requests it let through and records who sent them.
type pageServer struct {
	*testServer
	posts    int
	postedBy []string
}

func newPageServer(t *testing.T, devMode bool) *pageServer {
	t.Helper()
	tokens := filepath.Join(t.TempDir(), "tokens")
	require.NoError(t, os.WriteFile(tokens, []byte("writer read,write "+pageWriteToken+"\nreader read "+pageReadToken+"\n"), 0o600))
	ps := &pageServer{testServer: newTestServer(t, func(cfg *Configuration, _ *Dependencies) {
		cfg.TokensFile = tokens
		cfg.DevMode = devMode
	})}
	ps.Pages(ScopeRead).GET("/page", func(c *gin.Context) {
		c.String(http.StatusOK, "hello %s csrf=%s", RequestPrincipal(c).Subject, CSRFToken(c))
	})
	ps.Pages(ScopeWrite).POST("/page/act", func(c *gin.Context) {
		ps.posts++
		ps.postedBy = append(ps.postedBy, RequestPrincipal(c).Subject+":"+c.PostForm("what"))
		c.Redirect(http.StatusSeeOther, "/page")
	})
	return ps
}

// pageRequest is one browser-like request: basic credentials (user,
// password), cookies and headers.
type pageRequest struct {
	method, target string
	form           url.Values
	remote         string
	basic          *[2]string
	bearer         string
	cookie         string // the furrow_csrf cookie's value
	header         map[string]string
}

func (s *pageServer) send(t *testing.T, r pageRequest) *httptest.ResponseRecorder {
	t.Helper()
	if r.method == "" {
		r.method = http.MethodGet
	}
	var req *http.Request
	if r.form != nil {
		req = httptest.NewRequest(r.method, "http://"+pageHost+r.target, strings.NewReader(r.form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	} else {
		req = httptest.NewRequest(r.method, "http://"+pageHost+r.target, nil)
	}
	req.RemoteAddr = r.remote
	if req.RemoteAddr == "" {
		req.RemoteAddr = "10.1.2.3:1234"
	}
	if r.basic != nil {
		req.SetBasicAuth(r.basic[0], r.basic[1])
	}
	if r.bearer != "" {
		req.Header.Set("Authorization", "Bearer "+r.bearer)
	}
	if r.cookie != "" {
		req.AddCookie(&http.Cookie{Name: CSRFCookie, Value: r.cookie})
	}
	for k, v := range r.header {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	s.Router().ServeHTTP(rec, req)
	return rec
}

// csrfCookie is the furrow_csrf cookie a response set ("" when none).
func csrfCookie(rec *httptest.ResponseRecorder) *http.Cookie {
	for _, c := range rec.Result().Cookies() {
		if c.Name == CSRFCookie {
			return c
		}
	}
	return nil
}

func TestPagesAuthentication(t *testing.T) {
	s := newPageServer(t, false)
	basic := func(user, pw string) *[2]string { return &[2]string{user, pw} }
	for _, tc := range []struct {
		at       string
		req      pageRequest
		want     int
		subject  string
		basicHdr bool // 401 with the Basic challenge
	}{
		{here(), pageRequest{target: "/page"}, http.StatusUnauthorized, "", true},
		{here(), pageRequest{target: "/page", basic: basic("anyone", pageReadToken)}, http.StatusOK, "reader", false},
		{here(), pageRequest{target: "/page", basic: basic("", pageWriteToken)}, http.StatusOK, "writer", false},
		{here(), pageRequest{target: "/page", bearer: pageReadToken}, http.StatusOK, "reader", false},
		{here(), pageRequest{target: "/page", basic: basic("reader", "wrong-token")}, http.StatusUnauthorized, "", true},
		{here(), pageRequest{target: "/page", basic: basic("reader", "")}, http.StatusUnauthorized, "", true},
		{here(), pageRequest{target: "/page", bearer: "wrong-token"}, http.StatusUnauthorized, "", true},
		// testToken (http.tokens) has no scope but read: fine to view.
		{here(), pageRequest{target: "/page", basic: basic("x", testToken)}, http.StatusOK, "http.tokens[0]", false},
		// Not dev mode: loopback needs credentials too.
		{here(), pageRequest{target: "/page", remote: "127.0.0.1:5555"}, http.StatusUnauthorized, "", true},
	} {
		rec := s.send(t, tc.req)
		require.Equal(t, tc.want, rec.Code, "%s: %s", tc.at, rec.Body.String())
		if tc.basicHdr {
			require.Equal(t, `Basic realm="furrow", charset="UTF-8"`, rec.Header().Get("WWW-Authenticate"), tc.at)
			require.NotContains(t, rec.Body.String(), pageReadToken, tc.at)
		}
		if tc.subject != "" {
			require.True(t, strings.HasPrefix(rec.Body.String(), "hello "+tc.subject+" csrf="), "%s: %s", tc.at, rec.Body.String())
		}
	}
	// The API keeps its bearer-only check: basic credentials are not
	// accepted there, and a page's credentials are not a token check
	// bypass.
	rec := s.send(t, pageRequest{target: "/api/v1/sql", method: http.MethodPost, basic: basic("x", pageReadToken)})
	require.Equal(t, http.StatusUnauthorized, rec.Code)
	// A page group without scope cannot exist.
	require.Panics(t, func() { s.Pages() })
}

func TestPagesScopes(t *testing.T) {
	s := newPageServer(t, false)
	rec := s.send(t, pageRequest{target: "/page", basic: &[2]string{"r", pageReadToken}})
	require.Equal(t, http.StatusOK, rec.Code)
	tok := csrfCookie(rec)
	require.NotNil(t, tok)
	form := url.Values{CSRFField: {tok.Value}, "what": {"x"}}
	// A read token cannot use the write form, even with a good CSRF token.
	rec = s.send(t, pageRequest{method: http.MethodPost, target: "/page/act", form: form, basic: &[2]string{"r", pageReadToken}, cookie: tok.Value,
		header: map[string]string{"Origin": "http://" + pageHost}})
	require.Equal(t, http.StatusForbidden, rec.Code, rec.Body.String())
	require.Contains(t, rec.Body.String(), "needs write")
	require.Zero(t, s.posts)
	rec = s.send(t, pageRequest{method: http.MethodPost, target: "/page/act", form: form, basic: &[2]string{"w", pageWriteToken}, cookie: tok.Value,
		header: map[string]string{"Origin": "http://" + pageHost}})
	require.Equal(t, http.StatusSeeOther, rec.Code, rec.Body.String())
	require.Equal(t, []string{"writer:x"}, s.postedBy)
}

func TestPagesCSRFCookie(t *testing.T) {
	s := newPageServer(t, false)
	rec := s.send(t, pageRequest{target: "/page", bearer: pageReadToken})
	ck := csrfCookie(rec)
	require.NotNil(t, ck, "the first visit sets the cookie")
	require.Equal(t, http.SameSiteStrictMode, ck.SameSite)
	require.True(t, ck.HttpOnly)
	require.Equal(t, "/", ck.Path)
	require.True(t, validCSRFToken(ck.Value))
	require.Contains(t, rec.Body.String(), "csrf="+ck.Value, "the page's forms get the cookie's token")
	// The next visit keeps it; a malformed one is replaced.
	rec = s.send(t, pageRequest{target: "/page", bearer: pageReadToken, cookie: ck.Value})
	require.Nil(t, csrfCookie(rec))
	require.Contains(t, rec.Body.String(), "csrf="+ck.Value)
	rec = s.send(t, pageRequest{target: "/page", bearer: pageReadToken, cookie: "short"})
	require.NotNil(t, csrfCookie(rec))
	require.NotEqual(t, "short", csrfCookie(rec).Value)
	// Two browsers get two tokens.
	other := csrfCookie(s.send(t, pageRequest{target: "/page", bearer: pageReadToken}))
	require.NotEqual(t, ck.Value, other.Value)
}

// TestPagesCSRF sends the write form as furrow's page does and as another
// site could make a browser send it, with basic credentials (which the
// browser adds by itself) and in dev mode on loopback (which needs none):
// only furrow's own form gets through.
func TestPagesCSRF(t *testing.T) {
	for _, dev := range []bool{false, true} {
		name := "basic credentials"
		if dev {
			name = "dev mode on loopback"
		}
		t.Run(name, func(t *testing.T) {
			s := newPageServer(t, dev)
			creds := &[2]string{"w", pageWriteToken}
			remote := "10.1.2.3:1234"
			if dev {
				creds, remote = nil, "127.0.0.1:40000"
			}
			rec := s.send(t, pageRequest{target: "/page", basic: creds, remote: remote})
			require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
			tok := csrfCookie(rec).Value
			other := csrfCookie(s.send(t, pageRequest{target: "/page", basic: creds, remote: remote})).Value
			self := "http://" + pageHost
			for _, tc := range []struct {
				at     string
				form   url.Values
				cookie string
				header map[string]string
				want   int
			}{
				{here(), url.Values{CSRFField: {tok}}, tok, map[string]string{"Origin": self, "Sec-Fetch-Site": "same-origin"}, http.StatusSeeOther},
				{here(), url.Values{CSRFField: {tok}}, tok, map[string]string{"Referer": self + "/page"}, http.StatusSeeOther},
				{here(), url.Values{CSRFField: {tok}}, tok, nil, http.StatusSeeOther}, // a script (curl) sends neither
				{here(), url.Values{CSRFField: {tok}}, tok, map[string]string{"Origin": "https://FURROW.example:8080"}, http.StatusSeeOther},
				{here(), url.Values{}, tok, map[string]string{CSRFHeader: tok, "Origin": self}, http.StatusSeeOther},
				// Another site's form: SameSite=Strict keeps the cookie home.
				{here(), url.Values{CSRFField: {tok}}, "", map[string]string{"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"}, http.StatusForbidden},
				{here(), url.Values{}, "", map[string]string{"Origin": "https://evil.example"}, http.StatusForbidden},
				// Even if the cookie were sent, the origin is not ours.
				{here(), url.Values{CSRFField: {tok}}, tok, map[string]string{"Origin": "https://evil.example"}, http.StatusForbidden},
				{here(), url.Values{CSRFField: {tok}}, tok, map[string]string{"Origin": "http://furrow.example:8081"}, http.StatusForbidden},
				{here(), url.Values{CSRFField: {tok}}, tok, map[string]string{"Origin": "null"}, http.StatusForbidden},
				{here(), url.Values{CSRFField: {tok}}, tok, map[string]string{"Referer": "https://evil.example/x"}, http.StatusForbidden},
				{here(), url.Values{CSRFField: {tok}}, tok, map[string]string{"Sec-Fetch-Site": "cross-site"}, http.StatusForbidden},
				// Our origin but no proof of the token.
				{here(), url.Values{}, tok, map[string]string{"Origin": self}, http.StatusForbidden},
				{here(), url.Values{CSRFField: {other}}, tok, map[string]string{"Origin": self}, http.StatusForbidden},
				{here(), url.Values{CSRFField: {"forged"}}, "forged", map[string]string{"Origin": self}, http.StatusForbidden},
				{here(), url.Values{CSRFField: {tok}}, "", map[string]string{"Origin": self}, http.StatusForbidden},
				{here(), url.Values{CSRFField: {""}}, "", nil, http.StatusForbidden},
			} {
				before := s.posts
				tc.form.Set("what", "x")
				rec := s.send(t, pageRequest{method: http.MethodPost, target: "/page/act", form: tc.form, basic: creds, remote: remote, cookie: tc.cookie, header: tc.header})
				require.Equal(t, tc.want, rec.Code, "%s: %s", tc.at, rec.Body.String())
				if tc.want == http.StatusForbidden {
					require.Equal(t, before, s.posts, "%s: a refused request reached the handler", tc.at)
					require.Contains(t, rec.Body.String(), "Refused", tc.at)
				} else {
					require.Equal(t, before+1, s.posts, tc.at)
				}
			}
			if dev {
				require.Equal(t, "dev-loopback:x", s.postedBy[0])
			} else {
				require.Equal(t, "writer:x", s.postedBy[0])
			}
		})
	}
}

func TestPagesCSRFFormTooLarge(t *testing.T) {
	s := newPageServer(t, true)
	tok := csrfCookie(s.send(t, pageRequest{target: "/page", remote: "127.0.0.1:1"})).Value
	form := url.Values{CSRFField: {tok}, "what": {strings.Repeat("x", pageFormLimit)}}
	rec := s.send(t, pageRequest{method: http.MethodPost, target: "/page/act", form: form, remote: "127.0.0.1:1", cookie: tok})
	require.Equal(t, http.StatusForbidden, rec.Code)
	require.Zero(t, s.posts)
}

func TestSameHost(t *testing.T) {
	for _, tc := range []struct {
		u, host string
		want    bool
	}{
		{"http://a.example", "a.example", true},
		{"https://a.example:8443/x?y", "a.example:8443", true},
		{"http://a.example", "a.example:80", false},
		{"http://a.example.evil", "a.example", false},
		{"null", "a.example", false},
		{"", "a.example", false},
		{"//a.example", "a.example", true},
		{"http://user@a.example", "a.example", true},
		{"%zz", "a.example", false},
	} {
		require.Equal(t, tc.want, sameHost(tc.u, tc.host), "%q vs %q", tc.u, tc.host)
	}
}

func FuzzSameHost(f *testing.F) {
	f.Add("http://a.example:1/x", "a.example:1")
	f.Add("null", "")
	f.Fuzz(func(t *testing.T, u, host string) {
		if sameHost(u, host) && host == "" {
			t.Fatalf("%q matched an empty host", u)
		}
	})
}
