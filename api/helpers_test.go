package api

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/furrowdev/furrow/internal/testenv/chtest"
	"github.com/furrowdev/furrow/store"
)

const testToken = "s3cr3t-token-value"

// testServer is a Server on a fresh database holding table t (a UInt32,
// s String) with ten rows; logs go to logs.
type testServer struct {
	*Server
	registry *prometheus.Registry
	logs     *bytes.Buffer
}

func newTestServer(t *testing.T, edit func(*Configuration, *Dependencies)) *testServer {
	t.Helper()
	st := chtest.Store(t)
	ctx := context.Background()
	require.NoError(t, st.Exec(ctx, "CREATE TABLE t (a UInt32, s String) ENGINE = MergeTree ORDER BY a"))
	require.NoError(t, st.Exec(ctx, "INSERT INTO t SELECT number, toString(number) FROM numbers(10)"))
	cfg := DefaultConfiguration()
	cfg.Listen = "127.0.0.1:0"
	cfg.Tokens = []Secret{testToken}
	logs := &bytes.Buffer{}
	reg := prometheus.NewRegistry()
	deps := Dependencies{
		Store:    store.Instrument(st, reg),
		Registry: reg,
		Logger:   slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	if edit != nil {
		edit(&cfg, &deps)
	}
	s, err := New(cfg, deps)
	require.NoError(t, err)
	return &testServer{Server: s, registry: reg, logs: logs}
}

// request describes one call through the router.
type request struct {
	method, target, body string
	remote               string // client address; default 10.1.2.3:1234
	token                string
	header               map[string]string
}

func (s *testServer) do(t *testing.T, r request) *httptest.ResponseRecorder {
	t.Helper()
	if r.method == "" {
		r.method = http.MethodGet
	}
	var body io.Reader
	if r.body != "" {
		body = strings.NewReader(r.body)
	}
	req := httptest.NewRequest(r.method, r.target, body)
	req.RemoteAddr = r.remote
	if req.RemoteAddr == "" {
		req.RemoteAddr = "10.1.2.3:1234"
	}
	if r.token != "" {
		req.Header.Set("Authorization", "Bearer "+r.token)
	}
	for k, v := range r.header {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	s.Router().ServeHTTP(rec, req)
	return rec
}

// here is the caller's file:line, so a failing table case points at itself.
func here() string {
	_, file, line, _ := runtime.Caller(1)
	return fmt.Sprintf("%s:%d", filepath.Base(file), line)
}
