package api

import (
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestProbes(t *testing.T) {
	s := newTestServer(t, nil)
	rec := s.do(t, request{target: "/healthz"})
	require.Equal(t, http.StatusOK, rec.Code)
	require.Equal(t, "ok", rec.Body.String())
	rec = s.do(t, request{target: "/readyz"})
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())

	notReady := newTestServer(t, func(_ *Configuration, d *Dependencies) {
		d.Ready = func(context.Context) error { return errors.New("migrations pending") }
	})
	rec = notReady.do(t, request{target: "/readyz"})
	require.Equal(t, http.StatusServiceUnavailable, rec.Code)
	require.Contains(t, rec.Body.String(), "migrations pending")
}

func TestAuth(t *testing.T) {
	s := newTestServer(t, nil)
	sql := request{method: http.MethodPost, target: "/api/v1/sql", body: "SELECT 1"}

	rec := s.do(t, sql)
	require.Equal(t, http.StatusUnauthorized, rec.Code)
	require.Contains(t, rec.Header().Get("WWW-Authenticate"), "Bearer")
	require.JSONEq(t, `{"error":"missing bearer token: send Authorization: Bearer <token>"}`, rec.Body.String())

	wrong := sql
	wrong.token = "nope"
	rec = s.do(t, wrong)
	require.Equal(t, http.StatusUnauthorized, rec.Code)

	// Without dev mode, loopback needs a token too.
	loop := sql
	loop.remote = "127.0.0.1:5555"
	require.Equal(t, http.StatusUnauthorized, s.do(t, loop).Code)

	ok := sql
	ok.token = testToken
	rec = s.do(t, ok)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	require.Equal(t, "1\n", rec.Body.String())

	require.Equal(t, http.StatusUnauthorized, s.do(t, request{target: "/metrics"}).Code)
	require.NotContains(t, s.logs.String(), testToken)
}

func TestDevMode(t *testing.T) {
	s := newTestServer(t, func(c *Configuration, _ *Dependencies) { c.DevMode = true; c.Tokens = nil })
	for _, tc := range []struct {
		remote string
		xff    string
		want   int
	}{
		{"127.0.0.1:5555", "", http.StatusOK},
		{"[::1]:5555", "", http.StatusOK},
		{"10.1.2.3:1234", "", http.StatusUnauthorized},
		{"10.1.2.3:1234", "127.0.0.1", http.StatusUnauthorized}, // forwarded headers are not trusted
	} {
		r := request{method: http.MethodPost, target: "/api/v1/sql", body: "SELECT 1", remote: tc.remote}
		if tc.xff != "" {
			r.header = map[string]string{"X-Forwarded-For": tc.xff, "X-Real-IP": tc.xff}
		}
		require.Equal(t, tc.want, s.do(t, r).Code, "%+v", tc)
	}
	require.Equal(t, http.StatusOK, s.do(t, request{target: "/metrics", remote: "127.0.0.1:1"}).Code)
}

func TestStartRefused(t *testing.T) {
	for _, listen := range []string{"0.0.0.0:0", ":0", "10.1.2.3:8080"} {
		cfg := DefaultConfiguration()
		cfg.Listen = listen
		s := newTestServer(t, nil) // for a valid store and registry
		_, err := New(cfg, s.deps)
		require.ErrorContains(t, err, "without authentication", listen)
	}
	// Loopback without tokens starts (and warns); dev mode anywhere starts.
	cfg := DefaultConfiguration()
	s := newTestServer(t, nil)
	_, err := New(cfg, s.deps)
	require.NoError(t, err)
	cfg.Listen, cfg.DevMode = "0.0.0.0:0", true
	_, err = New(cfg, s.deps)
	require.NoError(t, err)
}

func TestStartStop(t *testing.T) {
	s := newTestServer(t, func(c *Configuration, _ *Dependencies) { c.DevMode = true })
	require.NoError(t, s.Start(context.Background()))
	require.Contains(t, s.logs.String(), "dev mode")
	base := "http://" + s.Addr()
	require.NotContains(t, base, ":0")

	resp, err := http.Get(base + "/healthz")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)

	// A request in flight when Stop is called completes.
	var wg sync.WaitGroup
	var code int
	var body string
	wg.Add(1)
	go func() {
		defer wg.Done()
		resp, err := http.Post(base+"/api/v1/sql", "text/plain", strings.NewReader("SELECT sleep(1)"))
		if err != nil {
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		code, body = resp.StatusCode, string(b)
	}()
	time.Sleep(300 * time.Millisecond)
	require.NoError(t, s.Stop(context.Background()))
	wg.Wait()
	require.Equal(t, http.StatusOK, code, body)
	require.Equal(t, "0\n", body)

	_, err = http.Get(base + "/healthz")
	require.Error(t, err, "the server still answers after Stop")
}

func TestTokensFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tokens")
	require.NoError(t, os.WriteFile(path, []byte("# analysts\nfile-token\n\n"), 0o600))
	s := newTestServer(t, func(c *Configuration, _ *Dependencies) { c.TokensFile = path })
	r := request{method: http.MethodPost, target: "/api/v1/sql", body: "SELECT 1", token: "file-token"}
	require.Equal(t, http.StatusOK, s.do(t, r).Code)
	r.token = testToken
	require.Equal(t, http.StatusOK, s.do(t, r).Code)
}
