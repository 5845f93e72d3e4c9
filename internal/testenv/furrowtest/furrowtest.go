// Package furrowtest runs a real furrow server for tests outside
// cmd/furrow (the Grafana plugin, the dashboards): the furrow binary built
// from this module, the demo data set generated and ingested through the
// CLI as `make run` does, and `furrow serve` on a free loopback port with
// a read token. The server is stopped when the test binary's tests end.
package furrowtest

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	demopkg "github.com/furrowdev/furrow/demo"
)

// Token is the server's read token (subject "grafana").
const Token = "furrowtest-read-token-0123456789"

// Server is a running furrow with the demo data.
type Server struct {
	URL  string // http://127.0.0.1:port
	Data string // the data directory
	Demo string // the demo data set (ground-truth.json, the bills)
	cmd  *exec.Cmd
	logs *os.File
}

var (
	once   sync.Once
	shared *Server
	setErr error
)

// Demo returns the shared server, started on first use. Call Stop from
// TestMain after m.Run.
func Demo(t testing.TB) *Server {
	t.Helper()
	once.Do(func() { shared, setErr = start() })
	if setErr != nil {
		t.Fatalf("furrowtest: %v", setErr)
	}
	return shared
}

// Stop stops the shared server, if it was started.
func Stop() {
	if shared != nil {
		_ = shared.cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { _ = shared.cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			_ = shared.cmd.Process.Kill()
		}
		_ = shared.logs.Close()
		_ = os.RemoveAll(filepath.Dir(shared.Data))
	}
}

// moduleRoot is the repository's root (this file is internal/testenv/furrowtest/).
func moduleRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "..")
}

func start() (*Server, error) {
	dir, err := os.MkdirTemp("", "furrowtest-")
	if err != nil {
		return nil, err
	}
	bin := filepath.Join(dir, "furrow")
	build := exec.Command("go", "build", "-o", bin, "./cmd/furrow")
	build.Dir = moduleRoot()
	if out, err := build.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("build furrow: %v\n%s", err, out)
	}
	demo, data := filepath.Join(dir, "demo"), filepath.Join(dir, "data")
	env := cleanEnv()
	run := func(args ...string) error {
		cmd := exec.Command(bin, args...)
		cmd.Env = env
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("furrow %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return nil
	}
	cfg := filepath.Join(demo, "furrow.yaml")
	steps := [][]string{
		{"demo", "generate", demo, "--flows-per-hour", "3000"},
		{"--data", data, "--config", cfg, "migrate"},
		{"--data", data, "--config", cfg, "ingest", "pods", "--cluster", "demo-eu", filepath.Join(demo, "k8s")},
		{"--data", data, "--config", cfg, "ingest", "flowlogs", filepath.Join(demo, "s3")},
		{"--data", data, "--config", cfg, "catalog", "sync", "--file", filepath.Join(demo, "catalog", "hr.yaml")},
		{"--data", data, "--config", cfg, "catalog", "apply", filepath.Join(demo, "catalog", "projects.yaml")},
		{"--data", data, "--config", cfg, "ingest", "billing", filepath.Join(demo, "billing", "cur2"), filepath.Join(demo, "billing", "focus")},
		{"--data", data, "--config", cfg, "cost", "allocate", "--at", "2026-11-03"},
		// The demo's alerts at their receive times, delivered to the local
		// stand-in of Slack (alert_events, alert_deliveries).
		{"--data", data, "--config", cfg, "alerts", "replay", "--deliver", filepath.Join(demo, "alerts")},
		// The deployer's history over the demo's days (deploy_events).
		{"--data", data, "--config", cfg, "deploy", "events", "load", filepath.Join(demo, "deploy-events.jsonl")},
	}
	slack := httptest.NewServer(demopkg.NewSlackStandIn(io.Discard))
	env = append(env, "FURROW_ALERTING_SLACK_API_URL="+slack.URL+"/api/", "FURROW_ALERTING_SLACK_TOKEN=xoxb-furrowtest")
	for _, s := range steps {
		if err := run(s...); err != nil {
			return nil, err
		}
	}
	tokens := filepath.Join(dir, "tokens")
	if err := os.WriteFile(tokens, []byte("grafana read "+Token+"\n"), 0o600); err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	logs, err := os.Create(filepath.Join(dir, "serve.log"))
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "--data", data, "--config", cfg, "serve")
	cmd.Env = append(env, "FURROW_HTTP_LISTEN="+addr, "FURROW_HTTP_TOKENS_FILE="+tokens, "FURROW_LOG_LEVEL=warn")
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &Server{URL: "http://" + addr, Data: data, Demo: demo, cmd: cmd, logs: logs}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.URL+"/readyz", nil)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s, nil
			}
		}
		select {
		case <-ctx.Done():
			shared = s
			b, _ := os.ReadFile(logs.Name())
			return nil, fmt.Errorf("furrow serve did not become ready: %s", b)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// cleanEnv is the environment without the developer's FURROW_* settings,
// except those that locate the engine library.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "FURROW_") || strings.HasPrefix(kv, "FURROW_CACHE=") || strings.HasPrefix(kv, "FURROW_CHDB_LIB=") {
			env = append(env, kv)
		}
	}
	return env
}
