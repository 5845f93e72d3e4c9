package migrations_test

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/furrowdev/furrow/internal/testenv/chtest"
	"github.com/furrowdev/furrow/migrations"
	"github.com/furrowdev/furrow/store"
)

var update = flag.Bool("update", false, "rewrite golden files")

// opts are the options of the golden schema: the default retention, so the
// golden file pins the TTLs a new installation gets.
var opts = migrations.Options{Retention: migrations.DefaultRetention()}

// schema dumps the database's tables as their CREATE statements, with the
// database name replaced so dumps of different databases compare equal.
func schema(t *testing.T, s store.Store) string {
	t.Helper()
	var buf bytes.Buffer
	require.NoError(t, s.Query(context.Background(), &buf,
		`SELECT name, engine, create_table_query FROM system.tables WHERE database = currentDatabase() ORDER BY name`, "TSVRaw"))
	return strings.ReplaceAll(buf.String(), s.Info().Database+".", "DB.")
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		require.NoError(t, os.MkdirAll("testdata", 0o755))
		require.NoError(t, os.WriteFile(path, []byte(got), 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run go test ./migrations -update to create %s", path)
	require.Equal(t, string(want), got, "schema differs from %s (go test ./migrations -update if intended)", path)
}

func TestUpFromEveryVersion(t *testing.T) {
	ctx := context.Background()
	latest := migrations.Latest()
	require.Greater(t, latest, 1)
	for from := 0; from <= latest; from++ {
		t.Run(fmt.Sprintf("from_%d", from), func(t *testing.T) {
			s := &recorder{Store: chtest.Store(t)}
			m := migrations.New(s, opts)
			if from > 0 {
				applied, err := m.UpTo(ctx, from)
				require.NoError(t, err)
				require.Len(t, applied, from)
			}
			applied, err := m.Up(ctx)
			require.NoError(t, err)
			require.Len(t, applied, latest-from)
			st, err := m.Status(ctx)
			require.NoError(t, err)
			require.Equal(t, migrations.Status{Current: latest, Latest: latest}, st)
			golden(t, "schema.tsv", schema(t, s))

			// Idempotent: a second run applies nothing and changes nothing.
			s.reset()
			applied, err = m.Up(ctx)
			require.NoError(t, err)
			require.Empty(t, applied)
			require.Empty(t, s.alters(), "a second run must not alter any table")
			golden(t, "schema.tsv", schema(t, s))
		})
	}
}

func TestInterruptedMigrationIsReapplied(t *testing.T) {
	ctx := context.Background()
	s := chtest.Store(t)
	all, err := migrations.All()
	require.NoError(t, err)
	// Run the statements of the last version but crash before recording it.
	m := migrations.New(s, opts)
	// The last version with statements on a single node (a cluster-only
	// version renders none).
	last := len(all) - 1
	var stmts []string
	for ; last >= 0; last-- {
		stmts, err = all[last].Statements(migrations.Options{DedupWindow: 10000})
		require.NoError(t, err)
		if len(stmts) > 0 {
			break
		}
	}
	_, err = m.UpTo(ctx, last)
	require.NoError(t, err)
	require.NoError(t, s.Exec(ctx, stmts[0]))
	applied, err := m.Up(ctx)
	require.NoError(t, err)
	var want []int
	for v := all[last].Version; v <= len(all); v++ {
		want = append(want, v)
	}
	require.Equal(t, want, applied)
	golden(t, "schema.tsv", schema(t, s))
}

func TestRefusesNewerDatabase(t *testing.T) {
	ctx := context.Background()
	s := chtest.Store(t)
	m := migrations.New(s, migrations.Options{})
	_, err := m.Up(ctx)
	require.NoError(t, err)
	next := migrations.Latest() + 1
	require.NoError(t, s.Exec(ctx, fmt.Sprintf("INSERT INTO schema_migrations (version, name, applied_at) VALUES (%d, 'future', now64(3))", next)))
	_, err = m.Up(ctx)
	require.ErrorIs(t, err, migrations.ErrNewerSchema)
	require.Contains(t, err.Error(), "upgrade furrow")
}

// TestClusterRendering pins the ON CLUSTER / Replicated / Distributed DDL
// (no cluster can run here; the statements are checked against a golden
// file and, for syntax, parsed by the embedded engine).
func TestClusterRendering(t *testing.T) {
	all, err := migrations.All()
	require.NoError(t, err)
	s := chtest.Store(t)
	var out strings.Builder
	for _, m := range all {
		stmts, err := m.Statements(migrations.Options{Cluster: "furrow", DedupWindow: 1000})
		require.NoError(t, err)
		for _, q := range stmts {
			fmt.Fprintf(&out, "-- %04d_%s\n%s\n;\n", m.Version, m.Name, q)
			var buf bytes.Buffer
			lit := "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(q) + "'"
			require.NoError(t, s.Query(context.Background(), &buf, "SELECT formatQuerySingleLine("+lit+")", "TSV"), "statement does not parse:\n%s", q)
		}
	}
	golden(t, "cluster.sql", out.String())
}
