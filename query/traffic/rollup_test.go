package traffic

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestDailyRollupSameAnswers: ten days of flows (fed through the
// materialized views, as the ingest feeds them); every report, over
// ranges that cut days, hours and none, gives the same answer from the
// daily and hourly rollups as from the hourly rollup alone.
func TestDailyRollupSameAnswers(t *testing.T) {
	s := loaded(t) // the fixture's flows and pods, 2026-03-01 and 02
	ctx := context.Background()
	require.NoError(t, s.Exec(ctx, `INSERT INTO flow_logs (start, end, bytes, packets, traffic_class,
  src_kind, src_cluster, src_namespace, src_workload, src_zone,
  dst_kind, dst_cluster, dst_namespace, dst_workload, dst_zone, transfer_bytes, cost_usd)
SELECT toDateTime('2026-03-01 00:00:00', 'UTC') + number * 97 AS t, t, 1000 + number % 5000, 1,
  ['cross-zone', 'same-zone', 'nat-gateway', 'internet-egress'][1 + number % 4],
  'pod', 'prod', ['shop', 'istio-system', 'monitoring'][1 + number % 3], ['cart', 'db', 'web', 'api'][1 + number % 4],
  ['use1-az1', 'use1-az2', 'use1-az4'][1 + number % 3],
  'pod', 'prod', ['shop', 'payments'][1 + intDiv(number, 5) % 2], ['db', 'ledger'][1 + intDiv(number, 3) % 2],
  ['use1-az1', 'use1-az2', 'use1-az4'][1 + intDiv(number, 7) % 3],
  1000 + number % 5000, (1000 + number % 5000) * 1e-11
FROM numbers(9000)`)) // 9000 × 97 s ≈ 10 days
	r := New(s)
	at := func(v string) time.Time {
		tm, err := time.Parse(time.DateTime, v)
		require.NoError(t, err)
		return tm
	}
	filters := map[string]Filter{
		"everything":       {Classes: []string{ClassAll}},
		"cross-zone":       {},
		"whole days":       {From: at("2026-03-02 00:00:00"), To: at("2026-03-09 00:00:00"), Classes: []string{ClassAll}},
		"cut days":         {From: at("2026-03-01 10:30:00"), To: at("2026-03-08 17:45:00"), Classes: []string{ClassAll}},
		"short":            {From: at("2026-03-03 05:00:00"), To: at("2026-03-04 20:00:00"), Classes: []string{ClassAll}},
		"from only":        {From: at("2026-03-04 13:00:00"), Classes: []string{ClassAll}},
		"to only":          {To: at("2026-03-06 02:00:00"), Namespace: "shop"},
		"namespace, class": {From: at("2026-03-01 00:00:00"), To: at("2026-03-11 00:00:00"), Namespace: "payments", Classes: []string{"nat-gateway"}},
	}
	run := func(f Filter) string {
		t.Helper()
		out := map[string]any{}
		for _, by := range []By{ByNamespace, ByWorkload, ByZone} {
			top, err := r.TopTalkers(ctx, f, by)
			require.NoError(t, err)
			out[string(by)] = top
		}
		days, err := r.CostPerDay(ctx, f)
		require.NoError(t, err)
		out["days"] = days
		if f.Namespace != "" {
			for _, split := range []time.Time{at("2026-03-05 14:20:00"), at("2026-03-05 00:00:00")} {
				c, err := r.BeforeAfter(ctx, f, split, 3*24*time.Hour)
				require.NoError(t, err)
				out["before_after_"+split.Format(time.DateTime)] = c
			}
		}
		skew, err := r.ZoneSkew(ctx, f)
		require.NoError(t, err)
		out["skew"] = skew
		b, err := json.Marshal(out)
		require.NoError(t, err)
		return string(b)
	}
	for name, f := range filters {
		t.Run(name, func(t *testing.T) {
			useDaily = false
			want := run(f)
			useDaily = true
			got := run(f)
			requireSameNumbers(t, want, got)
			require.Contains(t, want, `"rows":[{`, "the filter selects traffic")
		})
	}
	useDaily = true
	var n string
	require.NoError(t, queryString(ctx, s, "SELECT count() FROM flow_traffic_daily", &n))
	require.NotEqual(t, "0\n", n, "the daily rollup is fed")
}

// requireSameNumbers compares two JSON documents, numbers within the
// reports' rounding (costs to 1e-9 USD): two sums of the same floats in
// another order can round to neighbouring values.
func requireSameNumbers(t *testing.T, want, got string) {
	t.Helper()
	var w, g any
	require.NoError(t, json.Unmarshal([]byte(want), &w))
	require.NoError(t, json.Unmarshal([]byte(got), &g))
	var walk func(path string, a, b any)
	walk = func(path string, a, b any) {
		switch av := a.(type) {
		case map[string]any:
			bv, ok := b.(map[string]any)
			require.True(t, ok, path)
			require.Len(t, bv, len(av), path)
			for k := range av {
				walk(path+"."+k, av[k], bv[k])
			}
		case []any:
			bv, ok := b.([]any)
			require.True(t, ok, path)
			require.Len(t, bv, len(av), path)
			for i := range av {
				walk(fmt.Sprintf("%s[%d]", path, i), av[i], bv[i])
			}
		case float64:
			bv, ok := b.(float64)
			require.True(t, ok, path)
			require.LessOrEqual(t, math.Abs(av-bv), 1.5e-9+1e-12*math.Max(math.Abs(av), math.Abs(bv)), "%s: %v vs %v", path, av, bv)
		default:
			require.Equal(t, a, b, path)
		}
	}
	walk("", w, g)
}
