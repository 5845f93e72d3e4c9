package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// runMainEnv makes the test binary run furrow's main instead of the tests,
// so the tests below run the real command as a subprocess, as a user does,
// without a second build of the binary.
const runMainEnv = "FURROW_TEST_RUN_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(runMainEnv) == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// furrowCmd prepares `furrow args...` with the test's environment minus
// every FURROW_* variable (so a developer's own settings do not leak in),
// except those that locate the engine library, plus env.
func furrowCmd(ctx context.Context, env []string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, os.Args[0], args...)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "FURROW_") || strings.HasPrefix(kv, "FURROW_CACHE=") || strings.HasPrefix(kv, "FURROW_CHDB_LIB=") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, runMainEnv+"=1")
	cmd.Env = append(cmd.Env, env...)
	return cmd
}

type result struct {
	stdout, stderr string
	code           int
}

// runFurrow runs furrow to its end. The timeout only keeps a hung command
// from hanging the test run; nothing is asserted about time.
func runFurrow(t *testing.T, env []string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := furrowCmd(ctx, env, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatalf("furrow %s: %v", strings.Join(args, " "), err)
	}
	return result{stdout.String(), stderr.String(), cmd.ProcessState.ExitCode()}
}

func TestUnknownSubcommandFails(t *testing.T) {
	cases := []struct {
		args     []string
		code     int
		contains []string
	}{
		{[]string{"ingest", "invoices"}, 1, []string{`unknown command "invoices" for "furrow ingest"`, "flowlogs", "pods", "billing"}},
		{[]string{"bogus"}, 1, []string{`unknown command "bogus" for "furrow"`, "sql", "ingest", "serve"}},
		{[]string{"config", "bogus"}, 1, []string{`unknown command "bogus" for "furrow config"`, "show", "keys"}},
		{[]string{"config", "shwo"}, 1, []string{`(did you mean "show"?)`}},
		{[]string{"report", "cross-zon"}, 1, []string{`for "furrow report"`, "cross-zone"}},
		{[]string{"demo", "gen"}, 1, []string{`for "furrow demo"`, "generate"}},
		{[]string{"--log-level", "debug", "ingest", "invoices"}, 1, []string{`unknown command "invoices"`}},
		// Controls: a grouping command alone still prints its help, and a
		// real subcommand still runs.
		{[]string{"ingest"}, 0, nil},
		{[]string{"config", "keys"}, 0, nil},
		{[]string{"help", "ingest"}, 0, nil},
	}
	for _, c := range cases {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			r := runFurrow(t, nil, c.args...)
			require.Equal(t, c.code, r.code, "stderr: %s", r.stderr)
			for _, s := range c.contains {
				require.Contains(t, r.stderr, s)
			}
			if c.code == 0 && len(c.args) == 1 {
				require.Contains(t, r.stdout, "Available Commands", "a grouping command alone prints its help")
			}
		})
	}
}

func TestUnknownEnvironmentVariableFails(t *testing.T) {
	cases := []struct {
		env      string
		code     int
		contains string
	}{
		{"FURROW_HTTP_LISTN=127.0.0.1:1", 1, "unknown environment variable FURROW_HTTP_LISTN (did you mean FURROW_HTTP_LISTEN?)"},
		{"FURROW_TOKNE=x", 1, "unknown environment variable FURROW_TOKNE (did you mean FURROW_TOKEN?)"},
		{"FURROW_STORE_BACKEN=server", 1, "did you mean FURROW_STORE_BACKEND?"},
		{"FURROW_HTTP_LISTEN=127.0.0.1:1", 0, ""},
		{"FURROW_TOKEN=x", 0, ""},
		{"FURROW_TEST_CLICKHOUSE_DSN=clickhouse://x", 0, ""},
		{"FURROW_BENCH_ROUNDS=3", 0, ""},
	}
	for _, c := range cases {
		t.Run(c.env, func(t *testing.T) {
			r := runFurrow(t, []string{c.env}, "config", "show")
			require.Equal(t, c.code, r.code, "stderr: %s", r.stderr)
			require.Contains(t, r.stderr, c.contains)
		})
	}
}

func TestChdbLibThatIsNotTheLibrary(t *testing.T) {
	dir := t.TempDir()
	text := filepath.Join(dir, "README.md")
	require.NoError(t, os.WriteFile(text, []byte("# notes\n"), 0o644))
	empty := filepath.Join(dir, "libchdb.so")
	require.NoError(t, os.WriteFile(empty, nil, 0o644))
	cases := []struct {
		name, path, reason string
	}{
		{"text file", text, "is a text file, not a shared library"},
		{"empty file", empty, "is an empty file"},
		{"another program", "/bin/true", "not libchdb.so: it does not define"},
		{"a directory", dir, "libchdb.so not found"},
	}
	for _, c := range cases {
		for _, how := range []string{"--chdb-lib", "FURROW_CHDB_LIB"} {
			t.Run(c.name+"/"+how, func(t *testing.T) {
				var env, args []string
				if how == "--chdb-lib" {
					env = []string{"FURROW_CHDB_LIB="} // empty: the flag decides
					args = []string{"--chdb-lib", c.path}
				} else {
					env = []string{"FURROW_CHDB_LIB=" + c.path}
				}
				r := runFurrow(t, env, append(args, "version")...)
				require.Equal(t, 1, r.code, "stderr: %s", r.stderr)
				require.Contains(t, r.stderr, c.path)
				require.Contains(t, r.stderr, c.reason)
				require.Contains(t, r.stderr, "make setup", "the error names the command that fixes it")
				require.NotContains(t, r.stderr, "panic")
				require.NotContains(t, r.stderr, "goroutine")
			})
		}
	}
}

