package traffic

import (
	"strings"
	"time"
)

// The reports read the traffic rollups: flow_traffic_daily for the whole
// UTC days of a range, flow_traffic_hourly for the hours around them. A
// 30-day view then reads 30 daily rows per workload pair instead of 720
// hourly ones; the answers are the same, as both rollups sum the same
// flows and every report works at hour granularity.

// rollupColumns are the columns both rollups share, the time column aside.
const rollupColumns = `traffic_class,
    src_cluster, src_kind, src_namespace, src_workload_kind, src_workload, src_zone,
    dst_cluster, dst_kind, dst_namespace, dst_workload_kind, dst_workload, dst_zone,
    records, packets, bytes, transfer_bytes, cost_usd`

// useDaily is false only in the test that compares the answers with and
// without the daily rollup.
var useDaily = true

// minDailyDays is the fewest whole days that are worth reading from the
// daily rollup (below it the union costs more than it saves).
const minDailyDays = 2

// rollupFrom returns what a report reads for [from, to) (zero means
// unbounded) as hourly rows, with an hour column: the daily rollup for
// the whole days of the range, except the days holding a split (a time
// the report compares before and after, which a daily row would
// straddle), and the hourly rollup for the rest. The caller's WHERE on
// hour still applies; the engine pushes it into both halves.
func rollupFrom(p *params, from, to time.Time, splits ...time.Time) string {
	if !useDaily {
		return "flow_traffic_hourly"
	}
	day := 24 * time.Hour
	var a, b time.Time // whole days: [a, b)
	if !from.IsZero() {
		a = from.UTC().Truncate(day)
		if a.Before(from) {
			a = a.Add(day)
		}
	}
	if !to.IsZero() {
		b = to.UTC().Truncate(day)
	}
	if !a.IsZero() && !b.IsZero() && b.Sub(a) < minDailyDays*day {
		return "flow_traffic_hourly"
	}
	cond := func(col, dayOf string) string {
		var cs []string
		if !a.IsZero() {
			cs = append(cs, col+" >= "+p.time("daily_from", a))
		}
		if !b.IsZero() {
			cs = append(cs, col+" < "+p.time("daily_to", b))
		}
		for i, s := range splits {
			if s.IsZero() || s.UTC().Truncate(day).Equal(s) {
				continue // a split at midnight falls between days
			}
			cs = append(cs, dayOf+" != "+p.time("daily_split"+string(rune('0'+i)), s.UTC().Truncate(day)))
		}
		if len(cs) == 0 {
			return "1"
		}
		return strings.Join(cs, " AND ")
	}
	daily := cond("day", "day")
	if daily == "1" {
		// Unbounded both ways and nothing to split: every row is in the
		// daily rollup.
		return "(SELECT day AS hour, " + rollupColumns + " FROM flow_traffic_daily)"
	}
	return "(SELECT day AS hour, " + rollupColumns + "\n  FROM flow_traffic_daily WHERE " + daily +
		"\n  UNION ALL SELECT hour, " + rollupColumns + "\n  FROM flow_traffic_hourly WHERE NOT (" + cond("hour", "toStartOfDay(hour)") + "))"
}
