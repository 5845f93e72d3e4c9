package config

import (
	"fmt"
	"sort"
	"strings"
)

// Variable is a FURROW_* environment variable that is not a configuration
// key. Together with the keys' own variables, Variables and
// VariablePrefixes are every FURROW_* name furrow accepts: any other is an
// error, so that a misspelt override is not silently ignored.
// docs/configuration.md lists them, and a test in cmd/furrow fails when the
// repository uses a FURROW_* name that is not here.
type Variable struct {
	// Name is the variable, or for VariablePrefixes the prefix.
	Name string
	// Meaning says what reads it, for the documentation.
	Meaning string
}

// Variables are the FURROW_* variables read outside the configuration
// struct.
var Variables = []Variable{
	{"FURROW_CONFIG", "The configuration file, when `--config` is not given."},
	{"FURROW_TOKEN", "The bearer token that `furrow sql` and `furrow ingest` send to a running `furrow serve` (`--token-file` reads it from a file instead)."},
	{"FURROW_CHDB_LIB", "The engine library `libchdb.so`; it wins over `--chdb-lib`, `CHDB_LIB_PATH` and `store.embedded.chdb_lib`."},
	{"FURROW_CACHE", "The cache that `make setup` fills (engine library, MinIO, Kubernetes binaries); default `$XDG_CACHE_HOME/furrow` or `~/.cache/furrow`."},
	{"FURROW_MINIO", "Tests: the MinIO binary to run instead of the one `make setup-minio` built."},
	{"FURROW_K8S_BIN", "Tests: the directory of etcd, kube-apiserver and kwok instead of the one `make setup-k8s` built."},
}

// VariablePrefixes are families of variables that tests and benchmarks
// read; their members vary with the test, so only the prefix is checked.
var VariablePrefixes = []Variable{
	{"FURROW_TEST_", "Test settings, e.g. `FURROW_TEST_CLICKHOUSE_DSN` (a ClickHouse server for the conformance suite)."},
	{"FURROW_BENCH_", "Benchmark sizes and rounds, e.g. `FURROW_BENCH_ROUNDS`."},
	{"FURROW_CRASH_", "Internal: how the crash-safety test tells its child process what to do."},
}

// knownVariable reports whether name is in Variables or VariablePrefixes.
func knownVariable(name string) bool {
	for _, v := range Variables {
		if v.Name == name {
			return true
		}
	}
	for _, p := range VariablePrefixes {
		if strings.HasPrefix(name, p.Name) {
			return true
		}
	}
	return false
}

// unknownVariables returns an error naming each FURROW_* variable of env
// that is neither a key's variable (keys) nor a known one, with the
// closest known name as a suggestion.
func unknownVariables(env map[string]string, keys map[string]bool) error {
	var bad []string
	for name := range env {
		if !keys[name] && !knownVariable(name) {
			bad = append(bad, name)
		}
	}
	if len(bad) == 0 {
		return nil
	}
	sort.Strings(bad)
	candidates := make([]string, 0, len(keys)+len(Variables))
	for k := range keys {
		candidates = append(candidates, k)
	}
	for _, v := range Variables {
		candidates = append(candidates, v.Name)
	}
	sort.Strings(candidates) // ties go to the same name on every run
	var msgs []string
	for _, name := range bad {
		msg := fmt.Sprintf("unknown environment variable %s", name)
		if s, ok := closest(name, candidates); ok {
			msg += fmt.Sprintf(" (did you mean %s?)", s)
		}
		msgs = append(msgs, msg)
	}
	return fmt.Errorf("%s; `furrow config keys` lists the variables of every key, docs/configuration.md the others; unset it or fix its name", strings.Join(msgs, "; "))
}

// closest returns the candidate nearest to name by edit distance, when it
// is near enough to be a plausible typo (at most a third of name's length).
func closest(name string, candidates []string) (string, bool) {
	best, bestD := "", -1
	for _, c := range candidates {
		if d := editDistance(name, c); bestD < 0 || d < bestD {
			best, bestD = c, d
		}
	}
	if bestD < 0 || bestD > max(2, len(name)/3) {
		return "", false
	}
	return best, true
}

// editDistance is the Levenshtein distance between a and b (bytes).
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
