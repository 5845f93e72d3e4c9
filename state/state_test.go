package state_test

import (
	"context"
	"errors"
	"os"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/furrowdev/furrow/internal/testenv/pgtest"
	"github.com/furrowdev/furrow/state"
	"github.com/furrowdev/furrow/state/statetest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	pgtest.Stop()
	os.Exit(code)
}

// TestConformance runs the same checks on SQLite and on a real PostgreSQL.
func TestConformance(t *testing.T) {
	statetest.Each(t, func(t *testing.T, s *state.Store, cfg state.Configuration, dir string) {
		ctx := context.Background()
		v, err := s.Version(ctx)
		require.NoError(t, err)
		latest, err := s.Latest()
		require.NoError(t, err)
		require.GreaterOrEqual(t, latest, int64(2))
		require.Equal(t, latest, v, "every migration applied")

		// Opening again applies nothing.
		again, err := state.Open(ctx, cfg, dir)
		require.NoError(t, err)
		applied, err := again.Migrate(ctx)
		require.NoError(t, err)
		require.Empty(t, applied)
		require.NoError(t, again.Close())

		// A duplicate key is recognised in both dialects.
		q := "INSERT INTO teams (code, name, updated_at) VALUES ($1, $2, $3)"
		_, err = s.DB().ExecContext(ctx, q, "T1", "one", "2026-12-01T00:00:00Z")
		require.NoError(t, err)
		_, err = s.DB().ExecContext(ctx, q, "T1", "again", "2026-12-01T00:00:00Z")
		require.True(t, state.IsUniqueViolation(err), "%v", err)

		// A schema written by a newer furrow is refused, not migrated.
		_, err = s.DB().ExecContext(ctx, "INSERT INTO goose_db_version (version_id, is_applied) VALUES (999, TRUE)")
		require.NoError(t, err)
		_, err = state.Open(ctx, cfg, dir)
		require.True(t, errors.Is(err, state.ErrNewerSchema), "%v", err)
	})
}
