// Command furrow is the furrow backend: it ingests VPC flow logs, Kubernetes
// pod metadata, billing and deploy events into ClickHouse and serves them to
// Grafana and analysts. One binary, one subcommand per job; `furrow --help`
// lists them.
package main

import (
	"errors"
	"fmt"
	"os"
)

// Set by the Makefile with -ldflags "-X main.version=…".
var version = "dev"

func main() {
	root := newRootCommand()
	if err := root.Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "furrow:", err)
		var ee *exitError
		if errors.As(err, &ee) {
			os.Exit(ee.code)
		}
		os.Exit(1)
	}
}

// exitError carries a specific exit status (e.g. 3 for --strict ingests
// that rejected records).
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }
