// Package statetest runs a test on both operational stores: SQLite in a
// temporary directory and a real PostgreSQL (pgtest). Call pgtest.Stop from
// the test binary's TestMain.
package statetest

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/furrowdev/furrow/internal/testenv/pgtest"
	"github.com/furrowdev/furrow/state"
)

// Each runs fn on a fresh SQLite store and on a fresh PostgreSQL database.
func Each(t *testing.T, fn func(t *testing.T, s *state.Store, cfg state.Configuration, dir string)) {
	t.Run("sqlite", func(t *testing.T) {
		dir := t.TempDir()
		cfg := state.DefaultConfiguration()
		s, err := state.Open(context.Background(), cfg, dir)
		require.NoError(t, err)
		t.Cleanup(func() { _ = s.Close() })
		fn(t, s, cfg, dir)
	})
	t.Run("postgres", func(t *testing.T) {
		cfg := state.Configuration{DSN: pgtest.DSN(t)}
		s, err := state.Open(context.Background(), cfg, t.TempDir())
		require.NoError(t, err)
		t.Cleanup(func() { _ = s.Close() })
		fn(t, s, cfg, "")
	})
}
