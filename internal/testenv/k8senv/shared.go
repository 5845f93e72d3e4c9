package k8senv

import (
	"fmt"
	"os"
	"sync"
	"testing"
)

// shared is the package-wide control plane of Shared: starting one costs
// seconds, so the tests of a package reuse it.
var shared struct {
	once sync.Once
	env  *Env
	dir  string
	err  error
}

// Shared returns a control plane shared by every test of the package that
// calls it, started on first use with kwok enabled. Tests must isolate
// themselves (own namespaces, own node names). Call StopShared from
// TestMain after m.Run; without it the processes die with the test binary
// (they are started with a parent-death signal) but the temporary directory
// stays.
func Shared(t testing.TB) *Env {
	t.Helper()
	shared.once.Do(func() {
		shared.dir, shared.err = os.MkdirTemp("", "furrow-k8senv-")
		if shared.err != nil {
			return
		}
		shared.env, shared.err = Launch(shared.dir, Options{Kwok: true})
	})
	if shared.err != nil {
		t.Fatalf("k8senv: %v: %v", errNotStarted, shared.err)
	}
	return shared.env
}

// StopShared stops the control plane started by Shared, if any, and removes
// its directory. Call it from TestMain after m.Run.
func StopShared() {
	if shared.env != nil {
		shared.env.Stop()
	}
	if shared.dir != "" {
		if err := os.RemoveAll(shared.dir); err != nil {
			fmt.Fprintf(os.Stderr, "k8senv: remove %s: %v\n", shared.dir, err)
		}
	}
}
