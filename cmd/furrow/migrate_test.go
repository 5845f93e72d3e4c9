package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/furrowdev/furrow/config"
	"github.com/furrowdev/furrow/migrations"
)

// TestMigrateConvergesRetention runs `furrow migrate` as a user would: the
// first run sets the default TTLs, a second changes nothing, and changing
// one retention (here through its variable) alters that table only.
func TestMigrateConvergesRetention(t *testing.T) {
	if testing.Short() {
		t.Skip("opens the embedded engine")
	}
	data := filepath.Join(t.TempDir(), "data")
	ttlLines := func(out string) []string {
		var lines []string
		for _, l := range strings.Split(out, "\n") {
			if strings.Contains(l, " ttl: ") {
				lines = append(lines, l)
			}
		}
		return lines
	}
	r := runFurrow(t, nil, "--data", data, "migrate")
	require.Equal(t, 0, r.code, r.stderr)
	require.Len(t, ttlLines(r.stdout), 6, r.stdout) // flow_logs, both rollups, pod_ips, k8s_nodes, pod_usage_hourly
	require.Contains(t, r.stdout, "flow_logs ttl: ALTER TABLE flow_logs MODIFY TTL start + INTERVAL 30 DAY\n")

	r = runFurrow(t, nil, "--data", data, "migrate")
	require.Equal(t, 0, r.code, r.stderr)
	require.Empty(t, ttlLines(r.stdout), r.stdout)

	r = runFurrow(t, []string{"FURROW_RETENTION_FLOW_LOGS=7d"}, "--data", data, "migrate")
	require.Equal(t, 0, r.code, r.stderr)
	require.Equal(t, []string{"flow_logs ttl: ALTER TABLE flow_logs MODIFY TTL start + INTERVAL 7 DAY"}, ttlLines(r.stdout))

	r = runFurrow(t, []string{"FURROW_RETENTION_FLOW_LOGS=7 days"}, "--data", data, "migrate")
	require.Equal(t, 1, r.code)
	require.Contains(t, r.stderr, "FURROW_RETENTION_FLOW_LOGS")
	require.Contains(t, r.stderr, "30d")
}

// TestDemoConfigKeepsData: the demo's furrow.yaml decodes strictly and
// keeps everything, because the demo's dates are fixed and the default
// retention would delete them once they are a month old.
func TestDemoConfigKeepsData(t *testing.T) {
	dir := t.TempDir()
	r := runFurrow(t, nil, "demo", "generate", dir)
	require.Equal(t, 0, r.code, r.stderr)
	f, err := os.Open(filepath.Join(dir, "furrow.yaml"))
	require.NoError(t, err)
	defer f.Close()
	cfg := DefaultConfiguration()
	require.NoError(t, config.Decode(f, &cfg))
	require.Equal(t, migrations.Retention{}, cfg.Retention)
}
