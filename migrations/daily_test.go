package migrations_test

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/furrowdev/furrow/internal/testenv/chtest"
	"github.com/furrowdev/furrow/migrations"
)

// TestDailyRollupFilledFromHourly: an installation at version 8 with
// traffic gets the daily rollup filled from the hourly one, and fed for
// new flows afterwards; running the fill again (a migration interrupted
// before it was recorded) neither loses nor doubles a row.
func TestDailyRollupFilledFromHourly(t *testing.T) {
	ctx := context.Background()
	s := chtest.Store(t)
	m := migrations.New(s, migrations.Options{})
	_, err := m.UpTo(ctx, 8)
	require.NoError(t, err)
	insert := func(from string, n int) {
		require.NoError(t, s.Exec(ctx, `INSERT INTO flow_logs (start, end, traffic_class, src_namespace, dst_namespace, transfer_bytes, cost_usd)
SELECT toDateTime('`+from+`', 'UTC') + number * 331 AS t, t, ['cross-zone', 'same-zone'][1 + number % 2],
  ['a', 'b', 'c'][1 + number % 3], 'd', 1000 + number, 1e-6 FROM numbers(`+strconv.Itoa(n)+`)`))
	}
	insert("2026-02-01 00:00:00", 5000) // ~19 days
	_, err = m.Up(ctx)
	require.NoError(t, err)
	sums := func(table, col string) string {
		var b strings.Builder
		require.NoError(t, s.Query(ctx, &b, "SELECT sum(records), sum(transfer_bytes), uniqExact(toStartOfDay("+col+"), traffic_class, src_namespace) FROM "+table, "TSV"))
		return b.String()
	}
	require.Equal(t, sums("flow_traffic_hourly", "hour"), sums("flow_traffic_daily", "day"))

	// New flows reach the daily rollup through the hourly one.
	insert("2026-03-01 00:00:00", 700)
	require.Equal(t, sums("flow_traffic_hourly", "hour"), sums("flow_traffic_daily", "day"))

	// The fill again, as a re-run of the migration would do it.
	all, err := migrations.All()
	require.NoError(t, err)
	stmts, err := all[8].Statements(migrations.Options{DedupWindow: 1000})
	require.NoError(t, err)
	for _, q := range stmts {
		if strings.HasPrefix(q, "CREATE MATERIALIZED VIEW") {
			continue // exists; the fill must not count what it feeds
		}
		require.NoError(t, s.Exec(ctx, q), q)
	}
	require.Equal(t, sums("flow_traffic_hourly", "hour"), sums("flow_traffic_daily", "day"))
}
