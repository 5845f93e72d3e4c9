package datasource

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestExpand(t *testing.T) {
	tr := TimeRange{
		From:     time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC),
		To:       time.Date(2026, 11, 2, 12, 30, 0, 500_000_000, time.UTC),
		Interval: 30 * time.Second,
	}
	for _, tc := range []struct{ in, want string }{
		{"SELECT 1 WHERE $__timeFilter(start)", "SELECT 1 WHERE start >= toDateTime(1793527200) AND start <= toDateTime(1793622600)"},
		{"$__timeFilter_ms(ts)", "ts >= fromUnixTimestamp64Milli(1793527200000) AND ts <= fromUnixTimestamp64Milli(1793622600500)"},
		{"$__dateFilter(d)", "d >= toDate('2026-11-01') AND d <= toDate('2026-11-02')"},
		{"$__dateTimeFilter(d, t)", "(d >= toDate('2026-11-01') AND d <= toDate('2026-11-02')) AND (t >= toDateTime(1793527200) AND t <= toDateTime(1793622600))"},
		{"$__dt(d,t)", "(d >= toDate('2026-11-01') AND d <= toDate('2026-11-02')) AND (t >= toDateTime(1793527200) AND t <= toDateTime(1793622600))"},
		{"$__fromTime, $__toTime", "toDateTime(1793527200), toDateTime(1793622600)"},
		{"$__fromTime_ms $__toTime_ms", "fromUnixTimestamp64Milli(1793527200000) fromUnixTimestamp64Milli(1793622600500)"},
		{"$__timeInterval(start)", "toStartOfInterval(toDateTime(start), INTERVAL 30 second)"},
		{"$__timeInterval_ms(start)", "toStartOfInterval(toDateTime64(start, 3), INTERVAL 30000 millisecond)"},
		{"$__interval_s", "30"},
		{"$__timeFilter(toStartOfHour(start))", "toStartOfHour(start) >= toDateTime(1793527200) AND toStartOfHour(start) <= toDateTime(1793622600)"},
		{"$__conditionalAll(ns IN ('a','b'), 'a,b')", "ns IN ('a','b')"},
		{"$__conditionalAll(ns IN ($ns), $__all)", "1=1"},
		{"$__conditionalAll(team IN ('PAY','CART'), 'PAY','CART')", "team IN ('PAY','CART')"},
		{"WHERE $__conditionalAll(x = ')', '$__all') AND 1", "WHERE 1=1 AND 1"},
		{"$__unknownMacro stays", "$__unknownMacro stays"},
		{"no macros", "no macros"},
	} {
		got, err := Expand(tc.in, tr)
		require.NoError(t, err, tc.in)
		require.Equal(t, tc.want, got, tc.in)
	}
	for _, bad := range []string{"$__timeFilter(a, b)", "$__timeFilter(start", "$__dt(a)", "$__timeFilter('x)"} {
		_, err := Expand(bad, tr)
		require.Error(t, err, bad)
	}
	// An interval under a second is a second, as in the ClickHouse datasource.
	got, err := Expand("$__interval_s", TimeRange{Interval: 10 * time.Millisecond})
	require.NoError(t, err)
	require.Equal(t, "1", got)
}

func FuzzExpand(f *testing.F) {
	for _, s := range []string{"$__timeFilter(a)", "$__conditionalAll(x, $__all)", "$__dt(", "$__(", "SELECT '$__timeFilter(x)'"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		_, _ = Expand(s, TimeRange{From: time.Unix(0, 0), To: time.Unix(3600, 0), Interval: time.Minute})
	})
}