// TestClientTokens runs `furrow serve` with a tokens file, as in
// production, and `furrow sql` against it the ways a user would.
func TestClientTokens(t *testing.T) {
	if testing.Short() {
		t.Skip("starts furrow serve on the embedded engine")
	}
	const token = "Pv3xQ8mT1wK6rZ2n"
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	const loaderToken = "Lk9dW2xR7vQ4mN8bT3"
	tokens := filepath.Join(dir, "tokens")
	require.NoError(t, os.WriteFile(tokens, []byte("# furrow API tokens\n"+token+"\nci-loader ingest "+loaderToken+"\n"), 0o600))
	loaderFile := filepath.Join(dir, "loader-token")
	require.NoError(t, os.WriteFile(loaderFile, []byte("ci-loader ingest "+loaderToken+"\n"), 0o600))
	// Flow logs under the hand-over root, and the same outside it.
	root, outside := filepath.Join(dir, "flows"), filepath.Join(dir, "elsewhere")
	for _, d := range []string{root, outside} {
		require.NoError(t, os.MkdirAll(d, 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(d, "v5.log"), v5Sample(t), 0o644))
	}
	cfg := filepath.Join(dir, "furrow.yaml")
	require.NoError(t, os.WriteFile(cfg, []byte("http:\n  listen: 127.0.0.1:0\n  tokens_file: "+tokens+"\ningest:\n  roots: ["+root+"]\n"), 0o644))
	wrongFile := filepath.Join(dir, "wrong")
	require.NoError(t, os.WriteFile(wrongFile, []byte("not-the-token\n"), 0o600))
	yamlFile := filepath.Join(dir, "yaml-token")
	require.NoError(t, os.WriteFile(yamlFile, []byte("- "+token+"\n"), 0o600))

	startServe(t, data, cfg)

	query := []string{"--data", data, "sql", "SELECT 40 + 2"}
	cases := []struct {
		name     string
		env      []string
		args     []string
		code     int
		contains string
	}{
		{"no token anywhere", nil, query, 1, "wants a token (HTTP 401: missing bearer token"},
		{"the server's configuration", nil, append([]string{"--config", cfg}, query...), 0, "42"},
		{"FURROW_TOKEN", []string{"FURROW_TOKEN=" + token}, query, 0, "42"},
		{"--token-file", nil, append(query, "--token-file", tokens), 0, "42"},
		{"wrong FURROW_TOKEN", []string{"FURROW_TOKEN=not-the-token"}, query, 1, "refused the token from FURROW_TOKEN"},
		{"wrong --token-file", nil, append(query, "--token-file", wrongFile), 1, "refused the token from --token-file " + wrongFile},
		{"--token-file in YAML shape", nil, append(query, "--token-file", yamlFile), 1, "line 1: 2 fields"},
		{"ingest token on SQL", []string{"FURROW_TOKEN=" + loaderToken}, query, 1, "has scopes ingest; this route needs read"},
		// The hand-over, as users see it: refused for a read token and
		// outside the roots, followed to its summary otherwise.
		{"read token on ingest", []string{"FURROW_TOKEN=" + token}, []string{"--data", data, "ingest", "flowlogs", root}, 1, "this route needs ingest"},
		{"no ingest token in --token-file", nil, []string{"--data", data, "ingest", "flowlogs", root, "--token-file", wrongFile}, 1, "holds no token with the ingest scope"},
		{"outside the roots", nil, []string{"--data", data, "ingest", "flowlogs", outside, "--token-file", loaderFile}, 1, "outside the ingest roots"},
		{"ingest followed to its end", nil, []string{"--data", data, "ingest", "flowlogs", root, "--token-file", loaderFile}, 0, "STORED"},
		{"the ingest token picked from the server's configuration", nil, []string{"--config", cfg, "--data", data, "ingest", "flowlogs", root}, 0, "skipped"},
		{"jobs listed with their owner", []string{"FURROW_TOKEN=" + token}, []string{"--data", data, "ingest", "jobs"}, 0, "ci-loader"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := runFurrow(t, c.env, c.args...)
			require.Equal(t, c.code, r.code, "stdout: %s\nstderr: %s", r.stdout, r.stderr)
			require.Contains(t, r.stdout+r.stderr, c.contains)
			require.NotContains(t, r.stderr, token, "an error shows the token")
			require.NotContains(t, r.stderr, "not-the-token", "an error shows the token")
			require.NotContains(t, r.stdout+r.stderr, loaderToken, "an error shows the token")
			if strings.Contains(r.stderr, "HTTP 401") {
				require.Contains(t, r.stderr, "FURROW_TOKEN", "a 401 says what to set")
				require.Contains(t, r.stderr, "--token-file", "a 401 says what to set")
			}
		})
	}
}

func TestClientHelpMentionsToken(t *testing.T) {
	for _, args := range [][]string{{"sql", "--help"}, {"ingest", "--help"}, {"ingest", "flowlogs", "--help"}} {
		r := runFurrow(t, nil, args...)
		require.Equal(t, 0, r.code)
		require.Contains(t, r.stdout, "--token-file", args)
		if args[len(args)-2] != "flowlogs" {
			require.Contains(t, r.stdout, "FURROW_TOKEN", args)
		}
	}
}

// v5Sample is a flow-log file the server can ingest.
func v5Sample(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "ingest", "flowlogs", "testdata", "v5_custom.log"))
	require.NoError(t, err)
	return b
}
