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
	opts Options
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
	return SharedWith(t, Options{Kwok: true})
}

// SharedWith is Shared with the options of the control plane, for the
// packages that need more than kwok (Options.Controllers). Every call of a
// package must pass the same options: the first one starts the control plane.
func SharedWith(t testing.TB, opts Options) *Env {
	t.Helper()
	shared.once.Do(func() {
		shared.opts = opts
		shared.dir, shared.err = os.MkdirTemp("", "furrow-k8senv-")
		if shared.err != nil {
			return
		}
		shared.env, shared.err = Launch(shared.dir, opts)
	})
	if shared.err != nil {
		t.Fatalf("k8senv: %v: %v", errNotStarted, shared.err)
	}
	if shared.opts != opts {
		t.Fatalf("k8senv: shared control plane started with %+v, asked for %+v", shared.opts, opts)
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
